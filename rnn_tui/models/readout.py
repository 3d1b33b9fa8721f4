"""The closed-form ridge readout of reservoir models (ESN, NG-RC): one SVD of the feature matrix,
which gives the readout for every ridge at once (the ridge path), accurate at small ridge.

    W(ridge) = argmin |A W - Y|^2 + ridge |W|^2 = V diag(s / (s^2 + ridge)) U^T Y,   A = U diag(s) V^T

A (rows, F) is never formed whole: the triangular factor R of [A Y] is accumulated block by block
by Householder QR (R of [R so far; next rows]), so A = Q R_A and U^T Y = U_R^T (Q^T Y) with the SVD
R_A = U_R diag(s) V^T of an F x F matrix. Nothing squares A's condition number, unlike the normal
equations (A^T A + ridge I) W = A^T Y: on lorenz63_esn's features (41,799 rows, 1,601 columns,
condition number 5e12) those lose 1% of W at ridge 1e-9, 11% at 1e-10, 127% at 3e-11 and 150x at
1e-12, and the forecast with it collapses (validation VPT 1.44 at 1e-11, 0.09 at 1e-12) where the
SVD's readout keeps improving (15.25, 16.27; tests/test_readout.py shows the loss on a smaller matrix).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

import torch

from rnn_tui.work import IDLE, Work

# The ridges of the ridge path (model.ridge = "auto" picks among them on the validation split): 0 (least
# squares) and every power of ten from 1e-16 to 1e2.
RIDGE_GRID: tuple[float, ...] = (0.0,) + tuple(10.0**k for k in range(-16, 3))
MIN_BLOCK_ROWS = 16384  # rows per QR block (at least twice the columns): few merges, bounded memory


@dataclass(frozen=True)
class PathPoint:
    """One point of the ridge path: a ridge and the validation loss of the readout solved at it."""

    ridge: float
    val_loss: float


class RidgePath:
    """The SVD of a feature matrix A and U^T Y: the ridge readout W(ridge) for any ridge (`solve`)."""

    def __init__(self, s: torch.Tensor, v: torch.Tensor, uty: torch.Tensor, rows: int) -> None:
        self.s, self.v, self.uty, self.rows = s, v, uty, rows  # (F,), (F, F), (F, D)

    @property
    def n_features(self) -> int:
        return int(self.v.shape[0])

    @property
    def condition(self) -> float:
        """A's condition number (largest over smallest singular value; inf if singular)."""
        s = self.s
        return float(s[0] / s[-1]) if float(s[-1]) > 0 else float("inf")

    def cutoff(self) -> float:
        """Singular values at or below this are taken as zero by the least-squares solve (ridge 0), as
        LAPACK's gelsd does by default: machine epsilon times F times the largest."""
        return float(torch.finfo(self.s.dtype).eps * self.n_features * self.s[0]) if len(self.s) else 0.0

    def solve(self, ridge: float) -> torch.Tensor:
        """(F, D): W minimising |A W - Y|^2 + ridge |W|^2; ridge 0 is the minimum-norm least-squares solution."""
        s = self.s
        if ridge > 0:
            gain = s / (s * s + ridge)
        else:
            keep = s > self.cutoff()
            gain = torch.where(keep, 1.0 / torch.where(keep, s, torch.ones_like(s)), torch.zeros_like(s))
        return self.v @ (gain.unsqueeze(1) * self.uty)

    @classmethod
    def of_blocks(cls, blocks: Iterable[tuple[torch.Tensor, torch.Tensor]], work: Work = IDLE,
                  total_rows: int = 0) -> RidgePath:
        """The path of A = the stacked feature blocks (rows, F) with targets (rows, D), solved in float64
        on the CPU. Each block is one QR merge; `work`'s phase "solving the readout" is ticked after each
        (its stop flag is read there: errors.Stopped)."""
        r, rows, n_feat = None, 0, 0
        with work.phase("solving the readout", total_rows, "rows") as phase:
            for feats, target in blocks:
                n_feat = feats.shape[1]
                block = torch.cat([feats, target], dim=1).to("cpu", torch.float64)
                stacked = block if r is None else torch.cat([r, block])
                r = torch.linalg.qr(stacked, mode="r")[1]
                rows += feats.shape[0]
                phase.tick(rows)
            if r is None:
                raise ValueError("a ridge path needs at least one row")
            width = r.shape[1]
            if r.shape[0] < width:  # fewer rows than columns so far: R is short; pad it square
                r = torch.cat([r, r.new_zeros(width - r.shape[0], width)])
            u, s, vt = torch.linalg.svd(r[:n_feat, :n_feat])
            phase.tick(rows)
        return cls(s, vt.T, u.T @ r[:n_feat, n_feat:], rows)


def as_work(work) -> Work:
    """A Work from a Work, None (nobody listening, no stop) or a bare stop flag (anything with is_set)."""
    if work is None:
        return IDLE
    return work if isinstance(work, Work) else Work(work)


def row_blocks(n_rows: int, n_cols: int) -> Iterator[tuple[int, int]]:
    """(start, stop) of the QR blocks of a matrix of `n_rows` rows and `n_cols` columns."""
    size = max(MIN_BLOCK_ROWS, 2 * n_cols)
    for i in range(0, n_rows, size):
        yield i, min(n_rows, i + size)


def path_losses(path: RidgePath, design: torch.Tensor, base: torch.Tensor, target: torch.Tensor,
                ridges: Iterable[float] = RIDGE_GRID) -> list[PathPoint]:
    """The loss (MSE) of the readout at each ridge on rows whose features are `design` (B, F): the
    prediction is base + design @ W(ridge), against `target` (B, D)."""
    a = design.to("cpu", torch.float64)
    err0 = (target - base).to("cpu", torch.float64)
    out = []
    for ridge in ridges:
        err = a @ path.solve(ridge) - err0
        out.append(PathPoint(float(ridge), float(torch.mean(err * err))))
    return out
