"""One visitor's app process, which always ends: textual-serve's AppService, started without a
shell (the process is the app, so its pid is the one to watch), closing the visitor's page when the
app ends by itself, and killed when it does not quit within QUIT_GRACE_S of being asked."""

from __future__ import annotations

import asyncio
import logging
import shlex

from textual_serve.app_service import AppService

log = logging.getLogger("rnn_tui.serve")

# The app waits up to 30 s for its trainer to take a stop (tui/app.py: STOP_WAIT_S) before it exits.
QUIT_GRACE_S = 35.0


class Session(AppService):
    def __init__(self, argv: list[str], **kwargs) -> None:
        super().__init__(shlex.join(argv), **kwargs)
        self.argv = argv
        self._ending: asyncio.Future | None = None

    @property
    def returncode(self) -> int | None:
        """The app's exit status once it has ended (negative: killed by that signal); None before."""
        return self._process.returncode if self._process is not None else None

    async def _open_app_process(self, width: int = 80, height: int = 24) -> asyncio.subprocess.Process:
        pipe = asyncio.subprocess.PIPE
        env = self._build_environment(width=width, height=height)
        self._process = await asyncio.create_subprocess_exec(*self.argv, stdin=pipe, stdout=pipe, stderr=pipe, env=env)
        self._stdin = self._process.stdin
        log.info("session %s: app process %d started", self.app_service_id[:8], self._process.pid)
        return self._process

    async def run(self) -> None:
        await super().run()
        # The app is gone (q, or a crash): show the page's "session ended" rather than a frozen screen.
        await self.remote_close()

    async def stop(self) -> None:
        """Ask the app to quit; kill it if it has not exited within QUIT_GRACE_S. Safe to call again
        and at once from two places (the closed tab and the server's shutdown): both wait for one end."""
        if self._process is None:
            return
        if self._ending is None:
            self._ending = asyncio.ensure_future(self._end(self._process))
        await asyncio.shield(self._ending)

    async def _end(self, process: asyncio.subprocess.Process) -> None:
        # Not AppService.stop: it waits on the output task with no time limit, and that task swallows
        # a cancel, so no timeout could be put around it. Wait on the process instead, then the task
        # (which reads the output to its end, at once once the process is gone).
        await self.send_meta({"type": "quit"})
        try:
            await asyncio.wait_for(process.wait(), QUIT_GRACE_S)
        except asyncio.TimeoutError:
            log.warning("session %s: app process %d did not quit in %.0f s: killed", self.app_service_id[:8], process.pid, QUIT_GRACE_S)
            try:
                process.kill()
            except ProcessLookupError:  # it ended in between
                pass
            await process.wait()
        await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)
        if self._task is not None:
            await self._task
        log.info("session %s: app process %d ended (%s)", self.app_service_id[:8], process.pid, process.returncode)
