"""The training engine: builds data and model from a Config, trains, rolls out and scores.

It never draws: it reports through `on_event(event)` (see events.py) and obeys a `Control`
(stop, pause, a learning-rate change) that another thread may set at any time.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from rnn_tui.config import Config
from rnn_tui.kernels import cudagraph
from rnn_tui.core import events as ev
from rnn_tui.core.data import Prepared, gather_windows, prepare
from rnn_tui.core.evaluate import evaluate
from rnn_tui.core.rollout import display_rollout, roll
from rnn_tui.errors import UserError
from rnn_tui.models.base import ModelSpec
from rnn_tui.models.registry import build
from rnn_tui.systems import get_system


class Control:
    """Thread-safe handles on a running trainer: stop, pause/resume, and a new learning rate."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.paused = threading.Event()
        self._lock = threading.Lock()
        self._lr: float | None = None

    def set_lr(self, lr: float) -> None:
        if not (lr > 0 and math.isfinite(lr)):
            raise UserError(f"learning rate must be a finite number > 0, got {lr!r}")
        with self._lock:
            self._lr = float(lr)

    def take_lr(self) -> float | None:
        with self._lock:
            lr, self._lr = self._lr, None
            return lr

    def wait_if_paused(self) -> None:
        while self.paused.is_set() and not self.stop.is_set():
            self.stop.wait(0.02)


@dataclass
class RunResult:
    """What a run leaves behind (the files of a run are written from this by runio)."""

    status: str  # finished, diverged, cancelled
    summary: dict
    config: Config
    model: torch.nn.Module | None = None
    prep: Prepared | None = None
    history: list[dict] = field(default_factory=list)  # one dict per epoch (metrics.jsonl rows)
    rollout: dict | None = None  # the last display rollout
    message: str = ""


def pick_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("train.device = 'cuda' but no CUDA device is available; use auto or cpu")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def make_optimizer(cfg: Config, params) -> torch.optim.Optimizer:
    """The configured optimiser, in its fastest exact form: torch's fused kernels for Adam and SGD
    (one call for all parameters instead of a dozen small ops per parameter: an Adam step of the
    notes' sine RNN takes 77 us instead of 212 on the 2-core CPU), multi-tensor (foreach) RMSprop."""
    t = cfg.train
    if t.optimizer == "adam":
        return torch.optim.Adam(params, lr=t.lr, weight_decay=t.weight_decay, fused=True)
    if t.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=t.lr, weight_decay=t.weight_decay, foreach=True)
    return torch.optim.SGD(params, lr=t.lr, momentum=t.momentum, weight_decay=t.weight_decay, fused=True)


def _lr(opt) -> float:
    return float(opt.param_groups[0]["lr"])


def _set_lr(group: dict, lr: float) -> None:
    """A tensor learning rate (capturable optimisers) is filled in place so a captured graph sees it."""
    if torch.is_tensor(group["lr"]):
        group["lr"].fill_(lr)
    else:
        group["lr"] = lr


def grad_norm(params, clip: float) -> float:
    """Total gradient norm before clipping; clips to `clip` when it is finite (inf = off)."""
    if math.isinf(clip):
        grads = [p.grad for p in params if p.grad is not None]
        return float(torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))) if grads else 0.0
    return float(torch.nn.utils.clip_grad_norm_(params, clip))


def window_loss(model, prep: Prepared, starts: torch.Tensor, series: torch.Tensor, seq_loss: bool) -> torch.Tensor:
    """MSE (normalised units) of the model on the windows at `starts`.

    Inputs and targets come from `series`: the observed series in training (noisy in the training
    split when system.noise > 0, as in Fablet et al. 2018's noisy experiment), the clean one in
    validation. With rollout_steps k > 1 the model runs free for k steps and every step is scored;
    with `seq_loss`, a recurrent model is scored after every position of the window.
    """
    L, k = prep.seq_len, prep.horizon_k
    x = gather_windows(series, starts, L)  # (B, L, D)
    if k == 1:
        if seq_loss and getattr(model, "has_seq", False):
            pred = model.forward_seq(x)  # (B, L, D)
            target = gather_windows(series, starts + 1, L)
        else:
            pred = model(x)  # (B, D)
            target = series[starts + L]
        return torch.mean((pred - target) ** 2)
    pred = roll(model, x, k)  # (B, k, D), fed the same way as the forecasts that are shown
    target = gather_windows(series, starts + L, k)
    return torch.mean((pred - target) ** 2)


MAX_EVAL_WINDOWS = 4096


