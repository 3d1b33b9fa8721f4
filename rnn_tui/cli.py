"""The `rnn-tui` command: parses arguments and hands off to a sub-command or the app.

Nothing heavy is imported here (no torch, no textual) so that `rnn-tui --help` answers at once.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from rnn_tui import __version__
from rnn_tui.commands.options import add_run_options
from rnn_tui.errors import UserError

# Sub-command modules under rnn_tui.commands, imported only when their parser is built.
COMMANDS = ("data", "train", "runs", "inspect", "plot", "presets", "lessons", "bench", "sweep", "serve")


class Parser(argparse.ArgumentParser):
    """argparse with the one-line error every other bad input gets (exit 2), not a usage block; each
    sub-command's parser is one too (add_subparsers makes them of the parent's class)."""

    def error(self, message: str):
        one_line = " ".join(message.split())
        self.exit(UserError.exit_code, f"rnn-tui: error: {one_line} (see `{self.prog} --help`)\n")

    def parse_args(self, args=None, namespace=None):
        """As argparse's, but an unknown flag points at the sub-command's --help, not the root's."""
        known, extras = self.parse_known_args(args, namespace)
        if extras:
            command = getattr(known, "command", None)
            prog = f"{self.prog} {command}" if command else self.prog
            self.exit(UserError.exit_code, f"rnn-tui: error: unrecognized arguments: {' '.join(extras)} (see `{prog} --help`)\n")
        return known


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="rnn-tui",
        description=(
            "Train recurrent networks on dynamical systems and watch their forecasts against the "
            "true trajectory. With no sub-command, opens the terminal app."
        ),
    )
    parser.add_argument("--version", action="version", version=f"rnn-tui {__version__}")
    add_run_options(parser)
    parser.add_argument(
        "--headless",
        action="store_true",
        help="train without a screen (same as `rnn-tui train`); needs --preset or --config",
    )
    parser.add_argument("--out", metavar="DIR", help="with --headless: where to write the run")
    parser.add_argument("--force", action="store_true", help="with --headless: write over an existing, non-empty --out")
    parser.add_argument("--runs", metavar="DIR", help="the runs folder where every run is kept (default: $RNN_TUI_RUNS or ./runs)")
    parser.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default="warning",
                        help="what rnn-tui logs: to stderr without a screen, to rnn-tui.log in the data folder with one (default: warning)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"rnn_tui.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from rnn_tui import logs
    from rnn_tui.crash import Crashed, crashed

    app = args.command is None and not args.headless
    logs.setup(args.log_level, to_file=app)
    try:
        if args.command is not None:
            return int(args.func(args) or 0)
        if args.headless:
            from rnn_tui.commands.train import run as run_train

            return run_train(args)
        from rnn_tui.tui.launch import launch

        return launch(args)
    except UserError as exc:
        print(f"rnn-tui: error: {exc}", file=sys.stderr)
        return UserError.exit_code
    except KeyboardInterrupt:
        print("rnn-tui: interrupted", file=sys.stderr)
        return 130
    except Crashed as exc:
        print(f"rnn-tui: error: {exc}", file=sys.stderr)
        return Crashed.exit_code
    except Exception as exc:  # noqa: BLE001 - a bug anywhere else: a report, and one line
        print(f"rnn-tui: error: {crashed(exc)}", file=sys.stderr)
        return Crashed.exit_code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
