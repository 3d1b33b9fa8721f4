"""`rnn-tui lessons`: the course notes' experiments as guided lessons. With no number, the list
(number, title, note, time); `lessons N` prints lesson N; `lessons --run N` runs it (in the app, or
without a screen with --headless) and prints its claim, measured, as the last line: exit 0 when the
claim holds, 1 when it does not, 130 when stopped."""

from __future__ import annotations

import sys

from rnn_tui.errors import UserError

EXIT_HOLDS, EXIT_DOES_NOT_HOLD, EXIT_STOPPED = 0, 1, 130


def register(sub) -> None:
    p = sub.add_parser("lessons", help="guided lessons: the course notes' experiments, their claims measured",
                       description="The course notes' experiments as lessons: a short text, 2 to 4 runs, and a claim measured "
                                   "from the runs (✓ or ✗).")
    p.add_argument("number", nargs="?", type=int, metavar="N", help="print lesson N")
    p.add_argument("--run", type=int, metavar="N", help="run lesson N (in the app; --headless: without a screen)")
    p.add_argument("--headless", action="store_true", help="with --run: no screen; the claim is the last line printed")
    p.add_argument("--quick", action="store_true", help="with --run: a test-sized version (seconds), the same claim measured")
    p.add_argument("--runs", metavar="DIR", help="the runs folder the lesson's runs are kept in (default: $RNN_TUI_RUNS or ./runs)")
    p.add_argument("--quiet", action="store_true", help="with --run --headless: only the results and the claim")
    p.set_defaults(func=run)


def listing() -> str:
    """One line a lesson: number, title, the note it comes from, its time at full size."""
    from rnn_tui.lessons import Broken, catalogue

    items = catalogue()
    width = max((len(i.title) for i in items if not isinstance(i, Broken)), default=0)
    lines = []
    for item in items:
        if isinstance(item, Broken):
            lines.append(f"{item.number:>3}  (cannot be used: {item.reason})")
        else:
            runs = "; ".join(r.label for r in item.runs)
            lines.append(f"{item.number:>3}  {item.title:<{width}}  notes {item.note:<4} {'~' + _minutes(item.minutes):>8}  {runs}")
    return "\n".join(lines) if lines else "no lessons found"


def _minutes(m: float) -> str:
    return f"{m * 60:.0f} s" if m < 1 else f"{m:g} min"


def show(number: int) -> str:
    from rnn_tui.lessons import get
    from rnn_tui.lessons.claims import unmeasured

    lesson = get(number)
    runs = "\n".join(f"  - {r.label} ({r.preset or 'own configuration'}{': ' + ' '.join(r.overrides) if r.overrides else ''})"
                     for r in lesson.runs)
    return (f"Lesson {lesson.number}: {lesson.title} (notes {lesson.note}, ~{_minutes(lesson.minutes)})\n\n{lesson.text}\n"
            f"Runs:\n{runs}\n\nClaim (measured when the runs are done): {unmeasured(lesson.claim.text)}\nRun it: rnn-tui lessons --run {lesson.number} [--headless] [--quick]")


def run(args) -> int:
    from rnn_tui.lessons import get

    if args.run is None:
        if args.headless or args.quick:
            raise UserError("--headless and --quick go with --run N")
        print(show(args.number) if args.number is not None else listing())
        return 0
    if args.number is not None:
        raise UserError("give the lesson once: rnn-tui lessons --run N")
    lesson = get(args.run)
    if not args.headless:
        from rnn_tui.tui.launch import launch_lessons

        return launch_lessons(lesson.number, args.quick, args.runs)
    return run_headless(lesson, args.quick, args.runs, args.quiet)


def run_headless(lesson, quick: bool, runs, quiet: bool) -> int:
    """Each run's progress on stderr (as `rnn-tui train` shows it), then the claim on stdout."""
    from rnn_tui.commands import progress as prog
    from rnn_tui.core.control import Control, stop_on_interrupt
    from rnn_tui.lessons import runner

    control = Control()
    bar = prog.make(quiet)

    def on_event(e) -> None:
        if isinstance(e, runner.RunStarted):
            bar.close()
            if not quiet:
                print(f"[{e.index + 1}/{e.total}] {e.spec.label} -> {e.folder}", file=sys.stderr)
        else:
            bar(e)

    try:
        with stop_on_interrupt(control):  # a first Ctrl-C stops the lesson's run, a second at once
            out = runner.run(lesson, quick, runs, on_event, control)
    finally:
        bar.close()
    size = " (quick)" if quick else ""
    print(f"lesson {lesson.number}{size}: {lesson.title}, {len(out.summaries)} run{'s' * (len(out.summaries) != 1)} in {out.seconds:.1f} s")
    if out.verdict is None:
        print("stopped before every run finished: the claim is not measured")
        return EXIT_STOPPED
    print(out.verdict.line)
    return EXIT_HOLDS if out.verdict.holds else EXIT_DOES_NOT_HOLD
