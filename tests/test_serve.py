"""Browser mode without a browser (issue 13): `rnn-tui serve`'s flags fail before serving with one
line; the session cap (its bookkeeping, then over HTTP against a real server); a closed websocket
ends its app process, and so does a killed server. The real browser: tests/browser/."""

import asyncio
import os
import re
import signal
import socket
import sys
import time

import aiohttp
import pytest

from rnn_tui.cli import main
from rnn_tui.serve import session as session_module
from rnn_tui.serve.slots import Slots

FAST_APP = ("--preset", "sine_rnn", "--set", "train.threads=1")


def serve_cli(capsys, *args) -> tuple[int, list[str]]:
    code = main(["serve", *map(str, args)])
    return code, capsys.readouterr().err.splitlines()


@pytest.mark.parametrize("args, says", [
    (["--port", "70000"], "--port 70000 is out of range: pick a port from 1 to 65535"),
    (["--port", "0"], "--port 0 is out of range"),
    (["--max-sessions", "0"], "--max-sessions 0 is out of range"),
    (["--host", "0.0.0.0"], "--host 0.0.0.0 can be reached from other machines, and textual-serve has no authentication"),
    (["--preset", "no_such_preset"], "unknown preset 'no_such_preset'"),
    (["--preset", "sine_rnn", "--set", "train.lr=-1"], "train.lr must be > 0"),
])
def test_bad_flags_are_one_line_and_exit_2_before_serving(capsys, args, says):
    code, lines = serve_cli(capsys, *args)
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith("rnn-tui: error: ") and says in lines[0], lines


def test_a_port_in_use_is_one_line_and_exit_2(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, lines = serve_cli(capsys, "--port", port)
    assert code == 2 and lines == [f"rnn-tui: error: --port {port} is in use on 127.0.0.1: pick another port"]


def test_slots_cap_reservations_and_lapses():
    now = [0.0]
    slots = Slots(2, lapse_s=20.0, clock=lambda: now[0])
    a, b = slots.reserve(), slots.reserve()
    assert a and b and a != b
    assert slots.reserve() is None  # two pages shown, two places held
    assert slots.claim(a) == a and slots.claim(a) is None  # a token is spent once (the server is full)
    now[0] = 25.0  # b's page never connected: its place lapsed
    assert slots.in_use == 1
    assert slots.claim(b) != b  # a lapsed token gets a fresh place only because one is free
    assert slots.in_use == 2 and slots.reserve() is None and slots.claim(None) is None
    slots.release(a)
    assert slots.in_use == 1 and slots.claim(None) is not None


async def test_an_app_that_does_not_quit_is_killed(monkeypatch):
    """The grace period, shortened, against a process that ignores the quit message."""
    from textual_serve.download_manager import DownloadManager

    monkeypatch.setattr(session_module, "QUIT_GRACE_S", 0.5)

    async def ignore(*args) -> None:
        pass

    deaf = session_module.Session([sys.executable, "-c", "import time; time.sleep(60)"], write_bytes=ignore,
                                  write_str=ignore, close=ignore, download_manager=DownloadManager())
    await deaf.start(80, 24)
    started = time.monotonic()
    await asyncio.gather(deaf.stop(), deaf.stop())  # the closed tab and the shutdown, at once
    assert deaf.returncode == -signal.SIGKILL and time.monotonic() - started < 10


def _page_token(html: str) -> str:
    return re.search(r'data-session-websocket-url="ws://[^/"]+/ws/([^"]+)"', html).group(1)


async def test_cap_and_a_closed_websocket_ends_its_app(serve):
    server = serve("--max-sessions", "1", *FAST_APP)
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url) as page:
            assert page.status == 200
            token = _page_token(await page.text())
        async with http.get(server.url) as full:  # the first page holds the one place
            assert full.status == 503 and "the server is full" in await full.text()
        async with http.ws_connect(f"ws://127.0.0.1:{server.port}/ws/{token}?width=100&height=30") as ws:
            first = await ws.receive(timeout=30)
            assert first.type == aiohttp.WSMsgType.BINARY  # the app's screen
            [app] = server.wait_apps(1)
            async with http.ws_connect(f"ws://127.0.0.1:{server.port}/ws?width=100&height=30") as late:
                refused = await late.receive(timeout=10)  # a websocket without a page: told, then closed
                assert b"the server is full" in refused.data
        deadline = time.monotonic() + 40
        while server.alive(app) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert not server.alive(app), "the app outlived its closed websocket"
        assert server.wait_apps(0) == []
        async with http.get(server.url) as again:  # and its place is free
            assert again.status == 200


async def test_public_warns_and_its_page_points_where_the_browser_went(serve):
    server = serve("--host", "0.0.0.0", "--public", *FAST_APP)
    assert server.output().splitlines()[0].startswith("rnn-tui: warning: serving on 0.0.0.0 with no authentication")
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url) as page:  # 0.0.0.0 is no address to browse to
            assert f'"ws://127.0.0.1:{server.port}/ws/' in await page.text()


async def test_a_killed_server_takes_its_apps_with_it(serve):
    server = serve(*FAST_APP)
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(f"ws://127.0.0.1:{server.port}/ws?width=100&height=30") as ws:
            await ws.receive(timeout=30)
            [app] = server.wait_apps(1)
            os.kill(server.proc.pid, signal.SIGKILL)  # no shutdown code runs
            deadline = time.monotonic() + 10
            while server.alive(app) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
    assert not server.alive(app), "an app outlived its killed server"
