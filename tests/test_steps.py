"""The step runners behind the epoch loop (core/steps.py), each on its own, and the closed-form run."""

import math

import torch

from rnn_tui import config
from rnn_tui.core.steps import ClosedFormRunner, EagerRunner, GraphRunner
from rnn_tui.core.trainer import train


def _linear():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    x, y = torch.randn(16, 3), torch.randn(16, 1)
    return model, list(model.parameters()), (lambda s: ((model(x[s]) - y[s]) ** 2).mean())


def test_eager_runner_reports_each_step_and_refuses_a_nan_one():
    model, params, loss = _linear()
    runner = EagerRunner(torch.optim.SGD(params, lr=0.1), params, loss, float("inf"), "not on CUDA")
    assert runner.mode == "eager (not on CUDA)" and runner.optimises
    runner.step(torch.arange(8))
    assert runner.pending == 1
    done, bad = runner.drain()
    assert bad is None and len(done) == 1 and done[0].loss > 0 and done[0].grad_norm > 0 and runner.pending == 0
    before = [p.detach().clone() for p in params]
    runner.loss_fn = lambda s: loss(s) * float("nan")
    runner.step(torch.arange(8))
    done, bad = runner.drain()
    assert done == [] and bad.what == "loss" and not bad.undone
    assert all(torch.equal(p.detach(), b) for p, b in zip(params, before))  # no step taken


def test_graph_runner_without_capture_queues_full_batches_and_takes_a_short_one_eagerly():
    model, params, loss = _linear()
    opt = torch.optim.Adam(params, lr=torch.tensor(0.01))
    runner = GraphRunner(model, opt, params, loss, float("inf"), batch=8, capture=False)
    runner.step(torch.arange(8))
    runner.step(torch.arange(8, 16))
    assert runner.mode == "cuda-graph" and runner.pending == 2
    runner.step(torch.arange(4))  # a short batch: the queued ones are read first, in order
    done, bad = runner.drain()
    assert bad is None and len(done) == 3 and all(math.isfinite(s.loss) for s in done)


def test_closed_form_runner_is_one_fit_that_is_not_an_optimisation_step():
    calls = []
    runner = ClosedFormRunner(lambda: calls.append("fit") or True, lambda: 0.5)
    runner.step(torch.arange(3))
    assert calls == ["fit"] and not runner.optimises and runner.drain()[0][0].loss == 0.5


def test_an_echo_state_network_trains_in_closed_form():
    cfg = config.load("lorenz63_esn", overrides=["system.steps=2000", "model.hidden_size=50", "rollout.horizon=50"])
    seen = []
    result = train(cfg, seen.append)
    assert seen[0].step_mode == "closed form" and seen[0].steps_per_epoch == 0
    assert result.status == "finished" and result.summary.steps == 0 and result.summary.epochs_run == 1
    assert result.summary.step_mode == "closed form" and result.history[0].grad_norms == ()
    assert result.history[0].train_loss < 1e-2  # the readout fits the one-step map
