"""The training engine: events, determinism, divergence, stopping, pausing, metrics and checkpoints."""

import threading
import time

import numpy as np
import pytest
import torch

from rnn_tui import config
from rnn_tui.core import events as ev
from rnn_tui.core import runio
from rnn_tui.core.data import gather_windows, prepare
from rnn_tui.core.trainer import Control, train
from rnn_tui.errors import UserError

# lr and schedule pinned: the tests read the learning rate they start from (not the preset's)
TINY = ["system.steps=400", "model.hidden_size=16", "train.epochs=4", "train.batch_size=32", "rollout.every=2", "rollout.horizon=50",
        "train.lr=1e-3", "train.schedule=none"]


def tiny(*extra, preset="sine_rnn"):
    return config.load(preset, overrides=TINY + list(extra))


def collect(cfg, control=None):
    seen = []
    result = train(cfg, seen.append, control)
    return result, seen


def test_events_in_order_and_loss_falls():
    result, seen = collect(tiny("train.epochs=6"))
    kinds = [type(e).__name__ for e in seen]
    assert kinds[0] == "Started" and kinds[-1] == "Finished"
    epochs = [e for e in seen if isinstance(e, ev.EpochEnd)]
    assert [e.epoch for e in epochs] == list(range(1, 7))
    assert epochs[-1].train_loss < epochs[0].train_loss
    assert all(e.samples_per_s > 0 and e.grad_norm > 0 and len(e.grad_norms) > 0 for e in epochs)
    rollouts = [e.forecast for e in seen if isinstance(e, ev.ForecastReady)]
    assert len(rollouts) >= 3  # epochs 2, 4 and the final one
    assert [r.epoch for r in rollouts] == [2, 4, 6]
    r = rollouts[-1]
    assert r.truth.shape == r.prediction.shape == r.one_step.shape and r.truth.shape[1] == 1
    assert result.status == "finished" and result.summary.epochs_run == 6


def test_same_seed_same_history_and_other_seed_differs():
    a, _ = collect(tiny())
    b, _ = collect(tiny())
    c, _ = collect(tiny("train.seed=1"))
    la = [h.train_loss for h in a.history]
    assert la == [h.train_loss for h in b.history]
    assert [h.val_loss for h in a.history] == [h.val_loss for h in b.history]
    assert la != [h.train_loss for h in c.history]


def test_huge_learning_rate_diverges_and_keeps_finite_weights():
    result, seen = collect(tiny("train.optimizer=sgd", "train.lr=1e8", "train.epochs=20"))
    assert result.status == "diverged"
    assert "train.lr" in result.message and "clip_grad_norm" in result.message
    assert "epoch" in result.summary.message
    assert all(torch.isfinite(p).all() for p in result.model.parameters())
    assert isinstance(seen[-1], ev.Finished) and seen[-1].status == "diverged"


def test_stop_within_one_step():
    control = Control()
    steps_after_stop = []

    def on_event(e):
        if isinstance(e, ev.EpochEnd) and e.epoch == 2:
            control.stop.set()
            steps_after_stop.append(e.step)

    cfg = tiny("train.epochs=50", "train.batch_size=8")
    result = train(cfg, on_event, control)
    assert result.status == "cancelled"
    # the stop was set between epochs: not one more optimisation step was taken
    assert result.summary.steps == steps_after_stop[0]


def test_stop_from_another_thread_mid_epoch():
    control = Control()
    cfg = tiny("train.epochs=1000", "train.batch_size=1", "system.steps=2000")
    box = {}
    th = threading.Thread(target=lambda: box.setdefault("r", train(cfg, None, control)))
    th.start()
    time.sleep(1.0)
    control.stop.set()
    th.join(10)
    assert not th.is_alive()
    assert box["r"].status == "cancelled"


def test_pause_holds_training_and_resume_continues():
    control = Control()
    seen = []

    def on_event(e):
        seen.append(e)
        if isinstance(e, ev.EpochEnd) and e.epoch == 1:
            control.paused.set()

    cfg = tiny("train.epochs=3")
    th = threading.Thread(target=lambda: train(cfg, on_event, control))
    th.start()
    deadline = time.monotonic() + 30
    while not control.holding.is_set():  # the trainer has parked in the pause: it takes no step now
        assert time.monotonic() < deadline and th.is_alive(), "the trainer never held in the pause"
        time.sleep(0.01)
    epochs_while_paused = [e.epoch for e in seen if isinstance(e, ev.EpochEnd)]
    assert epochs_while_paused == [1] and control.holding.is_set()
    control.paused.clear()
    th.join(30)
    assert [e.epoch for e in seen if isinstance(e, ev.EpochEnd)] == [1, 2, 3]


