"""`rnn-tui train`: the same training as the app, without a screen. Writes a run folder and
reports progress on stderr. Exit codes: 0 finished, 3 diverged, 2 bad input, 130 interrupted."""

from __future__ import annotations

import sys
from pathlib import Path

from rnn_tui.errors import UserError
from rnn_tui.commands.options import add_run_options

EXIT = {"finished": 0, "diverged": 3, "cancelled": 130}


def register(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train headless from a preset or a config file",
        description="Train without a screen. Writes config.toml, metrics.jsonl, summary.json, rollout.csv and model.pt.",
    )
    add_run_options(p)
    p.add_argument("--out", metavar="DIR", help="run folder (default: a new folder in the runs folder)")
    p.add_argument("--runs", metavar="DIR", help="the runs folder for a run without --out (default: $RNN_TUI_RUNS or ./runs)")
    p.add_argument("--force", action="store_true", help="write over the run files of an existing, non-empty --out folder")
    p.add_argument("--resume", metavar="RUN_DIR", help="go on training a run in its folder, up to --set train.epochs=N "
                   "(weights, optimiser, schedule and random state as it ended; metrics appended)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=run)


def run(args) -> int:
    from rnn_tui import config as config_mod

    resume = getattr(args, "resume", None)
    if resume is not None:
        return run_resumed(args)
    if args.preset is None and args.config is None:
        raise UserError("train needs --preset NAME or --config FILE.toml (see `rnn-tui presets`)")
    cfg = config_mod.load(args.preset, args.config, args.overrides)

    from rnn_tui.core import runio
    from rnn_tui.core.library import checked_root
    from rnn_tui.core.runfolder import RunFolder

    label = args.preset or Path(args.config).stem
    if label == "config":
        label = f"{cfg.system.name}_{cfg.model.arch}"
    out_path = Path(args.out) if args.out else runio.new_run_dir(label, checked_root(getattr(args, "runs", None)))
    folder = RunFolder.claim(out_path, force=getattr(args, "force", False))  # before any work: a taken folder is refused
    source = f"preset {args.preset}" if args.preset else f"file {args.config}"
    return execute(args, cfg, folder, source)


# Settings a resumed run may change: how long it goes on, and what it shows.
RESUMABLE = {"train.epochs", "train.early_stop_patience", "train.threads", "rollout.horizon", "rollout.every", "rollout.mode"}


def run_resumed(args) -> int:
    """`--resume DIR`: the run's own configuration (with --set), its state.pt, the same folder."""
    from rnn_tui import config as config_mod
    from rnn_tui.core import runio
    from rnn_tui.core.runfolder import RunFolder

    if args.preset is not None or args.config is not None:
        raise UserError("--resume takes the run's own configuration: drop --preset/--config (change its length with --set train.epochs=N)")
    path = Path(args.resume)
    folder = RunFolder.resume(path)
    saved = config_mod.load(None, path / "config.toml", [], strict=False)
    cfg = config_mod.load(None, path / "config.toml", args.overrides, strict=False)
    old, new = _flat(config_mod.to_dict(saved)), _flat(config_mod.to_dict(cfg))
    changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k) and k not in RESUMABLE)
    if changed:
        raise UserError(f"--resume {path}: {changed[0]} cannot change when a run is resumed (only {', '.join(sorted(RESUMABLE))})")
    state = runio.load_state(path)
    if cfg.train.epochs <= state["epoch"]:
        raise UserError(f"--resume {path}: the run has {state['epoch']} epochs already; set more with --set train.epochs=N (N > {state['epoch']})")
    return execute(args, cfg, folder, f"resumed from epoch {state['epoch']}", state)


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and k != "params":
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def execute(args, cfg, folder, source: str, state: dict | None = None) -> int:
    """Train `cfg` into `folder` with progress on stderr; the exit code of the run's status."""
    from rnn_tui.commands import progress as prog
    from rnn_tui.core.control import Control, stop_on_interrupt
    from rnn_tui.core.runfolder import train_into
    from rnn_tui.crash import crashed

    out_path = folder.path
    progress = prog.make(getattr(args, "quiet", False))
    control = Control()
    header = (f"Resolved configuration of this run ({source}).\nRepeat it with: rnn-tui train --config {out_path / 'config.toml'}"
              f"\nGo on with: rnn-tui train --resume {out_path} --set train.epochs=N")
    try:
        with stop_on_interrupt(control):  # Ctrl-C: stop at the next step, files written; twice: exit 130
            result = train_into(folder, cfg, header, progress, control, state)
    except (UserError, KeyboardInterrupt):
        raise
    except Exception as exc:  # a bug: the full story goes to a crash report, one line to the user
        raise crashed(exc, cfg, out_path if folder.metrics is not None else None) from None
    finally:
        progress.close()
    if not getattr(args, "quiet", False):
        print(f"run written to {out_path}", file=sys.stderr)
    return EXIT[result.status]
