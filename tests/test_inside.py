"""The Inside view's data (rnn_tui/inside, each architecture's probe), each against something known:
the gradient through a linear RNN W = rho Q is rho^k at lag k; the IRNN's spectrum starts at one; the
ESN's radius is its setting; the gates are torch's cells'; the heatmap is the model's own states."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnn_tui.config import model_config
from rnn_tui.inside.gates import gru_gates, lstm_gates, saturation
from rnn_tui.inside.grad import fit_decay, grad_by_lag
from rnn_tui.inside.heat import heatmap
from rnn_tui.inside.results import INSPECT_KEYS, summary_of
from rnn_tui.inside.spectrum import spectrum
from rnn_tui.models import registry
from rnn_tui.models.base import ModelSpec

H, L = 8, 12


def orthogonal(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
    return q


def make(arch: str, dim: int = 3, seq_len: int = L, **kw):
    torch.manual_seed(0)
    return registry.build(ModelSpec(dim=dim, seq_len=seq_len), model_config(arch, **kw)).double()


@pytest.mark.parametrize("rho", [0.5, 0.9, 1.2])
def test_linear_rnn_gradient_at_lag_k_is_rho_to_the_k(rho):
    w = rho * orthogonal(H)
    h = torch.randn(4, H, dtype=torch.float64, requires_grad=True)
    states = []
    for _ in range(L):
        h = h @ w.T
        states.append(h)
    loss = (states[-1] * torch.linspace(-1, 1, H, dtype=torch.float64)).sum()
    g = grad_by_lag(loss, states, "h")
    assert np.allclose(g.norms / g.norms[0], rho ** np.arange(L), rtol=1e-6, atol=0)
    assert g.decay_per_step == pytest.approx(rho, rel=1e-6)
    assert g.lag_ratio == pytest.approx(rho ** (L - 1), rel=1e-6)


def test_tanh_rnn_with_small_inputs_approaches_rho_to_the_k():
    rho = 0.8
    net = make("rnn", hidden_size=H)
    with torch.no_grad():
        net.core.weight_hh_l0.copy_(rho * orthogonal(H))
        net.core.weight_ih_l0.mul_(1e-4)
        net.core.bias_ih_l0.zero_()
        net.core.bias_hh_l0.zero_()
    x = 1e-3 * torch.randn(4, L, 3, dtype=torch.float64)
    inside = net.probe(x, torch.ones(4, 3, dtype=torch.float64), x[:1], 5)
    assert np.allclose(inside.grad.norms / inside.grad.norms[0], rho ** np.arange(L), rtol=1e-4)
    assert inside.summary()["grad_decay_per_step"] == pytest.approx(rho, rel=1e-4)


def test_eigenvalues_of_a_hand_made_matrix():
    s = spectrum(np.array([[0.0, -2.0], [2.0, 0.0]]), "a rotation by 90 degrees, times 2")
    assert sorted(s.eigenvalues, key=lambda z: z.imag) == pytest.approx([-2j, 2j])
    assert s.radius == pytest.approx(2.0)
    t = spectrum(torch.diag(torch.tensor([0.5, -3.0, 1.0])), "diagonal")
    assert sorted(t.eigenvalues.real) == pytest.approx([-3.0, 0.5, 1.0]) and t.radius == pytest.approx(3.0)


def test_irnn_spectrum_is_all_ones_at_initialisation():
    net = make("irnn", hidden_size=H)
    x = torch.randn(2, L, 3, dtype=torch.float64)
    eig = net.probe(x, x[:, -1], x[:1], 3).spectra[0].eigenvalues
    assert np.allclose(eig, 1.0, atol=1e-12)


@pytest.mark.parametrize("radius", [0.5, 0.9, 1.3])
def test_esn_spectral_radius_equals_its_setting(radius):
    net = make("esn", hidden_size=50, spectral_radius=radius, sparsity=0.5)
    x = torch.randn(1, L, 3, dtype=torch.float64)
    inside = net.probe(x, x[:, -1], x, 3)
    assert inside.summary()["spectral_radius"] == pytest.approx(radius, abs=1e-6)
    assert inside.grad is None and "closed form" in inside.reason("grad")


def test_init_radius_sets_the_plain_rnn_spectral_radius():
    net = make("rnn", hidden_size=16, init_radius=1.5)
    assert float(torch.linalg.eigvals(net.core.weight_hh_l0.detach()).abs().max()) == pytest.approx(1.5, rel=1e-6)  # built in float32


def test_lstm_gates_equal_torch_lstm_cell():
    torch.manual_seed(1)
    cell = torch.nn.LSTMCell(3, H).double()
    x, h, c = (torch.randn(5, n, dtype=torch.float64) for n in (3, H, H))
    g = lstm_gates(x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    c1 = g["forget"] * c + g["input"] * g["cell"]
    h_ref, c_ref = cell(x, (h, c))
    assert torch.allclose(c1, c_ref, atol=1e-12) and torch.allclose(g["output"] * torch.tanh(c1), h_ref, atol=1e-12)


def test_gru_gates_equal_torch_gru_cell():
    torch.manual_seed(2)
    cell = torch.nn.GRUCell(3, H).double()
    x, h = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, H, dtype=torch.float64)
    g = gru_gates(x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    assert torch.allclose((1 - g["update"]) * g["candidate"] + g["update"] * h, cell(x, h), atol=1e-12)


def test_saturation_counts_values_outside_point_one_and_point_nine():
    assert saturation(np.array([0.05, 0.5, 0.95, 0.2])) == 0.5
    assert fit_decay(np.array([1.0, 0.0, 0.0])) != fit_decay(np.array([1.0, 0.0, 0.0]))  # NaN: one positive norm


def _unordered(heat) -> np.ndarray:
    states = np.empty_like(heat.states)
    states[heat.order] = heat.states
    return states.T  # (steps, units)


def test_lstm_heatmap_is_the_models_own_states():
    net = make("lstm", hidden_size=H, num_layers=2)
    window = torch.randn(1, L, 3, dtype=torch.float64)
    inside = net.probe(window.repeat(2, 1, 1), window[:, -1].repeat(2, 1), window, 6)
    heat = inside.heatmap
    assert heat.boundary == L and heat.states.shape == (H, L + 6)
    assert list(np.var(heat.states, axis=1)) == sorted(np.var(heat.states, axis=1), reverse=True)
    with torch.no_grad():
        out, _ = net.core(window)  # the top layer's h over the warm-up
        y, state = net.warmup(window)
        free = []
        for _ in range(6):  # the carried free run
            y, state = net.step(y, state)
            free.append(state[-1][0][0])
    expected = np.concatenate([out[0].numpy(), torch.stack(free).numpy()])
    assert np.allclose(_unordered(heat), expected, atol=1e-12)
    assert set(inside.gates.names) == {"input", "forget", "output"} and inside.gates.values["forget"].shape == (L + 6, H)


def test_esn_heatmap_is_the_reservoirs_own_states():
    net = make("esn", hidden_size=40, spectral_radius=0.9)
    window = torch.randn(1, L, 3, dtype=torch.float64)
    heat = net.probe(window, window[:, -1], window, 5).heatmap
    with torch.no_grad():
        states, r = net.run_reservoir(window)
        y = net.readout(r) + window[:, -1]
        free = []
        for _ in range(5):
            y, r = net.step(y, r)
            free.append(r[0])
    expected = np.concatenate([states[0].numpy(), torch.stack(free).numpy()])
    assert heat.states.shape == (32, L + 5)
    assert np.allclose(heat.states, expected[:, heat.order].T, atol=1e-12)
    assert np.all(np.var(expected, axis=0)[heat.order].min() >= np.delete(np.var(expected, axis=0), heat.order).max())


@pytest.mark.parametrize("arch", list(registry.ARCHS))
def test_every_architecture_probes_and_summarises_every_key(arch):
    cls = registry.ARCHS[arch]
    dim = 16 if cls.field_only or arch == "ngrc_local" else 3
    kw = {"hidden_size": 6} if "hidden_size" in cls.model_fields else {}
    net = make(arch, dim=dim, seq_len=6, **kw)
    x = torch.randn(3, 6, dim, dtype=torch.float64)
    inside = net.probe(x, x[:, -1], x[:1], 4)
    assert tuple(inside.summary()) == INSPECT_KEYS
    for panel, value in (("heatmap", inside.heatmap), ("gates", inside.gates), ("grad", inside.grad),
                         ("readout", inside.readout), ("spectrum", inside.spectra or None)):
        assert (value is None) == (panel in inside.why), panel  # a panel is there, or says why not
    assert summary_of(None) == {k: None for k in INSPECT_KEYS}


def test_heatmap_orders_by_variance():
    s = np.array([[0.0, 1.0, 5.0], [0.0, -1.0, -5.0], [0.0, 1.0, 5.0]])
    heat = heatmap(s, 1, "x")
    assert list(heat.order) == [2, 1, 0] and heat.states.shape == (3, 3)


# -- the trainer's probe (train.inspect) ---------------------------------------------------------------

TINY = ["system.steps=300", "model.hidden_size=8", "train.epochs=2", "rollout.every=0", "rollout.horizon=20", "train.threads=1"]


def test_train_inspect_writes_inspect_npz_and_the_summary_object(tmp_path):
    import json

    from rnn_tui import config
    from rnn_tui.core import events as ev
    from rnn_tui.core import runio
    from rnn_tui.core.trainer import train

    seen = []
    result = train(config.load("oscillator_lstm", overrides=TINY + ["train.inspect=true"]), seen.append)
    runio.write_results(tmp_path, result)
    probes = [e for e in seen if isinstance(e, ev.InsideReady)]
    assert [e.epoch for e in probes] == [1, 2]
    record = runio.read_inspect(tmp_path)
    assert list(record["epoch"]) == [1, 2] and record["grad_norm_by_lag"].shape == (2, result.config.train.seq_len)
    cell = result.model.core.weight_hh_l0.chunk(4)[2]  # the cell block, shown first
    assert record["spectral_radius"][-1] == pytest.approx(spectrum(cell, "").radius, rel=1e-12)
    assert list(record["gate_names"]) == ["input", "forget", "output"]
    inspect = json.loads((tmp_path / "summary.json").read_text())["inspect"]
    assert tuple(inspect) == INSPECT_KEYS and inspect["grad_lag_ratio"] == pytest.approx(record["grad_lag_ratio"][-1])
    assert set(inspect["gate_saturation"]) == {"input", "forget", "output"}
    assert runio.read_summary(tmp_path / "summary.json").inspect == result.summary.inspect
    # the run library's row (rnn-tui runs: ρ, grad/step) and the Runs screen's gradient overlay read it back
    from rnn_tui.core import library
    from rnn_tui.tui.runs_screen import read_run_data

    row = library.read_run(tmp_path)
    assert row.radius == inspect["spectral_radius"] and row.grad_decay == inspect["grad_decay_per_step"]
    assert read_run_data(row, "cyan").grad_by_lag == list(record["grad_norm_by_lag"][-1])
    # rnn-tui inspect RUN: the gradient at chosen lags over lag 0, from the same file
    import contextlib
    import io

    from rnn_tui.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["inspect", str(tmp_path), "--lags", "1,5", "--json"]) == 0
    (printed,) = json.loads(out.getvalue())
    norms = record["grad_norm_by_lag"][-1]
    assert printed["grad_lag_5"] == pytest.approx(norms[5] / norms[0]) and printed["probes"] == 2


def test_without_inspect_nothing_is_probed_and_every_key_is_null(tmp_path):
    import json

    from rnn_tui import config
    from rnn_tui.core import events as ev
    from rnn_tui.core import runio
    from rnn_tui.core.control import Control
    from rnn_tui.core.trainer import train

    seen = []
    result = train(config.load("sine_rnn", overrides=TINY), seen.append)
    runio.write_results(tmp_path, result)
    assert not any(isinstance(e, ev.InsideReady) for e in seen) and not (tmp_path / "inspect.npz").exists()
    assert json.loads((tmp_path / "summary.json").read_text())["inspect"] == {k: None for k in INSPECT_KEYS}
    from rnn_tui.cli import main

    assert main(["inspect", str(tmp_path)]) == 2  # a one-line UserError: the run was not probed
    control, seen = Control(), []
    control.inspect.set()  # the app's Inside view is shown: probed as if train.inspect were on
    train(config.load("sine_rnn", overrides=TINY), seen.append, control)
    assert [e.epoch for e in seen if isinstance(e, ev.InsideReady)] == [1, 2]
