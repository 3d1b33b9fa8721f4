"""Every forecasting architecture behind the Forecaster interface: shapes, rollout consistency,
initialisations, the ESN's closed-form readout and the RK4 network's integration."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch

from rnn_tui.config import model_config
from rnn_tui.errors import UserError
from rnn_tui.models import registry
from rnn_tui.models.base import Forecaster, ModelSpec
from rnn_tui.models.esn.net import ESN, spectral_radius
from rnn_tui.models.ngrc.net import NGRC
from rnn_tui.models.recurrent.net import ElmanRNN

# Every registered architecture goes through the shape and rollout tests: a new one is tested by
# adding its registry line. The families below name what the tests expect of the ones known here.
ALL_ARCHS = list(registry.ARCHS)
VECTOR_ARCHS = [a for a, cls in registry.ARCHS.items() if not cls.field_only]
CLOSED_FORM = [a for a, cls in registry.ARCHS.items() if cls.closed_form]  # readouts solved in closed form, not trained
RECURRENT = ["rnn", "lstm", "gru", "dense_gru", "irnn"]
STATEFUL = RECURRENT + ["esn", "convlstm"]

D, L, B, N_FIELD = 3, 12, 4, 64


def spec_for(arch: str, seq_len: int = L, dt: float = 0.01) -> ModelSpec:
    if registry.ARCHS[arch].field_only:
        return ModelSpec(dim=N_FIELD, seq_len=seq_len, field=True, dt=dt)
    return ModelSpec(dim=D, seq_len=seq_len, dt=dt)


def make(arch: str, spec: ModelSpec | None = None, seed: int = 0, **kw) -> Forecaster:
    torch.manual_seed(seed)
    takes = registry.ARCHS[arch].applies
    if "hidden_size" in takes:
        kw.setdefault("hidden_size", 16)
    if "filters" in takes:
        kw.setdefault("filters", 4)
    return registry.build(spec or spec_for(arch), model_config(arch, **kw))


def randomise_readout(model: Forecaster) -> None:
    """Give an (unfitted) ESN or NG-RC a random readout so that its outputs depend on its state."""
    if isinstance(model, ESN):
        with torch.no_grad():
            model.readout_w.normal_(0, 0.3)
            model.readout_b.normal_(0, 0.3)
    elif isinstance(model, NGRC):
        with torch.no_grad():
            model.readout_w.normal_(0, 0.3)


def window(arch: str, length: int = L, batch: int = B, dtype=torch.float32) -> torch.Tensor:
    dim = N_FIELD if registry.ARCHS[arch].field_only else D
    return torch.randn(batch, length, dim, dtype=dtype)


def check_rollout_consistency(model: Forecaster, x: torch.Tensor, warm: int, atol: float) -> None:
    """warmup(x[:, :warm]) then step(x[:, k]) must equal forward(x[:, :k+1]) for every k >= warm."""
    model.eval()
    with torch.no_grad():
        y, state = model.warmup(x[:, :warm])
        torch.testing.assert_close(y, model(x[:, :warm]), atol=atol, rtol=0)
        for k in range(warm, x.shape[1]):
            y, state = model.step(x[:, k], state)
            torch.testing.assert_close(y, model(x[:, : k + 1]), atol=atol, rtol=0)


# ---------------------------------------------------------------------------------------------
# Registry and shapes


def test_registry_builds_every_architecture():
    assert set(STATEFUL) <= set(ALL_ARCHS) and {"esn", "ngrc", "ngrc_local"} <= set(CLOSED_FORM)  # the families named above
    for arch, cls in registry.ARCHS.items():
        assert cls.doc and cls.model_fields["arch"].default == arch
        assert cls.field_only <= cls.supports_field, arch  # field-only implies it takes a field
        model = make(arch)
        assert isinstance(model, Forecaster)
        assert model.trainable == (arch not in CLOSED_FORM), arch


@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("arch", ALL_ARCHS)
def test_shapes(arch, residual):
    model = make(arch, **({"residual": residual} if "residual" in registry.ARCHS[arch].applies else {}))
    randomise_readout(model)
    x = window(arch)
    dim = x.shape[-1]
    assert model(x).shape == (B, dim)
    y, state = model.warmup(x)
    assert y.shape == (B, dim)
    for _ in range(3):
        y, state = model.step(y, state)
        assert y.shape == (B, dim)
    if model.has_seq:
        seq = model.forward_seq(x)
        assert seq.shape == (B, L, dim)
        torch.testing.assert_close(seq[:, -1], model(x), atol=1e-5, rtol=0)
    else:
        with pytest.raises(NotImplementedError):
            model.forward_seq(x)


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru", "dense_gru", "irnn", "esn", "mlp", "convlstm"])
def test_residual_adds_last_input(arch):
    """With residual on, the output is x_last + (the same network's output with residual off)."""
    plain, resid = make(arch, residual=False), make(arch, residual=True)
    randomise_readout(plain)
    resid.load_state_dict(plain.state_dict())
    x = window(arch)
    torch.testing.assert_close(resid(x), plain(x) + x[:, -1])


def test_has_seq_flags():
    for arch in ALL_ARCHS:
        assert make(arch).has_seq == (arch in STATEFUL), arch


# ---------------------------------------------------------------------------------------------
# Recurrent variants


@pytest.mark.parametrize("arch", RECURRENT)
def test_stacked_dropout_and_head(arch):
    model = make(arch, num_layers=2, dropout=0.5, head_size=8)
    assert model.num_layers == 2 and model.core.num_layers == 2
    assert isinstance(model.head, torch.nn.Sequential) and model.head[0].out_features == 8
    x = window(arch)
    model.train()
    a, b = model(x), model(x)
    assert a.shape == (B, D) and not torch.allclose(a, b)  # dropout between layers is active
    model.eval()
    torch.testing.assert_close(model(x), model(x))
    a.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_sigmoid_rnn_matches_manual_loop():
    model = make("rnn", activation="sigmoid", residual=False).double()
    assert isinstance(model.core, ElmanRNN)
    x = window("rnn", dtype=torch.float64)
    c = model.core
    h = torch.zeros(B, 16, dtype=torch.float64)
    for t in range(L):
        h = torch.sigmoid(x[:, t] @ c.weight_ih_l0.T + c.bias_ih_l0 + h @ c.weight_hh_l0.T + c.bias_hh_l0)
    torch.testing.assert_close(model(x), model.head(h))


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_rnn_uses_torch_cell(activation):
    model = make("rnn", activation=activation)
    assert isinstance(model.core, torch.nn.RNN) and model.core.nonlinearity == activation


@pytest.mark.parametrize("arch", RECURRENT)
def test_learn_h0_is_a_parameter_with_gradient(arch):
    model = make(arch, learn_h0=True, num_layers=2)
    names = dict(model.named_parameters())
    assert "h0" in names and names["h0"].shape == (2, 1, 16)
    assert ("c0" in names) == (arch == "lstm")
    x = window(arch)
    before = model(x).detach()
    with torch.no_grad():
        model.h0.normal_()
    assert not torch.allclose(model(x), before)  # the initial state is used
    model(x).pow(2).sum().backward()
    assert model.h0.grad is not None and model.h0.grad.abs().sum() > 0
    if arch == "lstm":
        assert model.c0.grad is not None and model.c0.grad.abs().sum() > 0


def test_no_h0_parameter_by_default():
    model = make("gru")
    assert "h0" not in dict(model.named_parameters())


def test_irnn_identity_init():
    model = make("irnn", num_layers=2, hidden_size=20)
    core = model.core
    assert isinstance(core, torch.nn.RNN) and core.nonlinearity == "relu"
    for k in range(2):
        torch.testing.assert_close(getattr(core, f"weight_hh_l{k}").detach(), torch.eye(20), atol=0, rtol=0)
        assert torch.count_nonzero(getattr(core, f"bias_hh_l{k}")) == 0
        assert torch.count_nonzero(getattr(core, f"bias_ih_l{k}")) == 0
        assert getattr(core, f"weight_ih_l{k}").abs().max() < 0.01


def test_dense_gru_structure():
    model = make("dense_gru", dense_size=24)
    linears = [m for m in model.pre if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(D, 24), (24, 24)]
    assert isinstance(model.core, torch.nn.GRU) and model.core.input_size == 24


# ---------------------------------------------------------------------------------------------
# Rollout: warmup + step equals forward on the growing window


ROLLOUT_CASES = [
    ("rnn", {}),
    ("rnn", {"activation": "relu", "num_layers": 2, "dropout": 0.3}),
    ("rnn", {"activation": "sigmoid", "num_layers": 2, "learn_h0": True}),
    ("lstm", {"num_layers": 2, "dropout": 0.3, "head_size": 8, "learn_h0": True}),
    ("lstm", {"residual": True}),
    ("gru", {"num_layers": 2, "learn_h0": True, "residual": True}),
    ("dense_gru", {"num_layers": 2, "head_size": 8}),
    ("irnn", {"learn_h0": True}),
    ("esn", {}),
    ("esn", {"leak_rate": 0.3, "readout": "quadratic", "residual": True}),
    ("ngrc", {}),
    ("ngrc", {"delays": 3, "skip": 2, "order": 3, "constant": False}),
    ("convlstm", {}),
    ("convlstm", {"batch_norm": True, "residual": True, "kernel_size": 3}),
]


@pytest.mark.parametrize("arch,kw", ROLLOUT_CASES)
def test_warmup_step_matches_forward(arch, kw):
    model = make(arch, **kw).double()
    randomise_readout(model)
    with torch.no_grad():
        for name in ("h0", "c0"):
            p = getattr(model, name, None)
            if isinstance(p, torch.nn.Parameter):
                p.normal_()
    x = window(arch, length=L + 4, batch=3, dtype=torch.float64)
    check_rollout_consistency(model, x, warm=L, atol=1e-10)


@pytest.mark.parametrize("arch", ["rnn", "lstm", "convlstm"])
def test_warmup_step_matches_forward_float32(arch):
    model = make(arch, num_layers=2) if arch != "convlstm" else make(arch)
    check_rollout_consistency(model, window(arch, length=L + 3, batch=3), warm=L, atol=1e-5)


@pytest.mark.parametrize("arch,kw", [(a, kw) for a, kw in ROLLOUT_CASES if a in STATEFUL])
def test_forward_seq_is_forward_on_every_prefix(arch, kw):
    model = make(arch, **kw).double().eval()
    randomise_readout(model)
    x = window(arch, length=6, batch=2, dtype=torch.float64)
    with torch.no_grad():
        seq = model.forward_seq(x)
        for j in range(x.shape[1]):
            torch.testing.assert_close(seq[:, j], model(x[:, : j + 1]), atol=1e-10, rtol=0)


def test_mlp_rollout_uses_window_buffer():
    model = make("mlp", num_layers=2, activation="sigmoid").eval()
    x = window("mlp", length=L + 3)
    with torch.no_grad():
        y, state = model.warmup(x[:, :L])
        torch.testing.assert_close(y, model(x[:, :L]))
        for k in range(L, L + 3):
            y, state = model.step(x[:, k], state)
            torch.testing.assert_close(y, model(x[:, k + 1 - L : k + 1]))
        assert model(x).shape == (B, D)  # a longer window: the last seq_len steps
    with pytest.raises(ValueError):
        model(x[:, : L - 1])


def test_mlp_layers():
    model = make("mlp", num_layers=3, hidden_size=10, activation="relu")
    linears = [m for m in model.net if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(L * D, 10), (10, 10), (10, 10), (10, D)]


# ---------------------------------------------------------------------------------------------
# Generic: parameter counts, float64


@pytest.mark.parametrize("arch", ALL_ARCHS)
def test_param_count_and_double(arch):
    model = make(arch)
    assert model.num_params() > 0
    model = model.double()
    randomise_readout(model)
    x = window(arch, dtype=torch.float64)
    out = model(x)
    assert out.dtype == torch.float64 and torch.isfinite(out).all()
    y, s = model.warmup(x)
    y, s = model.step(y, s)
    assert y.dtype == torch.float64


# ---------------------------------------------------------------------------------------------
# ESN


def sine_series(steps: int = 600, dt: float = 0.1, dtype=torch.float64) -> torch.Tensor:
    t = torch.arange(steps, dtype=dtype) * dt
    return torch.stack([torch.sin(t), torch.cos(t)], dim=1)


@pytest.mark.heavy  # a CI tier (.ci/run): over 6 s on the default run
def test_esn_reservoir_properties():
    model = make("esn", hidden_size=200, spectral_radius=0.7, sparsity=0.9, input_scaling=0.3)
    assert spectral_radius(model.w) == pytest.approx(0.7, rel=1e-6)
    zeros = float((model.w == 0).double().mean())
    assert abs(zeros - 0.9) < 0.01
    assert model.w_in.abs().max() <= 0.3
    assert list(model.parameters()) == []  # nothing for gradient descent
    assert not model.trainable


def test_esn_reproducible_from_global_seed():
    a, b, c = make("esn", seed=5), make("esn", seed=5), make("esn", seed=6)
    torch.testing.assert_close(a.w, b.w, atol=0, rtol=0)
    torch.testing.assert_close(a.w_in, b.w_in, atol=0, rtol=0)
    assert not torch.equal(a.w, c.w)


@pytest.mark.parametrize("readout", ["linear", "quadratic"])
@pytest.mark.parametrize("residual", [False, True])
def test_esn_readout_equals_numpy_ridge(readout, residual):
    ridge = 1e-4
    model = make("esn", spec=ModelSpec(dim=2, seq_len=L), hidden_size=40, washout=30, ridge=ridge, readout=readout, residual=residual).double()
    series = sine_series(400)
    model.fit_closed_form(series)

    states, target = model.training_pairs(series)
    assert states.shape == (400 - 1 - 30, 40)
    r = states.numpy()
    feats = np.concatenate([r, r * r], axis=1) if readout == "quadratic" else r
    a = np.concatenate([feats, np.ones((feats.shape[0], 1))], axis=1)
    u = series.numpy()
    y = (u[31:] - u[30:-1]) if residual else u[31:]
    np.testing.assert_allclose(target.numpy(), y, rtol=0, atol=1e-15)

    got = np.concatenate([model.readout_w.numpy().T, model.readout_b.numpy()[None]], axis=0)
    normal = np.linalg.solve(a.T @ a + ridge * np.eye(a.shape[1]), a.T @ y)
    assert np.abs(got - normal).max() <= 1e-8 * np.abs(normal).max()
    # The same ridge problem as an augmented least-squares system.
    aug_a = np.concatenate([a, math.sqrt(ridge) * np.eye(a.shape[1])], axis=0)
    aug_y = np.concatenate([y, np.zeros((a.shape[1], y.shape[1]))], axis=0)
    lstsq = np.linalg.lstsq(aug_a, aug_y, rcond=None)[0]
    assert np.abs(got - lstsq).max() <= 1e-6 * np.abs(lstsq).max()


def test_esn_sparse_reservoir_and_blocked_fit_are_the_dense_equations(monkeypatch):
    """A large sparse reservoir (300 units, 2% dense) takes the fast paths: a CSR product for batches
    (on transposed states without gradients), scipy's in a numpy loop for the fit's one long sequence,
    and the readout's QR accumulated block by block (here blocks of 100 rows). Each equals the plain
    dense computation in float64."""
    from rnn_tui.models import readout

    monkeypatch.setattr(readout, "MIN_BLOCK_ROWS", 100)
    model = make("esn", spec=ModelSpec(dim=2, seq_len=L), hidden_size=300, sparsity=0.98, washout=20, ridge=1e-6,
                 readout="quadratic", residual=True).double()
    assert model.sparse
    w, w_in, b = model.w.numpy(), model.w_in.numpy(), model.b.numpy()

    def dense(x):  # (B, T, D) -> states (B, T, N)
        r = np.zeros((x.shape[0], w.shape[0]))
        out = []
        for t in range(x.shape[1]):
            r = np.tanh(r @ w.T + x[:, t] @ w_in.T + b)
            out.append(r)
        return np.stack(out, axis=1)

    x = torch.randn(5, 30, 2, dtype=torch.float64)
    with torch.no_grad():
        states, last = model.run_reservoir(x)  # batched: the CSR product
        one, one_last = model.run_reservoir(x[:1])  # one sequence: the numpy loop
        _, only_last = model.run_reservoir(x, keep=False)
    ref = dense(x.numpy())
    np.testing.assert_allclose(states.numpy(), ref, rtol=0, atol=1e-13)
    np.testing.assert_allclose(one.numpy(), ref[:1], rtol=0, atol=1e-13)
    np.testing.assert_allclose(one_last.numpy(), ref[:1, -1], rtol=0, atol=1e-13)
    np.testing.assert_allclose(only_last.numpy(), last.numpy(), rtol=0, atol=1e-13)  # two paths, same sums up to rounding
    # the CSR copy follows W when W changes in place (a loaded state)
    with torch.no_grad():
        model.w.mul_(0.5)
        halved, _ = model.run_reservoir(x)
    w = model.w.numpy()
    np.testing.assert_allclose(halved.numpy(), dense(x.numpy()), rtol=0, atol=1e-13)

    with torch.no_grad():  # the transposed batched path (no gradients) against the one with gradients
        fast = model.run_reservoir(x, keep=False)[1]
    np.testing.assert_allclose(fast.numpy(), dense(x.numpy())[:, -1], rtol=0, atol=1e-13)

    series = sine_series(300)
    model.fit_closed_form(series)
    r = model.training_pairs(series)[0].numpy()
    a = np.concatenate([r, r * r, np.ones((r.shape[0], 1))], axis=1)
    u = series.numpy()
    y = u[21:] - u[20:-1]
    aug = np.linalg.lstsq(np.concatenate([a, 1e-3 * np.eye(a.shape[1])]), np.concatenate([y, np.zeros((a.shape[1], 2))]), rcond=None)[0]
    got = np.concatenate([model.readout_w.numpy().T, model.readout_b.numpy()[None]], axis=0)
    # 601 features from 279 states, QR in three blocks against numpy's one SVD of the augmented system
    assert np.abs(got - aug).max() <= 1e-8 * np.abs(aug).max()


@pytest.mark.parametrize("residual", [False, True])
def test_esn_fits_a_sine(residual):
    model = make("esn", spec=ModelSpec(dim=2, seq_len=L), hidden_size=100, washout=50, ridge=1e-8, residual=residual)
    series = sine_series(600, dtype=torch.float32)
    model.fit_closed_form(series)
    with torch.no_grad():
        pred = model.forward_seq(series[None, :-1])[0, 50:]
        err = (pred - series[51:]).abs().max()
        assert err < 1e-3
        # free-running from a warmed-up reservoir stays on the circle for a while
        y, s = model.warmup(series[None, :300])
        ys = []
        for _ in range(20):
            ys.append(y)
            y, s = model.step(y, s)
        assert (torch.cat(ys) - series[300:320]).abs().max() < 1e-2


def test_esn_state_dict_round_trip():
    model = make("esn", seed=1)
    model.fit_closed_form(torch.randn(200, D))
    other = make("esn", seed=2)
    other.load_state_dict(model.state_dict())
    x = window("esn")
    torch.testing.assert_close(other(x), model(x), atol=0, rtol=0)
    assert model.num_params() == D * 16 + D


def test_esn_washout_too_long_is_a_clear_error():
    from rnn_tui.errors import UserError

    model = make("esn", washout=50)
    with pytest.raises(UserError, match="washout"):
        model.fit_closed_form(torch.randn(40, D))


# ---------------------------------------------------------------------------------------------
# RK4 bilinear network


def set_linear_field(model, a: torch.Tensor) -> None:
    """F(X) = A X: L = identity, bilinear part and all biases zero."""
    f = model.field
    d, width = a.shape[0], f.linear.out_features
    with torch.no_grad():
        for p in f.parameters():
            p.zero_()
        f.linear.weight[:d, :d] = torch.eye(d, dtype=a.dtype)
        f.out.weight[:, :d] = a


def test_rk4_step_on_linear_ode():
    dt = 0.05
    model = make("rk4", spec=ModelSpec(dim=D, seq_len=L, dt=dt)).double()
    torch.manual_seed(3)
    a = torch.randn(D, D, dtype=torch.float64)
    set_linear_field(model, a)
    x = torch.randn(5, L, D, dtype=torch.float64)
    x0 = x[:, -1]
    torch.testing.assert_close(model.field(x0), x0 @ a.T, atol=1e-14, rtol=0)

    got = model(x).detach()
    # The RK4 formula by hand ...
    f = lambda v: v @ a.T  # noqa: E731
    k1 = f(x0)
    k2 = f(x0 + dt / 2 * k1)
    k3 = f(x0 + dt / 2 * k2)
    k4 = f(x0 + dt * k3)
    torch.testing.assert_close(got, x0 + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4), atol=1e-13, rtol=0)
    # ... is the 4th-order Taylor polynomial of expm(A dt) on a linear ODE ...
    ad = (a * dt).numpy()
    taylor = sum(np.linalg.matrix_power(ad, k) / math.factorial(k) for k in range(5))
    np.testing.assert_allclose(got.numpy(), x0.numpy() @ taylor.T, rtol=0, atol=1e-12)
    # ... so it matches the exact flow up to O(dt^5).
    exact = x0.numpy() @ scipy.linalg.expm(ad).T
    bound = 2 * np.linalg.norm(ad, 2) ** 5 / math.factorial(5) * np.abs(x0.numpy()).max() * math.sqrt(D)
    assert np.abs(got.numpy() - exact).max() <= bound
    assert np.abs(got.numpy() - exact).max() > 0  # not trivially equal: RK4 is not exact

    # Rollout state is just the last state: step(y) is one more RK4 step from y.
    y, s = model.warmup(x)
    torch.testing.assert_close(s, x0)
    y2, s2 = model.step(y, s)
    torch.testing.assert_close(y2, model(y.unsqueeze(1)))
    torch.testing.assert_close(s2, y)