def test_learning_rate_change_takes_effect_next_step():
    control = Control()

    def on_event(e):
        if isinstance(e, ev.EpochEnd) and e.epoch == 1:
            control.set_lr(5e-4)

    seen = []
    train(tiny(), lambda e: (seen.append(e), on_event(e)), control)
    lrs = [e.lr for e in seen if isinstance(e, ev.EpochEnd)]
    assert lrs[0] == pytest.approx(1e-3) and lrs[1:] == [pytest.approx(5e-4)] * 3


def test_splits_are_contiguous_and_normalised_on_training_only():
    cfg = tiny("train.val_fraction=0.2", "train.test_fraction=0.1", "system.steps=1000")
    prep = prepare(cfg, torch.device("cpu"), torch.float64)
    assert (prep.n_train, prep.n_val, prep.n_test) == (700, 200, 100)
    values = prep.traj.values
    assert np.allclose(prep.mean, values[:700].mean(axis=0))
    assert np.allclose(prep.std, values[:700].std(axis=0))
    # training windows never reach into validation; validation windows stay inside their split
    L = cfg.train.seq_len
    assert int(prep.train_starts.max()) + L < 700 + 1
    assert int(prep.val_starts.min()) == 700 and int(prep.val_starts.max()) + L < 900 + 1
    w = gather_windows(prep.clean, torch.tensor([3]), L)
    assert torch.allclose(w[0, :, 0], prep.clean[3 : 3 + L, 0])


def test_noise_goes_to_training_inputs_only():
    cfg = config.load("lorenz63_lstm", overrides=["system.steps=1000", "system.noise=0.5"])
    prep = prepare(cfg, torch.device("cpu"), torch.float64)
    diff = (prep.inputs - prep.clean).abs()
    assert float(diff[: prep.n_train].mean()) > 0.01
    assert float(diff[prep.n_train :].max()) == 0.0


def test_window_longer_than_training_split_is_refused():
    with pytest.raises(UserError, match="longer than the training split"):
        train(tiny("train.seq_len=500"))


def test_metrics_on_test_split_in_data_units_with_vpt_for_chaos():
    cfg = config.load("lorenz63_lstm", overrides=["system.steps=3000", "train.epochs=2", "model.hidden_size=16", "rollout.horizon=100"])
    result, _ = collect(cfg)
    s = result.summary.to_dict()  # the summary.json shape
    assert s["split"] == "test" and s["n_starts"] >= 100
    assert set(["1", "4", "8"]) <= set(s["rmse_at_steps"])
    assert len(s["rmse_curve"]) == s["horizon_steps"]
    # errors are in data units: Lorenz-63 spans tens of units, so a barely trained model errs by > 0.1
    assert s["rmse_at_steps"]["8"] > 0.1
    assert s["vpt"]["median"] >= 0 and s["vpt_lyapunov"]["lyapunov_exponent"] == pytest.approx(0.906)
    assert s["vpt_lyapunov"]["median"] == pytest.approx(s["vpt"]["median"] * 0.906)


def test_multi_step_loss_trains():
    result, seen = collect(tiny("train.rollout_steps=4", "model.arch=gru"))
    losses = [e.train_loss for e in seen if isinstance(e, ev.EpochEnd)]
    assert result.status == "finished" and losses[-1] < losses[0]


def test_model_checkpoint_reloads_and_predicts_the_same(tmp_path):
    result, _ = collect(tiny())
    runio.save_model(tmp_path / "model.pt", result.model, result.config, result.prep)
    payload = torch.load(tmp_path / "model.pt", weights_only=True)
    assert payload["config"]["model"]["arch"] == "rnn"
    model, cfg, mean, std = runio.load_model(tmp_path / "model.pt")
    x = gather_windows(result.prep.clean, torch.arange(0, 10), cfg.train.seq_len)
    result.model.eval()
    with torch.no_grad():
        assert torch.allclose(model(x), result.model(x))
    assert np.allclose(mean, result.prep.mean)


def test_cuda_graph_path_falls_back_cleanly_without_cuda():
    from rnn_tui.kernels import cudagraph

    cfg = tiny("train.device=cpu")  # the CPU path, on any machine (auto picks CUDA where there is one)
    result, seen = collect(cfg)
    started = seen[0]
    assert started.step_mode == "eager (not on CUDA)"
    assert result.summary.step_mode.startswith("eager")
    # the reasons a CUDA run would still train eagerly are named
    cuda = torch.device("cuda")
    assert cudagraph.eligibility(cuda, cfg, result.model) is None
    assert "optimizer sgd" in cudagraph.eligibility(cuda, config.load("sine_rnn", overrides=["train.optimizer=sgd"]), result.model)
    assert "L-BFGS" in cudagraph.eligibility(cuda, config.load("lorenz63_rk4"), result.model)
    assert cudagraph.eligibility(cuda, config.load("sine_rnn", overrides=["train.cuda_graph=false"]), result.model) == "train.cuda_graph = false"


