"""Pilot tests of the app: keys pressed, the worker waited for, widgets and the run's log checked."""

from __future__ import annotations

import asyncio
import importlib.util
import threading
import time

import pytest

import numpy as np

from rnn_tui import config as C
from rnn_tui.cli import main as cli_main
from rnn_tui.core import events as ev
from rnn_tui.core.results import VPT, Evaluation, Forecast, Spread, Summary
from rnn_tui.tui import app as app_module, worker as worker_module
from rnn_tui.tui.app import RnnTuiApp
from rnn_tui.tui.plots import ForecastPlot, GradNormPlot, HorizonPlot, HovmollerPlot, LossPlot, PhasePlot, _int_ticks
from rnn_tui.tui.worker import RunLog

SIZE = (160, 50)
# One torch thread: these runs are tiny, and on a machine whose cores are busy (CI, shared boxes)
# torch's default of a thread per core can make a 3-epoch run take a minute instead of a second.
# train.device = cpu: the tests read "device cpu" back, and must pass on a machine with a GPU too
TINY = ["train.epochs=3", "system.steps=300", "model.hidden_size=8", "rollout.every=1", "train.threads=1", "train.device=cpu"]
LONG = ["train.epochs=2000", "system.steps=300", "model.hidden_size=8", "rollout.every=5", "train.threads=1", "train.device=cpu"]
KDV = [
    'system.name="kdv"', 'model.arch="convlstm"', "system.params.n=32", "system.steps=120", "train.seq_len=5",
    "train.epochs=2", "model.filters=4", "rollout.horizon=30", "rollout.every=1", "train.threads=1",
]


def make_app(*overrides: str) -> RnnTuiApp:
    app = RnnTuiApp(C.load(None, None, list(overrides)), "test")
    app.notes = []  # every notification's text, for assertions
    notify = app.notify

    def recording_notify(message, *a, **kw):
        app.notes.append(str(message))
        return notify(message, *a, **kw)

    app.notify = recording_notify
    return app


