"""Options more than one command takes: --preset / --config / --set (the app, `train`, `sweep`,
`serve`). Here, below the CLI, so that the commands and the CLI both import it."""

from __future__ import annotations

import argparse


def add_run_options(p: argparse.ArgumentParser) -> None:
    """--preset / --config / --set, shared by the app and `rnn-tui train`."""
    src = p.add_mutually_exclusive_group()
    src.add_argument("--preset", metavar="NAME", help="load a shipped preset (see `rnn-tui presets`)")
    src.add_argument("--config", metavar="FILE.toml", help="load a configuration file (e.g. a run's config.toml)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one setting with a dotted key, e.g. --set train.lr=3e-3 --set system.params.rho=28",
    )
