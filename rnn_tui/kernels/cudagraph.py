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
    if getattr(cfg.model, "dropout", 0.0) > 0 and getattr(cfg.model, "num_layers", 1) > 1:  # only stacked nets use it
        return "dropout draws random numbers each step"
    return None


def make_capturable_optimizer(cfg, params, device: torch.device) -> torch.optim.Optimizer:
    """Adam or RMSprop with its learning rate in a device tensor (changed in place, never
    re-captured); capturable on CUDA (torch allows it nowhere else: the CPU tests run it eagerly)."""
    t = cfg.train
    lr = torch.tensor(t.lr, device=device)
    capturable = device.type == "cuda"
    if t.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=t.weight_decay, capturable=capturable)
    return torch.optim.RMSprop(params, lr=lr, weight_decay=t.weight_decay, capturable=capturable)


CHECK_EVERY = 32  # graphed steps between reads of their losses (each read waits for the device)


class GraphedStep:
    """Replays a captured training step without waiting for it.

    `__call__(starts)` queues one step and keeps its [loss, grad_norm, ok] on the device; `drain()`
    reads all kept results at once (one device sync) as [(loss, grad_norm, ok), ...]. The trainer
    drains every CHECK_EVERY steps and at the end of an epoch, so the CPU queues the next steps
    while the device works: with a read (a sync) after every step the device would sit idle
    during the loop's own work between steps, and at the notes' sizes a graphed step is short
    (~0.17 ms on an H100 by the issue's figures).

    A step whose loss, gradient norm or new weights are not finite changes no weights (ok = 0):
    the weights are copied to a shadow buffer before the optimiser updates them and put back
    inside the graph, so the run keeps its last finite weights however many queued steps follow.

    `capture=False` runs the same step eagerly (no graph): the trainer's CPU tests use it.
    """

    def __init__(self, model, optimizer, params, loss_fn: Callable[[torch.Tensor], torch.Tensor], starts: torch.Tensor,
                 clip: float, capture: bool = True):
        self.params = params
        self.static_starts = starts.clone()
        self.previous = [p.detach().clone() for p in params]
        self.kept: list[torch.Tensor] = []

        def body() -> torch.Tensor:
            optimizer.zero_grad(set_to_none=False)
            loss = loss_fn(self.static_starts)
            loss.backward()
            gn = torch.nn.utils.clip_grad_norm_(params, clip, foreach=True)
            with torch.no_grad():
                torch._foreach_copy_(self.previous, [p.detach() for p in params])
                optimizer.step()
                # Finite loss, gradient and new weights (the optimiser's state may already be
                # non-finite from an earlier step): else the step is undone.
                ok = torch.isfinite(loss.detach()) & torch.isfinite(gn.detach()) & torch.isfinite(torch.stack(torch._foreach_norm(params)).sum())
                for p, prev in zip(params, self.previous):
                    p.copy_(torch.where(ok, p, prev))
            return torch.stack([loss.detach(), gn.detach(), ok.to(loss.dtype)])

        self.graph = None
        self._body = body
        if not capture:
            return
        initial = [p.detach().clone() for p in params]
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(WARMUP_STEPS):
                body()
        torch.cuda.current_stream().wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.out = body()
        # Undo the warm-up: initial weights, fresh optimiser state (zeros, step 0), same addresses.
        with torch.no_grad():
            torch._foreach_copy_([p.data for p in params], initial)
            for state in optimizer.state.values():
                for value in state.values():
                    if torch.is_tensor(value):
                        value.zero_()

    @property
    def pending(self) -> int:
        return len(self.kept)

    def __call__(self, starts: torch.Tensor) -> None:
        self.static_starts.copy_(starts)
        if self.graph is None:
            self.kept.append(self._body())
        else:
            self.graph.replay()
            self.kept.append(self.out.clone())  # the next replay overwrites the static output

    def drain(self) -> list[tuple[float, float, bool]]:
        if not self.kept:
            return []
        values = torch.stack(self.kept).tolist()
        self.kept = []
        return [(lv, gn, ok == 1.0) for lv, gn, ok in values]
