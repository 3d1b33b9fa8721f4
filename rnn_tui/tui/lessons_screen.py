"""The Lessons screen: the list of lessons on the left; the chosen one's text, its runs with their
progress, and its claim on the right. `s` runs the lesson (`k` its quick size) in a thread worker,
`x` stops it, and when it is done the claim shows measured (✓ or ✗) and `c` opens the Runs screen
with the lesson's runs selected, their losses, forecasts and errors overlaid.

The worker only writes to a `LessonLog` (one lock); a timer reads it, as the main screen reads its
run: training never waits for the screen.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, ListItem, ListView, Markdown, ProgressBar, Static

from rnn_tui.core import events as ev
from rnn_tui.core.control import Control
from rnn_tui.errors import UserError
from rnn_tui.lessons import Broken, catalogue, claims, runner
from rnn_tui.lessons.spec import Lesson

TICK_S = 0.25


@dataclass
class LessonLog:
    """What the lesson's worker reported: the run under way, its epochs, the outcome or the error."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    index: int = -1  # the run under way (0-based)
    total: int = 0
    epoch: int = 0
    epochs: int = 0
    phase: str = ""  # a long phase outside the epochs ("driving the reservoir 40%")
    done: list[str] = field(default_factory=list)  # one line per finished run
    folders: list[Path] = field(default_factory=list)
    outcome: runner.Outcome | None = None
    error: str = ""
    finished: bool = False

    def record(self, e) -> None:
        with self.lock:
            if isinstance(e, runner.RunStarted):
                self.index, self.total, self.epoch, self.epochs, self.phase = e.index, e.total, 0, 0, ""
                self.folders.append(e.folder)
            elif isinstance(e, ev.Started):
                self.epochs = e.epochs
            elif isinstance(e, ev.EpochEnd):
                self.epoch, self.phase = e.epoch, ""
            elif isinstance(e, ev.Progress):
                self.phase = e.text()
            elif isinstance(e, ev.Finished):
                self.done.append(f"{e.summary.status}: {_result(e.summary)}")

    def snapshot(self) -> dict:
        with self.lock:
            return {k: (list(v) if isinstance(v, list) else v) for k, v in self.__dict__.items() if k != "lock"}


def _result(summary) -> str:
    """The run's headline figure: VPT for chaotic systems, else RMSE at the end of the free run."""
    if summary.vpt_text():
        return summary.vpt_text()
    e = summary.evaluation
    if e is not None and e.rmse_curve:
        return f"free-run RMSE {e.rmse_curve[0]:.3g} one step ahead, {e.rmse_curve[-1]:.3g} at step {len(e.rmse_curve)}"
    return summary.message or "no forecast scored"


