"""Bilinear residual network (Fablet et al. 2018): a learned vector field integrated by RK4 or
Euler. Its hyperparameters are declared here (torch-free); the network is in `net`, imported by
`build` only."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from rnn_tui.models.hparams import ARCH_DESCRIPTION, ArchConfig, Int


class RK4Config(ArchConfig):
    doc: ClassVar[str] = "bilinear residual network, one RK4/Euler step of learned dX/dt (Fablet 2018)"
    stackable: ClassVar[bool] = True  # train.ensemble: see stacked.py
    shown: ClassVar[tuple[str, ...]] = ("hidden_size", "scheme")
    arch: Literal["rk4"] = Field("rk4", description=ARCH_DESCRIPTION)
    hidden_size: Int = Field(64, ge=1, le=4096, description="width of the linear and of the two bilinear layers of dX/dt")
    scheme: Literal["rk4", "euler"] = Field("rk4", description="integration scheme of the residual network")
    substeps: Int = Field(1, ge=1, le=1000, description="steps of the scheme per sample step (1 = one step of dt, as in Fablet 2018)")


    def footprint(self, dim: int, seq_len: int, batch: int) -> tuple[int, int]:
        h = self.hidden_size
        per_step = 4 if self.scheme == "rk4" else 1  # evaluations of the field per substep
        return 3 * (dim + 1) * h + (2 * h + 1) * dim, 4 * batch * h * 3 * per_step * self.substeps


def build(spec, cfg: RK4Config):
    """The RK4Net for `cfg` (imports torch)."""
    from rnn_tui.models.rk4.net import RK4Net

    return RK4Net(spec, cfg)


def stack(spec, cfg, members):
    """K built members of `cfg` as one batched model, for train.ensemble (imports torch)."""
    from rnn_tui.models.rk4.stacked import StackedRK4

    return StackedRK4(members)
