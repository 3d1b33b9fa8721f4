"""The long-run evaluation after training ([climate]): the trained model left to run for a long time
from a held-out window, its fate, its invariant statistics against two long true runs (D_stsp, D_H
and their truth-against-truth floors), and its own Lyapunov exponents by Benettin's QR method on its
closed-loop map, hidden state included (rnn_tui/climate/). Stoppable and reported through a
`rnn_tui.work.Work`, like every long phase."""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from rnn_tui.climate import fate as fate_mod
from rnn_tui.climate import stats
from rnn_tui.climate import truth as truth_mod
from rnn_tui.climate.lyapunov import kaplan_yorke, spectrum
from rnn_tui.climate.result import Climate
from rnn_tui.core.data import Prepared
from rnn_tui.core.rollout import free_run
from rnn_tui.systems import get_system
from rnn_tui.work import Work

TRANSIENT_LYAPUNOV = 5.0  # Lyapunov times that align the tangent vectors before they are counted
AUTO_EXPONENTS = 5  # climate.exponents = 0: all of a state's exponents up to this many
SHOWN = 4000  # samples of each long run kept for the app's view


@dataclass(frozen=True)
class ClimateView:
    """What the app's climate screen draws: the runs (data units, the last SHOWN samples), their
    smoothed power spectra and histograms."""

    names: tuple[str, ...]
    phase: tuple[int, int]  # the components of the attractor's projection
    dt: float
    model: np.ndarray  # (S, D)
    truth: np.ndarray  # (S, D)
    freqs: np.ndarray  # (F,) frequencies (cycles per time unit)
    spectrum_model: np.ndarray  # (F, D)
    spectrum_truth: np.ndarray
    histograms: list  # per component: (centres, truth density, model density)


@dataclass(frozen=True)
class Outcome:
    climate: Climate
    view: ClimateView | None


def lyapunov_time(cfg, system) -> float:
    """Time units per Lyapunov time (1 where the system's exponent is not known)."""
    lam = system.lyapunov_for(cfg.system.params)
    return 1.0 / lam if lam else 1.0


def start_index(prep: Prepared, split: str) -> int:
    """The first sample of the held-out split the long run starts in (the test split's, else the validation's)."""
    T = prep.clean.shape[0]
    if split == "test" and prep.n_test >= 1:
        return T - prep.n_test
    return prep.n_train


def resolve_mode(model, mode: str) -> str:
    if mode == "auto":
        return "carry" if getattr(model, "carry_matches_training", True) else "window"
    return mode


def evaluate_climate(model, prep: Prepared, cfg, work: Work, split: str = "test") -> Outcome | None:
    """The Climate of a trained model (and the app's view of it); None when stopped."""
    from rnn_tui.errors import Stopped

    t0 = time.perf_counter()
    try:
        return _evaluate(model, prep, cfg, work, split, t0)
    except Stopped:
        return None


def _evaluate(model, prep: Prepared, cfg, work: Work, split: str, t0: float) -> Outcome:
    c, system = cfg.climate, get_system(cfg.system.name)
    dt = float(prep.traj.dt)
    t_lyap = lyapunov_time(cfg, system)
    n = int(math.ceil(c.length * t_lyap / dt))
    run = long_run(model, prep, cfg, n, work, split)  # (n, D) data units
    with work.phase("integrating the long true runs", 2 * n) as phase:
        a, b = truth_mod.long_runs(system, cfg.system.params, dt, n, cfg.system.seed)
        phase.tick(2 * n)
    mean, std = a.mean(axis=0), np.where(a.std(axis=0) > 1e-12, a.std(axis=0), 1.0)
    na, nb, nm = (a - mean) / std, (b - mean) / std, (run - mean) / std
    f = fate_mod.fate(nm, dt, continuous=prep.traj.kind != "map")
    with work.phase("comparing the invariant statistics", 4, "divergences") as phase:
        d_stsp, floor_stsp = stats.d_stsp(na, nm), stats.d_stsp(na, nb)
        phase.tick(2)
        d_h, floor_h = stats.d_h(na, nm)[0], stats.d_h(na, nb)[0]
    truth_exp = truth_mod.spectrum(system, cfg.system.params)
    exps, errs, tangent, note = (), (), "", ""
    if f.name == "blew_up":
        note = "no exponents: the long run blew up"
    elif c.lyapunov:
        try:
            sp = model_spectrum(model, prep, cfg, t_lyap, work, split)
            exps, errs, tangent = sp.exponents, sp.errors, sp.method
        except FloatingPointError as exc:
            note = f"no exponents: {exc}"
    climate = Climate(
        fate=f.name, lyapunov_model=exps, lyapunov_truth=truth_exp, kaplan_yorke_model=kaplan_yorke(exps) if exps else None,
        kaplan_yorke_truth=kaplan_yorke(truth_exp) if len(truth_exp) > 1 else None,
        d_stsp=d_stsp, d_h=d_h, d_stsp_floor=floor_stsp, d_h_floor=floor_h, seconds=round(time.perf_counter() - t0, 3),
        fate_detail=f.text(), lyapunov_model_error=errs, tangent=tangent, length_steps=n, note=note)
    return Outcome(climate, _view(prep, run, a, na, nm, dt, system))


