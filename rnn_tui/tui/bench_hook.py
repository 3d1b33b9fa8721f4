"""The app's hooks for `rnn-tui bench speed` (the bench runs them in a fresh interpreter, by this
module's name, which the command gives it): training with the app on screen, a headless Pilot run of
the real app (plots and status updating) that returns the trainer's events as the run's log holds
them; and the time to the app's first frame."""

from __future__ import annotations

import asyncio
import time

from rnn_tui.config import Config


def run_in_app(cfg: Config, size: tuple[int, int] = (160, 50), timeout_s: float = 600.0) -> list:
    """Start `cfg` in the app, wait for the run to end, and return [Started, EpochEnd, ...]."""
    from rnn_tui.tui.app import RnnTuiApp

    async def main() -> list:
        app = RnnTuiApp(cfg, runs=runs)  # the measured run is kept only until the measurement ends
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await pilot.press("s")
            if app.current is None:  # the configuration was refused (the app notified why)
                return []
            deadline = time.monotonic() + timeout_s
            while app.current is None or not app.current.done.is_set():
                if time.monotonic() > deadline:
                    app.current.control.request_stop()
                    break
                await asyncio.sleep(0.05)
            await pilot.pause()
            log = app.current.log
            return [log.started, *log.epochs_since(0)] if log.started else []

    import tempfile

    with tempfile.TemporaryDirectory(prefix="rnn-tui-bench-") as runs:
        return asyncio.run(main())


def first_frame(size: tuple[int, int] = (160, 50)) -> float:
    """Seconds from importing the app to its first frame (call in a fresh interpreter)."""
    t0 = time.perf_counter()
    from rnn_tui.tui.app import RnnTuiApp

    async def main() -> float:
        app = RnnTuiApp()
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            return time.perf_counter() - t0

    return asyncio.run(main())
