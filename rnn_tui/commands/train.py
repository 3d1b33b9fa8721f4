"""`rnn-tui train`: the same training as the app, without a screen. Writes a run folder and
reports progress on stderr. Exit codes: 0 finished, 3 diverged, 2 bad input, 130 interrupted."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

from rnn_tui.errors import UserError

EXIT = {"finished": 0, "diverged": 3, "cancelled": 130}


def register(sub) -> None:
    from rnn_tui.cli import add_run_options

    p = sub.add_parser(
        "train",
        help="train headless from a preset or a config file",
        description="Train without a screen. Writes config.toml, metrics.jsonl, summary.json, rollout.csv and model.pt.",
    )
    add_run_options(p)
    p.add_argument("--out", metavar="DIR", help="run folder (default: a new folder under runs/)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=run)


class Progress:
    """One line per epoch on stderr, at most a few per second (always the first and the last)."""

    def __init__(self, quiet: bool = False, every_s: float = 0.5):
        self.quiet, self.every_s, self.last = quiet, every_s, 0.0

    def __call__(self, e) -> None:
        from rnn_tui.core import events as ev

        if self.quiet:
            return
        if isinstance(e, ev.Started):
            print(f"training on {e.device}: {e.n_params:,} parameters, {e.n_train} training windows, {e.epochs} epochs", file=sys.stderr)
        elif isinstance(e, ev.EpochEnd):
            now = time.monotonic()
            if e.epoch in (1, e.epochs) or now - self.last >= self.every_s:
                self.last = now
                print(
                    f"epoch {e.epoch:>4}/{e.epochs}  train {e.train_loss:.3e}  val {e.val_loss:.3e}  "
                    f"|g| {e.grad_norm:.2e}  lr {e.lr:.2e}  {e.samples_per_s:,.0f} samples/s  {e.elapsed_s:.1f}s",
                    file=sys.stderr,
                )
        elif isinstance(e, ev.Finished):
            s = e.summary
            line = f"{e.status}: val loss {s.get('final_val_loss')}, wall {s.get('wall_time_s')} s"
            if "rmse_at_steps" in s:
                line += "; RMSE at 1/4/8 steps " + "/".join(f"{s['rmse_at_steps'].get(k, float('nan')):.3g}" for k in ("1", "4", "8"))
            if "vpt_lyapunov" in s:
                line += f"; VPT {s['vpt_lyapunov']['median']:.2f} Lyapunov times (median)"
            print(line, file=sys.stderr)
            if e.message:
                print(e.message, file=sys.stderr)


def run(args) -> int:
    from rnn_tui import config as config_mod

    if args.preset is None and args.config is None:
        raise UserError("train needs --preset NAME or --config FILE.toml (see `rnn-tui presets`)")
    cfg = config_mod.load(args.preset, args.config, args.overrides)

    from rnn_tui.core import events as ev
    from rnn_tui.core import runio
    from rnn_tui.core.trainer import Control, train

    label = args.preset or Path(args.config).stem
    if label == "config":
        label = f"{cfg.system.name}_{cfg.model.arch}"
    out_path = Path(args.out) if args.out else runio.new_run_dir(label)
    source = f"preset {args.preset}" if args.preset else f"file {args.config}"
    progress = Progress(getattr(args, "quiet", False))
    control = Control()
    state: dict = {}

    def on_event(e) -> None:
        # The run folder is made only once set-up succeeded, so bad input leaves nothing behind.
        if isinstance(e, ev.Started):
            out = runio.prepare_dir(out_path)
            runio.write_config(out, cfg, f"Resolved configuration of this run ({source}).\nRepeat it with: rnn-tui train --config {out / 'config.toml'}")
            state["log"] = runio.MetricsLog(out)
        elif isinstance(e, ev.EpochEnd):
            state["log"].append(e.row())
        progress(e)

    previous = signal.signal(signal.SIGINT, lambda *_: control.stop.set())
    try:
        result = train(cfg, on_event, control)
    finally:
        signal.signal(signal.SIGINT, previous)
    runio.write_results(out_path, result)
    if not getattr(args, "quiet", False):
        print(f"run written to {out_path}", file=sys.stderr)
    return EXIT[result.status]
