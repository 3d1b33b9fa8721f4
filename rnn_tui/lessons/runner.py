"""Running a lesson: its configurations one after another, each into its own folder of the run
library (tagged with lesson.json, so `rnn-tui runs` and the Runs screen see and overlay them), then
its claim measured from the runs' files. One stop flag for the whole lesson: a stop ends the run
under way (its files are kept, as a cancelled run's) and the ones after it never start.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rnn_tui.core import runio
from rnn_tui.core.control import Control
from rnn_tui.core.library import checked_root
from rnn_tui.core.results import Summary
from rnn_tui.core.runfolder import RunFolder, train_into
from rnn_tui.errors import UserError
from rnn_tui.lessons import claims
from rnn_tui.lessons.spec import Lesson, RunSpec

TAG = "lesson.json"


@dataclass(frozen=True)
class RunStarted:
    """Run `index` (0-based) of a lesson's `total` is about to start (an event for the front ends)."""

    index: int
    total: int
    spec: RunSpec
    folder: Path


@dataclass(frozen=True)
class Verdict:
    """The claim, measured: its value, whether it holds, and its sentence with the numbers."""

    value: float
    holds: bool
    sentence: str

    @property
    def line(self) -> str:
        return f"{'✓' if self.holds else '✗'} {self.sentence}"


@dataclass
class Outcome:
    """What a lesson run left: each run's folder and summary, the claim's verdict (None when the
    lesson was stopped before every run finished), and how long it took."""

    lesson: Lesson
    quick: bool
    folders: dict[str, Path] = field(default_factory=dict)
    summaries: dict[str, Summary] = field(default_factory=dict)
    verdict: Verdict | None = None
    seconds: float = 0.0

    @property
    def stopped(self) -> bool:
        return self.verdict is None


def run(lesson: Lesson, quick: bool = False, root: str | Path | None = None, on_event: Callable | None = None,
        control: Control | None = None) -> Outcome:
    """Run every configuration of `lesson` (the quick size with `quick`) into the runs folder `root`
    and measure its claim. `on_event` gets RunStarted before each run, then that run's trainer
    events. UserError for a configuration refused at set-up (nothing of that run is left)."""
    control = control or Control()
    emit = on_event or (lambda e: None)
    out, t0 = Outcome(lesson, quick), time.perf_counter()
    library = checked_root(str(root) if root is not None else None)
    for i, spec in enumerate(lesson.runs):
        if control.stop.is_set():
            break
        cfg = spec.load(quick)
        path = runio.new_run_dir(f"lesson{lesson.number:02d}-{spec.name}", library)
        emit(RunStarted(i, len(lesson.runs), spec, path))
        header = f"Run {spec.name!r} of lesson {lesson.number} ({lesson.title}){' at its quick size' if quick else ''}."
        result = train_into(RunFolder.claim(path), cfg, header, emit, control)
        runio.write_json(path / TAG, {"lesson": lesson.number, "slug": lesson.slug, "run": spec.name, "label": spec.label,
                                      "quick": quick})
        out.folders[spec.name] = path
        out.summaries[spec.name] = runio.read_summary(path / "summary.json")
        if result.status == "cancelled":
            break
    out.seconds = time.perf_counter() - t0
    if len(out.summaries) == len(lesson.runs) and not control.stop.is_set():
        out.verdict = measure(lesson, out.summaries)
    return out


def measure(lesson: Lesson, summaries: dict[str, Summary]) -> Verdict:
    """The claim of `lesson` from its runs' summaries (read from their files)."""
    env: dict = {name: claims.RunFacts(s) for name, s in summaries.items()}
    source = f"{lesson.path}: claim"
    value = claims.evaluate(lesson.claim.value, env, f"{source}.value")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UserError(f"{source}.value: {lesson.claim.value!r} is not a number ({value!r})") from None
    holds = math.isfinite(number) and bool(claims.evaluate(lesson.claim.holds, {**env, "value": number}, f"{source}.holds"))
    return Verdict(number, holds, claims.sentence(lesson.claim.text, {**env, "value": number}))
