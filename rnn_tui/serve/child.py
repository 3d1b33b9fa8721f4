"""The process of one served app: it dies with the server, then runs the app as `rnn-tui` would.

Usage (by the server only): python -m rnn_tui.serve.child SERVER_PID [rnn-tui options]

A server that exits normally ends its apps itself (session.py); one that is killed cannot, and an
app left behind would go on training with nobody watching. On Linux the kernel sends this process
SIGTERM when the server dies (PR_SET_PDEATHSIG); elsewhere only the normal path applies."""

from __future__ import annotations

import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>


def die_with(server_pid: int) -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))
    if os.getppid() != server_pid:  # the server was gone before the signal was asked for
        raise SystemExit(1)


def main(argv: list[str]) -> int:
    die_with(int(argv[0]))
    from rnn_tui.cli import main as rnn_tui

    return rnn_tui(argv[1:])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
