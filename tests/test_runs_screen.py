"""Pilot tests of the Runs screen (R): the leaderboard, the overlay of selected runs, loading a run's
configuration; and the loss plot's smoothing and scale keys, and the SVG screenshot key."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from textual.widgets import DataTable

from rnn_tui import config as C
from rnn_tui.cli import main as cli_main
from rnn_tui.core import library
from rnn_tui.tui.app import RnnTuiApp
from rnn_tui.tui.plots import LossPlot, ema
from rnn_tui.tui.runs_screen import LIVE, ForecastOverlay, HorizonOverlay, LossOverlay, RunsScreen, short_id

from test_app import make_app as make_recording_app, wait_for

SIZE = (160, 50)
TINY = ["train.epochs=3", "system.steps=300", "train.threads=1"]


def train(preset: str, *overrides: str) -> Path:
    before = set(library.runs_root().iterdir()) if library.runs_root().is_dir() else set()
    args = ["train", "--preset", preset]
    for o in (*TINY, *overrides):
        args += ["--set", o]
    assert cli_main(args) == 0
    (new,) = set(library.runs_root().iterdir()) - before
    return new


@pytest.fixture
def two_lorenz_runs():
    return [train("lorenz63_lstm", "model.hidden_size=8"), train("lorenz63_lstm", 'model.arch="gru"', "model.hidden_size=6")]


def make_app() -> RnnTuiApp:
    return make_recording_app("train.threads=1")  # notifications recorded in app.notes


async def select(pilot, screen: RunsScreen, run_id: str) -> None:
    table = screen.query_one(DataTable)
    table.move_cursor(row=table.get_row_index(run_id))
    await pilot.press("space")
    await pilot.pause()


def label_of(folder: Path, arch: str, hidden: int) -> str:
    return f"{arch} {hidden} {short_id(folder.name)}"


async def test_runs_screen_lists_and_overlays_two_runs(two_lorenz_runs):
    a, b = two_lorenz_runs
    (tmp := library.runs_root() / "not-a-run").mkdir()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("R")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        table = screen.query_one(DataTable)
        assert table.row_count == 3
        bad = table.get_row("not-a-run")
        assert "unreadable" in bad[COLUMN("status")].plain and bad[COLUMN("status")].style == "dim"
        assert "no summary.json" in bad[COLUMN("params")].plain
        await select(pilot, screen, a.name)
        await select(pilot, screen, b.name)
        assert screen.marked == [a.name, b.name]
        assert table.get_row(a.name)[0].plain == "●"
        labels = [label_of(a, "lstm", 8), label_of(b, "gru", 6)]
        overlays = (LossOverlay, ForecastOverlay, HorizonOverlay)
        await wait_for(pilot, lambda: all([r.label for r in screen.query_one(c).runs] == labels for c in overlays),
                       what="the two marked runs on every overlay")
        for cls in overlays:
            plot = screen.query_one(cls)
            assert [r.label for r in plot.runs] == labels
            assert len({r.colour for r in plot.runs}) == 2
            for label in labels:
                assert label in plot.frame.plain, (cls.__name__, plot.frame.plain)
        losses = screen.query_one(LossOverlay)
        assert [len(r.epochs) for r in losses.runs] == [3, 3] and all(r.val for r in losses.runs)
        forecast = screen.query_one(ForecastOverlay)
        assert forecast.reason == "" and "truth" in forecast.frame.plain
        assert all(r.pred.shape == r.truth.shape for r in forecast.runs)
        assert all(len(r.rmse_curve) >= 8 for r in screen.query_one(HorizonOverlay).runs)
        await pilot.press("c")
        assert forecast.component == 1 and "y: truth" in forecast.frame.plain
        # Deselect one: one series left.
        table.move_cursor(row=table.get_row_index(a.name))
        await pilot.press("space")
        await pilot.pause()
        assert [r.label for r in losses.runs] == [labels[1]]
        # Sorting by a score: best first.
        screen.sort_by("best_val")
        await pilot.pause()
        rows = [r for r in library.scan(library.runs_root()) if r.best_val is not None]
        best_id = min(rows, key=lambda r: r.best_val).id
        assert table.coordinate_to_cell_key((0, 0)).row_key.value == best_id
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, RunsScreen)
    tmp.rmdir()


def COLUMN(name: str) -> int:
    from rnn_tui.core.library import COLUMNS

    return 1 + [n for n, _ in COLUMNS].index(name)


async def test_runs_of_different_systems_give_a_reason_instead_of_the_forecast_overlay():
    a = train("lorenz63_lstm", "model.hidden_size=8")
    b = train("logistic_irnn", "model.hidden_size=8")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("R")
        await pilot.pause()
        screen = app.screen
        await select(pilot, screen, a.name)
        await select(pilot, screen, b.name)
        forecast = screen.query_one(ForecastOverlay)
        await wait_for(pilot, lambda: "different systems" in forecast.reason and len(screen.query_one(LossOverlay).runs) == 2,
                       what="the overlays of two systems")
        assert forecast.runs == [] and "different systems" in forecast.reason
        assert forecast.reason in forecast.frame.plain.replace("\n", " ") or forecast.reason[:40] in forecast.frame.plain
        assert len(screen.query_one(LossOverlay).runs) == 2  # the losses still overlay


async def test_l_loads_the_highlighted_runs_configuration(two_lorenz_runs):
    _, b = two_lorenz_runs
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert app.panel.build().model.arch != "gru"
        await pilot.press("R")
        await pilot.pause()
        screen = app.screen
        table = screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(b.name))
        await pilot.press("l")
        await pilot.pause()
        assert not isinstance(app.screen, RunsScreen)
        assert app.panel.build() == C.load(config=b / "config.toml", strict=False)
        assert any(b.name in n for n in app.notes)


async def test_palette_opens_the_runs_screen():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert "Runs" in commands and "Save SVG screenshot" in commands
        app.action_runs()
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)
        assert "0 runs" in str(app.screen.query_one("#runs-hint").render())


async def test_loss_smoothing_and_scale_keys():
    assert ema([1.0, 0.0, 0.0], 0.5) == [1.0, 0.5, 0.25]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        plot = app.query_one(LossPlot)
        for e, (t, v) in enumerate([(1.0, 2.0), (0.1, 0.5), (0.5, 0.4), (0.05, 0.2)], start=1):
            plot.add(e, t, v)
        plot.replot()
        await pilot.pause()
        assert len(plot.series()) == 2
        await pilot.press("a")
        await pilot.pause()
        assert plot.smooth and len(plot.series()) == 4  # the raw curves kept, under the averages
        assert "EMA" in plot.frame.plain
        await pilot.press("y")
        await pilot.pause()
        assert not plot.log_y and "linear" in plot.frame.plain
        await pilot.press("y", "a")
        await pilot.pause()
        assert plot.log_y and not plot.smooth


async def test_screenshot_key_saves_an_svg_in_the_runs_folder():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("P")
        await pilot.pause()
    (svg,) = library.runs_root().glob("*.svg")
    assert svg.read_text().startswith("<svg") and any(str(svg) in n for n in app.notes)
    assert library.scan(library.runs_root()) == []  # a screenshot is not listed as a run


@pytest.mark.heavy  # a CI tier (.ci/run): over 6 s on the default run
async def test_the_live_run_overlays_the_selected_runs_while_it_trains():
    done = train("lorenz63_lstm", "model.hidden_size=8")
    live_cfg = ["train.epochs=2000", "system.steps=300", "model.hidden_size=8", "rollout.every=1", "train.threads=1"]
    app = RnnTuiApp(C.load("lorenz63_lstm", None, live_cfg), "test")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await wait(pilot, lambda: app.current is not None and app.current.log.epochs_since(0), "a first epoch")
        await pilot.press("R")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        table = screen.query_one(DataTable)
        assert table.row_count == 2 and table.coordinate_to_cell_key((0, 0)).row_key.value == LIVE
        assert table.get_row(LIVE)[COLUMN("status")].plain == "training"
        assert screen.rows[0].data_key == library.read_run(done).data_key  # the same data as the finished run
        await select(pilot, screen, LIVE)
        await select(pilot, screen, done.name)
        losses = screen.query_one(LossOverlay)
        await wait(pilot, lambda: len(losses.runs) == 2, "two series on the loss overlay")
        assert [r.label for r in losses.runs] == ["live lstm 8", label_of(done, "lstm", 8)]
        grown = len(losses.runs[0].epochs)
        await wait(pilot, lambda: len(losses.runs[0].epochs) > grown, "the live series to grow")
        forecast = screen.query_one(ForecastOverlay)
        await wait(pilot, lambda: len(forecast.runs) == 2, "the live forecast to share the overlay")
        assert forecast.reason == ""
        await wait(pilot, lambda: len(screen.query_one(HorizonOverlay).runs[0].rmse_curve) > 0, "the live RMSE curve")
        app.current.control.request_stop()
        await wait(pilot, lambda: app.current.done.is_set() and app.current.kept is not None, "the run to end")
        await pilot.press("g")
        await pilot.pause()
        assert LIVE not in screen.marked and table.row_count == 2
        assert app.current.kept.name in {r.id for r in screen.rows}


async def wait(pilot, condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; {pilot.app.status.text} {len(pilot.app.current.log.epochs)}")
        await pilot.pause(0.05)


async def test_a_sweep_study_shows_its_trials_objective_by_trial_and_loads_the_best():
    assert cli_main(["sweep", "--preset", "sine_rnn", "--set", "train.epochs=3", "--set", "model.hidden_size=8", "--set",
                     "train.threads=1", "--set", "rollout.every=0", "--param", "train.lr=log:1e-3:3e-2", "--trials", "3",
                     "--study", "tiny", "--quiet"]) == 0
    train("sine_rnn")  # a run outside the study
    rows = library.scan(library.runs_root())
    best = library.best_trial(library.study_rows(rows, "tiny"))
    assert best is not None and best.score == min(r.score for r in rows if r.study == "tiny")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("R")
        await pilot.pause()
        screen = app.screen
        table = screen.query_one(DataTable)
        assert table.row_count == 4 and not screen.query_one("#study-plot").display
        # the cursor on the run outside the study: the study's view leaves it out (it once crashed here)
        outside = next(r.id for r in rows if r.study != "tiny")
        table.move_cursor(row=table.get_row_index(outside))
        await pilot.press("t")
        await pilot.pause(0.2)
        assert screen.study == "tiny" and table.row_count == 3  # the study's trials only
        assert [table.get_row_at(i)[COLUMN("trial")].plain for i in range(3)] == ["0", "1", "2"]
        plot = screen.query_one("#study-plot")
        assert plot.display and not screen.query_one(HorizonOverlay).display
        assert "tiny: val_loss (validation) by trial" in plot.frame.plain
        hint = str(screen.query_one("#runs-hint").render())
        assert f"best trial {best.trial}" in hint
        await pilot.press("b")
        await pilot.pause()
        assert not isinstance(app.screen, RunsScreen)
        assert app.panel.build() == C.load(config=Path(best.path) / "config.toml", strict=False)
        await pilot.press("R")
        await pilot.pause()
        await pilot.press("t", "t")  # past the last study: every run again
        await pilot.pause()
        assert app.screen.study == "" and app.screen.query_one(DataTable).row_count == 4
