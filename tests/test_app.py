"""Pilot tests of the app: keys pressed, the worker waited for, widgets and the run's log checked."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from rnn_tui import config as C
from rnn_tui.cli import main as cli_main
from rnn_tui.tui.app import RnnTuiApp
from rnn_tui.tui.plots import GradNormPlot, HorizonPlot, HovmollerPlot, LossPlot, PhasePlot, RolloutPlot

SIZE = (160, 50)
TINY = ["train.epochs=3", "system.steps=300", "model.hidden_size=8", "rollout.every=1"]
LONG = ["train.epochs=2000", "system.steps=300", "model.hidden_size=8", "rollout.every=5"]
KDV = [
    'system.name="kdv"', 'model.arch="convlstm"', "system.params.n=32", "system.steps=120", "train.seq_len=5",
    "train.epochs=2", "model.filters=4", "rollout.horizon=30", "rollout.every=1",
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
        assert "samples/s" in app.status.text and "device cpu" in app.status.text
        rollout = app.query_one(RolloutPlot)
        assert rollout.rollout is not None and rollout.rollout.prediction.shape == rollout.rollout.truth.shape
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
        await pilot.pause(0.3)  # the trainer stops at the next step; an epoch in flight may end
        frozen = epochs_seen(app)
        await pilot.pause(0.6)
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
        assert "train.lr must be > 0" in row.error
        await pilot.press("s")
        assert app.current is None
        assert any("train.lr must be > 0" in n for n in app.notes)

        # a system parameter is checked by its Param spec
        await set_field(pilot, "system.params.frequency", "x")
        assert "frequency" in app.panel.rows["system.params.frequency"].error
        await set_field(pilot, "system.params.frequency", "1.0")
        await set_field(pilot, "train.lr", "0.001")
        assert row.error == "" and not row.has_class("-bad")

        # a cross-field rule from config.validate: a field system needs a field architecture
        app.panel.rows["system.name"].editor.value = "kdv"
        await pilot.pause()
        assert "convlstm" in app.panel.rows["model.arch"].error
        await pilot.press("s")
        assert app.current is None


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
        assert app.panel.rows["system.params.rho"].value == "30.5"
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
        assert hov.rollout is not None and hov.rollout.truth.shape[1] == 32
        rendered = str(hov.render())
        assert "truth" in rendered and "model (free run)" in rendered
        assert hov.region.width > 100  # it leads, across both columns


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


async def test_set_up_error_is_shown_and_the_app_stays_up(tmp_path):
    missing = tmp_path / "missing.csv"
    app = make_app(*TINY, 'system.name="csv"', f'system.params.path="{missing}"')
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await wait_for(pilot, lambda: app.status.state == "failed", what="the set-up error")
        assert "no such file" in app.status.note and any("no such file" in n for n in app.notes)
        assert not app.panel.rows["system.params.path"].editor.disabled  # editable again
        assert app.current.done.is_set()


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
        await pilot.press("s", "r")  # a reset while starting: that run is stopped too
        runs.append(app.current or runs[-1])
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
    (out,) = list((tmp_path / "runs").iterdir())
    assert {p.name for p in out.iterdir()} >= {"config.toml", "metrics.jsonl", "summary.json", "rollout.csv", "model.pt"}
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 3
    assert C.load(config=out / "config.toml") == app.current.cfg


async def test_reset_clears_plots_and_component_key_cycles():
    app = make_app(*TINY, 'system.name="lotka_volterra"')
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await wait_for(pilot, lambda: app.status.state == "finished", timeout=60, what="the run")
        rollout = app.query_one(RolloutPlot)
        assert rollout.component == 0
        await pilot.press("c")
        assert rollout.component == 1
        assert app.query_one(PhasePlot).has_data()
        await pilot.press("r")
        assert app.status.state == "idle" and app.current is None
        assert not app.query_one(LossPlot).epochs and rollout.rollout is None


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
