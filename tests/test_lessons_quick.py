"""Every shipped lesson at its quick size, end to end from the command line (a CI tier: about a
minute in all): it runs, prints its claim measured as the last line, and exits by it (0 when the
claim holds, 1 when it does not; shown as ✓ or ✗ either way, never hidden)."""

import os
import re
import subprocess
import sys

import pytest

from rnn_tui.lessons import Broken, catalogue

SHIPPED = [lesson.number for lesson in catalogue() if not isinstance(lesson, Broken)]


@pytest.mark.heavy
@pytest.mark.parametrize("number", SHIPPED)
def test_every_shipped_lesson_runs_at_its_quick_size(number, tmp_path):
    cmd = [sys.executable, "-m", "rnn_tui", "lessons", "--run", str(number), "--headless", "--quick", "--quiet", "--runs", str(tmp_path)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**os.environ, "RNN_TUI_HOME": str(tmp_path)})
    lines = out.stdout.strip().splitlines()
    assert out.returncode in (0, 1), out.stderr
    assert re.match(rf"lesson {number} \(quick\): .+, \d+ runs? in [\d.]+ s$", lines[0]), lines
    assert lines[-1][0] == ("✓" if out.returncode == 0 else "✗") and re.search(r"\d", lines[-1]), lines[-1]
    assert "{" not in lines[-1]  # every placeholder of the claim was measured
    assert len([p for p in tmp_path.iterdir() if (p / "summary.json").exists()]) >= 2  # its runs are kept in the library


def test_shipped_lessons_are_numbered_in_order_without_repeats():
    assert SHIPPED == sorted(set(SHIPPED)) and SHIPPED[0] == 1
