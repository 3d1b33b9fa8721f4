"""Echo state network: a fixed random reservoir and a ridge readout solved in closed form. Its
hyperparameters are declared here (torch-free); the network is in `net`, imported by `build` only."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from rnn_tui.models.hparams import ARCH_DESCRIPTION, ArchConfig, Float, Int, Ridge


class ESNConfig(ArchConfig):
    doc: ClassVar[str] = "echo state network: fixed random reservoir, ridge readout in closed form"
    stackable: ClassVar[bool] = True  # train.ensemble: see stacked.py
    supports_field: ClassVar[bool] = True  # a field's grid points are just its input components
    shown: ClassVar[tuple[str, ...]] = ("hidden_size", "spectral_radius", "readout")
    closed_form: ClassVar[bool] = True
    arch: Literal["esn"] = Field("esn", description=ARCH_DESCRIPTION)
    hidden_size: Int = Field(64, ge=1, le=4000, description="reservoir size (units); its eigenvalues are computed once (4000: ~20 s)")
    spectral_radius: Float = Field(0.9, gt=0, le=1e3, description="largest |eigenvalue| of the reservoir matrix")
    leak_rate: Float = Field(1.0, gt=0, le=1, description="leaky-integration rate in (0, 1]")
    input_scaling: Float = Field(0.5, gt=0, le=1e6, description="scale of the random input weights")
    sparsity: Float = Field(0.9, ge=0, lt=1, description="fraction of reservoir weights that are zero, in [0, 1)")
    washout: Int = Field(50, ge=0, le=10_000_000, description="reservoir steps discarded before fitting the readout")
    ridge: Ridge = Field(1e-6, description='Tikhonov regularisation of the closed-form readout (0: least squares), or "auto": '
                         "the ridge of lowest validation loss on the ridge path (0, 1e-16, 1e-15, ..., 1e2)")
    readout: Literal["linear", "quadratic"] = Field("linear", description="readout on r, or on [r, r^2]")
    residual: bool = Field(True, description="predict the increment x[t+1] - x[t] rather than x[t+1]")


    def footprint(self, dim: int, seq_len: int, batch: int) -> tuple[int, int]:
        n = self.hidden_size
        feats = 2 * n if self.readout == "quadratic" else n
        # the dense reservoir, its float64 copy for the eigenvalues, and the readout's R factor and SVD
        return 3 * n * n + n * dim + 4 * (feats + 1 + dim) ** 2, 3 * batch * seq_len * n

    def fit_values(self, steps: int, dim: int) -> int:
        """Values the closed-form fit holds, in float64: the reservoir states of the whole training series,
        and one block of feature rows (rnn_tui.models.readout) with its QR factorisation."""
        feats = (2 * self.hidden_size if self.readout == "quadratic" else self.hidden_size) + 1 + dim
        block = min(steps, max(16384, 2 * feats))
        return steps * self.hidden_size + 3 * block * feats + 4 * feats * feats


def build(spec, cfg: ESNConfig):
    """The ESN for `cfg` (imports torch)."""
    from rnn_tui.models.esn.net import ESN

    return ESN(spec, cfg)


def stack(spec, cfg, members):
    """K built members of `cfg` as one batched model, for train.ensemble (imports torch)."""
    from rnn_tui.models.esn.stacked import StackedESN

    return StackedESN(members)
