"""`rnn-tui plot RUN [RUN ...] --out FILE.png|.pdf|.svg [--what W]`: a publication figure of runs
(matplotlib, the optional extra rnn-tui[plot]), several runs overlaid in one figure."""

from __future__ import annotations

import sys

from rnn_tui.errors import UserError

WHAT = ("forecast", "losses", "rmse", "phase", "hovmoller")  # rnn_tui/figures: WHAT (this module must not import it at start-up)


def register(sub) -> None:
    p = sub.add_parser("plot", help="a figure of runs for a report (PNG, PDF, SVG; needs rnn-tui[plot])",
                       description="Draw runs into one figure with matplotlib (pip install 'rnn-tui[plot]'): the forecast "
                                   "against the truth, the losses, the error by lead time, the phase portrait or a field's "
                                   "Hovmöller diagram. Lead times are in Lyapunov times for chaotic systems, with the VPT marked.")
    p.add_argument("runs_given", nargs="+", metavar="RUN", help="a run folder, or a run id in the runs folder")
    p.add_argument("--out", required=True, metavar="FILE", help="the figure's file; its type by the suffix (.png, .pdf, .svg, ...)")
    p.add_argument("--what", default="forecast", metavar="WHAT", help=f"which figure: {', '.join(WHAT)} (default: forecast)")
    p.add_argument("--dpi", type=int, default=200, metavar="N", help="dots per inch of a .png (default: 200)")
    p.add_argument("--runs", metavar="DIR", help="the runs folder where RUN ids are looked up (default: $RNN_TUI_RUNS or ./runs)")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from rnn_tui import api
    from rnn_tui import figures  # matplotlib itself only once a figure is drawn (`figures.make`)

    what = figures.check_what(args.what)
    out = figures.check_out(args.out)  # before any run is read: a bad --out is said at once
    if not 20 <= args.dpi <= 1200:
        raise UserError(f"--dpi must be in [20, 1200], got {args.dpi}")
    runs = [api.open_run(r if args.runs is None or Path(r).exists() else Path(args.runs) / r) for r in args.runs_given]
    fig = figures.make(runs, what)
    figures.save(fig, out, args.dpi)
    print(f"{what} of {len(runs)} run{'s' * (len(runs) != 1)} written to {out}", file=sys.stderr)
    return 0
