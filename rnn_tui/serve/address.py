"""Where `rnn-tui serve` listens, checked before serving so that a bad --host or --port is one line
(exit 2) rather than a traceback from the web server. Standard library only."""

from __future__ import annotations

import errno
import ipaddress
import os
import socket

from rnn_tui.errors import UserError


def check_port(port: int) -> None:
    # 0 would mean "any free port", which a user could not then type into a browser.
    if not 1 <= port <= 65535:
        raise UserError(f"--port {port} is out of range: pick a port from 1 to 65535")


def _addresses(host: str, port: int) -> list[tuple]:
    try:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UserError(f"--host {host}: cannot resolve it ({exc.strerror})") from None


def is_loopback(host: str) -> bool:
    """Whether every address `host` stands for is on this machine only (127.0.0.0/8, ::1); Debian
    names the machine 127.0.1.1, which counts. An empty host or 0.0.0.0 means every interface."""
    if not host:
        return False
    return all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in _addresses(host, 0))


def check_free(host: str, port: int) -> None:
    """Bind each address of host:port once, as the web server will, and let go at once."""
    for family, kind, proto, _, sockaddr in _addresses(host, port):
        with socket.socket(family, kind, proto) as s:
            if os.name == "posix":  # as aiohttp does: a port left in TIME_WAIT is not "in use"
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(sockaddr)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise UserError(f"--port {port} is in use on {host}: pick another port") from None
                raise UserError(f"cannot listen on {host} port {port}: {exc.strerror or exc}") from None
