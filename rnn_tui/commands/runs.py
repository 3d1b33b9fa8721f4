"""`rnn-tui runs`: the run library as a table (a leaderboard), `runs compare ID ID ...` side by side
with the best of each row marked, and `runs rm ID ...`."""

from __future__ import annotations

import json
import sys

from rnn_tui.errors import UserError


def register(sub) -> None:
    p = sub.add_parser("runs", help="list, compare and remove runs (the run library)",
                       description="Every run folder under the runs folder (./runs, --runs DIR or $RNN_TUI_RUNS), one row each.")
    p.add_argument("--runs", metavar="DIR", help="the runs folder (default: $RNN_TUI_RUNS or ./runs)")
    p.add_argument("--system", metavar="S", help="only runs of this system")
    p.add_argument("--arch", metavar="A", help="only runs of this architecture")
    p.add_argument("--study", metavar="NAME", help="only the trials of this sweep study (`rnn-tui sweep`)")
    p.add_argument("--sort", metavar="KEY", default="when", help="when (default), id, system, arch, status, trial, epochs, train_s, "
                   "best_val, rmse_1, rmse_4, rmse_8, vpt (best first for the scores), radius or grad_decay (train.inspect)")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of the table")
    rsub = p.add_subparsers(dest="runs_command", metavar="COMMAND")
    c = rsub.add_parser("compare", help="runs side by side, the best of each row marked")
    c.add_argument("ids", nargs="+", metavar="ID")
    c.add_argument("--json", dest="compare_json", action="store_true", help="print a JSON list instead of the table")
    r = rsub.add_parser("rm", help="remove runs")
    r.add_argument("ids", nargs="+", metavar="ID")
    r.add_argument("--yes", action="store_true", help="do not ask")
    p.set_defaults(func=run)


CLIMATE = ("lam1", "d_stsp", "d_h", "fate")  # the long run's columns ([climate])


def table(rows, columns=None) -> str:
    from rnn_tui.core.library import COLUMNS, INSPECT_COLUMNS, cell

    if columns is None:  # the sweep columns only where some run is a trial, the probe's where some run was probed, the climate's where some run has one
        hide = set() if any(r.study for r in rows) else {"study", "trial"}
        hide |= set() if any(r.radius is not None or r.grad_decay is not None for r in rows) else set(INSPECT_COLUMNS)
        hide |= set() if any(r.fate for r in rows) else set(CLIMATE)
        columns = tuple(c for c in COLUMNS if c[0] not in hide)
    cells = [[label for _, label in columns]] + [[cell(r, name) for name, _ in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells)


def compare(rows) -> str:
    from rnn_tui.core import library
    from rnn_tui.core.library import COLUMNS, cell

    grid = [["run", *(r.id for r in rows)]]
    for name, label in COLUMNS[1:]:
        marked = library.best(rows, name) if len(rows) > 1 else set()
        grid.append([label, *(cell(r, name) + (" *" if r.id in marked else "") for r in rows)])
    widths = [max(len(line[i]) for line in grid) for i in range(len(grid[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in grid]
    return "\n".join([*lines, "", "* best of the row (lowest error, loss and time; longest VPT). ≥: a horizon-limited VPT (a lower bound)"])


def run(args) -> int:
    from rnn_tui.core import library, removal

    root = library.checked_root(args.runs)
    if args.runs_command == "rm":
        paths = removal.removable(root, args.ids)
        if not args.yes:
            if not sys.stdin.isatty():
                raise UserError("runs rm asks before removing: add --yes to remove without asking")
            answer = input(f"remove {len(paths)} run{'s' * (len(paths) != 1)} ({', '.join(args.ids)}) from {root}? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("nothing removed", file=sys.stderr)
                return 0
        removal.remove(paths)
        print(f"removed {', '.join(args.ids)}", file=sys.stderr)
        return 0
    if args.runs_command == "compare":
        rows = [library.read_run(p) for p in library.find(root, args.ids)]
        as_json = args.json or args.compare_json
        print(json.dumps([r.to_json() for r in rows], indent=2) if as_json else compare(rows))
        return 0
    rows = library.select(library.scan(root), args.system, args.arch, args.sort, args.study)
    if args.json:
        print(json.dumps([r.to_json() for r in rows], indent=2))
    elif not rows:
        print(f"no runs in {root}" + (" (with these filters)" if args.system or args.arch or args.study else ""), file=sys.stderr)
    else:
        print(table(rows))
        bad = [r for r in rows if r.status == "unreadable"]
        for r in bad:
            print(f"{r.id}: unreadable: {r.reason}", file=sys.stderr)
    return 0