@torch.no_grad()
def mean_loss(model, prep: Prepared, starts: torch.Tensor, series: torch.Tensor, seq_loss: bool, chunk: int = 1024) -> float:
    """Mean loss over the windows at `starts` (at most MAX_EVAL_WINDOWS of them, evenly spaced)."""
    if len(starts) == 0:
        return float("nan")
    if len(starts) > MAX_EVAL_WINDOWS:
        starts = starts[torch.linspace(0, len(starts) - 1, MAX_EVAL_WINDOWS, device=starts.device).round().long()]
    was = model.training
    model.eval()
    total = 0.0
    for i in range(0, len(starts), chunk):
        part = starts[i : i + chunk]
        total += float(window_loss(model, prep, part, series, seq_loss)) * len(part)
    model.train(was)
    return total / len(starts)


def units_rmse(loss: float, prep: Prepared) -> float:
    """RMSE in data units from an MSE in normalised units (per-component scales averaged)."""
    if not math.isfinite(loss):
        return float("nan")
    return float(math.sqrt(loss * float(np.mean(prep.std**2))))


def train(cfg: Config, on_event: Callable[[ev.Event], None] | None = None, control: Control | None = None) -> RunResult:
    """Run one configuration to the end (or to a stop). Raises UserError for bad input found at set-up."""
    threads = torch.get_num_threads()
    try:
        return _train(cfg, on_event, control)
    finally:
        torch.set_num_threads(threads)  # train.threads applies to this run only


