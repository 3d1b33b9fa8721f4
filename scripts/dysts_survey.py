"""Which flows of the dysts catalogue rnn-tui integrates: each one's 2,000 samples at its default dt
(period / 100) from the catalogue's start, DOP853 at 1e-12 through rnn-tui's integrator, timed.
Prints one line per flow: ok (seconds) or the one-line error. Used to fill dysts_catalogue.STIFF.

    PYTHONPATH=$PWD python scripts/dysts_survey.py [--steps N] [NAME ...]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("RNN_TUI_CACHE", "0")

from rnn_tui.errors import UserError  # noqa: E402
from rnn_tui.systems import dysts_catalogue, dysts_flow  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("names", nargs="*")
    p.add_argument("--steps", type=int, default=2000)
    args = p.parse_args()
    names = args.names or dysts_catalogue.names()
    for name in names:
        e = dysts_catalogue.entry(name)
        if e.refusal():
            print(f"{name:32s} refused: {e.refusal()}", flush=True)
            continue
        t0 = time.perf_counter()
        try:
            dysts_flow.system(name).trajectory(steps=args.steps)
            print(f"{name:32s} ok {time.perf_counter() - t0:.1f} s", flush=True)
        except UserError as exc:
            print(f"{name:32s} ERROR {time.perf_counter() - t0:.1f} s: {exc}", flush=True)


if __name__ == "__main__":
    main()
