"""Next-generation reservoir computing (NG-RC, an NVAR): no reservoir, only a feature vector made of
delayed states and their monomials, and a ridge readout solved in closed form that predicts the
increment (Gauthier et al. 2021; hyperparameters: rnn_tui.models.ngrc).

    lin_t  = [x_t, x_{t-s}, ..., x_{t-(k-1)s}]                  (k * D values)
    phi_t  = [1, lin_t, unique monomials of lin_t of degree 2 (and 3)]
    x_{t+1} = x_t + W phi_t

The unique monomials of degree d are the products lin_i lin_j ... with i <= j <= ..., in
lexicographic order (for d = 2: (0,0), (0,1), ..., (0,n-1), (1,1), ...: the paper's order).
A forecast carries the last (k-1)s+1 states as its delay buffer. Nothing is trained by gradient
descent: `fit_closed_form` solves W, stored as a buffer (state_dict).
"""

from __future__ import annotations

from math import comb

import torch

from rnn_tui.errors import Stopped, UserError
from rnn_tui.models.base import DelayForecaster, ModelSpec
from rnn_tui.models.ngrc import NGRCConfig
from rnn_tui.models.ngrc import probe as inside_probe
from rnn_tui.models.readout import RidgePath, as_work, row_blocks


class NGRC(DelayForecaster):
    trainable = False

    def __init__(self, spec: ModelSpec, cfg: NGRCConfig):
        super().__init__(spec)
        self.delays, self.skip, self.order = int(cfg.delays), int(cfg.skip), int(cfg.order)
        self.constant, self.ridge = bool(cfg.constant), cfg.ridge  # ridge: a float or "auto"
        self.path: RidgePath | None = None  # the last fit's SVD: its readout at any ridge
        self.span = cfg.span
        if spec.seq_len < self.span:
            raise UserError(
                f"ngrc: model.delays = {self.delays} with model.skip = {self.skip} needs a window of "
                f"(k-1)s+1 = {self.span} states, but train.seq_len is {spec.seq_len}; raise train.seq_len",
                key="train.seq_len",
            )
        # The monomials of degree d in lexicographic order are, for each i, lin_i times those of degree
        # d-1 whose first index is >= i: a contiguous tail of that list, which starts at tails[d][i].
        # So each degree is n_lin broadcast products of slices, with no gather.
        self.n_lin = self.delays * spec.dim
        self.tails = {d: [comb(self.n_lin + d - 2, d - 1) - comb(self.n_lin - i + d - 2, d - 1) for i in range(self.n_lin)]
                      for d in range(2, self.order + 1)}
        self.n_features = cfg.n_features(spec.dim)
        self.register_buffer("readout_w", torch.zeros(spec.dim, self.n_features))
        # Offsets back from the newest state of the delayed copies: 0, s, ..., (k-1)s.
        self.register_buffer("lags", torch.arange(self.delays, dtype=torch.long) * self.skip, persistent=False)

    # -- features ------------------------------------------------------------------------------

    def linear(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, L, D) windows -> (batch, k*D): [x_t, x_{t-s}, ...] of the newest state t."""
        L = x.shape[1]
        if L < self.span:
            raise ValueError(f"ngrc needs windows of at least {self.span} states, got {L}")
        return x[:, L - 1 - self.lags].flatten(1)  # (batch, k, D) -> (batch, k*D)

    def features(self, lin: torch.Tensor) -> torch.Tensor:
        """(rows, k*D) linear parts -> (rows, n_features): [1, lin, degree 2, (degree 3)]."""
        return self.features_t(lin.T).T

    def features_t(self, lin_t: torch.Tensor) -> torch.Tensor:
        """The same, transposed: (k*D, rows) -> (n_features, rows). Each feature is a contiguous row, so
        building the features of a long training series is a sequence of row products."""
        n, rows = lin_t.shape
        out = lin_t.new_empty(self.n_features, rows)
        at = 0
        if self.constant:
            out[0] = 1
            at = 1
        out[at : at + n] = lin_t
        below, at = out[at : at + n], at + n  # the monomials of the degree below
        for d, tails in self.tails.items():
            first = at
            for i, tail in enumerate(tails):
                count = below.shape[0] - tail
                torch.mul(lin_t[i : i + 1], below[tail:], out=out[at : at + count])
                at += count
            below = out[first:at]
        return out

    # -- Forecaster ----------------------------------------------------------------------------

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, -1] + self.features(self.linear(x)) @ self.readout_w.T

    def probe(self, x: torch.Tensor, y: torch.Tensor, window: torch.Tensor, horizon: int):
        """Forecaster.probe: the one-step map's spectrum and the readout by feature group (models/ngrc/probe.py)."""
        return inside_probe.probe(self, window)

    # -- closed-form readout -------------------------------------------------------------------

    def check_training_data(self, samples: int) -> None:
        if samples <= self.span:
            raise UserError(
                f"ngrc: the training split has {samples} samples; model.delays and model.skip need more than "
                f"(k-1)s+1 = {self.span} (a full delay buffer and the state after it); lower them or use more data",
                key="model.delays",
            )

    def training_pairs(self, series: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The linear parts and targets of the fit from a (T, D) series: for every t with a full delay
        buffer (t = (k-1)s, ..., T-2), lin_t -> x_{t+1} - x_t. Shapes (T - span, k*D), (T - span, D)."""
        if series.dim() != 2 or series.shape[1] != self.spec.dim:
            raise ValueError(f"ngrc fit needs a (T, {self.spec.dim}) series, got shape {tuple(series.shape)}")
        self.check_training_data(series.shape[0])
        t = torch.arange(self.span - 1, series.shape[0] - 1, device=series.device)
        lin = series[t.unsqueeze(1) - self.lags.to(series.device)].flatten(1)  # (rows, k, D) -> (rows, k*D)
        return lin, series[t + 1] - series[t]

    def window_design(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """For windows x (B, L, D): (the features of the last state (B, n_features), x[:, -1]): the
        prediction after the window is x[:, -1] + features @ readout_w^T."""
        return self.features(self.linear(x)), x[:, -1]

    def fit_closed_form(self, series: torch.Tensor, work=None) -> bool:
        """Ridge readout: W minimises |A W^T - Y|^2 + ridge |W|^2 over the features A of the training
        series and the increments Y (the constant is penalised too, as in the paper); ridge = 0 is
        plain least squares (minimum norm). Solved by the SVD of A (rnn_tui.models.readout), which
        gives the readout at every ridge (`self.path`; ridge "auto": the trainer picks one on the
        validation split). False (nothing fitted) when `work`'s stop flag is set before the fit is done
        (read after every block of rows; its phase is "solving the readout")."""
        # float64 throughout: monomials of nearby delayed states are nearly collinear (on Lorenz-63 at
        # dt = 0.01 with k = 4 and cubic terms, A's condition number is ~1e17), so float32's 7 digits
        # would leave no correct digit in W. Not the normal equations (A^T A + ridge I) W^T = A^T Y:
        # those square A's condition number, and with a ridge as small as the best here (1e-12)
        # A^T A + ridge I is singular in float64.
        work = as_work(work)
        lin, target = self.training_pairs(series.to(self.readout_w.device, torch.float64))
        blocks = ((self.features_t(lin[i:j].T).T, target[i:j]) for i, j in row_blocks(lin.shape[0], self.n_features + target.shape[1]))
        try:
            self.path = RidgePath.of_blocks(blocks, work, lin.shape[0])
        except Stopped:
            return False
        self.set_readout(self.path.solve(0.0 if self.ridge == "auto" else self.ridge))
        return True

    def set_readout(self, sol: torch.Tensor) -> None:
        """Take a readout solved for the features (n_features, D)."""
        with torch.no_grad():
            self.readout_w.copy_(sol.T.to(self.readout_w.device, self.readout_w.dtype))
