"""The trajectory cache (systems/cache.py): a cached trajectory is the generated one bit for bit,
its key covers everything that changes the numbers, and a damaged or unwritable cache costs only time."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from rnn_tui.systems import cache, get_system
from rnn_tui.systems.truth import valid_time


@pytest.fixture
def counted(monkeypatch, tmp_path):
    """Lorenz-63 with a generator that counts its calls, a fresh cache folder, every trajectory kept."""
    monkeypatch.setenv("RNN_TUI_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(cache, "MIN_SECONDS", 0.0)
    lorenz = get_system("lorenz63")
    calls = []

    def generate(*args):
        calls.append(args)
        return lorenz.generate(*args)

    return dataclasses.replace(lorenz, generate=generate), calls, tmp_path / "cache"


def test_a_cached_trajectory_is_the_generated_one_and_is_not_made_twice(counted):
    system, calls, where = counted
    first = system.trajectory({}, 300, 0.01, seed=3)
    again = system.trajectory({}, 300, 0.01, seed=3)
    assert len(calls) == 1 and len(list(where.rglob("*.npz"))) == 1
    assert np.array_equal(first.values, again.values) and np.array_equal(first.t, again.t)
    assert (again.names, again.kind, again.dt, again.x) == (first.names, first.kind, first.dt, None)
    # everything that changes the numbers is in the key
    system.trajectory({}, 300, 0.01, seed=4)
    system.trajectory({"rho": 30}, 300, 0.01, seed=3)
    system.trajectory({}, 301, 0.01, seed=3)
    system.trajectory({}, 300, 0.02, seed=3)
    assert len(calls) == 5


def test_a_field_keeps_its_grid(monkeypatch, tmp_path):
    monkeypatch.setenv("RNN_TUI_CACHE", str(tmp_path))
    monkeypatch.setattr(cache, "MIN_SECONDS", 0.0)
    ks = get_system("ks")
    made = ks.trajectory({"spinup": 10.0}, 20, 0.25)
    read = ks.trajectory({"spinup": 10.0}, 20, 0.25)
    assert read.kind == "field" and np.array_equal(read.x, made.x) and np.array_equal(read.values, made.values)


def test_a_damaged_file_is_made_again_and_an_unwritable_cache_is_skipped(counted, monkeypatch, tmp_path):
    system, calls, where = counted
    first = system.trajectory({}, 200, 0.01)
    (path,) = where.rglob("*.npz")
    path.write_bytes(b"not a numpy file")
    again = system.trajectory({}, 200, 0.01)
    assert len(calls) == 2 and np.array_equal(first.values, again.values)
    assert system.trajectory({}, 200, 0.01) is not None and len(calls) == 2  # rewritten whole
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv("RNN_TUI_CACHE", str(blocked))  # a folder that cannot be made
    assert np.array_equal(system.trajectory({}, 200, 0.01).values, first.values) and len(calls) == 3


def test_off_and_csv_and_quick_ones_are_not_kept(counted, monkeypatch, tmp_path):
    system, calls, where = counted
    monkeypatch.setenv("RNN_TUI_CACHE", "0")
    system.trajectory({}, 200, 0.01)
    system.trajectory({}, 200, 0.01)
    assert len(calls) == 2 and not where.exists()
    monkeypatch.setenv("RNN_TUI_CACHE", str(where))
    monkeypatch.setattr(cache, "MIN_SECONDS", 60.0)
    system.trajectory({}, 200, 0.01)
    assert not list(where.rglob("*.npz"))
    csv = tmp_path / "s.csv"
    csv.write_text("a,b\n" + "".join(f"{i},{2 * i}\n" for i in range(10)))
    monkeypatch.setattr(cache, "MIN_SECONDS", 0.0)
    get_system("csv").trajectory({"path": str(csv)})
    assert not list(where.rglob("*.npz"))


def test_the_truth_time_integrates_a_second_way_explicitly(monkeypatch, tmp_path):
    """The valid ground-truth time compares the trajectory (from the cache when warm: the same values)
    with the same segment integrated by a second method, asked for explicitly (`method=`): nothing
    changes what an integration does behind the caller's back, and a warm cache gives the same time."""
    from rnn_tui.systems import base, lorenz63, truth

    monkeypatch.setenv("RNN_TUI_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(cache, "MIN_SECONDS", 0.0)
    integrations = []  # (samples, method)

    def integrate_flow(rhs, start, t, system, method="DOP853"):
        integrations.append((len(t), method))
        return base.integrate_flow(rhs, start, t, system, method)

    monkeypatch.setattr(lorenz63, "integrate_flow", integrate_flow)
    lorenz = get_system("lorenz63")
    assert lorenz.flow and not get_system("ks").flow
    steps = max(2, math.ceil(truth.SPAN_LYAPUNOV_TIMES / lorenz.lyapunov_for({}) / 0.01) + 1)  # the truth time's segment
    truth._pair.cache_clear()
    cold = valid_time(lorenz, {}, 0.01, 0.4)
    assert (steps, "DOP853") in integrations and (steps, truth.SECOND_METHOD) in integrations
    before = len(integrations)
    truth._pair.cache_clear()  # measured again, not remembered
    warm = valid_time(lorenz, {}, 0.01, 0.4)
    assert (steps, "DOP853") not in integrations[before:]  # the trajectory itself came from the cache
    assert warm == cold and cold is not None and not cold.censored


def test_trim_drops_the_least_recently_used(tmp_path):
    import os

    for i, name in enumerate(("old", "mid", "new")):
        p = tmp_path / f"{name}.npz"
        p.write_bytes(b"x" * 100)
        os.utime(p, (1000 + i, 1000 + i))
    cache.trim(tmp_path, limit=250)
    assert sorted(p.stem for p in tmp_path.glob("*.npz")) == ["mid", "new"]


def test_a_truth_time_is_measured_once_and_read_back(monkeypatch, tmp_path):
    """The valid ground-truth time (two integrations of ~80 Lyapunov times) is kept per system,
    parameters, dt and threshold: read back, it is the measured one; a damaged record is measured again."""
    from rnn_tui.systems import truth

    monkeypatch.setenv("RNN_TUI_CACHE", str(tmp_path))
    lorenz = get_system("lorenz63")
    truth._pair.cache_clear()
    measured = valid_time(lorenz, {}, 0.01, 0.4)
    (record,) = (tmp_path / "truth").glob("*.json")
    pairs = []
    monkeypatch.setattr(truth, "_pair", lambda *a: pairs.append(a))  # were it measured again, it would be None
    assert valid_time(lorenz, {}, 0.01, 0.4) == measured and pairs == []
    record.write_text("{broken")
    assert valid_time(lorenz, {}, 0.01, 0.4) is None and len(pairs) == 1
