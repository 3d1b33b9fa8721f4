"""The closed-form ridge readout (rnn_tui/models/readout.py, core/closed_form.py): the SVD path against
an extended-precision reference on an ill-conditioned matrix where the normal equations fail, every
ridge of the path against a direct solve, the run's losses against the trainer's definition, "auto",
the fit's progress phases and a stop during the reservoir's drive."""

from __future__ import annotations

import math
import threading
import time

import mpmath
import numpy as np
import pytest
import torch

from rnn_tui import config
from rnn_tui.core.closed_form import CLOSED_FORM_WINDOWS, fit_readout, spaced
from rnn_tui.core.losses import mean_loss
from rnn_tui.core.trainer import Trainer
from rnn_tui.models import readout
from rnn_tui.models.readout import RIDGE_GRID, RidgePath
from rnn_tui.work import Progress, Work


def ill_conditioned(rows: int = 300, cols: int = 12, cond: float = 1e15, seed: int = 0):
    """A (rows, cols) with singular values from 1 down to 1/cond, and targets Y = A W + noise."""
    g = np.random.default_rng(seed)
    u, _ = np.linalg.qr(g.standard_normal((rows, cols)))
    v, _ = np.linalg.qr(g.standard_normal((cols, cols)))
    a = (u * np.logspace(0, -math.log10(cond), cols)) @ v.T
    y = a @ g.standard_normal((cols, 2)) + 1e-3 * g.standard_normal((rows, 2))
    return a, y


def reference(a: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    """(A^T A + ridge I)^-1 A^T Y in 60-digit arithmetic (mpmath) from the float64 data."""
    mpmath.mp.dps = 60
    A = mpmath.matrix(a.tolist())
    G = A.T * A + ridge * mpmath.eye(a.shape[1])
    cols = [mpmath.lu_solve(G, A.T * mpmath.matrix(y[:, j].tolist())) for j in range(y.shape[1])]
    return np.array([[float(c[i]) for c in cols] for i in range(a.shape[1])])


def path_of(a: np.ndarray, y: np.ndarray, block: int | None = None) -> RidgePath:
    block = block or len(a)
    blocks = ((torch.from_numpy(a[i : i + block]), torch.from_numpy(y[i : i + block])) for i in range(0, len(a), block))
    return RidgePath.of_blocks(blocks)


@pytest.mark.parametrize("ridge", [1e-4, 1e-8, 1e-10, 1e-12])
def test_the_svd_path_keeps_its_accuracy_at_small_ridge_where_the_normal_equations_lose_it(ridge):
    a, y = ill_conditioned()
    assert np.linalg.cond(a) > 1e14
    want = reference(a, y, ridge)
    got = path_of(a, y, block=64).solve(ridge).numpy()  # five QR blocks, then the SVD of R
    rel = np.abs(got - want).max() / np.abs(want).max()
    # A backward-stable solve of the ridge problem loses at most ~eps / sqrt(ridge) (relative): 2e-10 at 1e-12.
    assert rel < 1e-7
    normal = np.linalg.solve(a.T @ a + ridge * np.eye(a.shape[1]), a.T @ y)  # what the readout used to do
    normal_rel = np.abs(normal - want).max() / np.abs(want).max()
    if ridge <= 1e-10:  # the squared condition number: ~eps / ridge, 1e-6 at 1e-10, all but 3 digits lost at 1e-12
        assert normal_rel > 1e3 * rel
    if ridge <= 1e-12:  # ~2e-4 here; 9.5e-5 on another CPU's LAPACK: four digits or more lost either way
        assert normal_rel > 3e-5


def test_the_path_at_every_ridge_is_the_direct_solve():
    a, y = ill_conditioned(rows=200, cols=10, cond=1e6, seed=1)
    path = path_of(a, y, block=50)
    for ridge in RIDGE_GRID:
        got = path.solve(ridge).numpy()
        if ridge > 0:  # the augmented least-squares system, solved directly by numpy's SVD
            aug = np.concatenate([a, math.sqrt(ridge) * np.eye(a.shape[1])])
            want = np.linalg.lstsq(aug, np.concatenate([y, np.zeros((a.shape[1], 2))]), rcond=None)[0]
        else:
            want = np.linalg.lstsq(a, y, rcond=None)[0]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9 * np.abs(want).max())
    assert path.condition == pytest.approx(1e6, rel=1e-6) and path.rows == 200


def test_least_squares_drops_exactly_dependent_columns_as_lapack_does():
    a, y = ill_conditioned(rows=100, cols=6, cond=10, seed=2)
    a = np.concatenate([a, a[:, :1] + a[:, 1:2]], axis=1)  # a 7th column that is the sum of two others
    got = path_of(a, y, block=30).solve(0.0).numpy()
    np.testing.assert_allclose(got, np.linalg.lstsq(a, y, rcond=None)[0], rtol=0, atol=1e-10)


