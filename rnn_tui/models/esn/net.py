"""Echo state network: a fixed random leaky reservoir and a ridge-regression readout in closed form
(hyperparameters: rnn_tui.models.esn).

    r <- (1 - a) r + a tanh(W r + W_in u + b),   prediction = W_out phi(r) + b_out  (+ u when residual)

W is sparse (a `sparsity` fraction of zeros) and rescaled to the requested spectral radius; W_in is
uniform in +-input_scaling; b is uniform in +-BIAS_SCALE. phi(r) = r, or [r, r^2] for the quadratic
readout. Everything is drawn from torch's global RNG, so a seeded run is reproducible. Nothing is
trained by gradient descent: `fit_closed_form` solves the readout (rnn_tui.models.readout: the SVD of
the features, accurate at small ridge), stored as buffers (state_dict).
"""

from __future__ import annotations

from typing import Any

import warnings

import torch

from rnn_tui.errors import STOP_EVERY, Stopped, UserError, check_stop
from rnn_tui.models.base import Forecaster, ModelSpec, with_residual
from rnn_tui.models.esn import ESNConfig
from rnn_tui.models.esn import probe as inside_probe
from rnn_tui.models.readout import RidgePath, as_work, row_blocks
from rnn_tui.work import Work

BIAS_SCALE = 0.1  # reservoir bias amplitude (uniform in +-BIAS_SCALE)
_MAX_DRAWS = 100  # redraws of a reservoir whose spectral radius is 0 (tiny, very sparse)
# A sparse (CSR) reservoir product beats the dense one on the CPU once the reservoir is large and
# sparse enough. Measured (one thread, float32): 800 units at 2% density, 2.6x faster for one
# sequence and 3-7x for batches of 32-1024; 800 units at 10%, 0.75x for one sequence; 64 units, 0.2-0.9x.
SPARSE_MIN_UNITS = 256
SPARSE_MAX_DENSITY = 0.05


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
        self.ridge = cfg.ridge  # a float, or "auto" (chosen on validation by the trainer)
        self.path: RidgePath | None = None  # the last fit's SVD: its readout at any ridge
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
        if not (self.sparse and self.w.device.type == "cpu"):
            return r @ self.w.T
        return (self._csr_matrix() @ r.T).T

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
        if not keep and self._fast(x):
            rt = r.T.contiguous()
            for t in range(x.shape[1]):
                check_stop(stop, t)
                rt = self._update_t(rt, x[:, t])
            return None, rt.T
        drive = x @ self.w_in.T + self.b  # input part of every step at once
        if x.shape[0] == 1 and self.sparse and x.device.type == "cpu" and not torch.is_grad_enabled():
            return self._run_one(drive[0], r[0], Work(stop))
        states = []
        a = self.leak_rate
        for t in range(x.shape[1]):
            check_stop(stop, t)
            pre = torch.tanh(self.recur(r) + drive[:, t])
            r = pre if a == 1.0 else (1 - a) * r + a * pre
            if keep:
                states.append(r)
        return (torch.stack(states, dim=1) if keep else None), r

    # Batched inference on the CPU keeps the states transposed, (N, batch): the CSR product then reads
    # them column after column (B = 200, 800 units at 2%: 0.25 ms a step against 0.56 ms for r @ W^T by
    # (W r^T)^T), and the input term W_in u^T + b is made per step (a (batch, T, N) drive of a loss's
    # 1,024 windows of 200 steps would be 1.3 GB in float64).

    def _fast(self, x: torch.Tensor) -> bool:
        return x.device.type == "cpu" and not torch.is_grad_enabled()

    def _update_t(self, rt: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """One reservoir step on transposed states: rt (N, batch), u (batch, D) -> the new rt."""
        pre = torch.addmm(self.b.unsqueeze(1), self.w_in, u.T)
        pre += self._csr_matrix() @ rt if self.sparse else self.w @ rt
        torch.tanh(pre, out=pre)
        a = self.leak_rate
        return pre if a == 1.0 else (1 - a) * rt + a * pre

    def _csr_matrix(self) -> torch.Tensor:
        w = self.w
        key = (w.data_ptr(), w._version, w.dtype)
        if self._csr_key != key:
            with warnings.catch_warnings():  # "sparse CSR support is in beta"
                warnings.simplefilter("ignore")
                self._csr, self._csr_key = w.to_sparse_csr(), key
        return self._csr

    def _readout_t(self, rt: torch.Tensor) -> torch.Tensor:
        """The readout of transposed states rt (N, batch) -> (batch, D), without building [r, r^2]."""
        n = rt.shape[0]
        w = self.readout_w
        out = torch.addmm(self.readout_b.unsqueeze(1), w[:, :n], rt)
        if self.quadratic:
            out = torch.addmm(out, w[:, n:], rt * rt)
        return out.T

    def carry_run(self, x: torch.Tensor, horizon: int, stop=None) -> torch.Tensor | None:
        """rollout.roll's carried free run (B, horizon, D) on the CPU without gradients, on transposed
        states (see _update_t); None elsewhere (roll then steps through warmup/step)."""
        if not self._fast(x):
            return None
        rt = x.new_zeros(self.w.shape[0], x.shape[0])
        for t in range(x.shape[1]):
            check_stop(stop, t)
            rt = self._update_t(rt, x[:, t])
        y = with_residual(self._readout_t(rt), x[:, -1], self.residual)
        out = x.new_empty(x.shape[0], horizon, x.shape[2])
        out[:, 0] = y
        for t in range(1, horizon):
            check_stop(stop, t)
            rt = self._update_t(rt, y)
            y = with_residual(self._readout_t(rt), y, self.residual)
            out[:, t] = y
        return out

    def _run_one(self, drive: torch.Tensor, r: torch.Tensor, work: Work) -> tuple[torch.Tensor, torch.Tensor]:
        """run_reservoir for one long sequence (the fit's ~42,000 steps) on the CPU: the same update with
        scipy's CSR product in a numpy loop, ~12 us a step against ~50 us for torch's per-step overhead.
        Reported as the phase "driving the reservoir" of `work` (whose stop flag ends it: errors.Stopped)."""
        import numpy as np
        import scipy.sparse

        w = self.w.numpy()
        csr = scipy.sparse.csr_matrix(w)
        d = drive.numpy()
        out = np.empty((d.shape[0], w.shape[0]), dtype=w.dtype)
        x, a = r.numpy().copy(), self.leak_rate
        with work.phase("driving the reservoir", d.shape[0]) as phase:
            for t in range(d.shape[0]):
                if t % 256 == 0:
                    phase.tick(t)
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

    def probe(self, x: torch.Tensor, y: torch.Tensor, window: torch.Tensor, horizon: int):
        """Forecaster.probe: the reservoir's Inside (models/esn/probe.py)."""
        return inside_probe.probe(self, window, horizon)

    # -- closed-form readout -------------------------------------------------------------------

    def check_training_data(self, samples: int) -> None:
        if samples - 1 <= self.washout:
            raise UserError(
                f"esn: the training series has {samples} samples, not more than model.washout + 1 = {self.washout + 1}; "
                "lower model.washout or use more data"
            )

    def training_pairs(self, series: torch.Tensor, work: Work | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Reservoir states and targets used by the fit: drive with series[:-1] from r = 0, drop the
        first `washout` states; state after u_t -> u_{t+1} (or u_{t+1} - u_t when residual). The drive
        is `work`'s phase "driving the reservoir" (errors.Stopped once its stop flag is set)."""
        work = as_work(work)
        series = series.to(self.w.device, self.w.dtype)
        if series.dim() != 2 or series.shape[1] != self.spec.dim:
            raise ValueError(f"esn fit needs a (T, {self.spec.dim}) series, got shape {tuple(series.shape)}")
        self.check_training_data(series.shape[0])
        x = series[:-1].unsqueeze(0)
        with torch.no_grad():
            if self.sparse and x.device.type == "cpu":
                states, _ = self._run_one((x @ self.w_in.T + self.b)[0], x.new_zeros(self.w.shape[0]), work)
            else:
                with work.phase("driving the reservoir", x.shape[1]) as phase:
                    states, _ = self.run_reservoir(x, stop=_Ticking(phase))
        states = states[0, self.washout :]
        target = series[1:] - series[:-1] if self.residual else series[1:]
        return states, target[self.washout :]

    def design(self, r: torch.Tensor) -> torch.Tensor:
        """The rows of the readout's regression for states r (..., N): [phi(r), 1] (the bias last)."""
        return torch.cat(self.feature_parts(r) + [r.new_ones(*r.shape[:-1], 1)], dim=-1)

    def window_design(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """For windows x (B, L, D) from a zero state: (design rows after the last input (B, F + 1), the
        part of the prediction that is not the readout (B, D): x[:, -1] when residual, else 0). The
        prediction after the window is base + design @ W for the readout W = [readout_w, readout_b]^T."""
        _, r = self.run_reservoir(x, keep=False)
        base = x[:, -1] if self.residual else torch.zeros_like(x[:, -1])
        return self.design(r), base

    def fit_closed_form(self, series: torch.Tensor, work: Work | None = None) -> bool:
        """The ridge readout W minimising |[phi(R), 1] W - Y|^2 + ridge |W|^2 over the training states R and
        targets Y, by the SVD of the features (rnn_tui.models.readout: accurate at small ridge, and the
        solution for every ridge, kept as `self.path`). The ridge penalty covers the bias too (negligible
        at small ridge). ridge "auto" fits at ridge 0 here; the trainer then picks the ridge of lowest
        validation loss on the path (core/closed_form.py). False (nothing fitted) when `work`'s stop
        flag is set during the fit; its phases are "driving the reservoir" and "solving the readout"."""
        work = as_work(work)
        try:
            states, target = self.training_pairs(series, work)
            n = states.shape[0]
            blocks = ((self.design(states[i:j].double()), target[i:j].double())
                      for i, j in row_blocks(n, self.readout_w.shape[1] + 1 + target.shape[1]))
            self.path = RidgePath.of_blocks(blocks, work, n)
        except Stopped:
            return False
        self.set_readout(self.path.solve(0.0 if self.ridge == "auto" else self.ridge))
        return True

    def set_readout(self, sol: torch.Tensor) -> None:
        """Take a readout solved for the design rows (F + 1, D): the weights, then the bias."""
        with torch.no_grad():
            self.readout_w.copy_(sol[:-1].T.to(self.readout_w.device, self.readout_w.dtype))
            self.readout_b.copy_(sol[-1].to(self.readout_b.device, self.readout_b.dtype))


class _Ticking:
    """A stop flag for run_reservoir that ticks a Phase as it is read (every errors.STOP_EVERY steps)."""

    def __init__(self, phase) -> None:
        self.phase, self.steps = phase, 0

    def is_set(self) -> bool:
        self.steps += STOP_EVERY
        self.phase.tick(self.steps)  # raises Stopped once the work's stop flag is set
        return False
