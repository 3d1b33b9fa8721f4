"""Honest forecast metrics in data units: RMSE by horizon over many starting points, and the valid
prediction time (first time the normalised error exceeds a threshold) for chaotic systems."""

from __future__ import annotations

import numpy as np

VPT_THRESHOLD = 0.4


def rmse_by_horizon(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """pred, truth (S, H, D) -> (H,): RMSE over starting points and components at each lead step."""
    err = np.asarray(pred, dtype=np.float64) - np.asarray(truth, dtype=np.float64)
    return np.sqrt(np.mean(err**2, axis=(0, 2)))


def normalised_error(pred: np.ndarray, truth: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(S, H, D) -> (S, H): sqrt(mean_d ((pred - truth) / scale_d)^2), scale = std of the true signal."""
    z = (np.asarray(pred, dtype=np.float64) - np.asarray(truth, dtype=np.float64)) / np.asarray(scale, dtype=np.float64)
    return np.sqrt(np.mean(z**2, axis=2))


def valid_prediction_steps(pred: np.ndarray, truth: np.ndarray, scale: np.ndarray, threshold: float = VPT_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """Steps of valid prediction per start: the number of lead steps before the normalised error
    first exceeds `threshold` (S,), and whether the forecast never exceeded it (censored) (S,)."""
    with np.errstate(over="ignore", invalid="ignore"):
        e = normalised_error(pred, truth, scale)
    over = ~(e <= threshold)  # a non-finite error (a forecast that blew up) is past the threshold
    never = ~over.any(axis=1)
    first = np.where(never, e.shape[1], over.argmax(axis=1))
    return first, never


def rmse_at_steps(curve: np.ndarray) -> dict[str, float]:
    """RMSE at lead steps 1, 2, 4, 8, ... (as far as the curve goes), keyed by the step as a string."""
    out = {}
    h = 1
    while h <= len(curve):
        out[str(h)] = float(curve[h - 1])
        h *= 2
    return out


def spread(values: np.ndarray) -> dict[str, float]:
    """Median and quartiles of a sample."""
    v = np.asarray(values, dtype=np.float64)
    return {"median": float(np.median(v)), "q25": float(np.percentile(v, 25)), "q75": float(np.percentile(v, 75))}
