"""Pilot test of the app with train.ensemble: the members' forecasts are drawn as a band (10-90%) under
their median line against the truth, the losses as bands, and each member's valid prediction time
as a strip beside the mean forecast's."""

from __future__ import annotations

import numpy as np

from rnn_tui.tui.plots import FAINT, MODEL, ForecastPlot, HorizonPlot, LossPlot
from tests.test_app import SIZE, make_app, wait_for

# A GRU carrying its state in the free runs: the cheapest forecasts of a chaotic system (for the VPTs).
ENSEMBLE = ['system.name="lorenz63"', "system.steps=500", "train.epochs=3", 'model.arch="gru"', "model.hidden_size=8",
            "rollout.every=1", "rollout.horizon=60", 'rollout.mode="carry"', "train.threads=1", "train.ensemble=3"]


def band_cells(plot) -> int:
    """Characters the plot drew in the band's colour (the faint model colour), outside its title."""
    frame = plot.render()
    colour = f"color({FAINT[MODEL]})"
    return sum(span.end - span.start for span in frame.spans if str(span.style).startswith(colour))


async def test_ensemble_draws_bands_and_the_vpt_strip():
    app = make_app(*ENSEMBLE)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await wait_for(pilot, lambda: app.status.state == "finished", timeout=60, what="the ensemble run to finish")
        await pilot.pause(0.2)
        app.plots.flush(force=True)
        await pilot.pause(0.2)
        assert app.current.log.started.ensemble == 3 and app.current.log.started.step_mode == "ensemble of 3, batched"
        assert "ensemble of 3; mean forecast VPT" in app.status.text

        forecast = app.query_one(ForecastPlot)
        members = forecast.forecast.members
        assert members.shape == (3, *forecast.forecast.truth.shape)
        rendered = str(forecast.render())
        t, q10, q50, q90 = forecast.band  # the band of the component shown, from every member's free run
        k = forecast.component
        np.testing.assert_allclose(q50, np.median(members[:, :, k], axis=0))
        np.testing.assert_allclose(q10, np.percentile(members[:, :, k], 10, axis=0))
        assert np.all(q10 <= q50) and np.all(q50 <= q90) and np.any(q90 > q10)
        assert "3 models: median, 10–90%" in rendered and "median of 3" in rendered
        assert band_cells(forecast) > 50  # the band is filled, not outlined

        losses = app.query_one(LossPlot)
        assert losses.ensemble and len(losses.members_train) == 3 and len(losses.members_train[0]) == 3
        assert "loss of 3 (median, 10–90%)" in str(losses.render()) and band_cells(losses) > 20

        horizon = app.query_one(HorizonPlot)
        summary = app.current.result.summary
        assert horizon.members.shape == (3, len(horizon.curve))
        vpts = [m.evaluation.vpt.time.median / summary.ensemble.dt for m in summary.ensemble.members]
        np.testing.assert_allclose(horizon.member_vpt, vpts)
        assert horizon.mean_vpt == summary.evaluation.vpt.time.median / summary.ensemble.dt
        assert "VPT mean forecast" in str(horizon.render()) and band_cells(horizon) > 0
