"""`rnn-tui bench skill`: train the presets headless and set their forecast errors beside the figures
the course notes publish (Fablet et al. 2018's Lorenz-63 table, the Lotka-Volterra and KdV experiments)."""

from __future__ import annotations

import time

import numpy as np

from rnn_tui import config
from rnn_tui.core.rollout import free_run
from rnn_tui.core.trainer import train
from rnn_tui.systems import get_system

# Fablet et al. 2018 (notes 001): RMSE at t0+h, t0+4h, t0+8h with h = 0.01. "<1e-6" is stored as 1e-6.
PUBLISHED = {
    ("mlp", False): (1e-6, 0.018, 0.044),
    ("rk4", False): (1e-6, 1e-6, 1e-6),
    ("rk4", True): (1e-6, 0.054, 0.14),
}
LORENZ_MODELS = {  # label -> (preset, preset for the noisy experiment or None to add the noise, extra overrides)
    "mlp": ("lorenz63_mlp", None, ()),
    "rk4": ("lorenz63_rk4", "lorenz63_rk4_noisy", ()),
    "lstm": ("lorenz63_lstm", None, ()),
    "gru": ("lorenz63_lstm", None, ("model.arch=gru",)),
    "esn": ("lorenz63_esn", None, ()),
    "ngrc": ("lorenz63_ngrc_std", None, ()),
}
NOISE_STD = 0.5
QUICK = {  # tiny sizes for the test suite: checks structure, not skill
    "lorenz63_mlp": ["system.steps=1500", "train.epochs=2"],
    "lorenz63_rk4": ["system.steps=1500", "train.epochs=2", "train.lbfgs_steps=5"],
    "lorenz63_rk4_noisy": ["system.steps=1500", "train.epochs=2", "train.lbfgs_steps=5", "train.rollout_steps=2"],
    "lorenz63_lstm": ["system.steps=1500", "train.epochs=1", "model.hidden_size=8"],
    "lorenz63_esn": ["system.steps=3000", "model.hidden_size=50", "train.seq_len=50", "model.washout=20"],
    # cubic with ridge 1e-12 on 2,100 noisy points forecasts NaN: a smaller, stiffer readout here
    "lorenz63_ngrc_std": ["system.steps=3000", "model.order=2", "model.delays=2", "model.ridge=1e-3"],
    "lotka_volterra_rnn": ["train.epochs=2"],
    "lotka_volterra_lstm": ["train.epochs=2", "model.hidden_size=8"],
    "kdv_convlstm": ["system.steps=80", "train.epochs=1", "model.filters=4"],
    "lorenz96_esn": ["system.steps=1500", "model.hidden_size=50", "train.seq_len=50", "model.washout=20"],
    "lorenz96_convlstm": ["system.steps=400", "train.epochs=1", "model.filters=4"],
    "ks_esn": ["system.steps=1500", "model.hidden_size=50", "train.seq_len=50", "model.washout=20"],
    "ks_convlstm": ["system.steps=400", "train.epochs=1", "model.filters=4"],
    "lorenz96_ngrc": ["system.steps=600", "model.ridge=1e-2"],
    "ks_ngrc": ["system.steps=600", "model.ridge=1e-2"],
    "sine_rnn": ["train.epochs=2"],
    "sine_lstm": ["train.epochs=2", "model.hidden_size=8"],
    "noisy_sine_rnn": ["train.epochs=2"],
}


def _run(preset: str, extra: list[str], quick: bool):
    # the long run ([climate]) at full size only: quick sizes check the table's structure
    overrides = list(extra) + (QUICK.get(preset, []) if quick else ["climate.enabled=true"]) + ["rollout.every=0"]
    cfg = config.load(preset, overrides=overrides)
    t0 = time.perf_counter()
    result = train(cfg)
    return result, time.perf_counter() - t0


