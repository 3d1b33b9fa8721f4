"""Lessons (rnn_tui/lessons/): the file format and its one-line errors, the claim language (only the
runs' facts, nothing else of Python), a lesson run into the run library with its claim measured from
the runs' files, and the `rnn-tui lessons` command (list, show, --run --headless --quick: the claim is
the last line, exit 0 when it holds, 1 when it does not)."""

from __future__ import annotations

import json
import dataclasses
import math
import textwrap
from pathlib import Path

import pytest

from rnn_tui.cli import main
from rnn_tui.core import runio
from rnn_tui.errors import UserError
from rnn_tui.lessons import Broken, catalogue, claims, runner, spec

TINY = ["system.steps=300", "train.epochs=2", "train.threads=1", "train.device=cpu", "model.hidden_size=4", "rollout.every=0",
        "rollout.horizon=10"]


def lesson_text(claim_value="a.rmse(1) / b.rmse(1)", holds="value > 0", text="a is {value:.2f} times b ({a.rmse[1]:.3g})",
                extra_front="", runs=None) -> str:
    runs = runs if runs is not None else [("a", "sine_rnn", TINY), ("b", "sine_lstm", TINY)]
    blocks = "".join(f'[[runs]]\nname = "{n}"\npreset = "{p}"\nset = {json.dumps(s)}\nquick = ["train.epochs=1"]\n\n' for n, p, s in runs)
    return (f'+++\ntitle = "A tiny lesson"\nnote = "004"\nminutes = 0.1\n{extra_front}\n{blocks}'
            f'[claim]\nvalue = "{claim_value}"\nholds = "{holds}"\ntext = "{text}"\n+++\nWhat to watch: two small nets.\n')


def write(tmp_path: Path, text: str, name: str = "07-tiny.md") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_lesson_file_reads_with_its_runs_and_claim(tmp_path):
    lesson = spec.read(write(tmp_path, lesson_text()), 7)
    assert (lesson.number, lesson.slug, lesson.title, lesson.note) == (7, "tiny", "A tiny lesson", "004")
    assert [r.name for r in lesson.runs] == ["a", "b"] and lesson.runs[0].load(quick=True).train.epochs == 1
    assert lesson.words < 10


@pytest.mark.parametrize("mutate, words", [
    (lambda t: t.replace("title = ", "titel = "), "unknown key titel (did you mean 'title'?)"),
    (lambda t: t.replace('note = "004"\n', ""), "note is missing"),
    (lambda t: t.replace("[claim]", "[claims]"), "unknown key claims"),
    (lambda t: t.split("[claim]")[0] + "+++\ntext\n", "claim is missing"),
    (lambda t: t.replace('"system.steps=300"', '"system.stepz=300"'), "runs[0]: "),
    (lambda t: t.replace('"model.hidden_size=4"', '"model.hidden_size=-4"', 1), "model.hidden_size must be"),
    (lambda t: t.replace('preset = "sine_rnn"', 'preset = "sine_rn"'), "unknown preset 'sine_rn'"),
    (lambda t: t.replace("a.rmse(1) / b.rmse(1)", "a.rmse(1) / c.rmse(1)"), "unknown name 'c'"),
    (lambda t: t.replace("a.rmse(1) / b.rmse(1)", "a.__class__"), "a run has no fact '__class__'"),
    (lambda t: t.replace("a.rmse(1) / b.rmse(1)", "__import__('os').system('true')"), "may be called"),
    (lambda t: t.replace("a.rmse(1) / b.rmse(1)", "[x for x in a.members_vpt]"), "not allowed in a claim"),
    (lambda t: t.replace("{a.rmse[1]:.3g}", "{a.__dict__}"), "a run has no fact '__dict__'"),
    (lambda t: t.replace("+++\nWhat", "What"), "no closing '+++'"),
    (lambda t: t.replace("minutes = 0.1", "minutes = [1"), "malformed TOML"),
])
def test_a_broken_lesson_is_one_line_naming_the_file_and_the_key(tmp_path, mutate, words):
    path = write(tmp_path, mutate(lesson_text()))
    with pytest.raises(UserError) as err:
        spec.read(path, 7)
    message = str(err.value)
    assert message.startswith(str(path)) and words in message and "\n" not in message


