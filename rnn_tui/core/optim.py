"""Optimisers, learning-rate schedules and the L-BFGS polish, as the trainer uses them."""

from __future__ import annotations

import copy
import math
from typing import Callable

import torch


def make_optimizer(cfg, params) -> torch.optim.Optimizer:
    """The configured optimiser, in its fastest exact form: torch's fused kernels for Adam and SGD
    (one call for all parameters instead of a dozen small ops per parameter: an Adam step of the
    notes' sine RNN takes 77 us instead of 212 on the 2-core CPU), multi-tensor (foreach) RMSprop."""
    t = cfg.train
    if t.optimizer == "adam":
        return torch.optim.Adam(params, lr=t.lr, weight_decay=t.weight_decay, fused=True)
    if t.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=t.lr, weight_decay=t.weight_decay, foreach=True)
    return torch.optim.SGD(params, lr=t.lr, momentum=t.momentum, weight_decay=t.weight_decay, fused=True)


def current_lr(opt: torch.optim.Optimizer | None) -> float:
    return float(opt.param_groups[0]["lr"]) if opt is not None else 0.0


def set_lr(opt: torch.optim.Optimizer, lr: float) -> None:
    """A tensor learning rate (capturable optimisers) is filled in place so a captured graph sees it."""
    for group in opt.param_groups:
        if torch.is_tensor(group["lr"]):
            group["lr"].fill_(lr)
        else:
            group["lr"] = lr


def grad_norm(params, clip: float) -> float:
    """Total gradient norm before clipping; clips to `clip` when it is finite (inf = off)."""
    if math.isinf(clip):
        grads = [p.grad for p in params if p.grad is not None]
        return float(torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))) if grads else 0.0
    return float(torch.nn.utils.clip_grad_norm_(params, clip))


class Schedule:
    """train.schedule: cosine annealing stepped after every optimisation step, or a halving on a
    validation plateau stepped after every epoch; "none" does nothing."""

    def __init__(self, cfg, opt: torch.optim.Optimizer, total_steps: int) -> None:
        t = cfg.train
        self.kind = t.schedule
        if t.schedule == "cosine":
            self.sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, total_steps), eta_min=t.lr * 1e-3)
        elif t.schedule == "plateau":
            self.sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=max(2, t.early_stop_patience // 3))
        else:
            self.sched = None

    def after_step(self) -> None:
        if self.kind == "cosine":
            self.sched.step()

    def after_epoch(self, val_loss: float, train_loss: float) -> None:
        if self.kind == "plateau":
            self.sched.step(val_loss if math.isfinite(val_loss) else train_loss)


def lbfgs_polish(model, params, iters: int, loss_fn: Callable[[], torch.Tensor], measure: Callable[[], float], stop) -> float:
    """Full-batch L-BFGS after the first-order epochs: reaches far lower losses on smooth problems
    (a bilinear RK4 net on Lorenz-63 goes from ~1e-3 to ~1e-5 RMSE at 8 steps). Returns the final
    training loss; weights that end non-finite are put back as they were."""
    opt = torch.optim.LBFGS(params, lr=1.0, max_iter=iters, history_size=50, line_search_fn="strong_wolfe",
                            tolerance_grad=1e-12, tolerance_change=1e-16)
    zero = next(iter(params))

    def closure():
        opt.zero_grad(set_to_none=True)
        if stop.is_set():  # ends the line search at once
            return torch.zeros((), dtype=zero.dtype, device=zero.device, requires_grad=True)
        loss = loss_fn()
        loss.backward()
        return loss

    before = copy.deepcopy(model.state_dict())
    opt.step(closure)
    final = measure()
    if not math.isfinite(final):
        model.load_state_dict(before)
        final = measure()
    return final



class Schedules:
    """The learning rate of one model (K = 1) behind the interface core/member_optim.py's
    MemberSchedules gives K members: the optimiser's own rate, stepped by its Schedule."""

    def __init__(self, cfg, opt: torch.optim.Optimizer, total_steps: int) -> None:
        self.opt = opt
        self.schedule = Schedule(cfg, opt, total_steps)

    def rates(self) -> list[float]:
        return [current_lr(self.opt)]

    def set_all(self, lr: float) -> None:
        set_lr(self.opt, lr)

    def after_step(self) -> None:
        self.schedule.after_step()

    def after_epoch(self, val: list[float], train: list[float], training: list[bool]) -> None:
        if training[0]:
            self.schedule.after_epoch(val[0], train[0])

    def state_dict(self) -> dict:
        sched = self.schedule.sched
        return {"schedule": sched.state_dict() if sched is not None else None}

    def load_state_dict(self, state: dict, total_steps: int) -> None:
        """As it was (the rate itself comes back with the optimiser's state); a cosine schedule is
        stretched over the new total."""
        sched = self.schedule.sched
        if sched is not None and state.get("schedule") is not None:
            sched.load_state_dict(state["schedule"])
            if hasattr(sched, "T_max"):
                sched.T_max = max(1, total_steps)
