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

import torch

from rnn_tui.errors import Stopped, UserError, check_stop
from rnn_tui.models.base import Forecaster, ModelSpec, with_residual
from rnn_tui.models.esn import ESNConfig

BIAS_SCALE = 0.1  # reservoir bias amplitude (uniform in +-BIAS_SCALE)
_MAX_DRAWS = 100  # redraws of a reservoir whose spectral radius is 0 (tiny, very sparse)


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
        self.register_buffer("w_in", (torch.rand(n, dim) * 2 - 1) * cfg.input_scaling)
        self.register_buffer("b", (torch.rand(n) * 2 - 1) * BIAS_SCALE)
        n_feat = 2 * n if self.quadratic else n
        self.register_buffer("readout_w", torch.zeros(dim, n_feat))
        self.register_buffer("readout_b", torch.zeros(dim))

    # -- reservoir -----------------------------------------------------------------------------

    def update(self, r: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """One leaky reservoir step: r (batch, N), u (batch, D) -> the new r."""
        pre = torch.tanh(r @ self.w.T + (u @ self.w_in.T + self.b))  # same order as run_reservoir
        a = self.leak_rate
        return pre if a == 1.0 else (1 - a) * r + a * pre

    def run_reservoir(self, x: torch.Tensor, r: torch.Tensor | None = None, stop=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Drive with x (batch, T, D) from r (zeros if None): (states after each input (batch, T, N), last r).
        Raises errors.Stopped when `stop` (a threading.Event) is set (checked every few steps)."""
        if r is None:
            r = x.new_zeros(x.shape[0], self.w.shape[0])
        drive = x @ self.w_in.T + self.b  # input part of every step at once
        states = []
        a = self.leak_rate
        for t in range(x.shape[1]):
            check_stop(stop, t)
            pre = torch.tanh(r @ self.w.T + drive[:, t])
            r = pre if a == 1.0 else (1 - a) * r + a * pre
            states.append(r)
        return torch.stack(states, dim=1), r

    def features(self, r: torch.Tensor) -> torch.Tensor:
        """phi(r): r, or [r, r^2] for the quadratic readout (bias is separate)."""
        return torch.cat([r, r * r], dim=-1) if self.quadratic else r

    def readout(self, r: torch.Tensor) -> torch.Tensor:
        return self.features(r) @ self.readout_w.T + self.readout_b

    # -- Forecaster ----------------------------------------------------------------------------

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, r = self.run_reservoir(x)
        return with_residual(self.readout(r), x[:, -1], self.residual)

    def forward_seq(self, x: torch.Tensor) -> torch.Tensor:
        states, _ = self.run_reservoir(x)
        return with_residual(self.readout(states), x, self.residual)

    def warmup(self, x: torch.Tensor) -> tuple[torch.Tensor, Any]:
        _, r = self.run_reservoir(x)
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
        feats = self.features(states.double())
        a = torch.cat([feats, feats.new_ones(feats.shape[0], 1)], dim=1)
        y = target.double()
        gram = a.T @ a + self.ridge * torch.eye(a.shape[1], dtype=a.dtype, device=a.device)
        rhs = a.T @ y
        try:
            sol = torch.linalg.solve(gram, rhs)
        except RuntimeError:  # singular (ridge = 0 and too few states): minimum-norm solution
            sol = torch.linalg.pinv(gram) @ rhs
        with torch.no_grad():
            self.readout_w.copy_(sol[:-1].T.to(self.readout_w.dtype))
            self.readout_b.copy_(sol[-1].to(self.readout_b.dtype))
        return True
