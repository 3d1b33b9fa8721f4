"""One optimisation step of every member at once, with each member's outcome its own: what
core/steps.py's EagerRunner does for one model, row by row of the stacked weights.

A member whose loss or gradient is not finite takes no step and stops training (diverged); if the
step before it had left its weights non-finite, those are put back (`undone`), as for one model.
Its gradient row is zeroed before the update and its rate is 0, so the others never see it. Gradient
norms and clipping are per member (torch's clip_grad_norm_ on each member's own gradient).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

from rnn_tui.core.member_optim import MemberOptimizer
from rnn_tui.kernels.cudagraph import CLIP_EPS  # torch's clip_grad_norm_ coefficient, member by member


@dataclass
class StepResult:
    """(K,) tensors on the training device, one entry per member."""

    loss: torch.Tensor  # its loss on its batch (normalised units)
    grad_norm: torch.Tensor  # before clipping (NaN where the loss was not finite)
    taken: torch.Tensor  # bool: it trained and its step was finite (an update was made)
    bad: torch.Tensor  # bool: it trained and this step was not finite (it diverges here)
    undone: torch.Tensor  # bool: bad, and the step before it was put back


class MemberStep:
    """`step(starts, training, lr)`: starts (K, B) each member's windows, training (K,) bool, lr (K,)."""

    def __init__(self, model, opt: MemberOptimizer, loss_fn: Callable[[torch.Tensor], torch.Tensor], clip: float) -> None:
        self.flat, self.opt, self.loss_fn, self.clip = model.flat, opt, loss_fn, clip
        self.before = self.flat.detach().clone()  # the weights before the last update (for undo)

    def step(self, starts: torch.Tensor, training: torch.Tensor, lr: torch.Tensor) -> StepResult:
        losses = self.loss_fn(starts)  # (K,)
        value = losses.detach()
        finite_loss = torch.isfinite(value)
        live = training & finite_loss
        self.flat.grad = None
        if bool(live.any()):
            torch.where(live, losses, torch.zeros_like(losses)).sum().backward()  # members never mix
        grad = self.flat.grad if self.flat.grad is not None else torch.zeros_like(self.flat)
        norm = torch.linalg.vector_norm(grad, dim=1)
        norm = torch.where(finite_loss, norm, torch.full_like(norm, math.nan))
        ok = finite_loss & torch.isfinite(norm)
        bad = training & ~ok
        undone = torch.zeros_like(bad)
        weights = self.flat.data
        if bool(bad.any()):
            undone = bad & ~torch.isfinite(torch.linalg.vector_norm(weights, dim=1))
            if bool(undone.any()):
                weights[undone] = self.before[undone]
        taken = training & ok
        grad = grad.masked_fill(~taken.unsqueeze(1), 0.0)
        if math.isfinite(self.clip):
            coef = (self.clip / (norm + CLIP_EPS)).clamp(max=1.0)
            grad = grad * torch.where(taken, coef, torch.ones_like(coef)).unsqueeze(1)
        self.before.copy_(weights)
        self.opt.step(grad, lr * taken)
        return StepResult(value, norm, taken, bad, undone)
