"""The app at the standard terminal size (80×24) and below its minimum: the keys that matter stay
in the footer, the status line keeps the run's state, epoch, best validation loss and free-run
error, the configuration panel folds away (f shows it) and the plots keep readable heights."""

from __future__ import annotations

from textual.widgets._footer import FooterKey

from rnn_tui.tui.app import MIN_SIZE
from rnn_tui.tui.plots import ForecastPlot, GradNormPlot, HorizonPlot, LossPlot, PhasePlot

from test_app import TINY, make_app, wait_for

STANDARD = (80, 24)


def on_screen(app, widget) -> bool:
    """Displayed, with some area, and entirely inside the terminal."""
    r = widget.region
    return widget.display and r.area > 0 and r.right <= app.size.width and r.bottom <= app.size.height


def footer_keys(app) -> dict[str, str]:
    """key -> description of the footer keys a user can see."""
    return {k.key: k.description for k in app.screen.query(FooterKey) if on_screen(app, k)}


def status_shown(app) -> str:
    """The status line's labels that are on screen, as a user reads them."""
    return "  ".join(str(label.render()) for label in app.status.query("#status-line Label") if on_screen(app, label))


async def test_standard_terminal_keeps_keys_status_and_readable_plots():
    app = make_app(*TINY)
    async with app.run_test(size=STANDARD) as pilot:
        await pilot.pause()
        keys = footer_keys(app)
        assert keys.get("question_mark") == "Help" and keys.get("q") == "Quit", keys
        assert {"s", "x", "f"} <= set(keys)
        # the panel is folded: the plots have the width; f shows the panel instead of them
        assert not app.panel.display and app.plots.region.width >= 76
        await pilot.press("f")
        await pilot.pause()
        assert app.panel.display and not app.plots.display and app.panel.region.width >= 76
        await pilot.press("s")  # starting a run shows the plots again
        await wait_for(pilot, lambda: app.status.state == "finished", what="the run")
        await pilot.pause()
        assert not app.panel.display and app.plots.display
        shown = status_shown(app)
        assert "finished" in shown and "epoch 3/3" in shown and "best val " in shown and "free run RMSE " in shown, shown
        assert "best val –" not in shown
        forecast = app.query_one(ForecastPlot)
        assert forecast.region.height >= 10 and on_screen(app, forecast)
        await wait_for(pilot, lambda: forecast.frame is not None and "truth vs model free run" in str(forecast.frame),
                       timeout=5, what="the forecast drawn")
        # few rows: the loss and the horizon under the forecast, each tall enough to read
        for plot in (app.query_one(LossPlot), app.query_one(HorizonPlot)):
            assert on_screen(app, plot) and plot.region.height >= 7, plot
        assert not app.query_one(GradNormPlot).display and not app.query_one(PhasePlot).display
        # the legend would cover a small plot: the title's coloured words say which curve is which
        losses = app.query_one(LossPlot)
        title = str(losses.frame).splitlines()[0]
        assert "train" in title and "validation" in title
        assert "⢕⢕ train" not in str(losses.frame)
        keys = footer_keys(app)
        assert keys.get("question_mark") == "Help" and keys.get("q") == "Quit", keys


async def test_the_minimum_size_and_the_widths_between_keep_what_matters():
    app = make_app(*TINY)
    async with app.run_test(size=MIN_SIZE) as pilot:
        for size in (MIN_SIZE, (100, 30), (120, 30), (140, 40)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            keys = footer_keys(app)
            assert keys.get("question_mark") == "Help" and keys.get("q") == "Quit", (size, keys)
            for wid in ("#state", "#epoch", "#best", "#freerun"):
                assert on_screen(app, app.status.query_one(wid)), (size, wid)
            assert on_screen(app, app.query_one(ForecastPlot)) and app.query_one(ForecastPlot).region.height >= 8, size


async def test_f_folds_the_panel_on_a_wide_terminal():
    app = make_app(*TINY)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        assert app.panel.display and app.plots.display
        wide = app.plots.region.width
        await pilot.press("f")
        await pilot.pause()
        assert not app.panel.display and app.plots.region.width > wide
        await pilot.press("f")
        await pilot.pause()
        assert app.panel.display and app.plots.region.width == wide


async def test_below_the_minimum_one_line_says_the_size_needed():
    app = make_app(*TINY)
    async with app.run_test(size=(50, 15)) as pilot:
        await pilot.pause()
        message = app.query_one("#too-small")
        assert message.display and message.region.area > 0
        text = str(message.render())
        assert f"at least {MIN_SIZE[0]}×{MIN_SIZE[1]}" in text and "50×15" in text
        assert not app.query_one("#main").display and not app.status.display
        await pilot.resize_terminal(*STANDARD)
        await pilot.pause()
        assert not message.display and app.query_one("#main").display
