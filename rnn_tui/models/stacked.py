"""K models of one architecture as one module (train.ensemble = K): the base every batched network
(`models/*/stacked.py`) builds on.

The members' trainable weights live in one (K, P) parameter, a row per member, so the per-member
optimiser, gradient norms, clipping, freezing and undo are each one operation on one tensor
(rnn_tui/ensemble/). Each network reads its weights as (K, *shape) views of that row block, in the
parameter names of the single model, so a member's weights go to and from an ordinary model of the
architecture (`member_state`, `load_member`).

Inputs and outputs keep the Forecaster's shapes with the members stacked along the batch, member by
member: windows (K * B, L, D) -> (K * B, D), rows [j * B, (j + 1) * B) belong to member j. So the
rollout (core/rollout.py) runs an ensemble unchanged, and `tile` gives every member the same windows.
"""

from __future__ import annotations

import torch
from torch import nn

from rnn_tui.models.base import Forecaster


class StackedForecaster(Forecaster):
    """The stacked weights of `members` (ordinary models of one architecture, already initialised,
    on their device and dtype). Subclasses implement the Forecaster methods on (K * B, ...) inputs."""

    def __init__(self, members: list[Forecaster]) -> None:
        first = members[0]
        super().__init__(first.spec)
        self.k = len(members)
        self.carry_matches_training = first.carry_matches_training
        self.has_seq = first.has_seq
        self.trainable = first.trainable
        named = [(n, p) for n, p in first.named_parameters() if p.requires_grad]
        self.names = [n for n, _ in named]
        self.shapes = [tuple(p.shape) for _, p in named]
        self.sizes = [p.numel() for _, p in named]
        if named:
            rows = [torch.cat([dict(m.named_parameters())[n].detach().reshape(-1) for n in self.names]) for m in members]
            self.flat = nn.Parameter(torch.stack(rows))  # (K, P)
        else:
            self.flat = None
        # Buffers (the ESN's reservoir and readout) stacked the same way, as (K, *shape) buffers.
        self.buffer_names = [n for n, _ in first.named_buffers()]
        for n in self.buffer_names:
            self.register_buffer(_buffer_attr(n), torch.stack([m.get_buffer(n).detach() for m in members]))

    # -- weights --------------------------------------------------------------------------------

    def weights(self) -> dict[str, torch.Tensor]:
        """Every trainable weight as a (K, *shape) view of the stacked parameter (in autograd: one
        split node whose backward is one concatenation)."""
        if self.flat is None:
            return {}
        parts = self.flat.split(self.sizes, dim=1)
        return {n: p.view(self.k, *s) for n, p, s in zip(self.names, parts, self.shapes)}

    def stacked_buffer(self, name: str) -> torch.Tensor:
        return getattr(self, _buffer_attr(name))

    def member_state(self, j: int) -> dict[str, torch.Tensor]:
        """Member j's state_dict in the single model's names (copies)."""
        out = {}
        if self.flat is not None:
            row = self.flat.detach()[j]
            for n, part, s in zip(self.names, row.split(self.sizes), self.shapes):
                out[n] = part.reshape(s).clone()
        for n in self.buffer_names:
            out[n] = self.stacked_buffer(n)[j].clone()
        return out

    def load_member(self, j: int, model: Forecaster) -> Forecaster:
        """Put member j's weights into `model` (an ordinary model of the architecture); returns it."""
        model.load_state_dict(self.member_state(j), strict=False)
        return model

    @torch.no_grad()
    def put_member_state(self, j: int, state: dict[str, torch.Tensor]) -> None:
        """Make member j's weights those of `state` (a member_state)."""
        if self.flat is not None:
            self.flat[j].copy_(torch.cat([state[n].reshape(-1) for n in self.names]))
        for n in self.buffer_names:
            self.stacked_buffer(n)[j].copy_(state[n])

    @torch.no_grad()
    def store_member(self, j: int, model: Forecaster) -> None:
        """Copy an ordinary model's weights into member j (after an L-BFGS polish of that member alone)."""
        if self.flat is not None:
            params = dict(model.named_parameters())
            self.flat[j].copy_(torch.cat([params[n].detach().reshape(-1) for n in self.names]))
        for n in self.buffer_names:
            self.stacked_buffer(n)[j].copy_(model.get_buffer(n))

    # -- shapes ---------------------------------------------------------------------------------

    def tile(self, x: torch.Tensor) -> torch.Tensor:
        """The same (B, ...) inputs for every member: (K * B, ...)."""
        return x.repeat(self.k, *([1] * (x.dim() - 1)))

    def split_members(self, y: torch.Tensor) -> torch.Tensor:
        """(K * B, ...) outputs -> (K, B, ...)."""
        return y.view(self.k, -1, *y.shape[1:])

    def num_params(self) -> int:
        """Learned values of all members together."""
        return self.k * sum(self.sizes)


def _buffer_attr(name: str) -> str:
    return "stacked_" + name.replace(".", "_")


def linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    """Each member's nn.Linear on its own rows: x (K, N, In), w (K, Out, In), b (K, Out) -> (K, N, Out)."""
    if b is None:
        return torch.bmm(x, w.transpose(1, 2))
    return torch.baddbmm(b.unsqueeze(1), x, w.transpose(1, 2))


def head(weights: dict[str, torch.Tensor], prefix: str, x: torch.Tensor) -> torch.Tensor:
    """The output head of models/heads.py (a Linear, or Linear + ReLU + Linear) on (K, N, In)."""
    if f"{prefix}.weight" in weights:
        return linear(x, weights[f"{prefix}.weight"], weights[f"{prefix}.bias"])
    hidden = torch.relu(linear(x, weights[f"{prefix}.0.weight"], weights[f"{prefix}.0.bias"]))
    return linear(hidden, weights[f"{prefix}.2.weight"], weights[f"{prefix}.2.bias"])
