"""Local NG-RC on fields (model.arch = "ngrc_local"): shift-equivariance, an exact fit and rollout of a
linear stencil map it can represent, the features against NG-RC's on the stencil, set-up errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnn_tui import config
from rnn_tui.core.rollout import free_run
from rnn_tui.errors import UserError
from rnn_tui.models import registry
from rnn_tui.models.base import ModelSpec


def make(n: int = 16, seq_len: int = 3, **kw):
    spec = ModelSpec(dim=n, seq_len=seq_len, field=True)
    return registry.build(spec, registry.ARCHS["ngrc_local"](**kw)).double()


def test_a_shift_of_the_field_shifts_the_prediction():
    model = make(delays=2, radius=2, order=3)
    with torch.no_grad():
        model.readout_w.copy_(torch.randn(model.readout_w.shape, dtype=torch.float64) * 0.1)
    x = torch.randn(2, 3, 16, dtype=torch.float64)
    for shift in (1, 5, -3):
        torch.testing.assert_close(model(torch.roll(x, shift, dims=2)), torch.roll(model(x), shift, dims=1), rtol=0, atol=1e-13)


def test_a_site_features_are_ngrc_features_of_its_stencil_at_each_delay():
    model = make(n=8, seq_len=3, delays=2, skip=2, radius=1, order=2)
    x = torch.randn(1, 3, 8, dtype=torch.float64)
    lin = model.local_linear(x)[0]  # (N, k (2r+1))
    i = 0  # its stencil wraps: sites 7, 0, 1 at t and t - 2
    torch.testing.assert_close(lin[i], torch.stack([x[0, 2, 7], x[0, 2, 0], x[0, 2, 1], x[0, 0, 7], x[0, 0, 0], x[0, 0, 1]]))
    feats, base = model.window_design(x)
    assert feats.shape == (8, model.n_features) and torch.equal(base[:, 0], x[0, -1])
    torch.testing.assert_close(feats[i], model.phi.features(lin[i : i + 1])[0])


def test_a_linear_stencil_map_is_fitted_and_rolled_out_exactly():
    # x_i(t+1) = x_i(t) + a (x_{i+1} - 2 x_i + x_{i-1}) + b (x_{i-1} - x_i): diffusion and upwind advection
    # (stable: nothing grows), linear in the site's stencil, so the shared readout is exact: its linear
    # weights on the increment are (a + b, -2a - b, a), every monomial's weight 0.
    a, b, n = 0.2, 0.05, 24
    rng = np.random.default_rng(0)
    x = [rng.standard_normal(n)]
    for _ in range(399):
        u = x[-1]
        x.append(u + a * (np.roll(u, -1) - 2 * u + np.roll(u, 1)) + b * (np.roll(u, 1) - u))
    series = torch.as_tensor(np.array(x))
    model = make(n=n, seq_len=1, delays=1, radius=1, order=2, ridge=0.0)
    assert model.fit_closed_form(series[:200])
    w = model.readout_w[0].numpy()  # [1, x_{i-1}, x_i, x_{i+1}, monomials...]
    np.testing.assert_allclose(w[1:4], [a + b, -2 * a - b, a], rtol=0, atol=1e-10)
    assert abs(w[0]) < 1e-10 and np.abs(w[4:]).max() < 1e-9
    assert model.path.rows == 199 * n  # every (time, site) pair is a row
    pred = free_run(model, series[None, 199:200], 200)[0]
    assert series[200:].abs().max() > 0.05  # a field still there to forecast
    assert (pred - series[200:]).abs().max() < 1e-9


def test_a_stencil_wider_than_the_field_and_a_vector_system_are_errors():
    with pytest.raises(UserError, match="wider than the field") as err:
        make(n=4, radius=2)
    assert err.value.key == "model.radius"
    with pytest.raises(UserError, match="ngrc_local"):
        config.load("lorenz63_ngrc", overrides=['model.arch="ngrc_local"', "model.delays=2", "model.skip=1", "model.order=2",
                                                "model.constant=true", "model.ridge=0"])
