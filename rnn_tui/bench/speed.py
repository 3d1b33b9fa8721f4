"""`rnn-tui bench speed`: the project's trainer against the notes' plain PyTorch loop, measured in
one run on this machine, every figure given as a ratio to the reference measured beside it."""

from __future__ import annotations

import importlib
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch

from rnn_tui import config
from rnn_tui.bench.reference import NotesModel, run_reference
from rnn_tui.core import events as ev
from rnn_tui.core.data import prepare
from rnn_tui.core.rollout import roll
from rnn_tui.core.trainer import pick_device, train
from rnn_tui.models.base import ModelSpec
from rnn_tui.models.registry import build


@dataclass(frozen=True)
class Case:
    name: str
    overrides: tuple[str, ...]  # on top of `preset` (or the defaults)
    preset: str | None = None
    epochs: int = 3


def cases(quick: bool) -> list[Case]:
    if quick:
        return [
            Case("sine rnn (tiny)", ("system.name=sine", "model.arch=rnn", "model.hidden_size=8", "system.steps=200",
                                     "train.seq_len=10", "train.batch_size=16"), epochs=2),
        ]
    return [
        Case("sine rnn: seq 20, batch 32, hidden 64", ("system.name=sine", "model.arch=rnn", "model.hidden_size=64",
                                                       "train.seq_len=20", "train.batch_size=32", "train.val_fraction=0.2",
                                                       "train.test_fraction=0"), epochs=60),
        Case("lorenz63 lstm: seq 50, batch 128, hidden 128", ("system.name=lorenz63", "model.arch=lstm", "model.hidden_size=128",
                                                              "train.seq_len=50", "train.batch_size=128", "system.steps=10000"), epochs=1),
        Case("kdv convlstm preset", (), preset="kdv_convlstm", epochs=2),
    ]


def _cfg(case: Case, device: str, extra: tuple[str, ...] = ()):
    base = ["train.lr=1e-3", "train.optimizer=adam", "train.schedule=none", f"train.epochs={case.epochs}",
            "rollout.every=0", "rollout.horizon=20", f"train.device={device}"]
    return config.load(case.preset, overrides=list(case.overrides) + base + list(extra))


def _reference_model(cfg, spec: ModelSpec):
    if cfg.model.arch in ("rnn", "lstm", "gru"):
        return NotesModel(cfg.model.arch, spec.dim, cfg.model.hidden_size)
    return build(spec, cfg.model)  # no torch.nn layer exists for it (ConvLSTM): our module, their loop


def measure_reference(cfg) -> dict:
    device = torch.device("cpu")  # the notes' loop runs where its tensors are: the CPU
    prep = prepare(cfg, device, torch.float32)
    spec = ModelSpec(dim=prep.dim, seq_len=cfg.train.seq_len, field=prep.traj.kind == "field", dt=prep.traj.dt)
    torch.manual_seed(0)
    model = _reference_model(cfg, spec)
    train_part = prep.clean[: prep.n_train]
    val_part = prep.clean[prep.n_train : prep.n_train + prep.n_val]
    r = run_reference(model, train_part, val_part, cfg.train.seq_len, cfg.train.batch_size, cfg.train.lr, cfg.train.epochs)
    return {"steps_per_s": r["steps"] / r["seconds"], "samples_per_s": r["samples"] / r["seconds"], "steps": r["steps"]}


def _rate(events: list) -> dict:
    epochs = [e for e in events if isinstance(e, ev.EpochEnd)]
    last = epochs[-1]
    batch = next(e for e in events if isinstance(e, ev.Started))
    return {"steps_per_s": last.step / last.elapsed_s, "samples_per_s": float(np.mean([e.samples_per_s for e in epochs])),
            "steps": last.step, "device": batch.device, "step_mode": _final_mode(events, batch.step_mode)}


def _final_mode(events: list, started: str) -> str:
    """The step mode the run ended with (a CUDA graph is captured, and self-checked, at the first full batch)."""
    done = [e for e in events if isinstance(e, ev.Finished)]
    return done[-1].summary.step_mode if done else started


