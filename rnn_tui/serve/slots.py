"""The session cap: at most `limit` app processes at once. A visitor's page reserves a place (its
token goes into the page's websocket address) and the page's websocket then claims it, so a visitor
who was shown the app gets one even if others arrive in between. A reservation that is not claimed
within LAPSE_S lapses: a page that never connects (a script, a closed tab) must not hold a place."""

from __future__ import annotations

import secrets
import time
from typing import Callable

LAPSE_S = 20.0  # seconds from serving a page to its websocket connecting (the page loads 0.5 MB of script)


class Slots:
    def __init__(self, limit: int, lapse_s: float = LAPSE_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.lapse_s = lapse_s
        self.clock = clock
        self._reserved: dict[str, float] = {}  # token -> when it lapses
        self._active: set[str] = set()

    @property
    def in_use(self) -> int:
        """Places taken: running sessions and reservations not yet lapsed."""
        now = self.clock()
        self._reserved = {t: until for t, until in self._reserved.items() if until > now}
        return len(self._active) + len(self._reserved)

    def reserve(self) -> str | None:
        """A token holding a place for LAPSE_S, or None when every place is taken."""
        if self.in_use >= self.limit:
            return None
        token = secrets.token_urlsafe(16)
        self._reserved[token] = self.clock() + self.lapse_s
        return token

    def claim(self, token: str | None) -> str | None:
        """Turn a reservation into a running session. A websocket with no token, or one that lapsed,
        gets a place only if one is free. Returns the session's token, or None: the server is full."""
        lapses = self._reserved.pop(token, None) if token is not None else None
        if lapses is not None and lapses > self.clock():
            self._active.add(token)
            return token
        fresh = self.reserve()
        if fresh is not None:
            del self._reserved[fresh]
            self._active.add(fresh)
        return fresh

    def release(self, token: str) -> None:
        """The session's process has ended: its place is free."""
        self._active.discard(token)
