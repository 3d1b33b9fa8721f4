"""Local NG-RC on a periodic 1-D field (hyperparameters: rnn_tui.models.ngrc_local). For each site i:

    lin_i(t) = [x_{i-r..i+r}(t), x_{i-r..i+r}(t-s), ..., x_{i-r..i+r}(t-(k-1)s)]   (k (2r+1) values)
    x_i(t+1) = x_i(t) + w . phi(lin_i(t))                                           (one w for every site)

with phi the constant, lin and its unique monomials of degree 2 (and 3), exactly NG-RC's
(models/ngrc/net.py). The neighbours wrap around (periodic). Every (time, site) pair is one row of
the ridge regression, solved by the SVD of the features (models/readout.py).
"""

from __future__ import annotations

import torch

from rnn_tui.errors import Stopped, UserError
from rnn_tui.models import registry
from rnn_tui.models.base import DelayForecaster, ModelSpec
from rnn_tui.models.ngrc import probe as ngrc_probe
from rnn_tui.models.ngrc_local import LocalNGRCConfig
from rnn_tui.models.probe import readout_groups, window_probe
from rnn_tui.models.readout import MIN_BLOCK_ROWS, RidgePath, as_work


class LocalNGRC(DelayForecaster):
    trainable = False

    def __init__(self, spec: ModelSpec, cfg: LocalNGRCConfig):
        super().__init__(spec)
        self.radius, self.delays, self.skip = int(cfg.radius), int(cfg.delays), int(cfg.skip)
        self.ridge, self.span = cfg.ridge, cfg.span
        if spec.seq_len < self.span:
            raise UserError(f"ngrc_local: model.delays = {self.delays} with model.skip = {self.skip} needs a window of "
                            f"(k-1)s+1 = {self.span} states, but train.seq_len is {spec.seq_len}; raise train.seq_len",
                            key="train.seq_len")
        if 2 * self.radius + 1 > spec.dim:
            raise UserError(f"ngrc_local: a stencil of 2 * {self.radius} + 1 sites is wider than the field's {spec.dim}; "
                            "lower model.radius", key="model.radius")
        # NG-RC's feature map on a stencil of 2r+1 "components" (the monomial tables are its own)
        inner = registry.ARCHS["ngrc"](delays=cfg.delays, skip=cfg.skip, order=cfg.order, constant=cfg.constant, ridge=0.0)
        self.phi = registry.build(ModelSpec(dim=2 * self.radius + 1, seq_len=spec.seq_len), inner)
        self.n_features = self.phi.n_features
        self.register_buffer("readout_w", torch.zeros(1, self.n_features))
        self.register_buffer("lags", torch.arange(self.delays, dtype=torch.long) * self.skip, persistent=False)
        self.path: RidgePath | None = None

    def local_linear(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, N) windows -> (B, N, k (2r+1)): each site's stencil at each delay, delay-major."""
        lagged = x[:, x.shape[1] - 1 - self.lags]  # (B, k, N)
        sten = torch.stack([torch.roll(lagged, shifts=-j, dims=2) for j in range(-self.radius, self.radius + 1)], dim=-1)
        return sten.permute(0, 2, 1, 3).flatten(2)  # (B, N, k, 2r+1) -> (B, N, k (2r+1))

    def window_design(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Windows (B, L, N) -> (features (B N, F), x_i(t) (B N, 1)): the next state of every site of
        every window is base + features @ w^T."""
        lin = self.local_linear(x)
        return self.phi.features(lin.reshape(-1, lin.shape[-1])), x[:, -1].reshape(-1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats, base = self.window_design(x)
        return (base + feats @ self.readout_w.T).view(x.shape[0], x.shape[2])

    def probe(self, x: torch.Tensor, y: torch.Tensor, window: torch.Tensor, horizon: int):
        """Forecaster.probe: the one-step map's spectrum and the shared readout by feature group of a site's stencil."""
        groups = ngrc_probe.groups(self.phi, 2 * self.radius + 1)
        return window_probe(self, window, self.span, trained=False, readout=readout_groups(self.readout_w, groups, self.path, self.ridge))

    def check_training_data(self, samples: int) -> None:
        if samples <= self.span:
            raise UserError(f"ngrc_local: the training split has {samples} samples; model.delays and model.skip need more "
                            f"than (k-1)s+1 = {self.span}", key="model.delays")

    def fit_closed_form(self, series: torch.Tensor, work=None) -> bool:
        """One ridge regression over every (time, site) of the training series (T, N): the features of
        site i at t against x_i(t+1) - x_i(t), by the SVD of the features (phase "solving the readout").
        False (nothing fitted) when `work`'s stop flag is set during the fit."""
        work = as_work(work)
        series = series.to(self.readout_w.device, torch.float64)
        self.check_training_data(series.shape[0])
        T, N = series.shape
        times = torch.arange(self.span - 1, T - 1, device=series.device)
        per = max(1, MIN_BLOCK_ROWS // N)  # time steps per block of rows

        def blocks():
            for i in range(0, len(times), per):
                t = times[i : i + per]
                windows = series[t.unsqueeze(1) - (self.span - 1) + torch.arange(self.span, device=series.device)]  # (b, span, N)
                feats, base = self.window_design(windows)
                yield feats, (series[t + 1].reshape(-1, 1) - base)

        try:
            self.path = RidgePath.of_blocks(blocks(), work, len(times) * N)
        except Stopped:
            return False
        self.set_readout(self.path.solve(0.0 if self.ridge == "auto" else self.ridge))
        return True

    def set_readout(self, sol: torch.Tensor) -> None:
        """Take a readout solved for the features (F, 1)."""
        with torch.no_grad():
            self.readout_w.copy_(sol.T.to(self.readout_w.device, self.readout_w.dtype))