def _train(cfg: Config, on_event: Callable[[ev.Event], None] | None, control: Control | None) -> RunResult:
    emit = on_event or (lambda e: None)
    control = control or Control()
    t = cfg.train
    wall0 = time.perf_counter()

    torch.manual_seed(t.seed)
    np.random.seed(t.seed)
    device = pick_device(t.device)
    dtype = torch.float64 if t.dtype == "float64" else torch.float32
    system = get_system(cfg.system.name)
    prep = prepare(cfg, device, dtype)
    spec = ModelSpec(dim=prep.dim, seq_len=t.seq_len, field=prep.traj.kind == "field", dt=prep.traj.dt)
    model = build(spec, cfg.model).to(device=device, dtype=dtype)
    n_params = model.num_params()  # trainable parameters (the ESN counts its fitted readout)
    seq_loss = t.seq_loss and t.rollout_steps == 1

    if t.threads and device.type == "cpu":
        torch.set_num_threads(t.threads)
    graph_reason = cudagraph.eligibility(device, cfg, model)
    graphed = None  # the captured step, made at the first full batch
    n_train = len(prep.train_starts)
    batch = min(t.batch_size, n_train)
    steps_per_epoch = max(1, math.ceil(n_train / batch)) if model.trainable else 0
    epochs = t.epochs if model.trainable else 1
    step_mode = "cuda-graph" if graph_reason is None else f"eager ({graph_reason})"
    emit(ev.Started(str(device), n_params, n_train, len(prep.val_starts), epochs, steps_per_epoch, step_mode))

    history: list[dict] = []
    status, message = "finished", ""
    best_val, best_state, since_best = float("inf"), None, 0
    last_rollout: dict | None = None
    step = 0
    t0 = time.perf_counter()

    def rollout_now(epoch: int) -> None:
        nonlocal last_rollout
        r = display_rollout(model, prep, cfg.rollout.horizon, cfg.rollout.mode)
        last_rollout = r
        emit(ev.RolloutReady(epoch=epoch, names=prep.traj.names, **r))

    def record(epoch: int, train_loss: float, grad_norms: list[float], lr: float, seconds: float, samples: int) -> None:
        nonlocal best_val, best_state, since_best
        # Validation is always the next-step error after the full window (comparable across settings).
        val_loss = mean_loss(model, prep, prep.val_starts, prep.clean, False)
        watched = val_loss if math.isfinite(val_loss) else train_loss
        if watched < best_val:
            best_val, since_best = watched, 0
            if t.early_stop_patience:
                best_state = copy.deepcopy(model.state_dict())
        else:
            since_best += 1
        gn = float(np.mean(grad_norms)) if grad_norms else 0.0
        e = ev.EpochEnd(
            epoch=epoch,
            epochs=epochs,
            train_loss=train_loss,
            val_loss=val_loss,
            train_rmse_units=units_rmse(train_loss, prep),
            val_rmse_units=units_rmse(val_loss, prep),
            grad_norm=gn,
            grad_norms=tuple(grad_norms),
            lr=lr,
            elapsed_s=time.perf_counter() - t0,
            samples_per_s=samples / seconds if seconds > 0 else 0.0,
            step=step,
            best_val_loss=best_val,
        )
        history.append(e.row())
        emit(e)

    if not model.trainable:
        # Closed-form readout (ESN): no gradient descent.
        e0 = time.perf_counter()
        model.fit_closed_form(prep.inputs[: prep.n_train])
        train_loss = mean_loss(model, prep, prep.train_starts, prep.inputs, False)
        record(1, train_loss, [], 0.0, time.perf_counter() - e0, n_train)  # the final rollout follows
    else:
        params = [p for p in model.parameters() if p.requires_grad]
        weights = [p.detach() for p in params]
        before_step = [w.clone() for w in weights]  # the weights before the last eager step (3 us a step to keep)

        def undo_non_finite_step() -> bool:
            """After a non-finite loss or gradient: if the step before it left non-finite weights
            (finite loss and gradient, but an overflowing update), put back the weights from before
            that step. True if it did."""
            if bool(torch.isfinite(torch.stack(torch._foreach_norm(weights)).sum())):
                return False
            torch._foreach_copy_(weights, before_step)
            return True

        opt = cudagraph.make_capturable_optimizer(cfg, params, device) if graph_reason is None else make_optimizer(cfg, params)
        total_steps = epochs * steps_per_epoch
        if t.schedule == "cosine":
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps, eta_min=t.lr * 1e-3)
        elif t.schedule == "plateau":
            sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=max(2, t.early_stop_patience // 3))
        else:
            sched = None
        gen = torch.Generator(device="cpu").manual_seed(t.seed)
        clip = t.clip_grad_norm if t.clip_grad_norm > 0 else float("inf")
        model.train()
        t0 = time.perf_counter()  # training starts now (creating the optimiser imports torch._dynamo: ~1 s once)
        for epoch in range(1, epochs + 1):
            e0 = time.perf_counter()
            perm = prep.train_starts[torch.randperm(n_train, generator=gen).to(device)]
            losses, norms = [], []
            step0 = step

            def take_graphed() -> bool:
                """Move the queued graphed steps' results into this epoch's lists; False (and the
                run marked diverged at that step, which changed no weights) if one was not ok."""
                nonlocal status, message, step
                for lv, gn, ok in graphed.drain() if graphed is not None else []:
                    if not ok:
                        status = "diverged"
                        message = f"non-finite loss, gradient or weights at epoch {epoch}, step {len(losses) + 1} (train.lr = {_lr(opt):g})"
                        step = step0 + len(losses)
                        return False
                    losses.append(lv)
                    norms.append(gn)
                return True

            for b in range(steps_per_epoch):
                control.wait_if_paused()
                if control.stop.is_set():
                    status = "cancelled"
                    take_graphed()
                    break
                new_lr = control.take_lr()
                if new_lr is not None:
                    for g in opt.param_groups:
                        _set_lr(g, new_lr)
                starts = perm[b * batch : (b + 1) * batch]
                if graph_reason is None and len(starts) == batch:
                    if graphed is None:
                        try:
                            graphed = cudagraph.GraphedStep(model, opt, params, lambda s: window_loss(model, prep, s, prep.inputs, seq_loss),
                                                            starts, clip, capture=device.type == "cuda")
                        except RuntimeError as exc:  # capture is best effort: train eagerly instead
                            graph_reason = f"capture failed: {str(exc).splitlines()[0]}"
                if graphed is not None and graph_reason is None and len(starts) == batch:
                    graphed(starts)  # queued; its loss is read with the next CHECK_EVERY (see cudagraph.py)
                    step += 1
                    if sched is not None and t.schedule == "cosine":
                        sched.step()
                    if (graphed.pending >= cudagraph.CHECK_EVERY or b == steps_per_epoch - 1) and not take_graphed():
                        break
                    continue
                if not take_graphed():  # an eager step after graphed ones (a short last batch)
                    break
                loss = window_loss(model, prep, starts, prep.inputs, seq_loss)
                lv = loss.item()
                gn = float("nan")
                if math.isfinite(lv):
                    opt.zero_grad(set_to_none=graphed is None)
                    loss.backward()
                    gn = grad_norm(params, clip)
                if not (math.isfinite(lv) and math.isfinite(gn)):
                    status = "diverged"
                    what = "loss" if not math.isfinite(lv) else "gradient"
                    message = f"non-finite {what} at epoch {epoch}, step {b + 1} (train.lr = {_lr(opt):g})"
                    if undo_non_finite_step():
                        step -= 1
                        message += "; the step before it made the weights non-finite and is undone"
                    break
                torch._foreach_copy_(before_step, weights)
                opt.step()
                step += 1
                if sched is not None and t.schedule == "cosine":
                    sched.step()
                losses.append(lv)
                norms.append(gn)
            if status != "finished":
                if losses and status == "cancelled":
                    record(epoch, float(np.mean(losses)), norms, _lr(opt), time.perf_counter() - e0, len(losses) * batch)
                break
            train_loss = float(np.mean(losses))
            if epoch == epochs and t.lbfgs_steps > 0:
                train_loss = _lbfgs_polish(model, prep, params, t.lbfgs_steps, control)
            record(epoch, train_loss, norms, _lr(opt), time.perf_counter() - e0, len(losses) * batch)
            if sched is not None and t.schedule == "plateau":
                val = history[-1]["val_loss"]
                sched.step(val if math.isfinite(val) else train_loss)
            if cfg.rollout.every and epoch % cfg.rollout.every == 0 and epoch != epochs:
                rollout_now(epoch)
            if t.early_stop_patience and since_best >= t.early_stop_patience:
                message = f"early stop at epoch {epoch}: no better validation loss for {since_best} epochs"
                break
        if best_state is not None:
            model.load_state_dict(best_state)

    if status == "diverged":
        message += "; the last finite weights are kept. Try a lower train.lr or set train.clip_grad_norm (e.g. 1.0)"
    final_epoch = history[-1]["epoch"] if history else 0
    summary = {
        "status": status,
        "message": message,
        "system": cfg.system.name,
        "arch": cfg.model.arch,
        "epochs_run": final_epoch,
        "steps": step,
        "final_train_loss": history[-1]["train_loss"] if history else None,
        "final_val_loss": history[-1]["val_loss"] if history else None,
        "best_val_loss": best_val,
        "final_val_rmse_units": history[-1]["val_rmse_units"] if history else None,
        "n_params": n_params,
        "device": str(device),
        "step_mode": "cuda-graph" if graph_reason is None and graphed is not None else f"eager ({graph_reason or 'no full batch'})",
        "dtype": t.dtype,
        "threads": torch.get_num_threads() if device.type == "cpu" else None,
        "n_train_windows": n_train,
        "n_val_windows": len(prep.val_starts),
        "split_samples": {"train": prep.n_train, "val": prep.n_val, "test": prep.n_test},
        "rmse_units": "data units",
    }
    try:
        if status != "diverged" or history:
            rollout_now(final_epoch)
            if status == "cancelled":  # stop means stop: the test-split scoring can take seconds
                summary["evaluation"] = "skipped: the run was cancelled"
            else:
                summary.update(evaluate(model, prep, cfg.rollout.horizon, system.lyapunov, mode=cfg.rollout.mode))
    except (RuntimeError, ValueError) as exc:  # a model too broken to roll out still gets a summary
        summary["evaluation_error"] = str(exc).splitlines()[0]
    summary["wall_time_s"] = round(time.perf_counter() - wall0, 3)
    summary["train_time_s"] = round(time.perf_counter() - t0, 3)
    result = RunResult(status, summary, cfg, model, prep, history, last_rollout, message)
    emit(ev.Finished(status=status, summary=summary, message=message))
    return result


def _lbfgs_polish(model, prep: Prepared, params, iters: int, control: Control) -> float:
    """Full-batch L-BFGS after the first-order epochs: reaches far lower losses on smooth problems
    (a bilinear RK4 net on Lorenz-63 goes from ~1e-3 to ~1e-5 RMSE at 8 steps)."""
    opt = torch.optim.LBFGS(params, lr=1.0, max_iter=iters, history_size=50, line_search_fn="strong_wolfe",
                            tolerance_grad=1e-12, tolerance_change=1e-16)
    starts = prep.train_starts

    def closure():
        opt.zero_grad(set_to_none=True)
        if control.stop.is_set():
            return torch.zeros((), dtype=prep.clean.dtype, device=prep.clean.device, requires_grad=True)
        loss = window_loss(model, prep, starts, prep.inputs, False)
        loss.backward()
        return loss

    before = copy.deepcopy(model.state_dict())
    opt.step(closure)
    final = mean_loss(model, prep, starts, prep.inputs, False)
    if not math.isfinite(final):
        model.load_state_dict(before)
        final = mean_loss(model, prep, starts, prep.inputs, False)
    return final
