"""The process of one served app: it dies with the server, then becomes `rnn-tui` itself (exec: the
same process, its pipes to the server and its death signal kept).

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
    # exec keeps the pid, the open pipes and PR_SET_PDEATHSIG (cleared only by a set-uid exec or a fork)
    os.execv(sys.executable, [sys.executable, "-m", "rnn_tui", *argv[1:]])
    return 1  # pragma: no cover - execv does not return


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
