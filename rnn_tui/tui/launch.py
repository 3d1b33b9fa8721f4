"""Entry point of the app: resolve the configuration first (a bad preset or key is a one-line
error with exit status 2, before any screen), then run the Textual app."""

from __future__ import annotations

from rnn_tui import config as C

# What the app opens with when neither --preset nor --config is given: a run whose forecast holds
# (the bare defaults learn the one-step map but their free run drifts off; see the preset).
FIRST_RUN = "sine_lstm"


def launch(args) -> int:
    preset, file = getattr(args, "preset", None), getattr(args, "config", None)
    if preset is None and file is None:
        preset = FIRST_RUN
    cfg = C.load(preset, file, list(getattr(args, "overrides", None) or []))
    if preset:
        source = f"preset {preset}"
    elif getattr(args, "config", None):
        source = str(args.config)
    else:
        source = "defaults"
    if getattr(args, "overrides", None):
        source += " with --set"

    from rnn_tui.core.library import checked_root

    checked_root(getattr(args, "runs", None))  # a file given as the runs folder: one line, before any screen
    from rnn_tui.tui.app import RnnTuiApp  # textual is imported only once the config is good

    app = RnnTuiApp(cfg, source, getattr(args, "runs", None))
    app.run()
    if app.current is not None:  # belt and braces: the trainer thread must not outlive the app
        app.current.control.request_stop()
        app.current.done.wait(30)
    return int(app.return_code or 0)


def launch_lessons(number: int, quick: bool, runs: str | None = None) -> int:
    """The app with the Lessons screen open on lesson `number`, running it (`rnn-tui lessons --run N`)."""
    from rnn_tui.core.library import checked_root

    checked_root(runs)  # a file given as the runs folder: one line, before any screen
    from rnn_tui.tui.app import RnnTuiApp

    app = RnnTuiApp(C.load(FIRST_RUN), f"lesson {number}", runs)
    app.call_later(app.action_lessons, number, quick)
    app.run()
    return int(app.return_code or 0)