def measure_ours(cfg) -> dict:
    seen: list = []
    train(cfg, seen.append)
    return _rate(seen)


def measure_app(hooks: str, cfg) -> dict | None:
    """Throughput with the app on screen, through the app's own bench hooks (`hooks`: the module
    that has `run_in_app(cfg) -> events`, named by the front end that runs the bench, so that the
    bench knows nothing of the screen). None where it cannot run (no textual on the GPU machines)."""
    seen = importlib.import_module(hooks).run_in_app(cfg)
    return _rate(seen) if seen else None


def measure_batched(cfg) -> dict:
    """train.ensemble = K members trained as one batched model: the optimisation steps of all
    members together per second of training."""
    seen: list = []
    result = train(cfg, seen.append)
    last = [e for e in seen if isinstance(e, ev.EpochEnd)][-1]
    steps = sum(m.steps for m in result.summary.ensemble.members)
    return {"member_steps_per_s": steps / last.elapsed_s, "member_steps": steps, "members": cfg.train.ensemble}


def measure_separate(cfg) -> dict:
    """The same K members as K ordinary runs one after another (seeds train.seed + j, each its
    member's exact twin): their steps together per second of their training."""
    k, seed = cfg.train.ensemble, cfg.train.seed
    steps, seconds = 0, 0.0
    for j in range(k):
        one = cfg.model_copy(update={"train": cfg.train.model_copy(update={"ensemble": 1, "seed": seed + j})})
        seen: list = []
        train(one, seen.append)
        last = [e for e in seen if isinstance(e, ev.EpochEnd)][-1]
        steps, seconds = steps + last.step, seconds + last.elapsed_s
    return {"member_steps_per_s": steps / seconds, "member_steps": steps, "members": k}


def measure_loop(cfg) -> dict:
    """Steps per second of the epoch loop with what runs between epochs (a probe where train.inspect is
    on): from the start to the last epoch's end or probe, whichever came later."""
    marks: list = []

    def on_event(e) -> None:
        if isinstance(e, (ev.Started, ev.EpochEnd, ev.InsideReady)):
            marks.append((time.perf_counter(), e))

    train(cfg, on_event)
    steps = [e for _, e in marks if isinstance(e, ev.EpochEnd)][-1].step
    return {"steps_per_s": steps / (marks[-1][0] - marks[0][0]), "steps": steps,
            "probes": sum(isinstance(e, ev.InsideReady) for _, e in marks)}


MEASURES = {"reference": measure_reference, "ours": measure_ours, "batched": measure_batched, "separate": measure_separate,
            "loop": measure_loop}
__all__ = ["MEASURES", "config", "measure_app", "tta_reference", "tta_ours"]  # what in_fresh_process calls