def test_the_list_shows_the_other_lessons_when_one_is_broken(tmp_path, monkeypatch, capsys):
    home = Path(str(tmp_path / "home"))
    monkeypatch.setenv("RNN_TUI_HOME", str(home))
    (home / "lessons").mkdir(parents=True)
    write(home / "lessons", lesson_text().replace("title = ", "titel = "), "98-broken.md")
    write(home / "lessons", lesson_text(), "99-fine.md")
    items = {i.number: i for i in catalogue()}
    assert isinstance(items[98], Broken) and not isinstance(items[99], Broken)
    assert sum(not isinstance(i, Broken) for i in items.values()) >= 2  # the shipped lessons are still there
    assert main(["lessons"]) == 0
    out = capsys.readouterr().out
    assert " 99  A tiny lesson" in out and "98  (cannot be used:" in out and "unknown key titel" in out
    assert main(["lessons", "--run", "98", "--headless"]) == 2
    assert "unknown key titel" in capsys.readouterr().err


def test_claims_read_only_the_runs_facts():
    from rnn_tui.core.results import Evaluation, Summary

    summary = Summary(status="finished", message="", system="sine", arch="rnn", epochs_run=3, steps=30, final_train_loss=0.1,
                      final_val_loss=0.2, best_val_loss=0.15, final_val_rmse_units=0.3, n_params=10, device="cpu",
                      step_mode="eager", dtype="float32", threads=1, n_train_windows=10, n_val_windows=5,
                      split_samples={}, wall_time_s=2.0, train_time_s=1.5, evaluation=Evaluation("test", 100, 3, (0.1, 0.2, 0.4)))
    env = {"r": claims.RunFacts(summary)}
    assert claims.evaluate("r.rmse(3) / r.rmse(1)", env) == pytest.approx(4.0)
    assert claims.evaluate("r.rmse[2] + r.horizon", env) == pytest.approx(3.2)
    assert claims.evaluate("max(r.val_loss, r.train_loss) < 1 and not r.diverged", env) is True
    assert math.isnan(claims.evaluate("r.vpt", env)) and math.isnan(claims.evaluate("r.get('nope.deeper')", env))
    assert claims.evaluate("r.get('split') if r.horizon > 2 else 'none'", env) == "test"
    assert claims.sentence("{r.rmse[3]:.1f} after {r.horizon} steps, {value:.0%}", {**env, "value": 0.5}) == "0.4 after 3 steps, 50%"
    for bad in ("r.summary", "r._dict", "open('x')", "(1).real", "lambda: 1", "r.rmse.values"):
        with pytest.raises(UserError):
            claims.evaluate(bad, env)
    with pytest.raises(UserError):
        claims.sentence("{r.summary.message}", env)
    assert math.isnan(claims.evaluate("r.lambda1", env)) and claims.evaluate("r.fate", env) == ""  # not measured: NaN, never missing
    measured = dataclasses.replace(summary, evaluation=None)
    facts = claims.RunFacts(measured)
    facts._dict.update(climate={"fate": "bounded", "lyapunov_model": [0.91, 0.0], "lyapunov_truth": [0.9056], "d_stsp": 0.08},
                       inspect={"grad_lag_ratio": 1e-3, "grad_decay_per_step": 0.89, "spectral_radius": 0.9})
    got = {f: claims.evaluate(f"r.{f}", {"r": facts}) for f in ("fate", "lambda1", "lambda1_truth", "d_stsp", "grad_lag_ratio",
                                                                  "grad_decay", "spectral_radius")}
    assert got == {"fate": "bounded", "lambda1": 0.91, "lambda1_truth": 0.9056, "d_stsp": 0.08, "grad_lag_ratio": 1e-3,
                   "grad_decay": 0.89, "spectral_radius": 0.9}
    assert math.isnan(claims.evaluate("r.d_h_floor", {"r": facts}))