def test_euler_step_on_linear_ode():
    dt = 0.01
    model = make("rk4", spec=ModelSpec(dim=D, seq_len=L, dt=dt), scheme="euler").double()
    a = torch.randn(D, D, dtype=torch.float64)
    set_linear_field(model, a)
    x = torch.randn(4, L, D, dtype=torch.float64)
    torch.testing.assert_close(model(x), x[:, -1] + dt * x[:, -1] @ a.T, atol=1e-14, rtol=0)


def lorenz_rhs(x: torch.Tensor, sigma=10.0, rho=28.0, beta=8.0 / 3.0) -> torch.Tensor:
    u, v, w = x.unbind(-1)
    return torch.stack([sigma * (v - u), u * (rho - w) - v, u * v - beta * w], dim=-1)


@pytest.mark.parametrize("normalised", [False, True])
def test_rk4_net_represents_lorenz_exactly(normalised):
    """Set the weights by hand so that F is the Lorenz-63 field, in data units or in normalised units
    (x = mu + s * x_n, dx_n/dt = f(x) / s: still quadratic, so still exact)."""
    sigma, rho, beta = 10.0, 28.0, 8.0 / 3.0
    model = make("rk4", hidden_size=4).double()
    dtype = torch.float64
    mu = torch.tensor([0.5, -1.0, 23.0], dtype=dtype) if normalised else torch.zeros(3, dtype=dtype)
    s = torch.tensor([7.9, 9.0, 8.6], dtype=dtype) if normalised else torch.ones(3, dtype=dtype)
    f = model.field
    with torch.no_grad():
        for p in f.parameters():
            p.zero_()
        # L(x_n) = x (the data-unit state) in its first 3 units
        f.linear.weight[:3] = torch.diag(s)
        f.linear.bias[:3] = mu
        # products: unit 0 = x * z, unit 1 = x * y
        f.bilinear1.weight[0, 0], f.bilinear1.bias[0] = s[0], mu[0]
        f.bilinear2.weight[0, 2], f.bilinear2.bias[0] = s[2], mu[2]
        f.bilinear1.weight[1, 0], f.bilinear1.bias[1] = s[0], mu[0]
        f.bilinear2.weight[1, 1], f.bilinear2.bias[1] = s[1], mu[1]
        lin = torch.tensor([[-sigma, sigma, 0.0], [rho, -1.0, 0.0], [0.0, 0.0, -beta]], dtype=dtype)
        f.out.weight[:, :3] = lin / s[:, None]
        f.out.weight[1, 4] = -1.0 / s[1]  # - x z in dy/dt
        f.out.weight[2, 5] = 1.0 / s[2]  # + x y in dz/dt
    torch.manual_seed(0)
    xn = torch.randn(100, 3, dtype=dtype) * 2
    expected = lorenz_rhs(mu + s * xn, sigma, rho, beta) / s
    torch.testing.assert_close(f(xn), expected, atol=1e-11, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# ConvLSTM


def test_convlstm_field_shapes_and_structure():
    model = make("convlstm", filters=6, kernel_size=5, batch_norm=True)
    assert model.cell.conv.in_channels == 1 + 6 and model.cell.conv.out_channels == 4 * 6
    assert model.cell.conv.padding_mode == "circular" and model.out.padding_mode == "circular"
    assert isinstance(model.norm, torch.nn.BatchNorm1d)
    x = window("convlstm", batch=2, length=5)
    assert model(x).shape == (2, N_FIELD)
    assert model.forward_seq(x).shape == (2, 5, N_FIELD)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_convlstm_translation_equivariance(batch_norm):
    model = make("convlstm", batch_norm=batch_norm).double()
    if batch_norm:
        with torch.no_grad():
            model.norm.running_mean.normal_()
            model.norm.running_var.uniform_(0.5, 2.0)
        model.eval()  # running statistics: a per-channel affine map, so still equivariant
    x = window("convlstm", batch=2, length=6, dtype=torch.float64)
    out = model(x)
    for shift in (1, 7, -13):
        shifted = model(torch.roll(x, shift, dims=-1))
        torch.testing.assert_close(shifted, torch.roll(out, shift, dims=-1), atol=1e-12, rtol=0)


def test_convlstm_even_kernel_rejected():
    with pytest.raises(UserError, match="kernel_size must be odd"):
        make("convlstm", kernel_size=4)


def test_default_model_config_builds_every_arch():
    """The shipped defaults (hidden 64, etc.), only arch changed."""
    for arch in ALL_ARCHS:
        torch.manual_seed(0)
        model = registry.build(spec_for(arch), model_config(arch))
        x = window(arch, batch=2)
        assert model(x).shape == (2, x.shape[-1])


@pytest.mark.parametrize("arch", RECURRENT)
def test_carry_run_equals_step_by_step_rollout(arch):
    """The tight carried-state loop gives exactly what warmup + step give."""
    model = make(arch, num_layers=2).double().eval()
    x = window(arch, dtype=torch.float64)
    with torch.no_grad():
        fast = model.carry_run(x, 12)
        y, s = model.warmup(x)
        slow = [y]
        for _ in range(11):
            y, s = model.step(y, s)
            slow.append(y)
    torch.testing.assert_close(fast, torch.stack(slow, dim=1))
