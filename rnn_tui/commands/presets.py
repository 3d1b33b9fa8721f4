"""`rnn-tui presets`: list the shipped presets, each with the first sentence of its description
(two when the first is short), wrapped to the terminal; one line each when the output is not a
terminal (for grep). Never cut mid-sentence."""

from __future__ import annotations

import re
import shutil
import sys
import textwrap
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("presets", help="list the shipped presets", description="List the shipped presets, each with what it shows.")
    p.set_defaults(func=run)


# A sentence ends at . ! or ? before a capital or a digit, but not after "et al." or "e.g.".
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<!\bal\.)(?<!e\.g\.)(?<!i\.e\.)\s+(?=[A-Z0-9])")
SHORT = 60  # a first sentence shorter than this gets the next one too


def description(path: Path) -> str:
    """The first sentence of a preset's opening comment (which may run over several lines)."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    sentences = _SENTENCE_END.split(" ".join(l for l in lines if l))
    text = sentences[0]
    if len(text) < SHORT and len(sentences) > 1:
        text += " " + sentences[1]
    return text


def run(args) -> int:
    from rnn_tui.config import list_presets, preset_path

    names = list(list_presets())
    width = max((len(n) for n in names), default=0)
    columns = max(60, shutil.get_terminal_size((100, 24)).columns)
    indent = " " * (width + 2)
    for name in names:
        text = description(preset_path(name)) or "(no description)"
        if not sys.stdout.isatty():
            print(f"{name:<{width}}  {text}")
            continue
        print(textwrap.fill(text, columns - 1, initial_indent=f"{name:<{width}}  ", subsequent_indent=indent,
                            break_long_words=False, break_on_hyphens=False))
    return 0
