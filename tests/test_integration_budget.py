"""The time partner of the memory estimate (issue 21): an integration's work (internal steps x the
values each advances) is estimated before it starts and refused beyond the limit, naming the key to
lower; a long integration reports its progress and stops when asked."""

import threading

import numpy as np
import pytest

from rnn_tui import budget, config
from rnn_tui.cli import main
from rnn_tui.core import events as ev
from rnn_tui.core.trainer import Control, train
from rnn_tui.errors import Stopped, UserError
from rnn_tui.systems import base, get_system
from rnn_tui.systems.etdrk4 import ETDRK4
from rnn_tui.work import Work


@pytest.mark.parametrize("preset, overrides, key", [
    ("ks_esn", ["system.dt=10000"], "system.dt"),  # an enormous sample step against ETDRK4's 1/32
    ("ks_esn", ["system.steps=10000000"], "system.steps"),
    ("ks_esn", ["system.params.spinup=1e9"], "system.params.spinup"),
    ("ks_esn", ["system.params.n=4096", "system.steps=400000"], "system.steps"),
    ("kdv_convlstm", ["system.dt=1000"], "system.dt"),
    ("kdv_convlstm", ["system.params.length=1000000", "system.steps=2000"], "system.params.length"),
])
def test_an_absurd_integration_is_refused_at_once_naming_the_key_to_lower(preset, overrides, key):
    with pytest.raises(UserError) as err:
        config.load(preset, overrides=overrides)
    msg = str(err.value)
    assert err.value.key == key and f"lower {key}" in msg and "\n" not in msg, msg
    assert "internal steps" in msg and "more than the limit" in msg


def test_every_preset_integrates_within_the_limit():
    for name in config.list_presets():
        cfg = config.load(name)  # would raise
        system = get_system(cfg.system.name)
        cost = system.check_work(cfg.system.params, cfg.system.steps or system.steps, cfg.system.dt or system.dt)
        assert cost is None or 0 < cost.work <= base.MAX_WORK, name


@pytest.mark.parametrize("name, params, steps, dt", [
    ("ks", {"spinup": 3.0, "n": 32}, 12, 0.3),  # 12 spin-up steps, 11 samples of 10 steps
    ("ks", {"spinup": 0.0, "n": 32}, 5, 0.01),
    ("kdv", {"n": 64, "length": 40.0}, 6, 0.05),
])
def test_the_estimate_counts_the_steps_the_scheme_takes(name, params, steps, dt, monkeypatch):
    system = get_system(name)
    cost = system.check_work(params, steps, dt)
    taken = []
    real = ETDRK4.step
    monkeypatch.setattr(ETDRK4, "step", lambda self, v: (taken.append(v.shape[-1]), real(self, v))[1])
    system.trajectory(params, steps, dt, seed=7, work=Work())
    assert len(taken) == cost.steps
    assert {m for m in taken} == {cost.size // 2 + 1}  # rfft modes of the (internal) grid the estimate counts


def test_the_data_command_refuses_an_absurd_integration_in_one_line_naming_its_flag(tmp_path, capsys):
    assert main(["data", "ks", "--dt", "10000", "--out", str(tmp_path / "ks.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lower --dt" in err and not (tmp_path / "ks.csv").exists()
    assert main(["data", "ks", "--param", "spinup=1e9", "--out", str(tmp_path / "ks.csv")]) == 2
    assert "lower --param spinup" in capsys.readouterr().err


def _long_ks(seed: int) -> dict:
    return dict(params={"n": 64, "spinup": 0.0}, steps=200_000, dt=0.25, seed=seed)  # ~1.6 M steps: minutes


def test_a_long_integration_reports_progress_and_stops_when_asked():
    stop = threading.Event()
    seen = []

    def report(p):
        seen.append(p)
        if p.done > 0:
            stop.set()

    work = Work(stop, report, every_s=0.05)
    with pytest.raises(Stopped):
        get_system("ks").trajectory(**_long_ks(11), work=work)
    assert seen and seen[0].phase == "integrating ks" and seen[0].total == 200_000 * 0 + 199_999 * 8
    assert 0 < seen[-1].done < seen[-1].total and seen[-1].elapsed_s >= 1.0  # silent for its first second


def test_a_short_integration_is_silent():
    seen = []
    traj = get_system("ks").trajectory({"n": 32, "spinup": 1.0}, 20, 0.25, seed=3, work=Work(None, seen.append))
    assert traj.values.shape == (20, 32) and np.all(np.isfinite(traj.values)) and seen == []


def test_a_flow_s_integration_stops_when_asked():
    stop = threading.Event()
    stop.set()
    with pytest.raises(Stopped):  # the flag is read from the start (after 64 evaluations)
        get_system("lorenz96").trajectory({"n": 40, "spinup": 0.0}, 200_000, 0.05, seed=5, work=Work(stop))


def test_the_trainer_stops_inside_the_integration_and_keeps_nothing():
    control = Control()
    seen = []

    def on_event(e):
        seen.append(e)
        if isinstance(e, ev.Progress) and e.done > 0:
            control.request_stop()

    cfg = config.load("ks_esn", overrides=["system.steps=200000", "system.seed=13", "train.threads=1", "train.device=cpu"])
    with pytest.raises(UserError, match="stopped while integrating ks"):
        train(cfg, on_event, control)
    assert any(isinstance(e, ev.Progress) and e.phase == "integrating ks" for e in seen)
    assert not any(isinstance(e, ev.Started) for e in seen)  # no run was started: no folder would be made


def test_the_budget_check_is_part_of_the_memory_check():
    cfg = config.load("ks_esn")
    budget.check(cfg)  # passes
    with pytest.raises(UserError, match="configuration: ks: this integration"):
        budget.check_integration(cfg.model_copy(update={"system": cfg.system.model_copy(update={"dt": 10000.0})}))
