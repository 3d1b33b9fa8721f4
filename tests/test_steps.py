"""The step runners behind the epoch loop (core/steps.py), each on its own, and the closed-form run."""

import math

import pytest
import torch

from rnn_tui import config
from rnn_tui.commands.progress import describe
from rnn_tui.core.results import ReadoutReport
from rnn_tui.core.steps import ClosedFormFit, ClosedFormRunner, EagerRunner, GraphRunner
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
    out = runner.drain()
    (done,), bad = out.steps, out.bad.get(0)
    assert bad is None and len(done) == 1 and done[0].loss > 0 and done[0].grad_norm > 0 and runner.pending == 0
    before = [p.detach().clone() for p in params]
    runner.loss_fn = lambda s: loss(s) * float("nan")
    runner.step(torch.arange(8))
    out = runner.drain()
    (done,), bad = out.steps, out.bad.get(0)
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
    out = runner.drain()
    (done,), bad = out.steps, out.bad.get(0)
    assert bad is None and len(done) == 3 and all(math.isfinite(s.loss) for s in done)
    # the same three steps, eagerly, from the same weights: the same losses, gradients and weights
    twin, twin_params, twin_loss = _linear()
    eager = EagerRunner(torch.optim.Adam(twin_params, lr=torch.tensor(0.01)), twin_params, twin_loss, float("inf"), "reference")
    for starts in (torch.arange(8), torch.arange(8, 16), torch.arange(4)):
        eager.step(starts)
    (ref,) = eager.drain().steps
    assert [s.loss for s in done] == pytest.approx([s.loss for s in ref], rel=1e-6)
    assert [s.grad_norm for s in done] == pytest.approx([s.grad_norm for s in ref], rel=1e-6)
    assert all(torch.allclose(p, q, rtol=1e-6, atol=1e-7) for p, q in zip(params, twin_params))
    assert not torch.equal(params[0].detach(), _linear()[1][0].detach())  # and they did move


def test_closed_form_runner_is_one_fit_that_is_not_an_optimisation_step():
    calls = []
    report = ReadoutReport(1e-9, False, (), 1e3, 0.25, 0.5, 0.75, (4, 4))
    runner = ClosedFormRunner(lambda: calls.append("fit") or ClosedFormFit((0.5,), (0.75,), 0.25, report))
    runner.step(torch.arange(3))
    assert calls == ["fit"] and not runner.optimises and runner.drain().steps[0][0].loss == 0.5
    assert runner.report is report and runner.fit_seconds == 0.25
    stopped = ClosedFormRunner(lambda: None)  # stopped during the fit: nothing to report
    stopped.step(torch.arange(3))
    assert stopped.drain().steps == [[]] and stopped.report is None and stopped.fit_seconds is None


def test_an_echo_state_network_trains_in_closed_form():
    cfg = config.load("lorenz63_esn", overrides=["system.steps=2000", "model.hidden_size=50", "rollout.horizon=50"])
    seen = []
    result = train(cfg, seen.append)
    assert seen[0].step_mode == "closed form" and seen[0].steps_per_epoch == 0
    assert result.status == "finished" and result.summary.steps == 0 and result.summary.epochs_run == 1
    assert result.summary.step_mode == "closed form" and result.history[0].grad_norms == ()
    assert result.history[0].train_loss < 1e-2  # the readout fits the one-step map
    fit = result.summary.fit_time_s  # the fit alone, inside the training time
    assert fit is not None and 0 < fit <= result.summary.train_time_s
    assert result.summary.to_dict()["fit_time_s"] == fit and "readout fit" in describe(result.summary)


def test_a_gradient_run_has_no_fit_time():
    result = train(config.load("sine_rnn", overrides=["train.epochs=1", "train.threads=1"]))
    assert result.summary.fit_time_s is None and "fit_time_s" not in result.summary.to_dict()


def test_graph_runner_trains_eagerly_with_the_reason_when_the_self_check_fails(monkeypatch):
    """A captured step that does not reproduce the eager one (here: one that doubles the learning
    rate, checked without a GPU) is not used: every step is eager, and the mode says why."""
    from rnn_tui.kernels import cudagraph

    class Mismatched(cudagraph.GraphedStep):
        def __init__(self, model, opt, params, loss_fn, starts, clip, capture):
            super().__init__(model, opt, params, loss_fn, starts, clip, capture=False)

            def doubled():
                opt.param_groups[0]["lr"].mul_(2)
                try:
                    return self._body()
                finally:
                    opt.param_groups[0]["lr"].div_(2)

            reason = self.self_check(doubled)
            if reason is not None:
                raise cudagraph.SelfCheckFailed(reason)

    monkeypatch.setattr(cudagraph, "GraphedStep", Mismatched)
    model, params, loss = _linear()
    opt = torch.optim.Adam(params, lr=torch.tensor(0.01))
    runner = GraphRunner(model, opt, params, loss, float("inf"), batch=8, capture=True)
    runner.step(torch.arange(8))
    assert runner.mode.startswith("eager (capture self-check failed: the weights after the first step differ")
    assert runner.graphed is None
    runner.step(torch.arange(8, 16))
    out = runner.drain()
    (done,), bad = out.steps, out.bad.get(0)
    assert bad is None and len(done) == 2 and all(math.isfinite(s.loss) for s in done)
