"""Echo state network: a fixed random reservoir and a ridge readout solved in closed form. Its
hyperparameters are declared here (torch-free); the network is in `net`, imported by `build` only."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from rnn_tui.models.hparams import ARCH_DESCRIPTION, ArchConfig, Float, Int


class ESNConfig(ArchConfig):
    doc: ClassVar[str] = "echo state network: fixed random reservoir, ridge readout in closed form"
    arch: Literal["esn"] = Field("esn", description=ARCH_DESCRIPTION)
    hidden_size: Int = Field(64, ge=1, description="reservoir size (units)")
    spectral_radius: Float = Field(0.9, gt=0, description="largest |eigenvalue| of the reservoir matrix")
    leak_rate: Float = Field(1.0, gt=0, le=1, description="leaky-integration rate in (0, 1]")
    input_scaling: Float = Field(0.5, gt=0, description="scale of the random input weights")
    sparsity: Float = Field(0.9, ge=0, lt=1, description="fraction of reservoir weights that are zero, in [0, 1)")
    washout: Int = Field(50, ge=0, description="reservoir steps discarded before fitting the readout")
    ridge: Float = Field(1e-6, ge=0, description="Tikhonov regularisation of the closed-form readout")
    readout: Literal["linear", "quadratic"] = Field("linear", description="readout on r, or on [r, r^2]")
    residual: bool = Field(True, description="predict the increment x[t+1] - x[t] rather than x[t+1]")


def build(spec, cfg: ESNConfig):
    """The ESN for `cfg` (imports torch)."""
    from rnn_tui.models.esn.net import ESN

    return ESN(spec, cfg)
