"""Echo state network: a fixed random leaky reservoir and a ridge-regression readout in closed form
(hyperparameters: rnn_tui.models.esn).

    r <- (1 - a) r + a tanh(W r + W_in u + b),   prediction = W_out phi(r) + b_out  (+ u when residual)

W is sparse (a `sparsity` fraction of zeros) and rescaled to the requested spectral radius; W_in is
uniform in +-input_scaling; b is uniform in +-BIAS_SCALE. phi(r) = r, or [r, r^2] for the quadratic
readout. Everything is drawn from torch's global RNG, so a seeded run is reproducible. Nothing is
trained by gradient descent: `fit_closed_form` solves the readout, stored as buffers (state_dict).
"""

from __future__ import annotations

from typing import Any

import warnings

import torch

from rnn_tui.errors import Stopped, UserError, check_stop
from rnn_tui.models.base import Forecaster, ModelSpec, with_residual
from rnn_tui.models.esn import ESNConfig

BIAS_SCALE = 0.1  # reservoir bias amplitude (uniform in +-BIAS_SCALE)
_MAX_DRAWS = 100  # redraws of a reservoir whose spectral radius is 0 (tiny, very sparse)
# A sparse (CSR) reservoir product beats the dense one on the CPU once the reservoir is large and
# sparse enough. Measured (one thread, float32): 800 units at 2% density, 2.6x faster for one
# sequence and 3-7x for batches of 32-1024; 800 units at 10%, 0.75x for one sequence; 64 units, 0.2-0.9x.
SPARSE_MIN_UNITS = 256
SPARSE_MAX_DENSITY = 0.05
GRAM_BLOCK = 400  # column block of the readout's normal equations (see normal_equations)


def spectral_radius(w: torch.Tensor) -> float:
    """Largest |eigenvalue| of a square matrix (computed in float64 on the CPU)."""
    return float(torch.linalg.eigvals(w.detach().to("cpu", torch.float64)).abs().max())


