"""The forecaster interface every architecture implements (which data an architecture takes, field
or vector, is said by its hyperparameter class: rnn_tui.models.registry).

All models work in normalised units on windows of shape (batch, seq_len, D): D components, or N grid
points for a field. A model predicts the next state after a window, and supports a free-running
rollout that is O(horizon): `warmup` consumes a true window once and `step` advances one step,
carrying the hidden state where the architecture has one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from rnn_tui.models.probe import window_probe


@dataclass(frozen=True)
class ModelSpec:
    """What a model needs to know about the data: D features per step, and whether it is a field."""

    dim: int  # D (components) or N (grid points of a field)
    seq_len: int  # window length used in training
    field: bool = False  # True for 1-D fields (KdV): dim is the number of grid points
    dt: float = 1.0  # sample step in time units (used by the RK4 network)


class Forecaster(nn.Module):
    """Base class. Subclasses implement `forward`; recurrent ones override `warmup` and `step`.

    The default `warmup`/`step` keep the last `seq_len` states as the state and re-run `forward`
    on that window: right for window models (MLP); recurrent models override them to carry state.
    """

    # Trained by gradient descent (False for the ESN, whose readout is solved in closed form).
    trainable: bool = True
    # True where carrying the state in a free run matches how the model was trained (the ESN is
    # fitted on one continuous run; stateless models are the same either way). Nets trained on
    # windows from a zero state set False: rollout mode "auto" then re-feeds the window.
    carry_matches_training: bool = True
    # True where `forward_seq` is implemented (recurrent models): the trainer may then score the
    # prediction after every window position (train.seq_loss).
    has_seq: bool = False

    def __init__(self, spec: ModelSpec):
        super().__init__()
        self.spec = spec

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, seq_len, D) -> (batch, D): the predicted next state."""
        raise NotImplementedError

    def forward_seq(self, x: torch.Tensor) -> torch.Tensor:
        """Optional (`has_seq`): (batch, seq_len, D) -> (batch, seq_len, D), the predicted next state
        after every position of the window; the last position equals `forward(x)`."""
        raise NotImplementedError(f"{type(self).__name__} has no per-step predictions (has_seq is False)")

    def warmup(self, x: torch.Tensor) -> tuple[torch.Tensor, Any]:
        """Consume a true window (batch, L, D); return (prediction of the next state, state)."""
        return self.forward(x), x

    def step(self, y: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        """Feed one state y (batch, D); return (prediction of the following state, new state)."""
        window = torch.cat([state[:, 1:], y.unsqueeze(1)], dim=1)
        return self.forward(window), window

    def fit_closed_form(self, series: torch.Tensor, stop=None) -> bool:  # pragma: no cover - ESN, NG-RC only
        """For non-trainable models: fit the readout on a training series (T, D). Returns False,
        fitting nothing, when `stop` (a threading.Event) is set before the fit is done."""
        raise NotImplementedError

    def check_training_data(self, samples: int) -> None:
        """Raise UserError at set-up when `samples` training samples cannot train this model."""

    def probe(self, x: torch.Tensor, y: torch.Tensor, window: torch.Tensor, horizon: int):
        """What the Inside view shows of this model (rnn_tui/inside/results.py: Inside), from training
        windows x (B, L, D) with their next states y (B, D) (the gradient through time) and one true
        window (1, L, D) followed by a free run of `horizon` steps (the hidden states). The default,
        for models whose state is their window: the spectrum of the one-step map's Jacobian."""
        return window_probe(self, window, self.spec.seq_len, self.trainable)

    def num_params(self) -> int:
        """Number of learned values: trainable parameters (the ESN counts its fitted readout)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    # -- one member: the trainer sees every run as K >= 1 members (models/stacked.py for K > 1) -------

    k: int = 1  # members in this module

    def tile(self, x: torch.Tensor) -> torch.Tensor:
        """The same (B, ...) inputs for every member: (K * B, ...); one member takes them as they are."""
        return x

    def split_members(self, y: torch.Tensor) -> torch.Tensor:
        """(K * B, ...) outputs -> (K, B, ...)."""
        return y.unsqueeze(0)

    def member_state(self, j: int = 0) -> dict[str, torch.Tensor]:
        """Member j's state_dict (copies)."""
        return {name: value.detach().clone() for name, value in self.state_dict().items()}

    def put_member_state(self, j: int, state: dict[str, torch.Tensor]) -> None:
        """Make member j's weights those of `state` (a member_state)."""
        self.load_state_dict(state)


def with_residual(out: torch.Tensor, x_last: torch.Tensor, residual: bool) -> torch.Tensor:
    """The prediction from a network output: `x_last + out` when it predicts the increment."""
    return x_last + out if residual else out


class DelayForecaster(Forecaster):
    """A forecaster whose state is its last `span` inputs (NG-RC and its local form): the warm-up keeps
    them, each step shifts the newest in; everything it learns is `readout_w`."""

    span: int
    readout_w: torch.Tensor

    def warmup(self, x: torch.Tensor) -> tuple[torch.Tensor, Any]:
        buffer = x[:, -self.span :]  # (batch, span, D): all a prediction needs
        return self.forward(buffer), buffer

    def step(self, y: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        buffer = torch.cat([state[:, 1:], y.unsqueeze(1)], dim=1)
        return self.forward(buffer), buffer

    def num_params(self) -> int:
        return self.readout_w.numel()
