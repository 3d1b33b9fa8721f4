"""The CUDA-graph step (kernels/cudagraph.py) run without capture on the CPU: the queued-results
loop and the in-graph guard that undoes a step that is not finite. Only capture itself needs a GPU;
the trainer's loop over it is tested in tests/test_trainer.py (test_queued_step_path_*)."""

import math

import torch

from rnn_tui import config
from rnn_tui.kernels import cudagraph


def test_queued_step_with_non_finite_optimiser_state_changes_nothing():
    """A finite loss and gradient but an optimiser state already non-finite (a step after a bad
    one): the new weights would be NaN, so the step is undone and reported not ok."""
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    params = list(model.parameters())
    cfg = config.load("sine_rnn", overrides=["train.optimizer=adam"])
    opt = cudagraph.make_capturable_optimizer(cfg, params, torch.device("cpu"))
    x, y = torch.randn(8, 3), torch.randn(8, 1)
    step = cudagraph.GraphedStep(model, opt, params, lambda s: ((model(x[s]) - y[s]) ** 2).mean(), torch.arange(8), float("inf"), capture=False)
    step(torch.arange(8))
    (_, _, ok), = step.drain()
    assert ok
    before = [p.detach().clone() for p in params]
    for state in opt.state.values():
        state["exp_avg"].fill_(float("nan"))
    step(torch.arange(8))
    step(torch.arange(8))
    results = step.drain()
    assert [r[2] for r in results] == [False, False]
    assert all(math.isfinite(r[0]) and math.isfinite(r[1]) for r in results)
    for p, b in zip(params, before):
        assert torch.equal(p.detach(), b)


def _step(lr=0.01):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    params = list(model.parameters())
    cfg = config.load("sine_rnn", overrides=["train.optimizer=adam", f"train.lr={lr}"])
    opt = cudagraph.make_capturable_optimizer(cfg, params, torch.device("cpu"))
    x, y = torch.randn(8, 3), torch.randn(8, 1)
    loss = lambda s: ((model(x[s]) - y[s]) ** 2).mean()  # noqa: E731
    return cudagraph.GraphedStep(model, opt, params, loss, torch.arange(8), float("inf"), capture=False), opt, params


def test_self_check_passes_the_same_step_and_leaves_the_initial_state():
    """Both runs start from the initial weights and a fresh Adam state: were the state not reset, the
    second step (Adam's second moment already set) would move the weights differently and fail."""
    step, opt, params = _step()
    assert step.self_check(step._body) is None
    assert all(torch.equal(p.detach(), w0) for p, w0 in zip(params, step.initial))
    assert all(float(v.abs().sum()) == 0 for state in opt.state.values() for v in state.values())


def test_self_check_names_a_graph_that_takes_another_step():
    """A 'graph' that replays a stale learning rate (twice the eager one) moves the weights by a
    different step: the check says so in one line, and the initial weights are back."""
    step, opt, params = _step()

    def stale():
        lr = opt.param_groups[0]["lr"]
        lr.mul_(2)
        try:
            return step._body()
        finally:
            lr.div_(2)

    reason = step.self_check(stale)
    assert reason is not None and reason.startswith("the weights after the first step differ") and "\n" not in reason
    assert all(torch.equal(p.detach(), w0) for p, w0 in zip(params, step.initial))


def test_compare_reads_loss_norm_and_weights_to_rounding():
    w0 = [torch.zeros(4)]
    out = torch.tensor([0.5, 2.0, 1.0])
    moved = [torch.full((4,), 1e-3)]
    assert cudagraph.compare(out, moved, out * (1 + 1e-6), [m + 1e-9 for m in moved], w0) is None
    assert "loss" in cudagraph.compare(out, moved, torch.tensor([0.6, 2.0, 1.0]), moved, w0)
    assert "finite flag" in cudagraph.compare(out, moved, torch.tensor([0.5, 2.0, 0.0]), moved, w0)
    assert "weights" in cudagraph.compare(out, moved, out, [torch.full((4,), float("nan"))], w0)
    assert "weights" in cudagraph.compare(out, moved, out, [torch.zeros(4)], w0)  # the graph took no step