def lorenz(quick: bool, presets: list[str] | None = None) -> dict:
    rows = []
    for noisy in (False, True):
        for label, (preset, noisy_preset, extra) in LORENZ_MODELS.items():
            if presets and (noisy_preset if noisy and noisy_preset else preset) not in presets:
                continue
            # the display horizon; the scored one is ~25 Lyapunov times (rollout.score_horizon), short when quick
            over = list(extra) + (["rollout.horizon=100", "rollout.score_horizon=100"] if quick else ["rollout.horizon=2000"])
            if noisy:
                over.append(f"system.noise={NOISE_STD}")
                preset = noisy_preset or preset
            result, seconds = _run(preset, over, quick)
            s = result.summary
            e = s.evaluation
            rmse = e.rmse_at_steps if e is not None else {}
            scores = e.to_dict() if e is not None else {}
            rows.append({
                "model": label,
                "noise": NOISE_STD if noisy else 0.0,
                "preset": preset,
                "status": s.status,
                "rmse": [rmse.get(k) for k in ("1", "4", "8")],
                "published": PUBLISHED.get((label, noisy)),
                "vpt_lyapunov": scores.get("vpt_lyapunov"),
                "vpt_censored_fraction": e.vpt.censored_fraction if e is not None and e.vpt is not None else None,
                "n_starts": e.n_starts if e is not None else None,
                "train_seconds": round(seconds, 1),
                "fit_seconds": s.fit_time_s,  # closed-form readouts (ESN, NG-RC): the fit alone
                "climate": s.climate.to_dict() if s.climate is not None else None,  # the long run (core/climate.py)
            })
    return {"rows": rows}


FIELD_PRESETS = ("lorenz96_esn", "lorenz96_ngrc", "lorenz96_convlstm", "ks_esn", "ks_ngrc", "ks_convlstm")


def fields(quick: bool, presets: list[str] | None = None) -> dict:
    """The two chaotic fields (issue 16): each preset's VPT over the test starts, beside the valid
    ground-truth time of its data (the time two integrations of the same start part by the threshold)."""
    rows = []
    for preset in FIELD_PRESETS:
        if presets and preset not in presets:
            continue
        result, seconds = _run(preset, ["rollout.horizon=100", "rollout.score_horizon=100"] if quick else [], quick)
        s, e = result.summary, result.summary.evaluation
        scores = e.to_dict() if e is not None else {}
        rows.append({"preset": preset, "system": s.system, "status": s.status, "vpt_lyapunov": scores.get("vpt_lyapunov"),
                     "n_starts": e.n_starts if e is not None else None, "train_seconds": round(seconds, 1),
                     "fit_seconds": s.fit_time_s, "climate": s.climate.to_dict() if s.climate is not None else None})
    return {"rows": rows}


def _peaks(x: np.ndarray) -> np.ndarray:
    from scipy.signal import find_peaks

    idx, _ = find_peaks(x, prominence=0.1 * (np.ptp(x) + 1e-12))
    return idx


def lotka_volterra(quick: bool) -> dict:
    """Free run over five periods from the end of training: amplitude and phase error, positivity."""
    system = get_system("lotka_volterra")
    period = system.period
    rows = []
    for preset in ("lotka_volterra_rnn", "lotka_volterra_lstm"):
        for seq_len in (1, 10):
            cfg0 = config.load(preset)
            dt = cfg0.system.dt or system.dt
            n_pred = int(round(5 * period / dt))
            over = [f"train.seq_len={seq_len}", f"rollout.horizon={n_pred}"]
            result, seconds = _run(preset, over, quick)
            prep, model = result.prep, result.model
            start = prep.n_train
            H = min(n_pred, prep.clean.shape[0] - start)
            pred = prep.denormalise(free_run(model, prep.clean[start - seq_len : start].unsqueeze(0), H)[0].double().cpu().numpy())
            truth = prep.traj.values[start : start + H]
            amp_true = np.ptp(truth, axis=0)
            amp_pred = np.ptp(pred, axis=0)
            amp_err = float(np.max(np.abs(amp_pred - amp_true) / amp_true))
            pt, pp = _peaks(truth[:, 0]), _peaks(pred[:, 0])
            n = min(len(pt), len(pp))
            phase = float(np.abs(pp[n - 1] - pt[n - 1]) * dt / period) if n else None
            rows.append({
                "preset": preset, "seq_len": seq_len, "periods": round(H * dt / period, 2),
                "amplitude_error": amp_err, "phase_error_periods": phase,
                "peaks_true": int(len(pt)), "peaks_pred": int(len(pp)),
                "stays_positive": bool(np.all(pred > 0)), "min_pred": float(pred.min()),
                "status": result.status, "train_seconds": round(seconds, 1),
            })
    return {"rows": rows, "period": period}