class ESN(Forecaster):
    trainable = False
    has_seq = True

    def __init__(self, spec: ModelSpec, cfg: ESNConfig):
        super().__init__(spec)
        dim, n = spec.dim, cfg.hidden_size
        self.leak_rate = float(cfg.leak_rate)
        self.washout = int(cfg.washout)
        self.ridge = float(cfg.ridge)
        self.quadratic = cfg.readout == "quadratic"
        self.residual = bool(cfg.residual)

        for _ in range(_MAX_DRAWS):
            w = (torch.rand(n, n) * 2 - 1) * (torch.rand(n, n) >= cfg.sparsity)
            rho = spectral_radius(w)
            if rho > 1e-12:
                break
        else:
            raise UserError(
                f"esn: a reservoir of {n} units with sparsity {cfg.sparsity:g} has spectral radius 0; "
                "use a larger model.hidden_size or a smaller model.sparsity"
            )
        self.register_buffer("w", w * (cfg.spectral_radius / rho))
        self.sparse = n >= SPARSE_MIN_UNITS and 1 - cfg.sparsity <= SPARSE_MAX_DENSITY
        self._csr, self._csr_key = None, None
        self.register_buffer("w_in", (torch.rand(n, dim) * 2 - 1) * cfg.input_scaling)
        self.register_buffer("b", (torch.rand(n) * 2 - 1) * BIAS_SCALE)
        n_feat = 2 * n if self.quadratic else n
        self.register_buffer("readout_w", torch.zeros(dim, n_feat))
        self.register_buffer("readout_b", torch.zeros(dim))

    # -- reservoir -----------------------------------------------------------------------------

    def recur(self, r: torch.Tensor) -> torch.Tensor:
        """r @ W^T for r (batch, N): by a CSR copy of W on the CPU when it pays (see SPARSE_MIN_UNITS),
        rebuilt whenever W changes (a loaded state, a new dtype)."""
        w = self.w
        if not (self.sparse and w.device.type == "cpu"):
            return r @ w.T
        key = (w.data_ptr(), w._version, w.dtype)
        if self._csr_key != key:
            with warnings.catch_warnings():  # "sparse CSR support is in beta"
                warnings.simplefilter("ignore")
                self._csr, self._csr_key = w.to_sparse_csr(), key
        return (self._csr @ r.T).T

    def update(self, r: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """One leaky reservoir step: r (batch, N), u (batch, D) -> the new r."""
        pre = torch.tanh(self.recur(r) + (u @ self.w_in.T + self.b))  # same order as run_reservoir
        a = self.leak_rate
        return pre if a == 1.0 else (1 - a) * r + a * pre

    def run_reservoir(self, x: torch.Tensor, r: torch.Tensor | None = None, stop=None,
                      keep: bool = True) -> tuple[torch.Tensor | None, torch.Tensor]:
        """Drive with x (batch, T, D) from r (zeros if None): (states after each input (batch, T, N), last r);
        keep=False keeps only the last r (states None). Raises errors.Stopped when `stop` (a
        threading.Event) is set (checked every few steps)."""
        if r is None:
            r = x.new_zeros(x.shape[0], self.w.shape[0])
        drive = x @ self.w_in.T + self.b  # input part of every step at once
        if x.shape[0] == 1 and self.sparse and x.device.type == "cpu" and not torch.is_grad_enabled():
            return self._run_one(drive[0], r[0], stop)
        states = []
        a = self.leak_rate
        for t in range(x.shape[1]):
            check_stop(stop, t)
            pre = torch.tanh(self.recur(r) + drive[:, t])
            r = pre if a == 1.0 else (1 - a) * r + a * pre
            if keep:
                states.append(r)
        return (torch.stack(states, dim=1) if keep else None), r

    def _run_one(self, drive: torch.Tensor, r: torch.Tensor, stop) -> tuple[torch.Tensor, torch.Tensor]:
        """run_reservoir for one long sequence (the fit's ~42,000 steps) on the CPU: the same update with
        scipy's CSR product in a numpy loop, ~12 us a step against ~50 us for torch's per-step overhead."""
        import numpy as np
        import scipy.sparse

        w = self.w.numpy()
        csr = scipy.sparse.csr_matrix(w)
        d = drive.numpy()
        out = np.empty((d.shape[0], w.shape[0]), dtype=w.dtype)
        x, a = r.numpy().copy(), self.leak_rate
        for t in range(d.shape[0]):
            check_stop(stop, t)
            pre = np.tanh(csr @ x + d[t])
            x = pre if a == 1.0 else (1 - a) * x + a * pre
            out[t] = x
        states = torch.from_numpy(out)
        return states.unsqueeze(0), states[-1:].clone()

    def features(self, r: torch.Tensor) -> torch.Tensor:
        """phi(r): r, or [r, r^2] for the quadratic readout (bias is separate)."""
        return torch.cat(self.feature_parts(r), dim=-1)

    def feature_parts(self, r: torch.Tensor) -> list[torch.Tensor]:
        return [r, r * r] if self.quadratic else [r]

    def readout(self, r: torch.Tensor) -> torch.Tensor:
        return self.features(r) @ self.readout_w.T + self.readout_b

    # -- Forecaster ----------------------------------------------------------------------------

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, r = self.run_reservoir(x, keep=False)
        return with_residual(self.readout(r), x[:, -1], self.residual)

    def forward_seq(self, x: torch.Tensor) -> torch.Tensor:
        states, _ = self.run_reservoir(x)
        return with_residual(self.readout(states), x, self.residual)

    def warmup(self, x: torch.Tensor) -> tuple[torch.Tensor, Any]:
        _, r = self.run_reservoir(x, keep=False)
        return with_residual(self.readout(r), x[:, -1], self.residual), r

    def step(self, y: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        r = self.update(state, y)
        return with_residual(self.readout(r), y, self.residual), r

    def num_params(self) -> int:
        return self.readout_w.numel() + self.readout_b.numel()

    # -- closed-form readout -------------------------------------------------------------------

    def check_training_data(self, samples: int) -> None:
        if samples - 1 <= self.washout:
            raise UserError(
                f"esn: the training series has {samples} samples, not more than model.washout + 1 = {self.washout + 1}; "
                "lower model.washout or use more data"
            )

    def training_pairs(self, series: torch.Tensor, stop=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Reservoir states and targets used by the fit: drive with series[:-1] from r = 0, drop the
        first `washout` states; state after u_t -> u_{t+1} (or u_{t+1} - u_t when residual)."""
        series = series.to(self.w.device, self.w.dtype)
        if series.dim() != 2 or series.shape[1] != self.spec.dim:
            raise ValueError(f"esn fit needs a (T, {self.spec.dim}) series, got shape {tuple(series.shape)}")
        self.check_training_data(series.shape[0])
        with torch.no_grad():
            states, _ = self.run_reservoir(series[:-1].unsqueeze(0), stop=stop)
        states = states[0, self.washout :]
        target = series[1:] - series[:-1] if self.residual else series[1:]
        return states, target[self.washout :]

    def fit_closed_form(self, series: torch.Tensor, stop=None) -> bool:
        """Ridge readout: [phi(R), 1] W = Y, W = (A^T A + ridge I)^{-1} A^T Y, solved in float64.
        The ridge penalty covers the bias column too (negligible for small ridge). False (nothing
        fitted) when `stop` is set while the reservoir runs (the longest part: ~0.5 ms a step)."""
        try:
            states, target = self.training_pairs(series, stop)
        except Stopped:
            return False
        parts = self.feature_parts(states.double())
        gram, rhs = normal_equations(parts, target.double())
        gram += self.ridge * torch.eye(gram.shape[-1], dtype=gram.dtype, device=gram.device)
        try:
            sol = torch.linalg.solve(gram, rhs)
        except RuntimeError:  # singular (ridge = 0 and too few states): minimum-norm solution
            sol = torch.linalg.pinv(gram) @ rhs
        with torch.no_grad():
            self.readout_w.copy_(sol[:-1].T.to(self.readout_w.dtype))
            self.readout_b.copy_(sol[-1].to(self.readout_b.dtype))
        return True


def normal_equations(parts: list[torch.Tensor], y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A^T A and A^T y for A = [parts..., 1] (rows along dim -2; a leading batch dim is allowed),
    without building A. A's columns are cut into blocks of at most GRAM_BLOCK and only the blocks on
    and above the diagonal are multiplied, the rest mirrored: for the [r, r^2] readout of 800 units,
    10 of 16 blocks."""
    ones = parts[0].new_ones(*parts[0].shape[:-1], 1)
    parts = [c for p in parts for c in p.split(GRAM_BLOCK, dim=-1)] + [ones]
    sizes = [p.shape[-1] for p in parts]
    n = sum(sizes)
    gram = parts[0].new_empty(*parts[0].shape[:-2], n, n)
    edges = [0]
    for s in sizes:
        edges.append(edges[-1] + s)
    for i, pi in enumerate(parts):
        ti = pi.transpose(-1, -2)
        for j in range(i, len(parts)):
            block = ti @ parts[j]
            gram[..., edges[i] : edges[i + 1], edges[j] : edges[j + 1]] = block
            if j != i:
                gram[..., edges[j] : edges[j + 1], edges[i] : edges[i + 1]] = block.transpose(-1, -2)
    rhs = torch.cat([p.transpose(-1, -2) @ y for p in parts], dim=-2)
    return gram, rhs
