"""Eigenvalues and spectral radius of a square matrix (notes 002: the gradient at lag k goes as the
k-th power of the recurrent matrix, so its largest |eigenvalue| decides vanishing or exploding)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Spectrum:
    """Eigenvalues of one square matrix, and its spectral radius (largest |eigenvalue|)."""

    eigenvalues: np.ndarray  # (n,) complex
    radius: float
    of: str  # which matrix: "W_hh of layer 1", "the reservoir W", "Jacobian of the one-step map at the last state"


def spectrum(matrix, of: str) -> Spectrum:
    """The eigenvalues (numpy, float64) of a square matrix (a numpy array or a torch tensor)."""
    a = _array(matrix)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"a spectrum needs a square matrix, got shape {a.shape}")
    eig = np.linalg.eigvals(a) if a.size else np.zeros(0, complex)
    return Spectrum(eig.astype(complex), float(np.abs(eig).max()) if eig.size else 0.0, of)


def _array(matrix) -> np.ndarray:
    if hasattr(matrix, "detach"):  # a torch tensor (torch is not imported here)
        matrix = matrix.detach().to("cpu").double().numpy()
    return np.asarray(matrix, dtype=np.float64)