def test_a_lesson_runs_into_the_library_and_its_claim_is_measured_from_the_files(tmp_path):
    lesson = spec.read(write(tmp_path, lesson_text()), 7)
    seen = []
    out = runner.run(lesson, quick=True, root=tmp_path / "runs", on_event=seen.append)
    assert [e.index for e in seen if isinstance(e, runner.RunStarted)] == [0, 1]
    assert set(out.folders) == {"a", "b"} and all(p.parent == tmp_path / "runs" for p in out.folders.values())
    for name, folder in out.folders.items():
        assert json.loads((folder / "lesson.json").read_text())["run"] == name
        assert runio.read_config(folder).train.epochs == 1  # the quick size
    a, b = (runio.read_summary(out.folders[n] / "summary.json").evaluation.rmse_curve[0] for n in "ab")
    assert out.verdict.value == pytest.approx(a / b) and out.verdict.holds
    assert out.verdict.line == f"✓ a is {a / b:.2f} times b ({a:.3g})"


def test_the_command_prints_the_claim_last_and_exits_by_it(tmp_path, capsys):
    home = tmp_path / "home" / "lessons"
    home.mkdir(parents=True)
    write(home, lesson_text(holds="value > 0"), "97-holds.md")
    write(home, lesson_text(holds="value < 0", text="never: {value:.2f}"), "96-fails.md")
    assert main(["lessons", "--run", "97", "--headless", "--quick", "--quiet", "--runs", str(tmp_path / "r")]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("✓ a is ")
    assert main(["lessons", "--run", "96", "--headless", "--quick", "--quiet", "--runs", str(tmp_path / "r")]) == 1
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("✗ never: ")
    assert main(["lessons", "97"]) == 0 and "What to watch: two small nets." in capsys.readouterr().out
    for args, words in ((["lessons", "--run", "1234", "--headless"], "no lesson 1234"), (["lessons", "--quick"], "go with --run")):
        assert main(args) == 2 and words in capsys.readouterr().err


def test_every_shipped_lesson_reads_and_keeps_its_text_short():
    shipped = [i for i in catalogue() if str(i.path).startswith(str(Path(spec.__file__).resolve().parents[2]))]
    assert shipped and not [i for i in shipped if isinstance(i, Broken)]
    for lesson in shipped:
        assert 1 <= len(lesson.runs) <= 4 and lesson.words <= spec.MAX_WORDS and lesson.title and lesson.note


async def test_the_lessons_screen_runs_a_lesson_shows_its_claim_and_compares_its_runs(tmp_path):
    """Pilot: L opens the list (the shipped lessons and a teacher's), the tiny lesson opens with its
    text, k runs its quick size, the claim appears measured (✓ and the number from the runs' files),
    and c opens the Runs screen with the lesson's two runs selected."""
    import asyncio
    import time

    from textual.widgets import ListView, Markdown, Static

    from rnn_tui.core import library
    from rnn_tui.tui.lessons_screen import LessonsScreen
    from rnn_tui.tui.runs_screen import RunsScreen
    from test_app import make_app

    home = tmp_path / "home" / "lessons"
    home.mkdir(parents=True)
    write(home, lesson_text(text="a is {value:.2f} times b"), "95-tiny.md")
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("L")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LessonsScreen)
        listing = screen.query_one(ListView)
        assert len(listing.children) >= 2
        listing.index = [i.number for i in screen.items].index(95)
        await pilot.pause()
        assert screen.lesson.number == 95 and "two small nets" in screen.query_one("#lesson-text", Markdown).source
        await pilot.press("k")
        deadline = time.monotonic() + 60
        while screen.running and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await pilot.pause(0.3)
        claim = str(screen.query_one("#lesson-claim", Static).render())
        out = screen.lesson_log.outcome
        assert out is not None and out.verdict.holds and claim.startswith(f"✓ a is {out.verdict.value:.2f} times b")
        assert "quick size" in claim
        assert [p.parent for p in out.folders.values()] == [library.runs_root()] * 2
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen) and app.screen.marked == [p.name for p in out.folders.values()]