class LessonsScreen(Screen):
    """The lessons, one of them open; run it, stop it, compare its runs."""

    BINDINGS = [
        Binding("s", "run(False)", "Run"),
        Binding("k", "run(True)", "Quick run"),
        Binding("x", "stop", "Stop"),
        Binding("c", "compare", "Compare runs"),
        Binding("escape", "close", "Close"),
    ]

    def __init__(self, root: Path | None = None, open_number: int | None = None, quick_start: bool | None = None) -> None:
        super().__init__()
        self.root = root
        self.items = catalogue()
        self.open_number = open_number
        self.quick_start = quick_start  # start this lesson at once (True: its quick size)
        self.lesson: Lesson | None = None
        self.lesson_log: LessonLog | None = None
        self.control: Control | None = None
        self.running = False

    def compose(self) -> ComposeResult:
        yield Label("Lessons: the course notes' experiments, each claim measured from its runs", id="lessons-title")
        with Horizontal(id="lessons-main"):
            yield ListView(*(ListItem(Label(_item_text(i)), id=f"lesson-{i.number}") for i in self.items), id="lesson-list")
            with Vertical(id="lesson-body"):
                with VerticalScroll(id="lesson-scroll"):
                    yield Markdown("", id="lesson-text")
                yield Static("", id="lesson-runs")
                yield ProgressBar(id="lesson-progress", show_eta=False)
                yield Static("", id="lesson-claim")
        yield Footer()

    def on_mount(self) -> None:
        listing = self.query_one(ListView)
        numbers = [i.number for i in self.items]
        start = numbers.index(self.open_number) if self.open_number in numbers else 0
        if numbers:
            listing.index = start
            self._open(self.items[start])
        listing.focus()
        self.set_interval(TICK_S, self._tick)
        if self.quick_start is not None and self.lesson is not None:
            self.action_run(self.quick_start)

    @on(ListView.Highlighted, "#lesson-list")
    def _highlighted(self, event: ListView.Highlighted) -> None:
        if event.item is None or self.running:
            return
        number = int(str(event.item.id).split("-")[1])
        self._open(next(i for i in self.items if i.number == number))

    def _open(self, item) -> None:
        self.lesson_log = None
        if isinstance(item, Broken):
            self.lesson = None
            self.query_one("#lesson-text", Markdown).update(f"**This lesson cannot be used.**\n\n{item.reason}")
            self.query_one("#lesson-runs", Static).update("")
            self.query_one("#lesson-claim", Static).update("")
            return
        self.lesson = item
        head = f"# {item.number}. {item.title}\n\n*From notes {item.note} · about {_duration(item.minutes)} at full size*\n\n"
        self.query_one("#lesson-text", Markdown).update(head + item.text)
        self.query_one("#lesson-runs", Static).update("\n".join(f"  {r.label}: waiting (s runs the lesson, k its quick size)"
                                                               for r in item.runs))
        self.query_one("#lesson-claim", Static).update(f"Claim, measured when the runs are done: {claims.unmeasured(item.claim.text)}")
        self.query_one(ProgressBar).update(total=len(item.runs), progress=0)

    # -- running ----------------------------------------------------------------------------------

    def action_run(self, quick: bool) -> None:
        if self.running:
            self.notify("the lesson is running: x stops it", severity="warning")
            return
        if self.lesson is None:
            self.notify("this lesson cannot be used (see its text)", severity="error")
            return
        self.lesson_log, self.control, self.running = LessonLog(), Control(), True
        self.query_one("#lesson-claim", Static).update("Claim: measured when every run is done…")
        self._work(self.lesson, quick, self.lesson_log, self.control)

    @work(thread=True, exclusive=True, exit_on_error=False, group="lesson")
    def _work(self, lesson: Lesson, quick: bool, log: LessonLog, control: Control) -> None:
        from rnn_tui.crash import crashed

        try:
            out = runner.run(lesson, quick, self.root, log.record, control)
            with log.lock:
                log.outcome = out
        except UserError as exc:
            with log.lock:
                log.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - the app stays up; the report keeps the traceback
            with log.lock:
                log.error = str(crashed(exc))
        finally:
            with log.lock:
                log.finished = True

    def action_stop(self) -> None:
        if self.running and self.control is not None:
            self.control.request_stop()
            self.notify("stopping: the run under way keeps its files")

    def _tick(self) -> None:
        if self.lesson_log is None or self.lesson is None:
            return
        s = self.lesson_log.snapshot()
        lines = []
        for i, r in enumerate(self.lesson.runs):
            if i < len(s["done"]):
                state = s["done"][i]
            elif i == s["index"] and not s["finished"]:
                state = s["phase"] or (f"training, epoch {s['epoch']}/{s['epochs']}" if s["epochs"] else "setting up")
            else:
                state = "waiting"
            lines.append(f"  {r.label}: {state}")
        self.query_one("#lesson-runs", Static).update("\n".join(lines))
        fraction = (s["epoch"] / s["epochs"]) if s["epochs"] and not s["finished"] else 0.0
        self.query_one(ProgressBar).update(total=len(self.lesson.runs), progress=len(s["done"]) + fraction)
        if s["finished"] and self.running:
            self.running = False
            self._show_end(s)

    def _show_end(self, s: dict) -> None:
        claim = self.query_one("#lesson-claim", Static)
        if s["error"]:
            claim.update(f"The lesson could not run: {s['error']}")
        elif s["outcome"] is None or s["outcome"].verdict is None:
            claim.update("Stopped before every run finished: the claim is not measured. s runs the lesson again.")
        else:
            out = s["outcome"]
            size = " (quick size: a test of the lesson, not its figures)" if out.quick else ""
            claim.update(f"{out.verdict.line}{size}\nc compares the runs (losses, forecasts, errors by horizon).")

    # -- comparing ----------------------------------------------------------------------------------

    def action_compare(self) -> None:
        folders = self.lesson_log.snapshot()["folders"] if self.lesson_log is not None else []
        if not folders:
            self.notify("run the lesson first (s)", severity="warning")
            return
        from rnn_tui.core.library import runs_root
        from rnn_tui.tui.runs_screen import RunsScreen

        self.app.push_screen(RunsScreen(runs_root(str(self.root) if self.root else None), select=[p.name for p in folders]))

    def action_close(self) -> None:
        if self.running:
            self.notify("the lesson is running: x stops it first", severity="warning")
            return
        self.app.pop_screen()


def _duration(minutes: float) -> str:
    return f"{minutes * 60:.0f} s" if minutes < 1 else f"{minutes:g} min"


def _item_text(item) -> str:
    if isinstance(item, Broken):
        return f"{item.number:>2}. (cannot be used)"
    return f"{item.number:>2}. {item.title}\n    notes {item.note} · ~{_duration(item.minutes)}"
