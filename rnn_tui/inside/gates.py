"""LSTM and GRU gates recomputed from the weights (torch's layouts: LSTM rows i, f, g, o; GRU rows
r, z, n), and the fraction of saturated gate values (Karpathy, Johnson & Fei-Fei 2015)."""

from __future__ import annotations

import numpy as np

LSTM_GATES = ("input", "forget", "output")  # the sigmoid gates; g is the cell candidate (tanh)
GRU_GATES = ("reset", "update")
LOW, HIGH = 0.1, 0.9  # a gate value below LOW or above HIGH is saturated


def lstm_gates(x, h, w_ih, w_hh, b_ih, b_hh) -> dict:
    """One step of torch's LSTMCell, its gates: (batch, H) tensors for input, forget, output (sigmoid)
    and cell (the tanh candidate g)."""
    import torch

    i, f, g, o = (x @ w_ih.T + b_ih + h @ w_hh.T + b_hh).chunk(4, dim=-1)
    return {"input": torch.sigmoid(i), "forget": torch.sigmoid(f), "cell": torch.tanh(g), "output": torch.sigmoid(o)}


def gru_gates(x, h, w_ih, w_hh, b_ih, b_hh) -> dict:
    """One step of torch's GRUCell, its gates: reset r and update z (sigmoid), candidate n (tanh)."""
    import torch

    gi, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    ir, iz, inn = gi.chunk(3, dim=-1)
    hr, hz, hn = gh.chunk(3, dim=-1)
    r, z = torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)
    return {"reset": r, "update": z, "candidate": torch.tanh(inn + r * hn)}


def saturation(values: np.ndarray) -> float:
    """Fraction of values below LOW or above HIGH."""
    v = np.asarray(values)
    return float(np.mean((v < LOW) | (v > HIGH))) if v.size else float("nan")
