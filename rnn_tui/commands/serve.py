"""`rnn-tui serve`: the app in web browsers (textual-serve), each tab its own app process and its
own training, at most --max-sessions at once. Every flag is checked before serving (a bad one is
one line, exit 2). Loopback only unless --public: textual-serve has no authentication."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from rnn_tui.errors import UserError
from rnn_tui.commands.options import add_run_options

MAX_SESSIONS = 64  # each session is a Python process with torch and a training run


def register(sub) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the app to web browsers (each tab its own app)",
        description="Serve the app to web browsers: each tab gets its own app process and its own training. "
                    "Only this machine can connect unless --public (there is no log-in of any kind).",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    p.add_argument("--max-sessions", type=int, default=4, metavar="N",
                   help="at most N apps at once; the next visitor is told the server is full (default: 4)")
    p.add_argument("--public", action="store_true",
                   help="allow a --host that other machines can reach: anyone who reaches the port gets an app")
    add_run_options(p)
    p.add_argument("--runs", metavar="DIR", help="the runs folder where served runs are kept (default: $RNN_TUI_RUNS or ./runs)")
    p.set_defaults(func=run)


def check(args) -> bool:
    """Every flag, before anything listens. Returns whether other machines can reach --host."""
    from rnn_tui.core.library import checked_root
    from rnn_tui.serve import address

    checked_root(args.runs)
    address.check_port(args.port)
    if not 1 <= args.max_sessions <= MAX_SESSIONS:
        raise UserError(f"--max-sessions {args.max_sessions} is out of range: from 1 to {MAX_SESSIONS}")
    public = not address.is_loopback(args.host)
    if public and not args.public:
        raise UserError(f"--host {args.host} can be reached from other machines, and textual-serve has no "
                        "authentication (anyone who reaches the port gets an app and this machine's CPU): "
                        "add --public to serve there anyway")
    from rnn_tui import config
    from rnn_tui.tui.launch import FIRST_RUN

    # The apps are started later, one per tab: a bad preset or key must fail here, not in each tab.
    preset = args.preset if args.preset or args.config else FIRST_RUN
    config.load(preset, args.config, args.overrides)
    address.check_free(args.host, args.port)
    return public


def app_argv(args) -> list[str]:
    """The command line of one served app: the same settings, the same runs folder (absolute, so a
    served run lands where `rnn-tui runs` looks whatever folder the app starts in)."""
    from rnn_tui.core.library import runs_root

    argv = [sys.executable, "-m", "rnn_tui.serve.child", str(os.getpid()),
            "--runs", str(runs_root(args.runs).resolve()), "--log-level", args.log_level]
    if args.preset:
        argv += ["--preset", args.preset]
    if args.config:
        argv += ["--config", str(Path(args.config).resolve())]
    for override in args.overrides:
        argv += ["--set", override]
    return argv


def run(args) -> int:
    if check(args):
        print(f"rnn-tui: warning: serving on {args.host} with no authentication: anyone who can reach port "
              f"{args.port} gets an app and this machine's CPU", file=sys.stderr)
    from rnn_tui.serve.server import CappedServer

    server = CappedServer(app_argv(args), args.host, args.port, args.max_sessions)
    try:
        server.serve()
    except OSError as exc:  # the port was taken between the check and the start
        raise UserError(f"cannot serve on {args.host} port {args.port}: {exc.strerror or exc}") from None
    print("rnn-tui: server stopped", file=sys.stderr)
    return 0