def long_run(model, prep: Prepared, cfg, n: int, work: Work, split: str) -> np.ndarray:
    """(n, D) the model's free run from the first window of the held-out split, in data units (K > 1
    members: the first member's own run)."""
    L = prep.seq_len
    s = start_index(prep, split)
    window = prep.clean[s - L : s].unsqueeze(0)
    with work.phase("the long free run", n) as phase:
        out = free_run(model, model.tile(window), n, resolve_mode(model, cfg.rollout.mode), stop=work)
        phase.tick(n)
    run = model.split_members(out)[0, 0].double().cpu().numpy()
    with np.errstate(all="ignore"):
        return prep.denormalise(run)


def closed_loop(model, mode: str):
    """The model's own map on its whole state: "carry" (prediction, hidden state) -> the next;
    "window" the last L states -> the window one step on (what the free run iterates)."""
    if mode == "window":
        return lambda w: torch.cat([w[:, 1:], model(w).unsqueeze(1)], dim=1)
    return lambda s: model.step(s[0], s[1])


def model_spectrum(model, prep: Prepared, cfg, t_lyap: float, work: Work, split: str):
    """The model's k leading exponents (climate/lyapunov.py) in float64 (`float64`), averaged over
    `climate.starts` windows of the held-out split, each synchronised on true data and then free."""
    net = float64(model)
    was = net.training
    net.eval()
    try:
        return _spectrum(net, prep, cfg, t_lyap, work, split)
    finally:
        net.train(was)


def float64(model):
    """The model in float64: itself where it is already (no copy: a reservoir's cached sparse matrix
    does not deep-copy), else a float64 copy; itself where it cannot be copied."""
    if all(t.dtype == torch.float64 for t in (*model.parameters(), *model.buffers()) if t.is_floating_point()):
        return model
    try:
        return copy.deepcopy(model).double()
    except RuntimeError:
        return model


def _spectrum(net, prep: Prepared, cfg, t_lyap: float, work: Work, split: str):
    c, dt = cfg.climate, float(prep.traj.dt)
    mode = resolve_mode(net, cfg.rollout.mode)
    L, T = prep.seq_len, prep.clean.shape[0]
    s0 = start_index(prep, split)
    idx = np.unique(np.linspace(s0, T - 1, c.starts).round().astype(int))
    idx = idx[idx >= L]
    dtype = next((t.dtype for t in (*net.parameters(), *net.buffers()) if t.is_floating_point()), torch.float64)
    windows = torch.stack([prep.clean[i - L : i] for i in idx]).to(dtype)
    with torch.no_grad():
        state = windows if mode == "window" else net.warmup(windows)
    k = min(c.exponents or min(AUTO_EXPONENTS, prep.dim), _state_size(state))
    steps = int(math.ceil(c.spectrum_length * t_lyap / dt))
    transient = int(math.ceil(TRANSIENT_LYAPUNOV * t_lyap / dt))
    every = max(1, int(round(0.1 * t_lyap / dt)))
    method = {"finite_differences": "finite differences"}.get(c.tangent, c.tangent)
    with work.phase("the model's Lyapunov exponents", transient + steps) as phase:
        return spectrum(closed_loop(net, mode), state, k, steps, dt, every=every, transient=transient,
                        tick=phase.tick, method=method)


def _state_size(state) -> int:
    from rnn_tui.climate.lyapunov import flatten

    return sum(x[0].numel() for x in flatten(state)[0])


def _view(prep: Prepared, run, truth, na, nm, dt: float, system) -> ClimateView:
    names = tuple(prep.traj.names)
    phase = system.phase or ((0, 1) if len(names) > 1 else (0, 0))
    m = min(len(na), len(nm))
    freqs = np.fft.rfftfreq(m, d=dt)
    shown = min(8, truth.shape[1])  # a field: its first grid points
    return ClimateView(names, phase, dt, run[-SHOWN:], truth[-SHOWN:], freqs, stats.spectra(nm[:m, :shown]),
                       stats.spectra(na[:m, :shown]), stats.histograms(na, nm, 3))
