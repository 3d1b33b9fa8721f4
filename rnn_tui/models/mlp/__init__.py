"""Memoryless baseline: an MLP on the flattened window. Its hyperparameters are declared here
(torch-free); the network is in `net`, imported by `build` only."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from rnn_tui.models.hparams import ARCH_DESCRIPTION, ArchConfig, Float, Int


class MLPConfig(ArchConfig):
    doc: ClassVar[str] = "memoryless baseline on the flattened window, notes 001/003"
    arch: Literal["mlp"] = Field("mlp", description=ARCH_DESCRIPTION)
    hidden_size: Int = Field(64, ge=1, description="width of each hidden layer")
    num_layers: Int = Field(1, ge=1, description="hidden layers")
    activation: Literal["tanh", "relu", "sigmoid"] = Field("tanh", description="nonlinearity of the hidden layers")
    residual: bool = Field(True, description="predict the increment x[t+1] - x[t] rather than x[t+1]")


def build(spec, cfg: MLPConfig):
    """The MLP for `cfg` (imports torch)."""
    from rnn_tui.models.mlp.net import MLP

    return MLP(spec, cfg)