def test_grad_norm_matches_torch_clip_and_clips():
    from rnn_tui.core.optim import grad_norm

    torch.manual_seed(0)
    p = [torch.nn.Parameter(torch.randn(5)), torch.nn.Parameter(torch.randn(3, 2))]
    for q in p:
        q.grad = torch.randn_like(q)
    expected = float(torch.sqrt(sum((q.grad**2).sum() for q in p)))
    assert grad_norm(p, float("inf")) == pytest.approx(expected, rel=1e-6)
    assert grad_norm(p, 0.5) == pytest.approx(expected, rel=1e-6)  # the norm before clipping
    assert float(torch.sqrt(sum((q.grad**2).sum() for q in p))) == pytest.approx(0.5, rel=1e-4)


def test_cancelled_run_skips_test_scoring_but_keeps_a_rollout():
    control = Control()

    def on_event(e):
        if isinstance(e, ev.EpochEnd) and e.epoch == 1:
            control.stop.set()

    seen = []
    result = train(tiny("train.epochs=10"), lambda e: (seen.append(e), on_event(e)), control)
    assert result.status == "cancelled"
    assert "cancelled" in result.summary.evaluation_note and result.summary.evaluation is None
    assert "cancelled" in result.summary.to_dict()["evaluation"] and "rmse_at_steps" not in result.summary.to_dict()
    assert result.forecast is not None and isinstance(seen[-1], ev.Finished)


def test_threads_setting_holds_during_the_run_and_is_undone_after():
    before = torch.get_num_threads()
    seen = []
    result = train(tiny("train.threads=1"), lambda e: seen.append(torch.get_num_threads()) if isinstance(e, ev.EpochEnd) else None)
    assert seen and set(seen) == {1}
    assert result.summary.threads == 1
    assert torch.get_num_threads() == before
    with pytest.raises(UserError, match="train.threads"):
        config.load(None, overrides=["train.threads=-1"])


def test_fused_adam_trains_like_the_reference_adam(monkeypatch):
    """The trainer's fused Adam is torch's Adam: the same run with the for-loop kernel gives the
    same weights to float rounding."""
    from rnn_tui.core import trainer as tr

    cfg = tiny("train.optimizer=adam")
    fused = train(cfg).model.state_dict()
    monkeypatch.setattr(tr, "make_optimizer", lambda cfg, params: torch.optim.Adam(params, lr=cfg.train.lr, weight_decay=cfg.train.weight_decay))
    plain = train(cfg).model.state_dict()
    for name, value in fused.items():
        torch.testing.assert_close(value, plain[name], atol=1e-4, rtol=1e-4)


# The CUDA-graph path's loop (queued steps, results read every CHECK_EVERY steps, steps that change
# nothing when not finite) runs on the CPU with capture=False: only the capture itself needs a GPU.

def _queued_path_on_cpu(monkeypatch, check_every=3):
    from rnn_tui.kernels import cudagraph

    monkeypatch.setattr(cudagraph, "eligibility", lambda device, cfg, model: None)
    monkeypatch.setattr(cudagraph, "CHECK_EVERY", check_every)


@pytest.mark.parametrize("batch", [16, 30])  # 300 training windows: a short last batch, or none (10 steps: 3 + 3 + 3 + 1)
def test_queued_step_path_trains_like_the_eager_loop(monkeypatch, batch):
    cfg = tiny("train.epochs=3", f"train.batch_size={batch}", "rollout.every=0")
    eager, eager_seen = collect(cfg)
    _queued_path_on_cpu(monkeypatch)
    queued, queued_seen = collect(cfg)
    assert queued.summary.step_mode == "cuda-graph" and eager.summary.step_mode.startswith("eager")
    # several reads an epoch; with batch 16 a short last batch is taken eagerly after the queued ones
    assert eager.summary.steps // 3 > 3 and (eager.summary.n_train_windows % batch != 0) == (batch == 16)
    assert queued.summary.steps == eager.summary.steps
    epochs = [[e for e in seen if isinstance(e, ev.EpochEnd)] for seen in (queued_seen, eager_seen)]
    assert len(epochs[0]) == len(epochs[1]) == 3
    for a, b in zip(*epochs):
        assert len(a.grad_norms) == len(b.grad_norms)
        np.testing.assert_allclose(a.grad_norms, b.grad_norms, rtol=1e-3)
        assert a.train_loss == pytest.approx(b.train_loss, rel=1e-3)
        assert a.val_loss == pytest.approx(b.val_loss, rel=1e-3)


def _fail_at_training_call(monkeypatch, k: int, action):
    """Wrap the trainer's loss so that training call k (gradients on) is passed to `action`."""
    from rnn_tui.core import trainer as tr

    original, calls = tr.window_loss, {"n": 0}

    def wrapped(*args, **kw):
        loss = original(*args, **kw)
        if torch.is_grad_enabled():
            calls["n"] += 1
            if calls["n"] == k:
                return action(loss)
        return loss

    monkeypatch.setattr(tr, "window_loss", wrapped)


