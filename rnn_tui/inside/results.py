"""The typed results of a probe: one dataclass a panel, and `Inside`, what one probe of a model gives
(a panel that does not apply is None, with the reason in `Inside.why`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from rnn_tui.inside.spectrum import Spectrum, spectrum  # Spectrum is made there; kept importable from here

# The panels of the Inside view, in the order the screen shows them.
PANELS = ("heatmap", "gates", "spectrum", "grad", "readout")


@dataclass(frozen=True)
class Heatmap:
    """Hidden states over the warm-up on true inputs and the free run: (units, steps), units ordered."""

    states: np.ndarray  # (units, steps): row i is unit order[i]
    boundary: int  # steps before it are the warm-up on true inputs; from it on, the free run
    order: np.ndarray  # (units,) the unit shown in each row
    ordered_by: str  # "variance over the window, largest first"
    of: str  # what the units are: "h of layer 1", "reservoir r", "channels at site 32"


@dataclass(frozen=True)
class Gates:
    """Each gate's activations over the warm-up window and their saturated fraction (below 0.1 or above 0.9)."""

    names: tuple[str, ...]  # "input", "forget", "cell", "output" (LSTM); "reset", "update" (GRU)
    values: dict[str, np.ndarray]  # name -> (steps, units) in [0, 1] (sigmoid gates only)
    saturation: dict[str, float]  # name -> fraction of values < 0.1 or > 0.9


@dataclass(frozen=True)
class GradByLag:
    """‖∂L/∂h_{t−k}‖ for k = 0 .. L−1 on one batch (L the loss after the window, t its last step)."""

    norms: np.ndarray  # (lags,) norm at lag k = norms[k]
    decay_per_step: float  # fitted factor per step: exp(slope of log norm against lag), least squares
    of: str  # "h of layer 1"

    @property
    def lag_ratio(self) -> float:
        """The norm at the largest lag over the norm at lag 0."""
        n = self.norms
        return float(n[-1] / n[0]) if len(n) and n[0] > 0 else math.nan


@dataclass(frozen=True)
class ReadoutGroups:
    """What a closed-form readout learned: the weight magnitude by feature group."""

    names: tuple[str, ...]  # "bias", "r", "r^2"; NG-RC: "constant", "delay 0", "delay 1", "order 2", ...
    rms: tuple[float, ...]  # root mean square of the group's weights
    count: tuple[int, ...]  # features in the group
    dof: float | None  # effective degrees of freedom of the ridge: sum s^2 / (s^2 + ridge) (None: no fit kept)


@dataclass(frozen=True)
class Inside:
    """One probe of a model: each panel's data, or None with the reason in `why`."""

    heatmap: Heatmap | None = None
    gates: Gates | None = None
    spectra: tuple[Spectrum, ...] = ()  # the first is the one shown first and summarised
    # Further square matrices the spectrum panel can show, (what, matrix): their eigenvalues are
    # computed when asked for (spectrum_at), not in every probe (eigvals is O(n^3)).
    more: tuple[tuple[str, np.ndarray], ...] = ()
    grad: GradByLag | None = None
    readout: ReadoutGroups | None = None
    why: dict[str, str] = field(default_factory=dict)  # panel -> why it does not apply

    def summary(self) -> dict[str, object]:
        """summary.json's `inspect` object: every key present, null where it does not apply."""
        return summary_of(self)

    def reason(self, panel: str) -> str:
        return self.why.get(panel, "not computed")

    @property
    def n_spectra(self) -> int:
        return len(self.spectra) + len(self.more)

    def spectrum_at(self, i: int) -> Spectrum:
        """The i-th spectrum the panel can show (modulo their number): computed, or of a further matrix."""
        i %= self.n_spectra
        if i < len(self.spectra):
            return self.spectra[i]
        of, matrix = self.more[i - len(self.spectra)]
        return spectrum(matrix, of)


INSPECT_KEYS = ("spectral_radius", "grad_lag_ratio", "grad_decay_per_step", "gate_saturation")


@dataclass(frozen=True)
class InspectSummary:
    """summary.json's `inspect` object: the last probe's figures, each None where it does not apply
    (or nothing was probed: train.inspect off); every key is always written."""

    spectral_radius: float | None = None  # of the matrix the spectrum panel shows first (Inside.spectra[0])
    grad_lag_ratio: float | None = None  # ‖∂L/∂h_{t−k}‖ / ‖∂L/∂h_t‖ at the window's largest lag
    grad_decay_per_step: float | None = None  # the fitted factor per step back in time
    gate_saturation: dict[str, float | None] | None = None  # per sigmoid gate: fraction < 0.1 or > 0.9

    @classmethod
    def of(cls, inside: Inside | None) -> InspectSummary:
        if inside is None:
            return cls()
        grad = inside.grad
        return cls(
            spectral_radius=_finite(inside.spectra[0].radius) if inside.spectra else None,
            grad_lag_ratio=_finite(grad.lag_ratio) if grad is not None else None,
            grad_decay_per_step=_finite(grad.decay_per_step) if grad is not None else None,
            gate_saturation={k: _finite(v) for k, v in inside.gates.saturation.items()} if inside.gates is not None else None,
        )

    def to_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in INSPECT_KEYS}

    @classmethod
    def from_dict(cls, d: dict | None) -> InspectSummary:
        d = d if isinstance(d, dict) else {}
        sat = d.get("gate_saturation")
        return cls(_finite(d.get("spectral_radius")), _finite(d.get("grad_lag_ratio")), _finite(d.get("grad_decay_per_step")),
                   {str(k): _finite(v) for k, v in sat.items()} if isinstance(sat, dict) else None)


def summary_of(inside: Inside | None) -> dict[str, object]:
    """The `inspect` object of summary.json for the last probe (all null when there was none)."""
    return InspectSummary.of(inside).to_dict()


def _finite(v) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None
