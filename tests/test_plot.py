"""`rnn-tui plot` and rnn_tui/figures: each figure is written, and what it draws is the runs' own data
(read off the matplotlib artists); bad input is one line, exit 2."""

import shutil
import subprocess
import sys

import numpy as np
import pytest

import rnn_tui
from rnn_tui import figures
from rnn_tui.cli import main
from rnn_tui.commands import plot as plot_cmd
from rnn_tui.errors import UserError
from rnn_tui.figures.style import label

MAGIC = {"png": b"\x89PNG", "pdf": b"%PDF", "svg": b"<?xml"}


@pytest.mark.parametrize("what,kind", [("forecast", "png"), ("losses", "pdf"), ("rmse", "svg"), ("phase", "png"), ("hovmoller", "png")])
def test_plot_writes_each_figure(what, kind, lorenz_run, field_run, tmp_path, capsys):
    run = field_run if what == "hovmoller" else lorenz_run
    out = tmp_path / f"fig.{kind}"
    assert main(["plot", str(run), "--out", str(out), "--what", what]) == 0, capsys.readouterr().err
    assert out.read_bytes().startswith(MAGIC[kind])
    assert f"{what} of 1 run written to {out}" in capsys.readouterr().err


def _line(ax, name):
    (line,) = [ln for ln in ax.lines if ln.get_label() == name]
    return line


def test_forecast_draws_the_truth_and_the_run_in_lyapunov_times(lorenz_run):
    run = rnn_tui.open_run(lorenz_run)
    f, vpt = run.forecast, run.summary.evaluation.vpt
    fig = figures.make([run], "forecast")
    axes = fig.axes
    assert len(axes) == 3 and [ax.get_ylabel() for ax in axes] == ["x (data units)", "y (data units)", "z (data units)"]
    lam = vpt.lyapunov_exponent
    assert "Lyapunov times" in axes[-1].get_xlabel()
    lead = (np.arange(1, len(f.t) + 1)) * 0.01 * lam  # dt 0.01: the first forecast state is one step ahead
    for c, ax in enumerate(axes):
        truth, model = _line(ax, "truth (lorenz63)"), _line(ax, label(run))
        np.testing.assert_allclose(truth.get_xdata(), lead, rtol=1e-9)
        assert np.array_equal(truth.get_ydata(), f.truth[:, c]) and np.array_equal(model.get_ydata(), f.prediction[:, c])
        (marker,) = [ln for ln in ax.lines if ln.get_label().startswith("VPT")]
        assert marker.get_xdata()[0] == pytest.approx(vpt.lyapunov.median)


def test_losses_rmse_and_phase_draw_the_runs_numbers(lorenz_run):
    run = rnn_tui.open_run(lorenz_run)
    (ax,) = figures.make([run], "losses").axes
    assert np.array_equal(_line(ax, f"{label(run)}: training").get_ydata(), [r.train_loss for r in run.metrics])
    assert np.array_equal(_line(ax, "validation").get_ydata(), [r.val_loss for r in run.metrics])
    assert ax.get_xlabel() == "epoch" and "MSE" in ax.get_ylabel()
    (ax,) = figures.make([run], "rmse").axes
    e = run.summary.evaluation
    curve = _line(ax, f"{label(run)} ({e.n_starts} test starts)")
    assert np.array_equal(curve.get_ydata(), e.rmse_curve) and ax.get_ylabel() == "RMSE (data units)"
    (ax,) = figures.make([run], "phase").axes
    truth = _line(ax, "truth (lorenz63)")
    assert np.array_equal(truth.get_xdata(), run.forecast.truth[:, 0]) and np.array_equal(truth.get_ydata(), run.forecast.truth[:, 2])
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x (data units)", "z (data units)")


def test_hovmoller_shows_the_field_the_forecast_and_its_error(field_run):
    run = rnn_tui.open_run(field_run)
    f = run.forecast
    fig = figures.make([run], "hovmoller")
    images = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(images) == 3
    assert np.array_equal(images[0], f.truth.T) and np.array_equal(images[1], f.prediction.T)
    assert np.array_equal(images[2], (f.prediction - f.truth).T)


def test_several_runs_overlay_in_one_figure(lorenz_run, field_run, tmp_path):
    twin = tmp_path / "twin"
    shutil.copytree(lorenz_run, twin)
    a, b = rnn_tui.open_run(lorenz_run), rnn_tui.open_run(twin)
    ax = figures.make([a, b], "forecast").axes[0]
    assert [ln.get_label() for ln in ax.lines if not ln.get_label().startswith("VPT")] == ["truth (lorenz63)", label(a), label(b)]
    assert len(figures.make([a, b], "losses").axes[0].lines) == 4
    with pytest.raises(UserError, match="forecasts another truth"):
        figures.make([a, rnn_tui.open_run(field_run)], "forecast")


@pytest.mark.parametrize("args,words", [
    (["nowhere"], "no run 'nowhere'"),
    (["RUN", "--what", "forecst"], "did you mean 'forecast'"),
    (["RUN", "--what", "hovmoller"], "hovmoller is for fields"),
    (["RUN", "--out", "OUT/no/such/f.png"], "no such folder"),
    (["RUN", "--out", "OUT/fig.xyz"], "matplotlib cannot write a .xyz"),
    (["RUN", "--out", "OUT/adir.png"], "cannot write it"),
    (["RUN", "--dpi", "5"], "--dpi must be in [20, 1200]"),
])
def test_bad_input_is_one_line_exit_2(args, words, lorenz_run, tmp_path, capsys):
    (tmp_path / "adir.png").mkdir()  # a folder where the file should go
    argv = [a.replace("RUN", str(lorenz_run)).replace("OUT", str(tmp_path)) for a in args]
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "f.png")]
    assert main(["plot", *argv]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1, err


def test_without_matplotlib_the_error_names_the_extra(lorenz_run, tmp_path):
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "from rnn_tui.cli import main\n"
            f"sys.exit(main(['plot', {str(lorenz_run)!r}, '--out', {str(tmp_path / 'f.png')!r}]))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 2 and "pip install 'rnn-tui[plot]'" in p.stderr and p.stderr.count("\n") == 1, p.stderr


def test_write_all_writes_every_figure_that_fits(lorenz_run, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(lorenz_run, folder)
    written = figures.write_all(folder)
    assert sorted(p.name for p in written) == ["forecast.png", "losses.png", "phase.png", "rmse.png"]
    assert all(p.read_bytes().startswith(MAGIC["png"]) for p in written)


def test_the_commands_list_of_figures_is_the_figures_own():
    assert plot_cmd.WHAT == figures.WHAT
