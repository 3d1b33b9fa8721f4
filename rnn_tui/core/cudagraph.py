"""CUDA-graph fast path: one whole optimisation step (forward, backward, gradient norm, clipping,
optimiser step) captured once and replayed for every full batch. Static shapes, a capturable
optimiser with a tensor learning rate (so schedules and live changes need no re-capture).

Used only on CUDA and only where the step is capturable; anything else trains eagerly, and a
failed capture falls back to eager training too. `eligibility` says why a run is not eligible.
"""

from __future__ import annotations

from typing import Callable

import torch

WARMUP_STEPS = 3  # eager steps on a side stream before capture (then undone)


def eligibility(device: torch.device, cfg, model) -> str | None:
    """None when the step can be captured on this run, else the reason (shown to the user)."""
    if device.type != "cuda":
        return "not on CUDA"
    if not getattr(model, "trainable", True):
        return "closed-form model"
    if cfg.train.optimizer not in ("adam", "rmsprop"):
        return f"optimizer {cfg.train.optimizer} has no capturable mode here"
    if cfg.train.lbfgs_steps:
        return "L-BFGS polish needs eager steps"
    if cfg.model.dropout > 0 and cfg.model.num_layers > 1:
        return "dropout draws random numbers each step"
    return None


def make_capturable_optimizer(cfg, params, device: torch.device) -> torch.optim.Optimizer:
    t = cfg.train
    lr = torch.tensor(t.lr, device=device)
    if t.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=t.weight_decay, capturable=True)
    return torch.optim.RMSprop(params, lr=lr, weight_decay=t.weight_decay, capturable=True)


class GraphedStep:
    """Replays a captured training step. `__call__(starts)` -> tensor [loss, grad_norm] (not synced).

    Parameters are copied to a shadow buffer inside the graph before the optimiser updates them,
    so a non-finite step can be undone with `restore_previous()` (the last finite weights).
    """

    def __init__(self, model, optimizer, params, loss_fn: Callable[[torch.Tensor], torch.Tensor], starts: torch.Tensor, clip: float):
        self.params = params
        self.static_starts = starts.clone()
        self.previous = [p.detach().clone() for p in params]
        initial = [p.detach().clone() for p in params]

        def body() -> torch.Tensor:
            loss = loss_fn(self.static_starts)
            loss.backward()
            gn = torch.nn.utils.clip_grad_norm_(params, clip, foreach=True)
            torch._foreach_copy_(self.previous, [p.detach() for p in params])
            optimizer.step()
            return torch.stack([loss.detach(), gn.detach()])

        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(WARMUP_STEPS):
                optimizer.zero_grad(set_to_none=False)
                body()
        torch.cuda.current_stream().wait_stream(side)
        optimizer.zero_grad(set_to_none=False)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            optimizer.zero_grad(set_to_none=False)
            self.out = body()
        # Undo the warm-up: initial weights, fresh optimiser state (zeros, step 0), same addresses.
        with torch.no_grad():
            torch._foreach_copy_([p.data for p in params], initial)
            for state in optimizer.state.values():
                for value in state.values():
                    if torch.is_tensor(value):
                        value.zero_()

    def __call__(self, starts: torch.Tensor) -> torch.Tensor:
        self.static_starts.copy_(starts)
        self.graph.replay()
        return self.out

    @torch.no_grad()
    def restore_previous(self) -> None:
        torch._foreach_copy_([p.data for p in self.params], self.previous)
