"""Next-generation reservoir computing (Gauthier, Bollt, Griffith & Barbosa, Nature Communications
12:5564, 2021): delayed copies of the state and their polynomial monomials, a ridge readout in
closed form. Its hyperparameters are declared here (torch-free); the model is in `net`."""

from __future__ import annotations

from math import comb
from typing import ClassVar, Literal

from pydantic import Field

from rnn_tui.models.hparams import ARCH_DESCRIPTION, ArchConfig, Int, Ridge


def feature_count(linear: int, order: int, constant: bool) -> int:
    """Length of the feature vector on `linear` = k * D delayed values: the constant, the linear part
    and its unique monomials of degree 2 (and 3): C(n + d - 1, d) of degree d."""
    return int(constant) + sum(comb(linear + d - 1, d) for d in range(1, order + 1))


class NGRCConfig(ArchConfig):
    doc: ClassVar[str] = "next-generation reservoir computing: delayed states and their monomials, ridge readout in closed form"
    size_field: ClassVar[str] = "delays"  # its feature count (readout and fit) grows with k, not the steps
    shown: ClassVar[tuple[str, ...]] = ("delays", "order", "ridge")
    closed_form: ClassVar[bool] = True
    arch: Literal["ngrc"] = Field("ngrc", description=ARCH_DESCRIPTION)
    delays: Int = Field(2, ge=1, le=100, description="k: delayed copies of the state in the linear part (x[t], x[t-s], ..., x[t-(k-1)s])")
    skip: Int = Field(1, ge=1, le=10_000, description="s: steps between delayed copies; the window needs (k-1)s+1 states")
    order: Int = Field(2, ge=2, le=3, description="highest degree of the monomials of the linear part: 2 (quadratic) or 3 (cubic)")
    constant: bool = Field(True, description="include the constant 1 in the feature vector")
    ridge: Ridge = Field(2.5e-6, description='Tikhonov regularisation of the closed-form readout (0: least squares), or "auto": '
                         "the ridge of lowest validation loss on the ridge path (0, 1e-16, 1e-15, ..., 1e2)")

    def budget_key(self, part: str) -> str | None:
        return "model.delays" if part in ("model", "fit") else None

    @property
    def span(self) -> int:
        """States a prediction needs: the current one and (k-1)s before it."""
        return (self.delays - 1) * self.skip + 1

    def n_features(self, dim: int) -> int:
        """Length of the feature vector on data of `dim` components."""
        return feature_count(self.delays * dim, self.order, self.constant)

    def footprint(self, dim: int, seq_len: int, batch: int) -> tuple[int, int]:
        feats = self.n_features(dim)
        # the readout and the fit's triangular factor; a batch's windows and their features
        return feats * dim + 2 * feats * feats, batch * (seq_len * dim + feats)

    def fit_values(self, steps: int, dim: int) -> int:
        """Values the closed-form fit holds, in float64: the delayed states of the training series and
        the features of one block of rows (rnn_tui.models.readout) with their QR factorisation and SVD."""
        feats = self.n_features(dim) + dim
        return steps * self.delays * dim + 3 * min(steps, max(16384, 2 * feats)) * feats + 4 * feats * feats


def build(spec, cfg: NGRCConfig):
    """The NG-RC for `cfg` (imports torch)."""
    from rnn_tui.models.ngrc.net import NGRC

    return NGRC(spec, cfg)