def kdv(quick: bool) -> dict:
    result, seconds = _run("kdv_convlstm", ["rollout.horizon=50"], quick)
    r = result.forecast
    truth, pred = r.truth, r.prediction
    rel = np.linalg.norm(pred - truth, axis=1) / np.linalg.norm(truth, axis=1)
    at = {str(k): float(rel[k - 1]) for k in (10, 50) if k <= len(rel)}
    return {"relative_l2_at_frame": at, "status": result.status, "train_seconds": round(seconds, 1)}


def sines(quick: bool) -> dict:
    rows = []
    for preset in ("sine_rnn", "sine_lstm", "noisy_sine_rnn"):
        result, seconds = _run(preset, [], quick)
        r = result.forecast
        rows.append({"preset": preset, "rollout_rmse": float(np.sqrt(np.mean((r.prediction - r.truth) ** 2))),
                     "steps": int(len(r.t)), "status": result.status, "train_seconds": round(seconds, 1)})
    return {"rows": rows}


EXPERIMENTS = {"lorenz": lorenz, "fields": fields, "lotka_volterra": lotka_volterra, "kdv": kdv, "sines": sines}


def run(quick: bool = False, only: list[str] | None = None, presets: list[str] | None = None) -> dict:
    """Every experiment, or those named in `only`; `presets` keeps only those presets' rows of the
    Lorenz-63 and field experiments (and skips the other experiments unless `only` names them)."""
    out = {"quick": quick}
    for name, fn in EXPERIMENTS.items():
        if only and name not in only:
            continue
        if presets and not only and name not in ("lorenz", "fields"):
            continue
        out[name] = fn(quick, presets) if name in ("lorenz", "fields") else fn(quick)
    return out


def _g(x, fmt="{:.2g}"):
    return "n/a" if x is None else fmt.format(x)


def climate_table(res: dict) -> list[str]:
    """The long runs ([climate], from the test split): fate, the model's own exponents against the
    truth's, Kaplan–Yorke dimensions, D_stsp and D_H against their truth-against-truth floors, seconds."""
    rows = [(r.get("model", r.get("preset")), r.get("noise", 0.0), r["climate"], r.get("vpt_lyapunov"))
            for key in ("lorenz", "fields") if key in res for r in res[key]["rows"] if r.get("climate")]
    if not rows:
        return []
    out = ["Long runs (rnn_tui/core/climate.py, from the test split): the model's own Lyapunov exponents (per time unit,",
           "± standard error) against the truth's, Kaplan-Yorke dimension (model/truth), D_stsp and D_H (floor: two true runs)",
           f"{'model':<14} {'noise':>5} {'VPT':>6}  {'fate':<11} {'λ1':>14} {'λ2':>14} {'λ3':>14} {'KY':>11} {'D_stsp (floor)':>15} "
           f"{'D_H (floor)':>13} {'s':>5}"]
    for label, noise, c, v in rows:
        lam = [f"{x:.3f}±{e:.3f}" for x, e in zip(c["lyapunov_model"], c["lyapunov_model_error"] or [0.0] * 9)] + ["-"] * 3
        ky = f"{_g(c['kaplan_yorke_model'], '{:.3f}')}/{_g(c['kaplan_yorke_truth'], '{:.2f}')}"
        out.append(f"{label:<14} {noise:>5.1f} {_g(v['median'] if v else None, '{:.2f}'):>6}  {c['fate']:<11} {lam[0]:>14} "
                   f"{lam[1]:>14} {lam[2]:>14} {ky:>11} {_g(c['d_stsp'], '{:.3f}') + ' (' + _g(c['d_stsp_floor'], '{:.3f}') + ')':>15} "
                   f"{_g(c['d_h'], '{:.3f}') + ' (' + _g(c['d_h_floor'], '{:.3f}') + ')':>13} {c['seconds']:>5.1f}")
    truth = rows[0][2]["lyapunov_truth"]
    out += [f"truth ({'lorenz63' if len(truth) == 3 else 'system'}): " + ", ".join(f"{x:g}" for x in truth), ""]
    return out