def in_fresh_process(call: str, optional: bool = False):
    """Evaluate `call` (an expression over this module's names) in a fresh interpreter and return
    its JSON result: every figure pays the same first-call costs (allocations, kernel set-up such
    as oneDNN's LSTM primitives) as a run a user starts, and torch's CPU thread pool belongs to it
    alone. A failure raises, or gives None when `optional`."""
    import json

    code = f"import json\nfrom rnn_tui.bench.speed import *\nprint(json.dumps({call}))\n"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900)
    if p.returncode != 0:
        last = (p.stderr.strip().splitlines() or ["no output"])[-1]
        if optional:
            print(f"bench speed: {call.split('(')[0]} gave no figure: {last}", file=sys.stderr)
            return None
        raise RuntimeError(f"bench speed: {call.split('(')[0]} failed: {last}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def measure_fresh(what: str, cfg, hooks: str | None = None) -> dict | None:
    """`MEASURES[what](cfg)` in a fresh interpreter; what = "app": measure_app through `hooks` (None
    where the app could not run)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "config.toml")
        with open(path, "w") as fh:
            fh.write(config.dumps(cfg))
        load = f"config.load(config={path!r})"
        if what == "app":
            return in_fresh_process(f"measure_app({hooks!r}, {load})", optional=True)
        return in_fresh_process(f"MEASURES[{what!r}]({load})")


def _tta_overrides(quick: bool) -> tuple[list[str], int]:
    cap_epochs = 3 if quick else 300
    common = ["system.name=sine", "model.arch=rnn", "model.hidden_size=64", "train.seq_len=20", "train.batch_size=32",
              "train.val_fraction=0.2", "train.test_fraction=0", "rollout.every=0", f"train.epochs={cap_epochs}", "train.lr=1e-3"]
    if quick:
        common += ["system.steps=200", "model.hidden_size=8", "train.seq_len=10"]
    return common, cap_epochs


def tta_reference(threshold: float, quick: bool) -> dict:
    """The notes' loop with the notes' settings on the raw signal (its MSE is in data units
    already): wall seconds and epochs until the validation MSE first falls below `threshold`."""
    common, cap_epochs = _tta_overrides(quick)
    cfg = config.load(None, overrides=common + ["train.optimizer=adam", "train.device=cpu"])
    prep = prepare(cfg, torch.device("cpu"), torch.float32)
    raw = torch.as_tensor(prep.traj.values, dtype=torch.float32)
    val = prep.traj.values[prep.n_train :, 0]
    persistence = float(np.mean((val[1:] - val[:-1]) ** 2))  # predicting "no change": the bar to clear
    torch.manual_seed(0)
    model = NotesModel("rnn", 1, cfg.model.hidden_size)
    hit: dict = {"seconds": None, "epochs": None, "persistence_mse": persistence}

    def on_epoch(epoch, val_mse, elapsed):
        if val_mse < threshold:
            hit.update(epochs=epoch, seconds=elapsed)
            return True
        return False

    run_reference(model, raw[: prep.n_train], raw[prep.n_train :], cfg.train.seq_len, 32, 1e-3, cap_epochs, on_epoch=on_epoch)
    return hit


def tta_ours(threshold: float, quick: bool, device: str) -> dict:
    """Ours: the same RNN on the same data, with normalisation (always on) and a residual output
    (the network learns the increment), scored by the same validation MSE in data units."""
    from rnn_tui.core.trainer import Control

    common, _ = _tta_overrides(quick)
    cfg = config.load(None, overrides=common + ["model.residual=true", f"train.device={device}"])
    control = Control()
    hit: dict = {"seconds": None, "epochs": None}

    def on_event(e):
        if isinstance(e, ev.EpochEnd) and e.val_rmse_units**2 < threshold and hit["seconds"] is None:
            hit.update(epochs=e.epoch, seconds=e.elapsed_s)
            control.stop.set()

    train(cfg, on_event, control)
    return hit


def time_to_accuracy(threshold: float, quick: bool, device: str) -> dict:
    """Wall seconds until the sine configuration's validation MSE (data units) first falls below
    `threshold`: the notes' loop against ours, each in a fresh interpreter."""
    ref = in_fresh_process(f"tta_reference({threshold!r}, {quick!r})")
    ours = in_fresh_process(f"tta_ours({threshold!r}, {quick!r}, {device!r})")
    persistence = ref.pop("persistence_mse")
    ratio = ref["seconds"] / ours["seconds"] if ref["seconds"] and ours["seconds"] else None
    return {"threshold_mse": threshold, "persistence_mse": persistence, "reference": ref, "ours": ours,
            "speedup": ratio, "epoch_cap": _tta_overrides(quick)[1]}


@torch.no_grad()
def rollout_speed(steps: int, seq_len: int = 20) -> dict:
    """Seconds per 10,000 free-running steps, LSTM hidden 64 on Lorenz-63: carried state vs re-fed window."""
    cfg = config.load(None, overrides=["system.name=lorenz63", "model.arch=lstm", "model.hidden_size=64", f"train.seq_len={seq_len}"])
    torch.manual_seed(0)
    model = build(ModelSpec(dim=3, seq_len=seq_len), cfg.model).eval()
    window = torch.randn(1, seq_len, 3)

    t0 = time.perf_counter()
    roll(model, window, steps, mode="carry")
    carried = time.perf_counter() - t0

    t0 = time.perf_counter()
    w = window
    for _ in range(steps):
        y = model(w)
        w = torch.cat([w[:, 1:], y.unsqueeze(1)], dim=1)
    refeed = time.perf_counter() - t0
    scale = 10_000 / steps
    return {"steps": steps, "seq_len": seq_len, "ours_s_per_10k": carried * scale, "refeed_s_per_10k": refeed * scale,
            "speedup": refeed / carried}


def startup(quick: bool, app_hooks: str | None = None) -> dict:
    """`rnn-tui --help` (a fresh interpreter each time; best of 3) and the app's first frame (through
    the app's bench hooks, in a fresh interpreter; None without them)."""
    times = []
    for _ in range(1 if quick else 3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "rnn_tui", "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    out = {"help_s": min(times), "first_frame_s": None}
    if app_hooks:
        code = f"import importlib\nprint(importlib.import_module({app_hooks!r}).first_frame())\n"
        try:
            p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
            if p.returncode == 0:
                out["first_frame_s"] = float(p.stdout.strip().splitlines()[-1])
        except (subprocess.TimeoutExpired, ValueError, IndexError):
            pass
    return out


def machine() -> dict:
    info = {"python": platform.python_version(), "torch": torch.__version__, "platform": platform.platform(),
            "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads()}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def run(device: str = "auto", quick: bool = False, app_hooks: str | None = None) -> dict:
    """Every figure of the table; throughput figures are the best of interleaved rounds. `app_hooks`
    names the module with the app's bench hooks (`run_in_app`, `first_frame`): the app rows are
    measured through it, and left out where it is None."""
    dev = str(pick_device(device))
    out = {"device": dev, "machine": machine(), "quick": quick, "cases": []}
    rounds = 1 if quick else 2  # interleaved rounds, best of each: shared machines are noisy
    best = lambda runs: max((r for r in runs if r), key=lambda r: r["steps_per_s"], default=None)  # noqa: E731
    for case in cases(quick):
        cfg = _cfg(case, dev)
        refs, ourss, apps = [], [], []
        for _ in range(rounds):
            refs.append(measure_fresh("reference", _cfg(case, "cpu")))
            ourss.append(measure_fresh("ours", cfg))
            apps.append(measure_fresh("app", cfg, app_hooks) if app_hooks else None)
        ref, ours, app = best(refs), best(ourss), best(apps)
        out["cases"].append({
            "name": case.name,
            "reference": ref,
            "ours": ours,
            "app": app,
            "ours_vs_reference": ours["steps_per_s"] / ref["steps_per_s"],
            "app_vs_headless": app["steps_per_s"] / ours["steps_per_s"] if app else None,
        })
    out["graph_vs_eager"] = [graph_vs_eager(case, dev, out["cases"][i]["ours"], rounds) for i, case in enumerate(cases(quick))]
    out["time_to_accuracy"] = [time_to_accuracy(th, quick, dev) for th in (1e-4, 1e-5)]
    out["two_at_once"] = two_at_once(cases(quick)[0], dev, out["cases"][0]["ours"])
    k = 4 if quick else ENSEMBLE
    out["many_at_once"] = [many_at_once(case, dev, k, rounds, fresh=not quick) for case in ensemble_cases(quick)]
    out["inspect_cost"] = [inspect_cost(case, dev, rounds, fresh=not quick) for case in inspect_cases(quick)]
    out["rollout"] = rollout_speed(500 if quick else 10_000)
    out["startup"] = startup(quick, app_hooks)
    return out


ENSEMBLE = 16  # members in the "many models at once" rows (issue 14: K = 16)


def ensemble_cases(quick: bool) -> list[Case]:
    """The bench's sine case and the Lorenz-63 LSTM preset, trained as K members at once."""
    if quick:
        return [cases(True)[0]]
    sine = cases(False)[0]
    return [Case(sine.name, sine.overrides, epochs=20), Case("lorenz63_lstm preset", (), preset="lorenz63_lstm", epochs=1)]


def many_at_once(case: Case, device: str, k: int, rounds: int, fresh: bool = True) -> dict:
    """K members batched against the same K as separate runs one after another, all on one thread
    (each figure from a fresh interpreter unless `fresh` is False (--quick: this process); the best
    of `rounds` interleaved rounds)."""
    cfg = _cfg(case, device, (f"train.ensemble={k}", "train.threads=1"))
    measure = measure_fresh if fresh else (lambda what, c: MEASURES[what](c))
    separate, batched = [], []
    for _ in range(rounds):
        separate.append(measure("separate", cfg))
        batched.append(measure("batched", cfg))
    sep = max(separate, key=lambda r: r["member_steps_per_s"])
    bat = max(batched, key=lambda r: r["member_steps_per_s"])
    return {"case": case.name, "members": k, "separate": sep, "batched": bat,
            "speedup": bat["member_steps_per_s"] / sep["member_steps_per_s"]}


def inspect_cases(quick: bool) -> list[Case]:
    """The sine and Lorenz-63 LSTM cases (issue 24: probing once per epoch costs at most 5% there)."""
    if quick:
        tiny = cases(True)[0]
        return [Case("sine lstm (tiny)", tiny.overrides + ("model.arch=lstm",), epochs=4)]
    sine, lorenz = cases(False)[:2]
    # long enough for the probe's time budget to act as in a run one watches (the sine presets train
    # 200-300 epochs; lorenz63_lstm for minutes)
    return [Case("sine lstm: seq 20, batch 32, hidden 64", sine.overrides + ("model.arch=lstm",), epochs=100),
            Case(lorenz.name, lorenz.overrides, epochs=3)]


def inspect_cost(case: Case, device: str, rounds: int, fresh: bool = True) -> dict:
    """The epoch loop's steps/s with train.inspect on (probes within core/probing.py's budget) against off, best of
    `rounds` interleaved rounds, each from a fresh interpreter unless `fresh` is False."""
    measure = measure_fresh if fresh else (lambda what, c: MEASURES[what](c))
    off, on = [], []
    for _ in range(rounds):
        off.append(measure("loop", _cfg(case, device, ("train.inspect=false",))))
        on.append(measure("loop", _cfg(case, device, ("train.inspect=true",))))
    best_off = max(off, key=lambda r: r["steps_per_s"])
    best_on = max(on, key=lambda r: r["steps_per_s"])
    return {"case": case.name, "off": best_off, "on": best_on, "ratio": best_on["steps_per_s"] / best_off["steps_per_s"]}


def graph_vs_eager(case: Case, device: str, ours: dict, rounds: int) -> dict | None:
    """On CUDA: the case's steps/s as trained (a CUDA graph where eligible, self-checked at capture)
    against the same run with train.cuda_graph = false. None elsewhere (no graph to compare)."""
    if not device.startswith("cuda"):
        return None
    eager = max((measure_fresh("ours", _cfg(case, device, ("train.cuda_graph=false",))) for _ in range(rounds)),
                key=lambda r: r["steps_per_s"] if r else 0.0)
    return {"case": case.name, "mode": ours.get("step_mode", ""), "graphed_steps_per_s": ours["steps_per_s"],
            "eager_steps_per_s": eager["steps_per_s"], "speedup": ours["steps_per_s"] / eager["steps_per_s"]}


def two_at_once(case: Case, device: str, alone: dict) -> dict:
    """The first case trained by two fresh processes at the same time, each with the thread count
    the trainer chooses (as two users' runs, or the app and a headless run, would): each one's
    steps/s against the same case alone."""
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "config.toml")
        with open(path, "w") as fh:
            fh.write(config.dumps(_cfg(case, device)))
        code = f"import json\nfrom rnn_tui.bench.speed import *\nprint(json.dumps(MEASURES['ours'](config.load(config={path!r}))))\n"
        procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outs = [p.communicate(timeout=900) for p in procs]
    rates = []
    for p, (stdout, stderr) in zip(procs, outs):
        if p.returncode != 0:
            raise RuntimeError(f"bench speed: two at once failed: {(stderr.strip().splitlines() or ['no output'])[-1]}")
        rates.append(json.loads(stdout.strip().splitlines()[-1])["steps_per_s"])
    return {"case": case.name, "steps_per_s": rates, "alone_steps_per_s": alone["steps_per_s"],
            "vs_alone": [r / alone["steps_per_s"] for r in rates]}


def _f(x, fmt="{:.2f}"):
    return "n/a" if x is None else fmt.format(x)


def table(res: dict) -> str:
    lines = [f"rnn-tui bench speed  (device {res['device']}; {res['machine']['cpus']} CPUs, torch {res['machine']['torch']})", ""]
    lines.append(f"{'case':<46} {'ref steps/s':>11} {'ours':>9} {'x ref':>6} {'app':>9} {'app/ours':>8}")
    for c in res["cases"]:
        app = c["app"]["steps_per_s"] if c["app"] else None
        lines.append(f"{c['name']:<46} {c['reference']['steps_per_s']:>11.1f} {c['ours']['steps_per_s']:>9.1f} "
                     f"{c['ours_vs_reference']:>6.2f} {_f(app, '{:.1f}'):>9} {_f(c['app_vs_headless']):>8}")
    lines.append("")
    for t in res["time_to_accuracy"]:
        lines.append(f"time to val MSE < {t['threshold_mse']:g} (sine, data units; persistence scores {t['persistence_mse']:.2g}): "
                     f"reference {_f(t['reference']['seconds'], '{:.2f} s')} ({_f(t['reference']['epochs'], '{} epochs')}), "
                     f"ours {_f(t['ours']['seconds'], '{:.2f} s')} ({_f(t['ours']['epochs'], '{} epochs')}); speed-up {_f(t['speedup'])}x")
    two = res["two_at_once"]
    lines.append(f"two runs at once ({two['case'].split(':')[0]}, threads as the trainer chooses): "
                 + " and ".join(f"{r:.1f}" for r in two["steps_per_s"]) + " steps/s, "
                 + " and ".join(f"{v:.2f}x" for v in two["vs_alone"]) + " of alone")
    for g in res.get("graph_vs_eager") or []:
        if g is not None:
            lines.append(f"CUDA graph against eager ({g['case'].split(':')[0]}; mode {g['mode']}): "
                         f"{g['graphed_steps_per_s']:.1f} against {g['eager_steps_per_s']:.1f} steps/s; {g['speedup']:.2f}x")
    for m in res.get("many_at_once", []):
        lines.append(f"{m['members']} models at once ({m['case'].split(':')[0]}, one thread): batched "
                     f"{m['batched']['member_steps_per_s']:.1f} member-steps/s, {m['members']} separate runs "
                     f"{m['separate']['member_steps_per_s']:.1f}; {m['speedup']:.2f}x")
    for c in res.get("inspect_cost", []):
        lines.append(f"train.inspect ({c['case'].split(':')[0]}, {c['on']['probes']} probes): "
                     f"{c['on']['steps_per_s']:.1f} against {c['off']['steps_per_s']:.1f} steps/s off; {c['ratio']:.3f}x")
    r = res["rollout"]
    lines.append(f"rollout, per 10,000 steps (LSTM 64, Lorenz-63): carried state {r['ours_s_per_10k']:.2f} s, "
                 f"re-fed window (seq {r['seq_len']}) {r['refeed_s_per_10k']:.2f} s; speed-up {r['speedup']:.1f}x")
    s = res["startup"]
    lines.append(f"start-up: rnn-tui --help {s['help_s']:.2f} s; app first frame {_f(s['first_frame_s'], '{:.2f} s')}")
    return "\n".join(lines)
