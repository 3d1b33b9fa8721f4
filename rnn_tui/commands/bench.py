"""`rnn-tui bench speed|skill|sweep|dysts`: measured throughput and forecast skill, printed as tables."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("bench", help="benchmarks: speed (throughput) and skill (forecast accuracy)",
                       description="Run a benchmark and print its table.")
    bsub = p.add_subparsers(dest="bench", metavar="BENCH", required=True)
    s = bsub.add_parser("speed", help="trainer throughput against the notes' plain PyTorch loop",
                        description="Steps per second against the notes' DataLoader loop, time to accuracy, rollout cost and start-up, all from one run.")
    s.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    s.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    s.add_argument("--quick", action="store_true", help="tiny sizes (for tests): checks that it runs, measures nothing useful")
    s.add_argument("--no-app", action="store_true", help="skip the measurement with the app on screen")
    s.set_defaults(func=run_speed)
    k = bsub.add_parser("skill", help="forecast skill of the presets beside the notes' published figures",
                        description="Train the relevant presets headless and print their forecast errors next to the published ones.")
    k.add_argument("--quick", action="store_true", help="tiny sizes (for tests)")
    k.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    k.add_argument("--only", metavar="NAME", action="append", default=[], help="run only these experiments (repeatable)")
    k.add_argument("--preset", metavar="PRESET", action="append", default=[],
                   help="in the Lorenz-63 and field experiments, run only the rows of these presets (repeatable)")
    k.set_defaults(func=run_skill)
    w = bsub.add_parser("sweep", help="sweep trials per minute with --jobs 2 against --jobs 1",
                        description="Two real sweeps of the sine preset (no pruning), one and two jobs, timed from start to exit.")
    w.add_argument("--trials", type=int, default=6, metavar="N", help="trials per sweep (default 6)")
    w.add_argument("--quick", action="store_true", help="tiny trials (for tests)")
    w.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    w.set_defaults(func=run_sweep)
    d = bsub.add_parser("dysts", help="one preset trained on N flows of the dysts catalogue: VPT in Lyapunov times, λ1 checked",
                        description="Train a preset's architecture with one set of settings on N flows of the dysts catalogue "
                                    "(needs rnn-tui[dysts]); print each one's median VPT in Lyapunov times and the catalogue's "
                                    "largest Lyapunov exponent beside our Benettin estimate of the truth's.")
    d.add_argument("--systems", type=int, default=10, metavar="N", help="flows, spread evenly over the catalogue (default 10)")
    d.add_argument("--only", metavar="NAME", action="append", default=[], help="these flows instead (repeatable; dysts:NAME or NAME)")
    d.add_argument("--preset", default="lorenz63_esn", metavar="PRESET", help="the architecture and settings (default lorenz63_esn)")
    d.add_argument("--steps", type=int, default=0, metavar="N", help="samples of each flow at period / 100 (default: the preset's)")
    d.add_argument("--quick", action="store_true", help="tiny sizes (for tests)")
    d.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    d.set_defaults(func=run_dysts)


def _write_json(path: str | None, data: dict) -> None:
    if path:
        from rnn_tui.core.runio import write_json

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        write_json(Path(path), data)


def _app_hooks() -> str | None:
    """The module with the app's bench hooks, where the app can run here (textual installed)."""
    import importlib.util

    return "rnn_tui.tui.bench_hook" if importlib.util.find_spec("textual") is not None else None


def run_speed(args) -> int:
    import torch

    from rnn_tui.bench import speed
    from rnn_tui.errors import UserError

    if args.device == "cuda" and not torch.cuda.is_available():
        raise UserError("bench speed --device cuda: no CUDA device is available here; use --device cpu or auto")
    res = speed.run(args.device, quick=args.quick, app_hooks=None if args.no_app else _app_hooks())
    print(speed.table(res))
    _write_json(args.json, res)
    return 0


def run_skill(args) -> int:
    from rnn_tui.bench import skill

    res = skill.run(quick=args.quick, only=args.only, presets=args.preset)
    print(skill.table(res))
    _write_json(args.json, res)
    return 0


def run_sweep(args) -> int:
    from rnn_tui.bench import sweep
    from rnn_tui.errors import UserError

    if not 1 <= args.trials <= 1000:
        raise UserError(f"--trials must be between 1 and 1000, got {args.trials}")
    res = sweep.run(args.trials, quick=args.quick)
    print(sweep.table(res))
    _write_json(args.json, res)
    return 0


def run_dysts(args) -> int:
    from rnn_tui.bench import dysts_bench
    from rnn_tui.errors import UserError

    if args.steps and not 1_000 <= args.steps <= 1_000_000:
        raise UserError(f"--steps must be between 1000 and 1000000, got {args.steps}")
    res = dysts_bench.run(args.systems, args.preset, steps=args.steps, quick=args.quick, only=args.only)
    print(dysts_bench.table(res))
    _write_json(args.json, res)
    return 0
