"""`rnn-tui serve` in a real headless Chromium (issue 13; the CI tier `pytest -m browser`, set up by
.ci/browser.sh): the page shows the app, `s` trains (the status line's epoch counter goes up), a
second tab over the cap gets the "server is full" page, and closing the tab ends its app process.
The screenshot goes to the test's tmp folder (pytest --basetemp DIR keeps it where you can look at
it), and to docs/serve_browser.png (the README's) when RNN_TUI_UPDATE_DOCS=1."""

import os
import re
import shutil
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("RNN_TUI_CHROMIUM", "/usr/bin/chromium")
DOCS = Path(__file__).resolve().parents[2] / "docs"
FAST_APP = ("--preset", "sine_rnn", "--set", "train.threads=1")

# xterm.js keeps its Terminal inside textual-serve's bundle and draws on a canvas (no text in the
# DOM). Before the page's script runs, catch the object when the bundle does `this.terminal = ...`,
# so that the test can read the terminal's buffer.
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {configurable: true, set(value) {
  Object.defineProperty(this, "terminal", {value, writable: true, configurable: true, enumerable: true});
  if (value && value.buffer && value.buffer.active) window.rnnTerminal = value;
}});
"""
SCREEN_ROWS = """() => {
  const t = window.rnnTerminal, b = t.buffer.active, rows = [];
  for (let y = 0; y < t.rows; y++) rows.push(b.getLine(b.viewportY + y).translateToString(true));
  return rows;
}"""


@pytest.fixture(scope="module")
def chromium():
    # Imported here: the default run collects this module too (then leaves it out by its marker).
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: run .ci/browser.sh", pytrace=False)
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run .ci/browser.sh or set RNN_TUI_CHROMIUM", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


def wait_for_screen(page, test, timeout: float = 60.0) -> list[str]:
    """The terminal's rows once `test(rows)` holds."""
    end = time.monotonic() + timeout
    while True:
        rows = page.evaluate(SCREEN_ROWS)
        if test(rows):
            return rows
        if time.monotonic() > end:
            raise AssertionError("the screen never showed it:\n" + "\n".join(rows))
        time.sleep(0.1)


def epoch(rows: list[str]) -> int:
    found = [int(m.group(1)) for row in rows for m in re.finditer(r"\bepoch (\d+)/\d+", row)]
    return found[0] if found else 0


def test_the_app_in_chromium(chromium, serve, tmp_path):
    started = time.monotonic()
    server = serve("--max-sessions", "1", *FAST_APP)
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    page.add_init_script(CATCH_TERMINAL)
    page.goto(server.url)
    page.wait_for_function("window.rnnTerminal && document.body.classList.contains('-first-byte')", timeout=60_000)
    wait_for_screen(page, lambda rows: "rnn-tui" in rows[0])
    # Textual's web driver starts the app blurred, its footer empty, until the page has the focus
    # (a person clicks into it): focus the terminal without a click that could land on a widget.
    page.focus(".xterm-helper-textarea")
    rows = wait_for_screen(page, lambda rows: "q Quit" in rows[-1])
    assert "sine_rnn" in rows[0] and "s Start" in rows[-1]  # the title bar and the footer
    [app] = server.wait_apps(1)

    second = chromium.new_page()
    response = second.goto(server.url)
    assert response.status == 503 and second.locator("#full").inner_text() == "rnn-tui: the server is full"
    second.close()
    assert server.apps() == [app]  # the full page started nothing

    page.keyboard.press("s")
    first = epoch(wait_for_screen(page, lambda rows: epoch(rows) >= 1))
    rows = wait_for_screen(page, lambda rows: epoch(rows) > first)
    assert any(row.lstrip().startswith("training") for row in rows), rows
    # For the picture: every plot drawn (each says "press s to train" until its first data).
    wait_for_screen(page, lambda rows: epoch(rows) >= 20 and not any("press s to train" in row for row in rows))
    page.screenshot(path=tmp_path / "serve_browser.png")
    if os.environ.get("RNN_TUI_UPDATE_DOCS") == "1":
        shutil.copyfile(tmp_path / "serve_browser.png", DOCS / "serve_browser.png")

    page.close()  # the tab goes: its app, and its training, must go too
    deadline = time.monotonic() + 40
    while server.alive(app) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not server.alive(app), "the app outlived its tab"
    assert server.apps() == []
    runs = [p for p in Path(os.environ["RNN_TUI_RUNS"]).iterdir() if (p / "summary.json").exists()]
    assert len(runs) == 1, "the served run was not kept in the runs folder"
    print(f"browser test: {time.monotonic() - started:.1f} s")
