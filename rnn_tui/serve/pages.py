"""What a visitor sees when every place is taken: a page (and, for a websocket that lost the race
for the last place, a line in the terminal) saying so, never a tab that hangs."""

from __future__ import annotations

from html import escape

from aiohttp import web

RETRY_S = 10  # the full page reloads itself this often, so a visitor gets in once a tab closes

FULL_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="{retry}">
<title>rnn-tui: the server is full</title>
<style>
  body {{ background: #0c181f; color: #e6e6e6; font-family: menlo, "Roboto Mono", monospace; }}
  main {{ max-width: 40em; margin: 20vh auto; padding: 2em; background: #12232d; }}
  h1 {{ font-size: 1.3em; }}
</style>
</head>
<body>
<main>
<h1 id="full">rnn-tui: the server is full</h1>
<p>All {limit} place{s} on this server are taken: each open tab runs its own app and its own training.</p>
<p>This page tries again every {retry} seconds and opens the app as soon as someone closes their tab.</p>
</main>
</body>
</html>
"""


def full_page(limit: int) -> web.Response:
    html = FULL_PAGE.format(retry=RETRY_S, limit=escape(str(limit)), s="s" * (limit != 1))
    return web.Response(status=503, text=html, content_type="text/html", headers={"Retry-After": str(RETRY_S)})


def full_terminal_text(limit: int) -> bytes:
    return (f"\r\n  rnn-tui: the server is full (all {limit} place{'s' * (limit != 1)} taken).\r\n"
            "  Reload the page in a little while.\r\n").encode()
