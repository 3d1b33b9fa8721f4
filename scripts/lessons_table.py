"""Run every shipped lesson at its full size (or --quick) and print the docs table: lesson, claim
as measured, ✓/✗, seconds. `python scripts/lessons_table.py [--quick] [N ...]`; one lesson at a time
(they train on every core)."""

import re
import subprocess
import sys
import tempfile


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    wanted = [int(a) for a in argv if a.isdigit()]
    from rnn_tui.lessons import Broken, catalogue

    print("| lesson | claim, as measured | holds | runs, seconds end to end |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as runs:
        for lesson in catalogue():
            if isinstance(lesson, Broken) or (wanted and lesson.number not in wanted):
                continue
            cmd = [sys.executable, "-m", "rnn_tui", "lessons", "--run", str(lesson.number), "--headless", "--quiet", "--runs", runs]
            out = subprocess.run(cmd + (["--quick"] if quick else []), capture_output=True, text=True)
            lines = out.stdout.strip().splitlines()
            if out.returncode not in (0, 1) or len(lines) < 2:
                print(f"| {lesson.number}. {lesson.title} | failed (exit {out.returncode}): {out.stderr.strip()[-200:]} | | |")
                continue
            seconds = re.search(r"(\d+) runs? in ([\d.]+) s", lines[0])
            mark, claim = lines[-1][0], lines[-1][1:].strip()
            print(f"| {lesson.number}. {lesson.title} | {claim} | {mark} | {seconds.group(1)} runs, {seconds.group(2)} s |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