# ---------------------------------------------------------------------------------------------
# The closed-form run

TINY_ESN = ["system.steps=3000", "model.hidden_size=300", "model.sparsity=0.98", "train.seq_len=40",
            "model.washout=20", "train.threads=1", "rollout.every=0"]


def test_the_runs_losses_are_the_trainers_losses_on_evenly_spaced_windows():
    cfg = config.load("lorenz63_esn", overrides=TINY_ESN + ["model.ridge=1e-9"])
    tr = Trainer(cfg, None, None)
    report = fit_readout(tr.model, tr.prep, Work())
    prep = tr.prep
    assert report.windows == (CLOSED_FORM_WINDOWS, min(CLOSED_FORM_WINDOWS, len(prep.val_starts)))
    train = mean_loss(tr.model, prep, spaced(prep.train_starts, CLOSED_FORM_WINDOWS), prep.inputs)
    val = mean_loss(tr.model, prep, spaced(prep.val_starts, CLOSED_FORM_WINDOWS), prep.clean)
    assert report.train_loss == pytest.approx(train, rel=1e-9) and report.val_loss == pytest.approx(val, rel=1e-9)
    assert report.ridge == 1e-9 and not report.auto and len(report.path) == len(RIDGE_GRID)
    at = dict((r, v) for r, v, _ in report.path)
    assert at[1e-9] == pytest.approx(val, rel=1e-9)  # the path's point at the ridge kept is the run's loss


def test_auto_keeps_the_ridge_of_lowest_validation_loss_where_there_is_no_lyapunov_exponent():
    cfg = config.load("lorenz63_esn", overrides=TINY_ESN + ["model.ridge=auto"])
    tr = Trainer(cfg, None, None)
    report = fit_readout(tr.model, tr.prep, Work(), None)  # no Scoring: chosen by the loss
    best = min(report.path, key=lambda p: (p[1], -p[0]))
    assert report.auto and report.ridge == best[0] and report.chosen_by == "validation loss"
    assert report.val_loss == pytest.approx(best[1], rel=1e-9)
    d = report.to_dict()
    assert d["ridge_chosen"] == best[0] and len(d["ridge_path"]) == len(RIDGE_GRID)


def test_the_fit_reports_its_phases_and_a_stop_during_the_drive_ends_it_at_once():
    cfg = config.load("lorenz63_esn", overrides=["system.steps=12000", "model.hidden_size=300", "train.threads=1"])
    tr = Trainer(cfg, None, None)
    seen: list[Progress] = []
    assert tr.model.fit_closed_form(tr.prep.inputs[: tr.prep.n_train], Work(None, seen.append, every_s=0.0))
    phases = [p.phase for p in seen]
    assert phases[0] == "driving the reservoir" and "solving the readout" in phases
    drive = [p for p in seen if p.phase == "driving the reservoir"]
    assert drive[-1].done == drive[-1].total == tr.prep.n_train - 1 and len(drive) > 10  # every 256 steps

    stop, when = threading.Event(), []

    def report(p: Progress) -> None:
        if p.phase == "driving the reservoir" and p.done >= 2048 and not stop.is_set():
            when.append((time.perf_counter(), p.done))
            stop.set()
        seen.append(p)

    seen.clear()
    before = tr.model.readout_w.clone()
    assert tr.model.fit_closed_form(tr.prep.inputs[: tr.prep.n_train], Work(stop, report, every_s=0.0)) is False
    waited = time.perf_counter() - when[0][0]
    assert waited < 1.0  # the next look at the flag, 256 steps later, ends it
    assert seen[-1].phase == "driving the reservoir" and seen[-1].done == when[0][1]  # no tick after the stop
    assert torch.equal(tr.model.readout_w, before)  # nothing fitted


def test_ridge_values_other_than_a_number_or_auto_are_one_line_errors():
    from rnn_tui.errors import UserError

    assert config.load("lorenz63_esn", overrides=["model.ridge=AUTO"]).model.ridge == "auto"
    assert config.load("lorenz63_esn", overrides=["model.ridge=0"]).model.ridge == 0.0
    for bad in ("-1e-9", "2e6", "true", "nan"):
        with pytest.raises(UserError, match=r'model.ridge must be a number in \[0, 1e\+06\] or "auto"') as err:
            config.load("lorenz63_esn", overrides=[f"model.ridge={bad}"])
        assert "\n" not in str(err.value) and err.value.key == "model.ridge"


def test_blocks_are_cut_at_min_block_rows(monkeypatch):
    monkeypatch.setattr(readout, "MIN_BLOCK_ROWS", 10)
    assert list(readout.row_blocks(25, 3)) == [(0, 10), (10, 20), (20, 25)]
    assert list(readout.row_blocks(25, 8)) == [(0, 16), (16, 25)]  # at least twice the columns
