"""The batched networks of an ensemble (models/*/stacked.py, kernels/stacked_rnn.py) give each member
exactly what its own model gives: outputs, per-step outputs, a carried rollout step and the
gradients, in float64; and the hand-written backwards pass gradcheck."""

from __future__ import annotations

import pytest
import torch

from rnn_tui.config import model_config
from rnn_tui.kernels import stacked_rnn
from rnn_tui.models import registry
from rnn_tui.models.base import ModelSpec

CASES = [  # (arch, hyperparameters): every stackable architecture and the options that change the network
    ("rnn", {}),
    ("rnn", {"activation": "relu", "head_size": 5}),
    ("rnn", {"activation": "sigmoid", "num_layers": 2}),
    ("irnn", {"learn_h0": True}),
    ("lstm", {"num_layers": 2, "learn_h0": True}),
    ("gru", {"num_layers": 2, "learn_h0": True, "residual": False}),
    ("dense_gru", {"dense_size": 5}),
    ("mlp", {"num_layers": 2, "activation": "relu"}),
    ("rk4", {}),
    ("rk4", {"scheme": "euler", "substeps": 2}),
    ("esn", {"readout": "quadratic", "leak_rate": 0.7}),
]


def _members(arch: str, fields: dict, k: int = 3):
    cfg = model_config(arch, hidden_size=6, **fields)
    spec = ModelSpec(dim=3, seq_len=5, dt=0.01)
    members = []
    for j in range(k):
        torch.manual_seed(10 + j)
        members.append(registry.build(spec, cfg).double())
    if arch == "esn":  # give the readouts values, so that the test sees them
        for m in members:
            m.readout_w.normal_()
            m.readout_b.normal_()
    return members, registry.stack(spec, cfg, members)


@pytest.mark.parametrize("arch,fields", CASES, ids=[f"{a}-{'-'.join(map(str, f.values())) or 'plain'}" for a, f in CASES])
def test_stacked_network_is_each_member(arch, fields):
    members, stacked = _members(arch, fields)
    x = torch.randn(4, 5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    xs = stacked.tile(x)
    y = stacked(xs)
    torch.testing.assert_close(y, torch.cat([m(x) for m in members]), rtol=0, atol=1e-12)
    if stacked.has_seq:
        torch.testing.assert_close(stacked.forward_seq(xs), torch.cat([m.forward_seq(x) for m in members]), rtol=0, atol=1e-12)
    y1, state = stacked.warmup(xs)
    y2, _ = stacked.step(y1, state)
    expected = []
    for m in members:
        a, s = m.warmup(x)
        expected.append(m.step(a, s)[0])
    torch.testing.assert_close(y2, torch.cat(expected), rtol=0, atol=1e-12)
    if stacked.flat is None:  # the ESN: nothing trained by gradient
        return
    weights = torch.randn(y.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    (y * weights).sum().backward()
    for j, m in enumerate(members):
        (m(x) * weights[4 * j : 4 * (j + 1)]).sum().backward()
        row = torch.cat([p.grad.reshape(-1) for p in m.parameters() if p.requires_grad])
        torch.testing.assert_close(stacked.flat.grad[j], row, rtol=0, atol=1e-12)


def test_member_weights_go_to_an_ordinary_model_and_back():
    members, stacked = _members("lstm", {"learn_h0": True})
    other, _ = _members("lstm", {"learn_h0": True})
    model = stacked.load_member(1, other[0])
    for (n, a), b in zip(model.state_dict().items(), members[1].state_dict().values()):
        assert torch.equal(a, b), n
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    stacked.store_member(2, model)
    assert torch.equal(stacked.flat[2], stacked.flat.detach()[1] + 1.0)


def _grid(*shape, seed=0, grad=True):
    return torch.randn(*shape, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)).mul_(0.5).requires_grad_(grad)


@pytest.mark.parametrize("act", ["tanh", "relu", "sigmoid"])
def test_stacked_elman_gradcheck(act):
    pre, h0, w = _grid(4, 2, 3, 5, seed=1), _grid(2, 3, 5, seed=2), _grid(2, 5, 5, seed=3)
    assert torch.autograd.gradcheck(lambda p, h, w: stacked_rnn.elman(p, h, w, act), (pre, h0, w))
    assert torch.autograd.gradcheck(lambda p, w: stacked_rnn.elman(p, None, w, act), (pre, w))


def test_stacked_lstm_and_gru_gradcheck():
    pre, h0, c0, w = _grid(3, 2, 2, 12, seed=1), _grid(2, 2, 3, seed=2), _grid(2, 2, 3, seed=3), _grid(2, 12, 3, seed=4)
    assert torch.autograd.gradcheck(lambda p, h, c, w: stacked_rnn.lstm(p, h, c, w), (pre, h0, c0, w))
    assert torch.autograd.gradcheck(lambda p, w: stacked_rnn.lstm(p, None, None, w), (pre, w))
    pre, w, b = _grid(3, 2, 2, 9, seed=5), _grid(2, 9, 3, seed=6), _grid(2, 9, seed=7)
    assert torch.autograd.gradcheck(lambda p, h, w, b: stacked_rnn.gru(p, h, w, b), (pre, h0, w, b))
    assert torch.autograd.gradcheck(lambda p, w, b: stacked_rnn.gru(p, None, w, b), (pre, w, b))
    x = _grid(3, 2, 2, 2, seed=8)
    assert torch.autograd.gradcheck(stacked_rnn.narrow_projection, (x, _grid(2, 6, 2, seed=9), _grid(2, 6, seed=10)))


def test_a_forecast_keeps_no_window_of_buffers_but_gives_the_same_states():
    pre, h0, c0, w = _grid(6, 2, 3, 12, grad=False), _grid(2, 3, 3, seed=2, grad=False), _grid(2, 3, 3, seed=3, grad=False), _grid(2, 12, 3, seed=4)
    with torch.no_grad():
        hs, c = stacked_rnn.lstm(pre, h0, c0, w)  # the path without gradients
    hs_g, c_g = stacked_rnn.lstm(pre, h0, c0, w)  # the path that keeps every step for the backward
    torch.testing.assert_close(hs, hs_g.detach(), rtol=0, atol=0)
    torch.testing.assert_close(c, c_g.detach(), rtol=0, atol=0)
