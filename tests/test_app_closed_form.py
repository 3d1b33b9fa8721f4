"""Pilot tests of a closed-form run in the app (issue 23): the fit's phases on the status line, the
ridge path in place of the loss and gradient-norm plots, the training fields of gradient descent
disabled with the reason."""

from __future__ import annotations

from rnn_tui import config as C
from rnn_tui.tui.app import RnnTuiApp
from rnn_tui.tui.config_panel import CLOSED_FORM_NA
from rnn_tui.tui.plots import GradNormPlot, LossPlot, RidgePathPlot

from tests.test_app import SIZE, wait_for

ESN = ["system.steps=3000", "model.hidden_size=100", "train.seq_len=40", "model.washout=20", "train.threads=1",
       "rollout.horizon=100", "rollout.score_horizon=100"]


async def test_an_esn_run_shows_its_phases_and_its_ridge_path_not_epochs():
    app = RnnTuiApp(C.load("lorenz63_esn", overrides=ESN + ["model.ridge=auto"]), "test")
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        for key in CLOSED_FORM_NA:  # gradient descent's fields: disabled, and the tooltip says why
            row = panel.rows[key]
            assert row.editor.disabled and "solved in closed form" in str(row.editor.tooltip), key
        assert not panel.rows["train.seq_len"].editor.disabled  # the reservoir's warm-up window does apply
        await pilot.press("s")
        await wait_for(pilot, lambda: app.status.state == "finished", what="the run to finish")
        await pilot.pause()
        phases = app.status.phases
        for phase in ("driving the reservoir", "solving the readout", "scoring the training windows",
                      "scoring the validation windows", "scoring the ridge path (validation VPT)", "scoring the test forecasts"):
            assert phase in phases, phases
        assert phases.index("driving the reservoir") < phases.index("solving the readout") < phases.index("scoring the test forecasts")
        plots = app.plots
        assert not plots.query_one(LossPlot).display and not plots.query_one(GradNormPlot).display
        ridge = plots.query_one(RidgePathPlot)
        summary = app.current.result.summary
        assert ridge.display and ridge.report is summary.readout and ridge.has_data()
        assert f"val VPT (Lyap.) by ridge · kept {summary.readout.ridge:g} auto" in ridge.frame.plain
        # the summary's ridge path is what the plot draws: VPT at each ridge where scored
        xs, ys, what = ridge.series()
        assert what.startswith("validation VPT") and ys == [v for _, _, v in summary.readout.path]
        # back to a trained model: the loss and gradient plots return, the fields are enabled again
        await pilot.press("r")
        panel.rows["model.arch"].editor.value = "lstm"
        await pilot.pause()
        assert not panel.rows["train.epochs"].editor.disabled
