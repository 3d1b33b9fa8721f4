"""The CPU fast paths give the same numbers as the torch code they replace: the whole-sequence
Elman layer with its hand-written backward (training) and the numpy carried-state loop (forecasts)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnn_tui.config import model_config
from rnn_tui.core.rollout import roll
from rnn_tui.kernels import fused_rnn, np_carry
from rnn_tui.models import registry
from rnn_tui.models.base import ModelSpec

ELMAN_CASES = [  # (layers, nonlinearity, initial state given, input needs a gradient)
    (1, "tanh", False, False),
    (1, "tanh", True, True),
    (1, "relu", False, True),
    (2, "tanh", True, False),
    (3, "relu", True, True),
]


@pytest.mark.parametrize("layers,nonlinearity,with_h0,x_grad", ELMAN_CASES)
def test_fused_elman_matches_nn_rnn_values_and_gradients(layers, nonlinearity, with_h0, x_grad):
    torch.manual_seed(0)
    core = nn.RNN(3, 7, layers, nonlinearity=nonlinearity, batch_first=True).double()
    x = torch.randn(5, 9, 3, dtype=torch.float64, requires_grad=x_grad)
    h0 = torch.randn(layers, 5, 7, dtype=torch.float64, requires_grad=True) if with_h0 else None
    wrt = list(core.parameters()) + [t for t in (x, h0) if t is not None and t.requires_grad]
    results = []
    for run in (lambda: core(x, h0), lambda: fused_rnn.elman(core, x, h0)):
        out, h_n = run()
        g_out = torch.randn(out.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
        g_h = torch.randn(h_n.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
        grads = torch.autograd.grad((out * g_out).sum() + (h_n * g_h).sum(), wrt)
        results.append((out, h_n, grads))
    (o1, h1, g1), (o2, h2, g2) = results
    torch.testing.assert_close(o2, o1, atol=1e-12, rtol=0)
    torch.testing.assert_close(h2, h1, atol=1e-12, rtol=0)
    assert len(g1) == len(g2) == len(wrt)
    for a, b in zip(g1, g2):
        torch.testing.assert_close(b, a, atol=1e-12, rtol=0)


def test_fused_elman_passes_gradcheck():
    torch.manual_seed(1)
    core = nn.RNN(2, 4, 1, batch_first=True).double()
    x = torch.randn(3, 5, 2, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(1, 3, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, h0: fused_rnn.elman(core, x, h0)[0], (x, h0))


def test_fused_elman_used_only_where_it_pays():
    core = nn.RNN(1, 4, batch_first=True)
    x = torch.zeros(2, 3, 1)
    assert fused_rnn.applies(core, x)
    with torch.no_grad():
        assert not fused_rnn.applies(core, x)  # nn.RNN's own fused forward is as fast
    assert not fused_rnn.applies(nn.RNN(1, 4), x)  # time-major layout
    assert not fused_rnn.applies(nn.LSTM(1, 4, batch_first=True), x)
    big = torch.zeros(fused_rnn.MAX_BATCH_HIDDEN // 4 + 1, 3, 1)
    assert not fused_rnn.applies(core, big)  # arithmetic-bound: torch's kernel is as fast


def test_rnn_forecaster_trains_through_the_fused_layer(monkeypatch):
    """The forecaster's loss and gradients are those of nn.RNN (fused layer on vs off)."""
    torch.manual_seed(0)
    model = registry.build(ModelSpec(dim=2, seq_len=6), model_config(arch="rnn", hidden_size=8, num_layers=2)).double()
    x = torch.randn(4, 6, 2, dtype=torch.float64)
    grads = []
    for on in (True, False):
        monkeypatch.setattr(fused_rnn, "applies", lambda core, x, on=on: on)
        model.zero_grad()
        model.forward_seq(x).square().sum().backward()
        grads.append([p.grad.clone() for p in model.parameters()])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)


CARRY_CASES = [
    ("rnn", {}),
    ("rnn", {"activation": "relu", "num_layers": 2}),
    ("rnn", {"activation": "sigmoid", "learn_h0": True}),
    ("irnn", {}),
    ("lstm", {"num_layers": 2, "head_size": 8}),
    ("lstm", {"residual": False, "learn_h0": True}),
    ("gru", {"num_layers": 3}),
    ("dense_gru", {"head_size": 5}),
]


@pytest.mark.parametrize("arch,kw", CARRY_CASES)
@pytest.mark.parametrize("dtype,atol", [(torch.float64, 1e-12), (torch.float32, 1e-4)])
def test_numpy_carry_equals_torch_cells(arch, kw, dtype, atol, monkeypatch):
    torch.manual_seed(0)
    model = registry.build(ModelSpec(dim=3, seq_len=8), model_config(arch=arch, hidden_size=16, **kw)).to(dtype).eval()
    with torch.no_grad():
        for name in ("h0", "c0"):
            p = getattr(model, name, None)
            if isinstance(p, nn.Parameter):
                p.normal_(0, 0.5)
        x = 0.5 * torch.randn(3, 8, 3, dtype=dtype)
        fast = roll(model, x, 60, mode="carry")
        y, state = model.warmup(x)  # the reference: one torch step at a time
        slow = [y]
        for _ in range(59):
            y, state = model.step(y, state)
            slow.append(y)
        monkeypatch.setattr(np_carry, "ENABLED", False)
        torch_loop = roll(model, x, 60, mode="carry")
    assert fast.dtype == dtype and fast.shape == (3, 60, 3)
    torch.testing.assert_close(fast, torch.stack(slow, dim=1), atol=atol, rtol=0)
    torch.testing.assert_close(fast, torch_loop, atol=atol, rtol=0)


def test_numpy_carry_not_used_for_a_differentiable_rollout():
    """A multi-step training loss needs gradients through the rollout: the torch loop runs."""
    model = registry.build(ModelSpec(dim=2, seq_len=4), model_config(arch="lstm", hidden_size=6))
    out = roll(model, torch.randn(2, 4, 2), 5, mode="carry")
    assert out.requires_grad
    out.sum().backward()
    assert model.core.weight_hh_l0.grad is not None
