"""Memoryless baseline: an MLP on the flattened window. Its hyperparameters are declared here
(torch-free); the network is in `net`, imported by `build` only."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from rnn_tui.models.hparams import ARCH_DESCRIPTION, ArchConfig, Int


class MLPConfig(ArchConfig):
    doc: ClassVar[str] = "memoryless baseline on the flattened window, notes 001/003"
    stackable: ClassVar[bool] = True  # train.ensemble: see stacked.py
    shown: ClassVar[tuple[str, ...]] = ("hidden_size", "num_layers", "activation")
    arch: Literal["mlp"] = Field("mlp", description=ARCH_DESCRIPTION)
    hidden_size: Int = Field(64, ge=1, le=8192, description="width of each hidden layer")
    num_layers: Int = Field(1, ge=1, le=16, description="hidden layers")
    activation: Literal["tanh", "relu", "sigmoid"] = Field("tanh", description="nonlinearity of the hidden layers")
    residual: bool = Field(True, description="predict the increment x[t+1] - x[t] rather than x[t+1]")


    def footprint(self, dim: int, seq_len: int, batch: int) -> tuple[int, int]:
        h, width = self.hidden_size, seq_len * dim
        params = (width + 1) * h + (self.num_layers - 1) * (h + 1) * h + (h + 1) * dim
        return params, 3 * batch * (width + self.num_layers * h)


def build(spec, cfg: MLPConfig):
    """The MLP for `cfg` (imports torch)."""
    from rnn_tui.models.mlp.net import MLP

    return MLP(spec, cfg)


def stack(spec, cfg, members):
    """K built members of `cfg` as one batched model, for train.ensemble (imports torch)."""
    from rnn_tui.models.mlp.stacked import StackedMLP

    return StackedMLP(members)
