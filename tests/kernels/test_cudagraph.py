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
