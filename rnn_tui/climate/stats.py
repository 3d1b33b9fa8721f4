"""Invariant statistics of a long run against the truth's, both (T, D) in the truth's normalised
units (each component less the truth's mean, over the truth's spread):

- D_stsp, the Kullback–Leibler divergence KL(truth ‖ run) of the state-space densities (Koppe et
  al. 2019; Hess et al. 2023). Up to 3 components: binned, BINS per axis over the truth's range
  widened by a tenth, a run's mass outside the grid counting as missing, with a pseudo-count EPS
  per bin. More components: the Gaussian-mixture estimate of Hess et al. (an isotropic Gaussian of
  spread GMM_SIGMA on each of up to GMM_CENTRES states of either run, the KL by Monte Carlo on up to
  GMM_SAMPLES states of the truth's second half (the centres: the first half of each run), each displaced by a draw of the Gaussian).
- D_H, the Hellinger distance between the power spectra of each component (Mikhaeil et al. 2022),
  each spectrum smoothed by a Gaussian of SMOOTH frequency bins and normalised to sum 1, then
  averaged over the components; 0 for equal spectra, 1 for spectra with no overlap (a run at rest
  has no power at all: 1).
"""

from __future__ import annotations

import numpy as np

BINS = 30
EPS = 1e-7
GMM_SIGMA = 1.0
GMM_CENTRES = 2000
GMM_SAMPLES = 1000
SMOOTH = 20.0
HIST_BINS = 40


def d_stsp(truth: np.ndarray, run: np.ndarray, seed: int = 0) -> float:
    """KL(truth ‖ run) of the state-space densities (binned for D <= 3, Gaussian mixture above)."""
    if truth.shape[1] <= 3:
        return _binned_kl(truth, run)
    return _gmm_kl(truth, run, seed)


def _grid(truth: np.ndarray) -> list[np.ndarray]:
    lo, hi = truth.min(axis=0), truth.max(axis=0)
    pad = 0.1 * (hi - lo) + 1e-9
    return [np.linspace(a - p, b + p, BINS + 1) for a, b, p in zip(lo, hi, pad)]


def _binned_kl(truth: np.ndarray, run: np.ndarray) -> float:
    edges = _grid(truth)
    p = np.histogramdd(truth, bins=edges)[0].ravel() / len(truth)
    finite = run[np.all(np.isfinite(run), axis=1)]
    q = np.histogramdd(finite, bins=edges)[0].ravel() / max(len(run), 1)  # mass off the grid is missing
    p, q = p + EPS, q + EPS
    p, q = p / p.sum(), q / q.sum()
    return float(np.sum(p * np.log(p / q)))


def _subsample(x: np.ndarray, n: int) -> np.ndarray:
    return x[np.linspace(0, len(x) - 1, min(n, len(x))).astype(int)]


def _log_mixture(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """(S,) log of the mixture density of isotropic Gaussians (spread GMM_SIGMA) on `centres` at `points`."""
    d = points.shape[1]
    sq = (points**2).sum(1)[:, None] + (centres**2).sum(1)[None, :] - 2 * points @ centres.T
    a = -0.5 * np.maximum(sq, 0) / GMM_SIGMA**2
    m = a.max(axis=1, keepdims=True)
    log = m[:, 0] + np.log(np.exp(a - m).mean(axis=1))
    return log - 0.5 * d * np.log(2 * np.pi * GMM_SIGMA**2)


def _gmm_kl(truth: np.ndarray, run: np.ndarray, seed: int) -> float:
    rng = np.random.default_rng(seed)
    finite = run[np.all(np.isfinite(run), axis=1)]
    if len(finite) == 0:
        return float("inf")
    # the truth's centres from its first half, its samples from the second: a sample drawn near a
    # centre of its own stretch of trajectory (a neighbouring step) favours the truth's mixture by that
    # alone (a floor of ~11 nats between two true Lorenz-96 runs)
    half = len(truth) // 2
    p_c, q_c = _subsample(truth[:half], GMM_CENTRES), _subsample(finite[: len(finite) // 2 or 1], GMM_CENTRES)  # alike
    samples = _subsample(truth[half:], GMM_SAMPLES)
    samples = samples + GMM_SIGMA * rng.standard_normal(samples.shape)  # drawn from the truth's mixture
    return float(np.mean(_log_mixture(samples, p_c) - _log_mixture(samples, q_c)))


def spectra(x: np.ndarray) -> np.ndarray:
    """(F, D) each component's power spectrum, smoothed (SMOOTH bins) and normalised to sum 1 (all
    zeros for a component with no power)."""
    from scipy.ndimage import gaussian_filter1d

    x = np.where(np.isfinite(x), x, 0.0)
    power = np.abs(np.fft.rfft(x - x.mean(axis=0), axis=0)) ** 2
    power = gaussian_filter1d(power, SMOOTH, axis=0, mode="nearest")
    total = power.sum(axis=0, keepdims=True)
    still = x.var(axis=0, keepdims=True) < 1e-12  # at rest (to rounding): no power
    return np.divide(power, total, out=np.zeros_like(power), where=(total > 0) & ~still)


def hellinger(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """(D,) Hellinger distances of normalised spectra (F, D): sqrt(1 − Σ sqrt(p q))."""
    return np.sqrt(np.clip(1.0 - np.sqrt(p * q).sum(axis=0), 0.0, 1.0))


def d_h(truth: np.ndarray, run: np.ndarray) -> tuple[float, tuple[float, ...]]:
    """(the mean over components, each component's) Hellinger distance of the power spectra; both
    runs are cut to the shorter length so the frequencies match."""
    n = min(len(truth), len(run))
    each = hellinger(spectra(truth[:n]), spectra(run[:n]))
    return float(each.mean()), tuple(float(v) for v in each)


def histograms(truth: np.ndarray, run: np.ndarray, components: int = 3) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """For the first `components` components: (bin centres, truth density, run density) over the
    truth's range widened by a tenth (a run's mass outside it is left out)."""
    out = []
    for j in range(min(components, truth.shape[1])):
        lo, hi = float(truth[:, j].min()), float(truth[:, j].max())
        pad = 0.1 * (hi - lo) + 1e-9
        edges = np.linspace(lo - pad, hi + pad, HIST_BINS + 1)
        col = run[:, j][np.isfinite(run[:, j])]
        a = np.histogram(truth[:, j], edges)[0] / len(truth)
        b = np.histogram(col, edges)[0] / max(len(run), 1)
        out.append(((edges[:-1] + edges[1:]) / 2, a, b))
    return out