def table(res: dict) -> str:
    lines = ["rnn-tui bench skill" + ("  (quick: tiny sizes, not a measure of skill)" if res.get("quick") else ""), ""]
    if "lorenz" in res:
        lines.append("Lorenz-63, RMSE at t0+h / t0+4h / t0+8h (h = 0.01), published (Fablet et al. 2018) beside ours;")
        lines.append("valid prediction time in Lyapunov times (median [q25, q75]) over the test starting points, threshold 0.4,")
        lines.append("scored over about 25 Lyapunov times; '≥': horizon-limited (half or more of the forecasts never left the")
        lines.append("threshold: a lower bound). Every preset's settings were chosen on its validation split, never the test split.")
        lines.append(f"{'model':<6} {'noise':>5}  {'ours: h':>9} {'4h':>9} {'8h':>9}   {'published':<22} {'VPT (Lyap.)':<22} {'train s':>7} {'fit s':>5}")
        for r in res["lorenz"]["rows"]:
            pub = "/".join("<1e-6" if v <= 1e-6 else f"{v:g}" for v in r["published"]) if r["published"] else "-"
            v = r["vpt_lyapunov"]
            bound = "≥" if v and v.get("horizon_limited") else ""
            vpt = f"{bound}{v['median']:.2f} [{v['q25']:.2f}, {v['q75']:.2f}]" if v else "n/a"
            e = r["rmse"]
            fit = _g(r.get("fit_seconds"), "{:.1f}") if r.get("fit_seconds") is not None else "-"
            lines.append(f"{r['model']:<6} {r['noise']:>5.1f}  {_g(e[0]):>9} {_g(e[1]):>9} {_g(e[2]):>9}   {pub:<22} {vpt:<22} {r['train_seconds']:>7} {fit:>5}")
        lines.append("")
    if "fields" in res:
        lines.append("Chaotic fields (Lorenz-96 N = 40, F = 8; Kuramoto-Sivashinsky L = 22): VPT in Lyapunov times (median")
        lines.append("[q25, q75]) over the test starts, threshold 0.4, and the valid ground-truth time of the data")
        lines.append(f"{'preset':<20} {'VPT (Lyap.)':<22} {'truth valid to':>14} {'train s':>7} {'fit s':>5}")
        for r in res["fields"]["rows"]:
            v = r["vpt_lyapunov"]
            vpt = f"{'≥' if v.get('horizon_limited') else ''}{v['median']:.2f} [{v['q25']:.2f}, {v['q75']:.2f}]" if v else "n/a"
            truth = _g(v.get("truth_valid") if v else None, "{:.1f}")
            fit = _g(r.get("fit_seconds"), "{:.1f}") if r.get("fit_seconds") is not None else "-"
            lines.append(f"{r['preset']:<20} {vpt:<22} {truth:>14} {r['train_seconds']:>7} {fit:>5}")
        lines.append("")
    lines += climate_table(res)
    if "lotka_volterra" in res:
        lines.append("Lotka-Volterra, free run over five periods from the end of training (notes 000)")
        lines.append(f"{'preset':<22} {'seq':>3} {'amp. err':>9} {'phase (periods)':>16} {'positive':>9} {'min':>8}")
        for r in res["lotka_volterra"]["rows"]:
            lines.append(f"{r['preset']:<22} {r['seq_len']:>3} {r['amplitude_error']:>9.1%} {_g(r['phase_error_periods'], '{:.3f}'):>16} "
                         f"{str(r['stays_positive']):>9} {r['min_pred']:>8.3g}")
        lines.append("")
    if "kdv" in res:
        k = res["kdv"]["relative_l2_at_frame"]
        lines.append("KdV ConvLSTM, relative L2 error of the free run: " + ", ".join(f"frame {f}: {v:.3g}" for f, v in k.items()))
        lines.append("")
    if "sines" in res:
        for r in res["sines"]["rows"]:
            lines.append(f"{r['preset']}: rollout RMSE over the validation period ({r['steps']} steps) {r['rollout_rmse']:.3g}")
    return "\n".join(lines)
