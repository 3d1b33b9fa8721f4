"""The step runners of K > 1 members (core/steps.py): the eager batched step and the same step as one
captured graph (run without capture on the CPU: only capture itself needs a GPU), which must agree;
a member whose step is not finite is frozen inside the graph while the others go on; and the one
trainer trains an ensemble on the graph runner as it does on the eager one."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnn_tui import config as C
from rnn_tui.core.member_optim import MemberOptimizer, MemberSchedules
from rnn_tui.core.steps import MemberRunner, MembersGraphRunner
from rnn_tui.core.trainer import train
from rnn_tui.kernels import cudagraph
from rnn_tui.models.base import ModelSpec
from rnn_tui.models.registry import build, stack

K, B = 3, 8


def _setup(graph: bool, poison: int | None = None):
    """K stacked LSTM members on a fixed random regression, float64; member `poison` gets a NaN target."""
    cfg = C.load(None, overrides=["model.arch=lstm", "model.hidden_size=5", "train.lr=0.01", "train.dtype=float64"])
    spec = ModelSpec(dim=2, seq_len=4)
    nets = []
    for j in range(K):
        torch.manual_seed(j)
        nets.append(build(spec, cfg.model).double())
    model = stack(spec, cfg.model, nets)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(64, 4, 2, generator=g, dtype=torch.float64), torch.randn(64, 2, generator=g, dtype=torch.float64)

    def loss_fn(starts):  # starts (K, B): each member's rows
        flat = starts.reshape(-1)
        target = y[flat].clone()
        if poison is not None:
            target.view(K, -1, 2)[poison] = float("nan")
        return ((model(x[flat]) - target) ** 2).reshape(K, -1).mean(dim=1)

    opt = MemberOptimizer(cfg, model.flat)
    schedules = MemberSchedules(cfg, K, 100)
    runner = (MembersGraphRunner(model, opt, schedules, loss_fn, 1.0, B, capture=False) if graph
              else MemberRunner(model, opt, schedules, loss_fn, 1.0))
    return model, runner


def _batches(n: int):
    g = torch.Generator().manual_seed(1)
    return [torch.stack([torch.randperm(64, generator=g)[:B] for _ in range(K)]) for _ in range(n)]


def test_the_graphed_member_step_equals_the_eager_one():
    (m_eager, eager), (m_graph, graph) = _setup(False), _setup(True)
    losses = {"eager": [], "graph": []}
    for starts in _batches(6):
        for name, runner in (("eager", eager), ("graph", graph)):
            runner.step(starts)
            out = runner.drain()
            assert not out.bad and all(len(s) == 1 for s in out.steps)
            losses[name].append([s[0].loss for s in out.steps])
    assert graph.graphed is not None and "cuda-graph" in graph.mode
    np.testing.assert_allclose(losses["graph"], losses["eager"], rtol=1e-12)
    torch.testing.assert_close(m_graph.flat, m_eager.flat, rtol=1e-12, atol=1e-14)


def test_a_member_that_goes_bad_inside_the_graph_is_frozen_there_and_the_others_go_on():
    model, runner = _setup(True, poison=1)
    clean_model, clean = _setup(True)
    before = model.flat.detach().clone()
    for starts in _batches(4):  # queued, then read at once as the trainer does every CHECK_EVERY steps
        runner.step(starts)
        clean.step(starts)
    out, ref = runner.drain(), clean.drain()
    assert list(out.bad) == [1] and out.bad[1].what == "loss, gradient or weights"
    assert [len(s) for s in out.steps] == [4, 0, 4]
    assert torch.equal(model.flat[1], before[1])  # never moved, although three more steps were replayed after it
    assert not bool(runner.training[1]) and bool(runner.training[0])
    for j in (0, 2):  # the others trained exactly as without the bad member
        np.testing.assert_allclose([s.loss for s in out.steps[j]], [s.loss for s in ref.steps[j]], rtol=1e-12)
        torch.testing.assert_close(model.flat[j], clean_model.flat[j], rtol=1e-12, atol=1e-14)


def test_an_ensemble_trains_on_the_graph_runner_as_on_the_eager_one(monkeypatch):
    overrides = ["system.steps=200", "train.seq_len=5", "train.batch_size=16", "train.epochs=3", "rollout.every=0",
                 "rollout.horizon=10", "train.dtype=float64", "train.threads=1", "model.hidden_size=6", "train.lr=0.01",
                 "model.arch=gru", "train.ensemble=3", "train.device=cpu", "train.clip_grad_norm=0.5"]
    eager = train(C.load(None, overrides=overrides))
    monkeypatch.setattr(cudagraph, "eligibility", lambda device, cfg, model: None)  # as on CUDA, without capture
    graphed = train(C.load(None, overrides=overrides))
    assert graphed.summary.step_mode == "ensemble of 3, batched, cuda-graph"
    assert eager.summary.step_mode == "ensemble of 3, batched"
    a, b = eager.summary.ensemble.members, graphed.summary.ensemble.members
    assert [(m.steps, m.status) for m in a] == [(m.steps, m.status) for m in b]
    assert [m.final_val_loss for m in b] == pytest.approx([m.final_val_loss for m in a], rel=1e-9)
