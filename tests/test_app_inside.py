"""Pilot tests of the Inside screen (issue 24): opened with i for an LSTM run while it trains (the
trainer probes while the view is shown, and only then) and after an ESN run (its model probed once),
each panel's title read back."""

from __future__ import annotations

from rnn_tui import config as C
from rnn_tui.tui.app import RnnTuiApp
from rnn_tui.tui.inside_plots import GatesPanel, GradPanel, HeatmapPanel, ReadoutPanel, SpectrumPanel
from rnn_tui.tui.inside_screen import InsideScreen

from tests.test_app import SIZE, wait_for

LSTM = ["train.epochs=400", "system.steps=300", "model.hidden_size=8", "rollout.every=0", "train.threads=1"]
ESN = ["system.steps=1500", "model.hidden_size=40", "train.seq_len=20", "model.washout=20", "train.threads=1",
       "rollout.horizon=50", "rollout.score_horizon=50"]


def titles(screen: InsideScreen) -> dict:
    return {type(p): p.heading for p in screen.panels}


async def test_inside_screen_of_a_training_lstm_shows_every_panel():
    app = RnnTuiApp(C.load("oscillator_lstm", overrides=LSTM), "test")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await wait_for(pilot, lambda: app.current is not None and app.current.log.epochs, what="an epoch")
        assert app.current.log.latest_inside() is None  # hidden: nothing is probed
        await pilot.press("i")
        screen = app.screen
        assert isinstance(screen, InsideScreen) and app.current.control.inspect.is_set()
        await wait_for(pilot, lambda: screen.shown is not None, what="a probe")
        await pilot.pause()
        t = titles(screen)
        assert t[HeatmapPanel].startswith("hidden state h, units by variance over the window")
        assert t[GatesPanel].startswith("gates, mean over units · saturated (<0.1 or >0.9): input")
        assert t[SpectrumPanel].startswith("eigenvalues of W_hc (cell block of W_hh) · ρ = ") and "] next of 4" in t[SpectrumPanel]
        assert t[GradPanel].startswith("log10 ‖∂L/∂h(t−k)‖/‖∂L/∂h(t)‖ by lag k (h) · fitted ×")
        assert t[ReadoutPanel] == "readout: trained by gradient: no closed-form readout"
        await pilot.press("right_square_bracket")
        assert "W_hi (input block" in screen.query_one(SpectrumPanel).heading
        await pilot.press("escape")
        assert not isinstance(app.screen, InsideScreen) and not app.current.control.inspect.is_set()
        await pilot.press("x")
        await wait_for(pilot, lambda: app.current.done.is_set(), what="the run to stop")


async def test_inside_screen_after_an_esn_run_probes_its_model():
    app = RnnTuiApp(C.load("lorenz63_esn", overrides=ESN), "test")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await wait_for(pilot, lambda: app.status.state == "finished", what="the run to finish")
        await pilot.press("i")
        screen = app.screen
        await wait_for(pilot, lambda: screen.shown is not None, what="the probe of the ended model")
        await pilot.pause()
        t = titles(screen)
        assert t[HeatmapPanel].startswith("hidden state reservoir r (32 of 40 units), units by variance")
        assert t[GatesPanel] == "gates: only the LSTM, GRU and ConvLSTM have gates"
        radius = app.current.cfg.model.spectral_radius
        assert t[SpectrumPanel].startswith(f"eigenvalues of the reservoir W · ρ = {radius:.4g}")
        assert t[GradPanel] == "gradient through time: the readout is solved in closed form: no gradient flows through time"
        assert t[ReadoutPanel].startswith("readout RMS weight by feature group · ridge's degrees of freedom ")
