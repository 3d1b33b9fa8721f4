"""Lessons: the course notes' experiments as guided, runnable lessons whose claims are measured.

A lesson is a Markdown file with a TOML front matter (spec.py): its text, 2 to 4 configurations
and a claim; runner.py runs the configurations into the run library and measures the claim
(claims.py) from the runs' files. The shipped lessons are in the repository's `lessons/` folder
(installed inside the package), a teacher's own in the data folder's `lessons/`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rnn_tui.errors import UserError
from rnn_tui.lessons.spec import Lesson, read
from rnn_tui.paths import data_dir


def shipped_dir() -> Path:
    """The shipped lessons: inside the installed package, else the repository's lessons/."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "shipped", here.parent.parent / "lessons"):
        if candidate.is_dir():
            return candidate
    return here.parent.parent / "lessons"


def user_dir() -> Path:
    """A teacher's own lessons: $RNN_TUI_HOME/lessons (else the platform's data folder)."""
    return data_dir() / "lessons"


@dataclass(frozen=True)
class Broken:
    """A lesson file that cannot be used, and why (the list shows it with its one-line reason)."""

    number: int
    path: Path
    reason: str


def _number(path: Path) -> int | None:
    m = re.match(r"(\d+)[-_]", path.name)
    return int(m.group(1)) if m else None


def catalogue() -> list[Lesson | Broken]:
    """Every lesson, by number: the shipped ones, then a teacher's (a teacher's file with the same
    number replaces the shipped one). A file that does not read is listed as Broken."""
    files: dict[int, Path] = {}
    for folder in (shipped_dir(), user_dir()):
        if folder.is_dir():
            for path in sorted(folder.glob("*.md")):
                n = _number(path)
                if n is not None:
                    files[n] = path
    out: list[Lesson | Broken] = []
    for n in sorted(files):
        try:
            out.append(read(files[n], n))
        except UserError as exc:
            out.append(Broken(n, files[n], str(exc)))
    return out


def get(number: int) -> Lesson:
    """Lesson `number`; UserError when there is none or it does not read."""
    items = {item.number: item for item in catalogue()}
    item = items.get(number)
    if item is None:
        valid = ", ".join(str(n) for n in items) or "none"
        raise UserError(f"no lesson {number}; lessons: {valid} (see `rnn-tui lessons`)")
    if isinstance(item, Broken):
        raise UserError(item.reason)
    return item
