"""Local NG-RC for 1-D periodic fields (Barbosa & Gauthier 2022, Chaos 32:093137): one small NG-RC
shared by every site, its features built from the site and its neighbours, fitted on all sites at
once (the sites are more samples of one regression), so it is shift-equivariant by construction.
Its hyperparameters are declared here (torch-free); the model is in `net`."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from rnn_tui.models.hparams import ARCH_DESCRIPTION, ArchConfig, Int, Ridge
from rnn_tui.models.ngrc import feature_count


class LocalNGRCConfig(ArchConfig):
    doc: ClassVar[str] = "local NG-RC for fields: one NG-RC on each site's stencil, shared by all sites, ridge readout in closed form"
    supports_field: ClassVar[bool] = True
    field_only: ClassVar[bool] = True
    closed_form: ClassVar[bool] = True
    size_field: ClassVar[str] = "radius"  # its feature count grows with the stencil (and the delays), not the steps
    shown: ClassVar[tuple[str, ...]] = ("radius", "delays", "order", "ridge")
    arch: Literal["ngrc_local"] = Field("ngrc_local", description=ARCH_DESCRIPTION)
    radius: Int = Field(2, ge=0, le=32, description="r: neighbours on each side in a site's features (a stencil of 2r+1 sites)")
    delays: Int = Field(2, ge=1, le=20, description="k: delayed copies of the stencil (x[t], x[t-s], ..., x[t-(k-1)s])")
    skip: Int = Field(1, ge=1, le=1000, description="s: steps between delayed copies; the window needs (k-1)s+1 states")
    order: Int = Field(2, ge=2, le=3, description="highest degree of the monomials of the linear part: 2 (quadratic) or 3 (cubic)")
    constant: bool = Field(True, description="include the constant 1 in the feature vector")
    ridge: Ridge = Field(1e-6, description='Tikhonov regularisation of the closed-form readout (0: least squares), or "auto": '
                         "the ridge of best validation VPT on the ridge path (0, 1e-16, ..., 1e2)")

    def budget_key(self, part: str) -> str | None:
        return "model.radius" if part in ("model", "fit") else None

    @property
    def span(self) -> int:
        return (self.delays - 1) * self.skip + 1

    def n_features(self) -> int:
        return feature_count(self.delays * (2 * self.radius + 1), self.order, self.constant)

    def footprint(self, dim: int, seq_len: int, batch: int) -> tuple[int, int]:
        feats = self.n_features()
        return feats + 2 * feats * feats, batch * dim * (seq_len + feats)

    def fit_values(self, steps: int, dim: int) -> int:
        """float64 values of the fit: the training series and one block of feature rows with its QR."""
        feats = self.n_features() + 1
        return steps * dim + 3 * max(16384, 2 * feats) * feats + 4 * feats * feats


def build(spec, cfg: LocalNGRCConfig):
    """The local NG-RC for `cfg` (imports torch)."""
    from rnn_tui.models.ngrc_local.net import LocalNGRC

    return LocalNGRC(spec, cfg)