@pytest.mark.parametrize("queued", [False, True])
def test_injected_non_finite_step_stops_at_that_step_with_the_weights_before_it(monkeypatch, queued):
    if queued:
        _queued_path_on_cpu(monkeypatch)
    cfg = tiny("train.epochs=3", "train.batch_size=16", "rollout.every=0")
    # The weights after six clean steps: the same run stopped during its sixth step.
    control = Control()
    _fail_at_training_call(monkeypatch, 6, lambda loss: (control.stop.set(), loss)[1])
    clean = train(cfg, None, control)
    assert clean.summary.steps == 6
    # The seventh step's loss is NaN.
    _fail_at_training_call(monkeypatch, 7, lambda loss: loss * float("nan"))
    result = train(cfg)
    assert result.status == "diverged" and "epoch 1, step 7" in result.message
    assert result.summary.steps == 6
    for name, value in result.model.state_dict().items():
        assert torch.isfinite(value).all()
        torch.testing.assert_close(value, clean.model.state_dict()[name], atol=0, rtol=0)


def test_step_that_overflows_the_weights_is_undone(monkeypatch):
    """Finite loss and gradient, but the update leaves a weight not finite (an overflowing step):
    the next step's loss is not finite, and the run keeps the weights from before the bad step."""
    from rnn_tui.core import trainer as tr

    cfg = tiny("train.epochs=3", "train.batch_size=16", "rollout.every=0", "train.optimizer=sgd", "train.momentum=0")
    control = Control()
    _fail_at_training_call(monkeypatch, 4, lambda loss: (control.stop.set(), loss)[1])
    clean = train(cfg, None, control)  # stopped after four clean steps
    assert clean.summary.steps == 4

    monkeypatch.undo()
    original = tr.make_optimizer

    def overflowing(cfg, params):
        opt = original(cfg, params)
        step, calls = opt.step, {"n": 0}

        def bad_step(*args, **kw):
            out = step(*args, **kw)
            calls["n"] += 1
            if calls["n"] == 5:
                with torch.no_grad():
                    params[0].view(-1)[0] = float("nan")
            return out

        opt.step = bad_step
        return opt

    monkeypatch.setattr(tr, "make_optimizer", overflowing)
    result = train(cfg)
    assert result.status == "diverged" and "step 6" in result.message and "undone" in result.message
    assert result.summary.steps == 4
    for name, value in result.model.state_dict().items():
        torch.testing.assert_close(value, clean.model.state_dict()[name], atol=0, rtol=0)


def _validation_losses(monkeypatch, values):
    """Make the trainer's validation losses `values`, epoch by epoch (training is real)."""
    from rnn_tui.core import trainer as tr

    original, it = tr.mean_losses, iter(values)

    def fake(model, prep, starts, series, *a, **k):
        if starts is prep.val_starts:
            return np.array([next(it)])
        return original(model, prep, starts, series, *a, **k)

    monkeypatch.setattr(tr, "mean_losses", fake)


def test_early_stopping_ends_after_patience_epochs_without_a_better_validation_loss(monkeypatch):
    _validation_losses(monkeypatch, [1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1])
    result, seen = collect(tiny("train.epochs=8", "train.early_stop_patience=2", "rollout.every=0"))
    assert result.status == "finished" and result.summary.epochs_run == 4
    assert result.message == "early stop at epoch 4: no better validation loss for 2 epochs"
    assert [e.best_val_loss for e in seen if isinstance(e, ev.EpochEnd)] == [1.0, 0.5, 0.5, 0.5]


def test_plateau_schedule_halves_the_learning_rate_when_validation_stalls(monkeypatch):
    _validation_losses(monkeypatch, [1.0] * 8)
    result, seen = collect(tiny("train.epochs=8", "train.schedule=plateau", "rollout.every=0"))
    lrs = [e.lr for e in seen if isinstance(e, ev.EpochEnd)]
    # patience 2: halved after the third epoch without a better loss (4 and 7); each row is the rate it trained at
    assert lrs == pytest.approx([1e-3] * 4 + [5e-4] * 3 + [2.5e-4])


def test_cosine_schedule_anneals_every_step_to_a_thousandth():
    result, seen = collect(tiny("train.epochs=4", "train.schedule=cosine", "rollout.every=0"))
    lrs = [e.lr for e in seen if isinstance(e, ev.EpochEnd)]
    assert all(a > b for a, b in zip(lrs, lrs[1:]))
    assert lrs[-1] == pytest.approx(1e-6, rel=1e-6)  # eta_min = lr * 1e-3 after the last step
