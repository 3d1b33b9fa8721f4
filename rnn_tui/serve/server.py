"""textual-serve's web server with a session cap (slots.py) and addresses taken from each request.

textual-serve starts an app process for every websocket, with no limit; here the page reserves a
place and its websocket claims it, a visitor over the cap gets the "server is full" page, and a
session's place is free again only once its process has ended (session.py). The page's own links
are relative to the address the browser used, not to --host (0.0.0.0 is no address to browse to)."""

from __future__ import annotations

import asyncio
import logging
import sys

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server, to_int

from rnn_tui.serve import pages
from rnn_tui.serve.session import Session
from rnn_tui.serve.slots import Slots

log = logging.getLogger("rnn_tui.serve")


class CappedServer(Server):
    def __init__(self, argv: list[str], host: str, port: int, max_sessions: int) -> None:
        super().__init__(" ".join(argv), host=host, port=port, title="rnn-tui")
        self.argv = argv  # the app's command line, run without a shell
        self.slots = Slots(max_sessions)
        self.sessions: set[Session] = set()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def initialize_logging(self) -> None:
        """Nothing: rnn-tui's own logging is set up already (rnn_tui.logs; --log-level)."""

    async def _make_app(self) -> web.Application:
        app = web.Application()
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes([
            # No HEAD: a HEAD of the page would reserve a place that nobody claims.
            web.get("/", self.handle_index, name="index", allow_head=False),
            web.get("/ws", self.handle_websocket, name="websocket"),
            web.get("/ws/{token}", self.handle_websocket, name="session"),
            web.get("/download/{key}", self.handle_download, name="download"),
            web.static("/static", self.statics_path, name="static"),
        ])
        app.on_startup.append(self.on_startup)
        app.on_shutdown.append(self.on_shutdown)
        return app

    async def on_startup(self, app: web.Application) -> None:
        n = self.slots.limit
        print(f"rnn-tui: serving the app on {self.url} to at most {n} tab{'s' * (n != 1)} at once "
              "(each its own app and training); Ctrl+C stops", file=sys.stderr, flush=True)

    async def on_shutdown(self, app: web.Application) -> None:
        await asyncio.gather(*(session.stop() for session in list(self.sessions)))

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        token = self.slots.reserve()
        if token is None:
            log.info("full: %s turned away (%d of %d places taken)", request.remote, self.slots.in_use, self.slots.limit)
            return pages.full_page(self.slots.limit)
        scheme = "wss" if request.secure else "ws"
        context = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            # The page adds ?width=..&height=.. to this address, so the token is a path segment.
            "app_websocket_url": f"{scheme}://{request.host}/ws/{token}",
            "config": {"static": {"url": "/static/"}},
            "application": {"name": self.title},
        }
        response = aiohttp_jinja2.render_template("app_index.html", request, context)
        response.headers["Cache-Control"] = "no-store"  # a page from the cache would carry a spent token
        return response

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse(heartbeat=15)
        await websocket.prepare(request)
        token = self.slots.claim(request.match_info.get("token"))
        if token is None:  # it lost the race for the last place to another page
            await websocket.send_bytes(pages.full_terminal_text(self.slots.limit))
            await websocket.close()
            return websocket
        session = Session(self.argv, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                          close=websocket.close, download_manager=self.download_manager)
        self.sessions.add(session)
        try:
            width = to_int(request.query.get("width", "80"), 80)
            height = to_int(request.query.get("height", "24"), 24)
            await session.start(width, height)
            await self._process_messages(websocket, session)  # until the tab closes or the app ends
        except Exception:  # noqa: BLE001 - a malformed message from a page: end this session, not the server
            log.exception("session %s failed", session.app_service_id[:8])
        finally:
            await session.stop()
            self.sessions.discard(session)
            self.slots.release(token)
            await websocket.close()
        return websocket
