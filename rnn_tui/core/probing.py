"""The trainer's probe of its model (the Inside view's data), where train.inspect is on or the app's
Inside view is shown (Control.inspect): on a fixed batch of training windows (the gradient by lag: one
extra forward and backward) and the first validation window with a free run after it (the hidden
state). After the first epoch, the first epoch the view is shown and the last epoch always; between,
after an epoch only while probing has taken at most BUDGET of the training time (a probe of a small
model costs about an epoch of the sine's: probing every epoch would cost 20%). Keeps every probe's
figures for inspect.npz (docs/inspect.md)."""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from rnn_tui.core.data import Prepared, gather_windows
from rnn_tui.inside.results import Inside

PROBE_BATCH = 32  # training windows in the probe's batch (the first ones, the same every epoch)
HEATMAP_STEPS = 100  # free-run steps after the warm-up in the heatmap (at most rollout.horizon)
BUDGET = 0.025  # between the probes that are always made, probing takes at most this share of the training time


class Probe:
    """Probes one model after each epoch and keeps the record of the run's probes."""

    def __init__(self, prep: Prepared, seq_len: int, horizon: int) -> None:
        starts = prep.train_starts[:PROBE_BATCH]
        self.x = gather_windows(prep.inputs, starts, seq_len)  # (B, L, D)
        self.y = prep.inputs[starts + seq_len]  # (B, D)
        first = prep.val_starts[:1] if len(prep.val_starts) else prep.train_starts[:1]
        self.window = gather_windows(prep.clean, first, seq_len)  # (1, L, D)
        self.horizon = max(0, min(horizon, HEATMAP_STEPS))
        self.epochs: list[int] = []
        self.insides: list[Inside] = []
        self.seconds = 0.0  # spent probing
        self.watched = False  # the view was shown at the last check

    def due(self, epoch: int, elapsed: float, last: bool, inspect: bool, watched: bool) -> bool:
        """Whether to probe after `epoch` (`elapsed` seconds of training so far): never unless
        train.inspect is on (`inspect`) or the view is shown (`watched`); always after the first epoch,
        the first one the view is shown and the last one; otherwise while within BUDGET."""
        fresh, self.watched = watched and not self.watched, watched
        if not (inspect or watched):
            return False
        if not self.epochs or fresh or last:
            return True
        cost = self.seconds / len(self.epochs)
        return self.seconds + cost <= BUDGET * elapsed

    @property
    def last(self) -> Inside | None:
        return self.insides[-1] if self.insides else None

    def __call__(self, model, epoch: int) -> Inside:
        t0 = time.perf_counter()
        inside = model.probe(self.x, self.y, self.window, self.horizon)
        self.seconds += time.perf_counter() - t0
        self.epochs.append(epoch)
        self.insides.append(inside)
        return inside

    def arrays(self) -> dict[str, np.ndarray]:
        """inspect.npz's arrays (docs/inspect.md): a row per probe, NaN where a panel does not apply;
        the heatmap and the gates shown are the last probe's."""
        ins, last = self.insides, self.last
        out: dict[str, np.ndarray] = {"epoch": np.array(self.epochs, dtype=np.int64)}
        out["spectral_radius"] = np.array([i.spectra[0].radius if i.spectra else math.nan for i in ins])
        n = max((len(i.spectra[0].eigenvalues) for i in ins if i.spectra), default=0)
        out["eigenvalues"] = np.array([_pad(i.spectra[0].eigenvalues if i.spectra else np.zeros(0), n, complex) for i in ins]).reshape(len(ins), n)
        out["spectrum_of"] = np.array(last.spectra[0].of if last is not None and last.spectra else "")
        lags = max((len(i.grad.norms) for i in ins if i.grad is not None), default=0)
        out["grad_norm_by_lag"] = np.array([_pad(i.grad.norms if i.grad else np.zeros(0), lags, float) for i in ins]).reshape(len(ins), lags)
        out["grad_decay_per_step"] = np.array([i.grad.decay_per_step if i.grad else math.nan for i in ins])
        out["grad_lag_ratio"] = np.array([i.grad.lag_ratio if i.grad else math.nan for i in ins])
        names = last.gates.names if last is not None and last.gates is not None else ()
        out["gate_names"] = np.array(names, dtype=str)
        out["gate_saturation"] = np.array([[i.gates.saturation.get(g, math.nan) if i.gates else math.nan for g in names] for i in ins]).reshape(len(ins), len(names))
        out.update(_last_panels(last))
        return out


def _last_panels(last: Inside | None) -> dict[str, np.ndarray]:
    """The heatmap and the readout of the last probe (empty where they do not apply)."""
    out: dict[str, np.ndarray] = {}
    heat = last.heatmap if last is not None else None
    out["heatmap"] = heat.states if heat is not None else np.zeros((0, 0))
    out["heatmap_units"] = heat.order.astype(np.int64) if heat is not None else np.zeros(0, np.int64)
    out["heatmap_boundary"] = np.array(heat.boundary if heat is not None else -1)
    out["heatmap_of"] = np.array(f"{heat.of}; rows by {heat.ordered_by}" if heat is not None else "")
    r = last.readout if last is not None else None
    out["readout_groups"] = np.array(r.names if r is not None else (), dtype=str)
    out["readout_rms"] = np.array(r.rms if r is not None else (), dtype=float)
    out["readout_dof"] = np.array(r.dof if r is not None and r.dof is not None else math.nan)
    return out


def _pad(values: np.ndarray, n: int, dtype) -> np.ndarray:
    out = np.full(n, np.nan, dtype=dtype)
    out[: len(values)] = values[:n]
    return out


def probe_model(trainer):
    """The model a probe looks at: the run's own, or member 0's (the one with train.seed) of K > 1,
    loaded into an ordinary network of the architecture."""
    if trainer.k == 1:
        return trainer.model
    with torch.no_grad():
        return trainer.model.load_member(0, trainer.nets[0])
