"""`rnn-tui data`: write a system's true trajectory to CSV, or list the systems and their parameters.
Imports only numpy (and scipy inside the generators): no torch, no textual.
"""

from __future__ import annotations

import argparse
import math
import sys

from rnn_tui.errors import UserError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "data",
        help="write a system's true trajectory to CSV (--list: the systems and their parameters)",
        description=(
            "Generate the true trajectory of a dynamical system and write it to a CSV file: a header "
            "row (t, then the components; one column per grid point for a field), then one row per "
            "sample at full precision. The file is written only if everything succeeds."
        ),
    )
    p.add_argument("system", nargs="?", help="system name (see --list)")
    p.add_argument("--list", action="store_true", help="list every system with its parameters, defaults and docs")
    p.add_argument("--dysts", nargs="?", const="", metavar="TEXT",
                   help="with --list: only the dysts catalogue's flows (those whose name or description contains TEXT), "
                        "each with its parameters (needs rnn-tui[dysts])")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="set a system parameter (repeatable)")
    p.add_argument("--steps", metavar="N", help="number of samples (default: the system's)")
    p.add_argument("--dt", metavar="DT", help="sample step in time units (default: the system's)")
    p.add_argument("--seed", metavar="S", default="0", help="seed of stochastic systems (default 0)")
    p.add_argument("--out", metavar="FILE.csv", help="where to write the CSV (required unless --list)")
    p.set_defaults(func=run)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value) if isinstance(value, str) else str(value)


def _describe(s) -> list[str]:
    """A system's line, then one line per parameter (default, doc and bounds)."""
    from rnn_tui.settings import bounds_text

    lines = [f"{s.name} ({s.kind}; steps {s.steps}, dt {s.dt:.6g}): {s.doc}"]
    width = max((len(name) for name in s.fields), default=0)
    for name, info in s.fields.items():
        bounds = bounds_text(info)
        lines.append(f"    {name:<{width}} = {_fmt(info.default):<10} {info.description}" + (f" ({bounds})" if bounds else ""))
    return lines


def list_systems(names=None) -> str:
    """The text of `--list`: one line per system, then one line per parameter (default and doc); then
    one line per flow of the dysts catalogue (or how to install it)."""
    from rnn_tui.systems import SYSTEMS, get_system

    systems = [get_system(n) for n in names] if names else list(SYSTEMS.values())
    lines = [line for s in systems for line in _describe(s)]
    if not names:
        lines += _dysts_summary()
    return "\n".join(lines)


def _dysts_summary() -> list[str]:
    """One line per catalogue flow: name, dimension, dt, λ1, what it is (or why it is refused)."""
    from rnn_tui.systems import dysts_catalogue as dc

    if not dc.installed():
        return [f"dysts:NAME (flow): the 135 flows of the dysts catalogue (Gilpin 2021); not installed: {dc.EXTRA}"]
    entries = dc.catalogue().values()
    usable = sum(1 for e in entries if not e.refusal())
    lines = [f"dysts:NAME (flow): the {len(entries)} flows of the dysts {dc.VERSION} catalogue (Gilpin 2021), {usable} "
             "integrated here; `rnn-tui data --list --dysts [TEXT]` gives their parameters"]
    for e in entries:
        what = f"NOT SUPPORTED: {e.refusal()}" if e.refusal() else e.description
        lines.append(f"    {e.system_name:<30} dim {e.dimension:<2} dt {e.period / 100:<9.4g} λ1 {e.lyapunov:<8.4g} {what}")
    return lines


def list_dysts(text: str) -> str:
    """The text of `--list --dysts TEXT`: each catalogue flow whose name or description contains TEXT
    (case ignored), with its parameters; a UserError naming the extra where dysts is not installed."""
    from rnn_tui.systems import dysts_catalogue as dc
    from rnn_tui.systems import dysts_flow

    entries = [e for e in dc.catalogue().values() if text.lower() in f"{e.name} {e.description}".lower()]
    if not entries:
        raise UserError(f"no flow of the dysts catalogue matches {text!r}")
    return "\n".join(line for e in entries for line in _describe(dysts_flow.system(e.system_name)))


def _parse_params(items: list[str]) -> dict:
    params = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UserError(f"--param needs NAME=VALUE, got {item!r}")
        params[name.strip()] = value.strip()
    return params


def _parse_int(raw, flag: str) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise UserError(f"{flag} needs an integer, got {raw!r}") from None


def run(args: argparse.Namespace) -> int:
    from rnn_tui.systems import get_system

    if args.list:
        print(list_dysts(args.dysts) if args.dysts is not None else list_systems([args.system] if args.system else None))
        return 0
    if args.dysts is not None:
        raise UserError("--dysts filters --list: use `rnn-tui data --list --dysts [TEXT]`")
    if not args.system:
        raise UserError("name a system (see `rnn-tui data --list`)")
    system = get_system(args.system)
    params = _parse_params(args.param)
    system.resolve(params)  # name a bad parameter before anything else
    steps = None if args.steps is None else _parse_int(args.steps, "--steps")
    if steps is not None and steps < 2:
        raise UserError(f"--steps must be >= 2, got {steps}")
    dt = None
    if args.dt is not None:
        try:
            dt = float(args.dt)
        except ValueError:
            raise UserError(f"--dt needs a number, got {args.dt!r}") from None
        if not (math.isfinite(dt) and dt > 0):
            raise UserError(f"--dt must be a finite number > 0, got {args.dt!r}")
    seed = _parse_int(args.seed, "--seed")
    if not args.out:
        raise UserError("--out FILE.csv is required (or use --list)")

    import numpy as np

    from rnn_tui.csvio import write_csv_atomic
    from rnn_tui.work import Work

    system.check_work(params, steps or system.steps, dt or system.dt, as_flags=True)  # an absurd integration: one line, at once

    def report(p) -> None:  # a long integration shows how far it is (after its first second)
        if p.elapsed_s >= 1.0:
            print(p.text(), file=sys.stderr)

    traj = system.trajectory(params, steps=steps, dt=dt, seed=seed, work=Work(report=report, every_s=2.0))
    write_csv_atomic(args.out, ("t", *traj.names), np.column_stack([traj.t, traj.values]))
    return 0
