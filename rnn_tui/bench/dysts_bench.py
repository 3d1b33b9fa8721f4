"""`rnn-tui bench dysts`: one preset's architecture and settings trained on N flows of the dysts
catalogue (Gilpin 2021; its own benchmark is forecasting across the catalogue with one set of
settings), the median VPT of each in Lyapunov times, and the catalogue's largest exponent beside our
Benettin estimate of the truth's (a check of both)."""

from __future__ import annotations

import time

import numpy as np

from rnn_tui import config
from rnn_tui.core.trainer import train
from rnn_tui.errors import UserError
from rnn_tui.systems import dysts_catalogue, dysts_flow

# The data settings of the runs: the preset's number of samples (or --steps), at each flow's own
# sample step (period / 100) whatever dt the preset gives Lorenz-63, so that every flow is sampled alike.
DATA = ["system.params={}", "system.dt=0", "system.noise=0", "rollout.every=0"]
QUICK = ["model.hidden_size=50", "train.seq_len=50", "model.washout=20", "rollout.horizon=50", "rollout.score_horizon=50"]


def pick(n: int, only: list[str] | None = None) -> list[str]:
    """`only` (checked), else n flows spread evenly over the catalogue's integrable ones in name order
    (every len/n-th: no choosing the easy ones)."""
    dysts_catalogue.catalogue()  # without dysts: one line naming the extra
    usable = dysts_catalogue.names(usable_only=True)
    if only:
        from rnn_tui.systems import get_system

        return [get_system(name if name.startswith(dysts_catalogue.PREFIX) else dysts_catalogue.PREFIX + name).name
                for name in only]
    if not 1 <= n <= len(usable):
        raise UserError(f"--systems must be between 1 and {len(usable)} (the flows rnn-tui integrates), got {n}")
    return [usable[int(i * len(usable) / n)] for i in range(n)]


def _one(name: str, preset: str, steps: int, quick: bool, lyapunov_times: float) -> dict:
    """One flow: the preset trained on it and scored, and the Benettin estimate of its truth."""
    e = dysts_catalogue.entry(name)
    row = {"system": name, "dim": e.dimension, "lyapunov_catalogue": e.lyapunov,
           "lyapunov_spectrum_first": e.spectrum[0] if e.spectrum else None}
    overrides = [f'system.name="{name}"', *([f"system.steps={steps}"] if steps else []), *DATA, *(QUICK if quick else [])]
    t0 = time.perf_counter()
    try:
        result = train(config.load(preset, overrides=overrides))
        mean, se = dysts_flow.benettin(name, steps=2000 if quick else 4000, lyapunov_times=lyapunov_times)
    except UserError as exc:
        return {**row, "status": "refused", "error": str(exc)}
    s = result.summary
    v = s.evaluation.vpt if s.evaluation is not None else None
    row.update(status=s.status, seconds=round(time.perf_counter() - t0, 1), lyapunov_benettin=mean, lyapunov_benettin_se=se)
    if v is not None:
        row.update(vpt_lyapunov=v.lyapunov.median, vpt_q25=v.lyapunov.q25, vpt_q75=v.lyapunov.q75,
                   vpt_time=v.time.median, vpt_benettin=v.time.median * mean, censored=v.censored_fraction,
                   truth_lyapunov=v.truth_lyapunov)
    return row


def run(n: int, preset: str, steps: int = 0, quick: bool = False, only: list[str] | None = None) -> dict:
    """`steps` samples of each flow (0: the preset's own number)."""
    names = pick(n, only)
    steps = 2000 if quick else (steps or config.load(preset).system.steps or dysts_flow.STEPS)  # an unknown preset is named here
    rows = [_one(name, preset, steps, quick, 10.0 if quick else 100.0) for name in names]
    vpts = [r["vpt_lyapunov"] for r in rows if r.get("vpt_lyapunov") is not None and np.isfinite(r["vpt_lyapunov"])]
    return {"preset": preset, "steps": steps, "source": dysts_catalogue.LYAPUNOV_SOURCE, "rows": rows,
            "median_vpt_lyapunov": float(np.median(vpts)) if vpts else None, "scored": len(vpts)}


def _f(v, fmt: str = ".2f") -> str:
    return "-" if v is None or not np.isfinite(v) else format(v, fmt)


def _vpt(r: dict) -> str:
    """The median VPT, '≥' where half or more of the forecasts never failed within the scored horizon
    (the horizon's value, a lower bound), '!' where it is longer than the truth itself is valid."""
    v = r.get("vpt_lyapunov")
    text = ("≥" if (r.get("censored") or 0) >= 0.5 else "") + _f(v)
    truth = r.get("truth_lyapunov")
    return text + ("!" if v is not None and truth is not None and v > truth else "")


def table(res: dict) -> str:
    lines = [f"preset {res['preset']} on {len(res['rows'])} dysts flows ({res['steps']} samples each, dt = period / 100); "
             f"VPT: median over the test starts, in Lyapunov times of the catalogue's λ1 ({res['source']}); "
             "≥: horizon-limited (a lower bound); !: longer than the truth's valid time (truth column)",
             f"{'system':<28} {'dim':>3} {'VPT':>7} {'q25-q75':>12} {'cens':>5} {'truth':>6} {'λ1 cat':>8} "
             f"{'λ1 spec':>8} {'λ1 ours':>14} {'VPT ours':>8}"]
    for r in res["rows"]:
        if r["status"] == "refused":
            lines.append(f"{r['system']:<28} {r['dim']:>3} refused: {r['error']}")
            continue
        ours = f"{_f(r.get('lyapunov_benettin'), '.3f')}±{_f(r.get('lyapunov_benettin_se'), '.3f')}"
        lines.append(f"{r['system']:<28} {r['dim']:>3} {_vpt(r):>7} "
                     f"{_f(r.get('vpt_q25')) + '-' + _f(r.get('vpt_q75')):>12} {_f(r.get('censored'), '.0%'):>5} "
                     f"{_f(r.get('truth_lyapunov'), '.1f'):>6} {_f(r['lyapunov_catalogue'], '.3f'):>8} "
                     f"{_f(r.get('lyapunov_spectrum_first'), '.3f'):>8} {ours:>14} {_f(r.get('vpt_benettin')):>8}"
                     + ("" if r["status"] == "finished" else f"  ({r['status']})"))
    lines.append(f"overall: median of the {res['scored']} medians {_f(res['median_vpt_lyapunov'])} Lyapunov times "
                 "(catalogue λ1; horizon-limited ones counted at their bound)")
    return "\n".join(lines)