async def wait_for(pilot, condition, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; status: {pilot.app.status.text}")
        await pilot.pause(0.05)


def epochs_seen(app) -> int:
    return len(app.current.log.epochs) if app.current else 0


async def set_field(pilot, key: str, value: str) -> None:
    editor = pilot.app.panel.rows[key].editor
    editor.value = value
    await pilot.pause()


async def test_training_shows_losses_rollout_and_status():
    app = make_app(*TINY)
    async with app.run_test(size=SIZE) as pilot:
        assert app.status.state == "idle"
        await pilot.press("s")
        await wait_for(pilot, lambda: len(app.query_one(LossPlot).epochs) >= 2, what="two epochs on the loss plot")
        assert app.status.state in ("training", "finished")
        await wait_for(pilot, lambda: app.status.state == "finished", what="the run to finish")
        losses = app.query_one(LossPlot)
        assert losses.epochs == [1, 2, 3]
        assert all(v > 0 for v in losses.train)
        assert "epoch 3/3" in app.status.text
        assert app.current.log.started.threads == 1 and app.current.result.summary.threads == 1
        assert "samples/s" in app.status.text and "device cpu · 1 thread " in app.status.text
        rollout = app.query_one(ForecastPlot)
        assert rollout.forecast is not None and rollout.forecast.prediction.shape == rollout.forecast.truth.shape
        assert len(app.query_one(GradNormPlot).norms) > 0
        horizon = app.query_one(HorizonPlot)
        assert horizon.curve is not None and "starts" in horizon.source  # the test-split curve
        # the plots draw their data (legend labels as the notes' figures use them)
        rendered = str(rollout.render())
        assert "truth" in rendered and "model (free run)" in rendered
        # a 1-D system shows no phase portrait and no Hovmöller plot
        assert not app.query_one(PhasePlot).display and not app.query_one(HovmollerPlot).display
        await wait_for(pilot, lambda: app.current.done.is_set(), what="the worker to end")


async def test_pause_resume_and_stop():
    app = make_app(*LONG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await wait_for(pilot, lambda: epochs_seen(app) >= 2, what="two epochs")
        await pilot.press("p")
        assert app.status.state == "paused"
        control = app.current.control
        await wait_for(pilot, control.holding.is_set, what="the trainer to hold in the pause")  # it takes no step now
        frozen = epochs_seen(app)  # the log is written by the trainer's thread, which is parked
        assert control.holding.is_set() and app.status.state == "paused"
        assert epochs_seen(app) == frozen, "epochs advanced while paused"
        await pilot.press("p")
        assert app.status.state == "training"
        await wait_for(pilot, lambda: epochs_seen(app) > frozen + 1, what="epochs after resuming")
        await pilot.press("x")
        await wait_for(pilot, lambda: app.status.state == "cancelled", what="cancelled")
        assert app.current.done.is_set()
        await wait_for(pilot, lambda: not any(w.is_running for w in app.workers if w.group == "train"), what="worker end")
        assert app.current.result.status == "cancelled"
        # the panel is editable again and a new run can start
        assert not app.panel.rows["train.epochs"].editor.disabled


async def test_invalid_fields_block_start_with_their_message():
    app = make_app(*TINY)
    async with app.run_test(size=SIZE) as pilot:
        await set_field(pilot, "train.lr", "abc")
        row = app.panel.rows["train.lr"]
        assert "must be a number" in row.error and row.has_class("-bad")
        await pilot.press("s")
        assert app.current is None and app.status.state == "idle"
        assert any("train.lr" in n and "must be a number" in n for n in app.notes)

        await set_field(pilot, "train.lr", "-1")
        assert row.error == "must be > 0, got -1"  # its row names the field
        await pilot.press("s")
        assert app.current is None
        assert any("train.lr must be > 0" in n for n in app.notes)

        # a system parameter is checked by its system's parameter model
        await set_field(pilot, "system.params.frequency", "x")
        assert app.panel.rows["system.params.frequency"].error == "needs a number, got 'x'"
        await set_field(pilot, "system.params.frequency", "1.0")
        await set_field(pilot, "train.lr", "0.001")
        assert row.error == "" and not row.has_class("-bad")

        # a cross-field rule from config.validate: a field system needs a field architecture
        app.panel.rows["system.name"].editor.value = "kdv"
        await pilot.pause()
        assert "convlstm" in app.panel.rows["model.arch"].error
        await pilot.press("s")
        assert app.current is None


@pytest.mark.heavy  # a CI tier (.ci/run): over 6 s on the default run
async def test_learning_rate_changes_mid_run():
    app = make_app(*LONG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await wait_for(pilot, lambda: epochs_seen(app) >= 1, what="an epoch")
        lr_input = app.panel.rows["train.lr"].editor
        assert not lr_input.disabled and app.panel.rows["train.epochs"].editor.disabled
        lr_input.focus()
        lr_input.value = "0.005"
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(e.lr == 0.005 for e in app.current.log.epochs[-2:]), what="the new lr")
        epochs = app.current.log.epochs
        first = next(i for i, e in enumerate(epochs) if e.lr == 0.005)
        assert all(e.lr == 0.005 for e in epochs[first:])
        assert all(e.lr == 0.001 for e in epochs[:first])
        assert any("0.005" in n for n in app.notes)
        await pilot.press("escape", "x")
        await wait_for(pilot, lambda: app.current.done.is_set(), what="the stop")


async def test_save_and_load_preset_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_TUI_HOME", str(tmp_path))
    wanted = C.load(None, None, ['system.name="lorenz63"', "system.params.rho=30.5", 'model.arch="gru"', "train.lr=0.002", "model.learn_h0=true"])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.panel.load(wanted)
        await pilot.pause()
        assert app.panel.build() == wanted
        await pilot.press("ctrl+s")
        await pilot.pause()
        name_input = app.screen.query_one("#preset-name")
        name_input.value = "mine"
        await pilot.press("enter")
        await pilot.pause()
        path = tmp_path / "presets" / "mine.toml"
        assert path.is_file()
        assert C.load("mine") == wanted

        app.panel.load(C.Config())  # back to the defaults, then load the preset from the list
        await pilot.pause()
        assert app.panel.build() == C.Config()
        await pilot.press("ctrl+o")
        await pilot.pause()
        options = app.screen.query_one("#preset-list")
        options.focus()
        options.highlighted = [o.id for o in options.options].index("mine")
        await pilot.press("enter")
        await pilot.pause()
        assert app.panel.build() == wanted
        assert app.panel.rows["system.params.rho"].editor.value == "30.5"
        assert app.query_one("#plots").has_class("-phase")  # Lorenz shows its x–z portrait


async def test_quit_during_training_leaves_no_thread():
    before = {t.ident for t in threading.enumerate()}
    app = make_app(*LONG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await wait_for(pilot, lambda: epochs_seen(app) >= 1, what="an epoch")
        run = app.current
        await pilot.press("q")
    assert run.done.is_set(), "the trainer was still running after the app exited"
    assert run.result.status == "cancelled"
    # the worker threads come from the loop's executor: shut it down and nothing of ours is left
    await asyncio.wait_for(asyncio.get_running_loop().shutdown_default_executor(), 10)
    left = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert left == []


async def test_field_system_shows_hovmoller():
    app = make_app(*KDV)
    async with app.run_test(size=SIZE) as pilot:
        assert app.query_one("#plots").has_class("-field")
        hov = app.query_one(HovmollerPlot)
        assert hov.display and not app.query_one(PhasePlot).display
        await pilot.press("s")
        await wait_for(pilot, lambda: app.status.state in ("finished", "failed"), timeout=60, what="the kdv run")
        assert app.status.state == "finished", app.status.text
        assert hov.forecast is not None and hov.forecast.truth.shape[1] == 32
        rendered = str(hov.render())
        assert "truth" in rendered and "model (free run)" in rendered
        assert hov.region.width > 100  # it leads, across both columns


async def test_a_closed_form_run_says_how_long_its_fit_took():
    app = make_app('model.arch="esn"', 'system.name="lorenz63"', "system.steps=600", "model.hidden_size=40",
                   "model.washout=20", "train.seq_len=30", "rollout.horizon=40", "train.threads=1")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await wait_for(pilot, lambda: app.status.state in ("finished", "failed"), timeout=60, what="the esn run")
        assert app.status.state == "finished", app.status.text
        assert app.status.note.startswith("readout fit ") and app.current.log.summary.fit_time_s > 0


async def test_diverging_run_is_reported_and_the_app_stays_usable():
    app = make_app(*TINY, "train.lr=1e6", 'train.optimizer="sgd"')
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await wait_for(pilot, lambda: app.status.state not in ("starting", "training"), what="the run to end")
        assert app.status.state == "diverged"
        assert "non-finite" in app.status.note
        assert any("non-finite" in n for n in app.notes)
        await set_field(pilot, "train.lr", "0.001")
        await pilot.press("s")
        await wait_for(pilot, lambda: app.status.state == "finished", what="a good run after the bad one")


async def test_set_up_error_is_shown_and_the_app_stays_up(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_TUI_HOME", str(tmp_path))
    missing = tmp_path / "missing.csv"
    app = make_app(*TINY, 'system.name="csv"', f'system.params.path="{missing}"')
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await wait_for(pilot, lambda: app.status.state == "failed", what="the set-up error")
        assert "no such file" in app.status.note and any("no such file" in n for n in app.notes)
        assert "full report" not in app.status.note and not (tmp_path / "crashes").exists()  # bad input is no crash
        assert not app.panel.rows["system.params.path"].editor.disabled  # editable again
        assert app.current.done.is_set()


@pytest.mark.heavy  # a CI tier (.ci/run): over 6 s on the default run
async def test_many_starts_and_stops_leave_no_threads():
    before = {t.ident for t in threading.enumerate()}
    app = make_app(*LONG)
    async with app.run_test(size=SIZE) as pilot:
        runs = []
        for _ in range(2):
            await pilot.press("s")
            await wait_for(pilot, lambda: epochs_seen(app) >= 1, what="an epoch")
            runs.append(app.current)
            await pilot.press("x")
            await wait_for(pilot, lambda: app.status.state == "cancelled", what="cancelled")
        await pilot.press("s")
        runs.append(app.current)
        await pilot.press("r")  # a reset while it starts or trains: that run is stopped too
        assert app.current is None
        await wait_for(pilot, lambda: all(r.done.is_set() for r in runs), what="every run to end")
    await asyncio.wait_for(asyncio.get_running_loop().shutdown_default_executor(), 10)
    assert [t for t in threading.enumerate() if t.ident not in before and t.is_alive()] == []


async def test_export_writes_the_headless_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(*TINY)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        assert any("nothing to export" in n for n in app.notes)
        await pilot.press("s")
        await wait_for(pilot, lambda: app.status.state == "finished", what="the run")
        await pilot.press("e")
        await wait_for(pilot, lambda: any("exported to" in n for n in app.notes), what="the export")
    (kept,) = list((tmp_path / "runs").iterdir())  # every run is kept in the runs folder (RNN_TUI_RUNS here)
    (out,) = list((tmp_path / "exports").iterdir())  # and e writes a copy elsewhere
    assert kept == app.current.kept and "kept as" in app.status.note
    for folder in (kept, out):
        assert {p.name for p in folder.iterdir()} >= {"config.toml", "metrics.jsonl", "summary.json", "rollout.csv", "model.pt"}
        assert len((folder / "metrics.jsonl").read_text().splitlines()) == 3
        assert C.load(config=folder / "config.toml") == app.current.cfg
    # matplotlib is installed for the tests (the extra rnn-tui[plot]): e also draws the figures
    assert {"forecast.png", "losses.png", "rmse.png"} <= {p.name for p in out.iterdir()}
    assert not list(kept.glob("*.png")) and any("with 3 figures" in n for n in app.notes)
    from rnn_tui.core import library

    (row,) = library.scan(tmp_path / "runs")
    assert row.status == "finished" and row.epochs == 3 and row.id == kept.name


async def test_view_keys_redraw_the_forecast_plot_and_reset_clears_it():
    app = make_app(*TINY, 'system.name="lotka_volterra"')
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await wait_for(pilot, lambda: app.status.state == "finished", timeout=60, what="the run")
        plot = app.query_one(ForecastPlot)
        assert plot.forecast.names == ("x", "y") and plot.component == 0
        await wait_for(pilot, lambda: "x: truth vs model free run" in str(plot.frame), timeout=5, what="the x component drawn")
        assert "model (one step)" not in str(plot.frame)
        # After the end nothing else marks the plot stale: these redraws come from the reactives' watchers.
        await pilot.press("c")
        assert plot.component == 1
        await wait_for(pilot, lambda: "y: truth vs model free run" in str(plot.frame), timeout=5, what="the title to show y")
        assert any("component y" in n for n in app.notes)
        await pilot.press("o")
        assert plot.show_one_step
        await wait_for(pilot, lambda: "model (one step)" in str(plot.frame), timeout=5, what="the one-step line")
        assert "y: truth vs model free run" in str(plot.frame)
        await pilot.press("o", "c")
        assert not plot.show_one_step and plot.component == 0  # two components: back to the first
        await wait_for(pilot, lambda: "x: truth vs model free run" in str(plot.frame) and "model (one step)" not in str(plot.frame),
                       timeout=5, what="x again, without the one-step line")
        assert app.query_one(PhasePlot).has_data()
        await pilot.press("r")
        assert app.status.state == "idle" and app.current is None
        assert not app.query_one(LossPlot).epochs and plot.forecast is None


async def test_a_crash_in_the_worker_leaves_a_report(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_TUI_HOME", str(tmp_path))

    def broken_train(cfg, on_event=None, control=None):
        raise RuntimeError("boom in the trainer\nsecond line of the error")

    monkeypatch.setattr("rnn_tui.core.trainer.train", broken_train)
    app = make_app(*TINY)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await wait_for(pilot, lambda: app.status.state == "failed", what="the crash to show")
        note = app.status.note
        assert note.startswith("unexpected RuntimeError: boom in the trainer (full report: "), note
        (report,) = (tmp_path / "crashes").glob("crash-*.txt")
        assert note.endswith(f"(full report: {report})")
        assert any(f"full report: {report}" in n for n in app.notes)
        text = report.read_text()
        assert "Traceback (most recent call last)" in text and "in broken_train" in text
        assert "RuntimeError: boom in the trainer\nsecond line of the error" in text  # the whole error
        assert "configuration:" in text and C.dumps(app.current.cfg) in text
        assert not app.panel.rows["train.epochs"].editor.disabled  # editable again: the app is usable
        assert app.current.done.is_set() and app.current.result is None


async def test_a_run_reaches_the_screen_only_through_the_timer():
    # No message path is left beside the timer's pull from the run's log.
    assert importlib.util.find_spec("rnn_tui.tui.messages") is None
    for name in ("RolloutArrived", "RunStarted", "RunEnded", "RunMessage"):
        assert not hasattr(app_module, name) and not hasattr(worker_module, name)
    seen = []
    app = make_app(*TINY)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        app.redraw_timer.pause()
        await pilot.press("s")
        await wait_for(pilot, lambda: app.current.done.is_set(), what="the run to end")
        await pilot.pause(0.3)
        assert app.current.log.summary.status == "finished" and len(app.current.log.epochs) == 3
        # with the timer paused, nothing of the run has reached the screen
        assert app.status.state == "starting" and "device –" in app.status.text
        assert not app.query_one(LossPlot).epochs and app.query_one(ForecastPlot).forecast is None
        app.redraw_timer.resume()
        await wait_for(pilot, lambda: app.status.state == "finished", timeout=5, what="the timer to show the end")
        assert app.query_one(LossPlot).epochs == [1, 2, 3] and "epoch 3/3" in app.status.text
        assert app.query_one(ForecastPlot).forecast is app.current.result.forecast
        assert "device cpu · 1 thread" in app.status.text and app.last_run is app.current
    ours = {type(m).__qualname__ for m in seen if type(m).__module__.startswith("rnn_tui.tui") and "config_panel" not in type(m).__module__}
    assert ours == set()


def _forecast(epoch: int) -> Forecast:
    t = np.arange(4.0)
    truth = np.stack([t, -t], axis=1)
    return Forecast(epoch, ("x", "y"), t, truth, truth + 1.0, truth)


def _epoch(n: int) -> ev.EpochEnd:
    return ev.EpochEnd(n, 3, 1.0, 1.0, 1.0, 1.0, 0.1, (0.1,), 1e-3, 0.1 * n, 100.0, n, 1.0)


def _summary(evaluation: Evaluation | None) -> Summary:
    return Summary("finished", "", "lorenz63", "lstm", 3, 30, 1.0, 1.0, 1.0, 1.0, 100, "cpu", "eager", "float32", 1,
                   10, 5, {"train": 10, "val": 5, "test": 5}, 1.0, 1.0, evaluation=evaluation)


def test_run_log_hands_out_each_report_once():
    log = RunLog()
    started = ev.Started("cpu", 100, 10, 5, 3, 2, threads=2)
    log.record(started)
    log.record(_epoch(1))
    news = log.news()
    assert news.started is started and news.epochs == [_epoch(1)] and news.forecast is None and not news.ended
    f1, f2 = _forecast(1), _forecast(2)
    for event in (_epoch(2), ev.ForecastReady(f1), _epoch(3), ev.ForecastReady(f2)):
        log.record(event)
    summary = _summary(None)
    log.record(ev.Finished(summary))  # not how the end comes: that is `end`, once the result is there
    news = log.news()
    assert news.started is None and [e.epoch for e in news.epochs] == [2, 3]
    assert news.forecast is f2 and not news.ended  # only the newest forecast
    log.end(summary=summary)
    news = log.news()
    assert news.ended and news.summary is summary and news.error == "" and news.epochs == [] and news.forecast is None
    assert log.news() == worker_module.News()  # nothing new
    assert [e.epoch for e in log.epochs_since(1)] == [2, 3]

    failed = RunLog()
    failed.end(error="unexpected RuntimeError: boom (full report: crash.txt)")
    news = failed.news()
    assert news.ended and news.summary is None and news.error.startswith("unexpected RuntimeError")


def test_horizon_plot_reads_the_typed_summary():
    plot = HorizonPlot()
    plot.from_forecast(_forecast(2))
    assert plot.source == "this forecast, epoch 2" and np.allclose(plot.curve, 1.0)
    plot.from_summary(_summary(None))  # not evaluated: the forecast's curve stays, no VPT
    assert plot.source == "this forecast, epoch 2" and plot.vpt == ""
    vpt = VPT(Spread(2.0, 1.0, 3.0), threshold=0.4, censored_fraction=0.0, lyapunov_exponent=0.9)
    plot.from_summary(_summary(Evaluation("test", 12, 3, (0.1, 0.2, 0.4), vpt)))
    assert plot.source == "test, 12 starts" and plot.curve.tolist() == [0.1, 0.2, 0.4]
    assert plot.vpt == "median VPT 1.80 Lyapunov times (threshold 0.4)"


def test_free_run_error_is_the_rmse_over_the_horizon():
    from rnn_tui.tui.status import free_run_rmse, rmse_text

    f = _forecast(1)  # the prediction is the truth + 1 everywhere
    assert free_run_rmse(f) == pytest.approx(1.0) and rmse_text(free_run_rmse(f)) == "1"
    t = np.arange(4.0)
    truth = np.stack([t, -t], axis=1)
    ramp = Forecast(1, ("x", "y"), t, truth, truth + t[:, None], truth)  # error 0, 1, 2, 3 on both components
    assert free_run_rmse(ramp) == pytest.approx(np.sqrt(np.mean(t**2)))
    exploded = Forecast(1, ("x", "y"), t, truth, np.where(t[:, None] > 2, np.inf, truth), truth)
    assert rmse_text(free_run_rmse(exploded)) == "not finite"


def test_epoch_and_step_axes_get_whole_number_ticks():
    def ticks(lo, hi, n=5):
        got = []
        _int_ticks(lambda values, labels: got.extend(zip(values, labels)), lo, hi, n)
        return got

    assert ticks(1, 3) == [(1.0, "1"), (2.0, "2"), (3.0, "3")]
    assert [label for _, label in ticks(1, 100)] == ["20", "40", "60", "80", "100"]
    assert [label for _, label in ticks(1, 1416)] == ["250", "500", "750", "1000", "1250"]
    assert ticks(1, 1) == [(1.0, "1")]
    for hi in (2, 7, 13, 99, 300, 12345):
        got = ticks(1, hi)
        assert 1 <= len(got) <= 5 and all(v == int(v) and label == str(int(v)) and 1 <= v <= hi for v, label in got)


def test_presets_list_whole_sentences(capsys):
    from rnn_tui.commands import presets

    listed = C.list_presets()
    for name in listed:
        text = presets.description(C.preset_path(name))
        assert text.endswith("."), (name, text)  # a whole sentence, never cut at the comment's line end
    assert presets.description(C.preset_path("lorenz63_lstm")).endswith("(Fablet et al. 2018's table) and the valid prediction time.")
    assert presets.run(None) == 0
    lines = capsys.readouterr().out.splitlines()  # not a terminal: one line each
    assert len(lines) == len(listed) and all(line.rstrip().endswith(".") for line in lines)


def test_bad_preset_is_a_one_line_error_before_any_screen(capsys):
    assert cli_main(["--preset", "no_such_preset"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rnn-tui: error: unknown preset") and len(err.strip().splitlines()) == 1
    assert cli_main(["--set", "train.lrr=1"]) == 2
    assert "train.lrr" in capsys.readouterr().err


@pytest.mark.parametrize("preset", ["sine_rnn", "lorenz63_esn", "kdv_convlstm"])
async def test_presets_open_and_fill_the_panel(preset):
    cfg = C.load(preset)
    app = make_app()
    app.cfg = cfg
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.panel.build() == cfg
        shown = {k for k, r in app.panel.rows.items() if k.startswith("model.") and r.display}
        from rnn_tui.models.registry import ARCHS

        assert shown == {"model.arch"} | {f"model.{f}" for f in ARCHS[cfg.model.arch].applies}


async def test_command_palette_loads_a_preset():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Load preset: lorenz63_lstm")

        def listed() -> bool:
            lists = app.screen.query("CommandList")
            return bool(lists) and lists.first().option_count > 0 and "lorenz63_lstm" in str(lists.first().get_option_at_index(0).prompt)

        await wait_for(pilot, listed, timeout=10, what="the palette to list the preset")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.panel.system_name == "lorenz63", timeout=10, what="the preset to load")
        assert app.panel.build() == C.load("lorenz63_lstm")
