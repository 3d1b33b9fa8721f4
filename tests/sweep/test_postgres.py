"""Sweeps against a real PostgreSQL server (the `postgres` tier: `pytest -m postgres`, run by .ci/run
after the default suite). The server is started by the fixture in a temporary folder (the pgserver
wheel: a real postgres binary on a Unix socket) and stopped at the end. No mock database.

Two `rnn-tui sweep` processes stand for two machines on one study."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
import pytest
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

pytestmark = pytest.mark.postgres

TINY = ["--preset", "sine_rnn", "--set", "train.threads=1", "--set", "model.hidden_size=8", "--set", "rollout.every=0",
        "--param", "train.lr=log:1e-3:3e-2", "--param", "model.hidden_size=int:4:16", "--quiet"]


@pytest.fixture(scope="module")
def postgres():
    try:  # the tier was asked for (-m postgres): without its server it fails, as the browser tier does
        import pgserver
    except ImportError:
        pytest.fail("pgserver is not installed: the postgres tier needs it (run .ci/postgres.sh)", pytrace=False)
    folder = tempfile.mkdtemp(prefix="rnn-tui-pg-", dir="/tmp")  # short: a Unix socket path has ~100 characters
    server = pgserver.get_server(folder, cleanup_mode="stop")
    try:
        yield server
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def db(postgres, request):
    """A fresh database on the server for each test."""
    name = "t_" + request.node.name.lower().replace("[", "_").replace("]", "")[:40]
    postgres.psql(f"DROP DATABASE IF EXISTS {name};")
    postgres.psql(f"CREATE DATABASE {name};")
    uri = postgres.get_uri(name)
    return uri if uri.startswith("postgresql+") else uri.replace("postgresql://", "postgresql+psycopg://", 1)


def start(db: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "rnn_tui", "sweep", "--storage", db, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, timeout: float = 300) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def run_folders(runs: Path) -> dict[int, list[Path]]:
    out: dict[int, list[Path]] = {}
    for p in runs.iterdir():
        if (p / "sweep.json").is_file():
            out.setdefault(json.loads((p / "sweep.json").read_text())["trial"], []).append(p)
    return out


def test_the_server_is_real_postgresql(db):
    import sqlalchemy

    with sqlalchemy.create_engine(db).connect() as conn:
        assert "PostgreSQL" in conn.execute(sqlalchemy.text("select version()")).scalar()


def test_two_processes_on_one_study_add_up_to_n(db, tmp_path):
    n = 8
    procs = [start(db, *TINY, "--set", "train.epochs=5", "--study", "shared", "--trials", str(n)) for _ in range(2)]
    results = [finish(p) for p in procs]
    assert [r[0] for r in results] == [0, 0], [r[2] for r in results]
    study = optuna.load_study(study_name="shared", storage=db)
    done = [t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(done) == n
    assert len({t.number for t in study.trials}) == len(study.trials)  # no duplicate trial
    assert {t.user_attrs["pid"] for t in done} == {p.pid for p in procs}  # both took trials
    folders = run_folders(tmp_path / "runs")
    for t in done:  # no lost trial: each one counted has exactly its run, finished or pruned
        (folder,) = folders[t.number]
        assert Path(t.user_attrs["run"]) == folder.resolve()
        status = json.loads((folder / "summary.json").read_text())["status"]
        assert status == ("finished" if t.state == TrialState.COMPLETE else "cancelled")
    surplus = [t for t in study.trials if t not in done]
    assert all("not needed" in t.user_attrs.get("reason", "") for t in surplus)


def _running_trial_of(db: str, study: str, pid: int, runs: Path, timeout: float = 90):
    """Wait for a trial of process `pid` that is training (its metrics file has grown)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            trials = optuna.load_study(study_name=study, storage=db).trials
        except KeyError:
            trials = []
        for t in trials:
            run = t.user_attrs.get("run")
            if t.state == TrialState.RUNNING and t.user_attrs.get("pid") == pid and run and (Path(run) / "metrics.jsonl").is_file() \
                    and (Path(run) / "metrics.jsonl").stat().st_size > 0:
                return t
        time.sleep(0.2)
    raise AssertionError(f"no running trial of process {pid} within {timeout} s")


def test_a_worker_killed_mid_trial_is_retried_and_the_other_finishes(db, tmp_path):
    n = 5
    args = [*TINY, "--set", "train.epochs=150", "--study", "killed", "--trials", str(n), "--heartbeat", "1"]
    victim, survivor = start(db, *args), start(db, *args)
    killed = _running_trial_of(db, "killed", victim.pid, tmp_path / "runs")
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    code, out, err = finish(survivor)
    assert code == 0, err
    study = optuna.load_study(study_name="killed", storage=db)
    trials = study.trials
    done = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(done) == n
    dead = trials[killed.number]
    assert dead.state == TrialState.FAIL  # failed by the survivor once its heartbeat went stale
    retries = [t for t in trials if RetryHeartbeatStaleTrialCallback.retried_trial_number(t) == killed.number]
    assert len(retries) == 1 and retries[0].params == dead.params and retries[0] in done
    assert retries[0].user_attrs["pid"] == survivor.pid
    assert all(t.state != TrialState.RUNNING for t in trials)
    assert len({t.number for t in trials}) == len(trials)
    assert f"killed: {n} trials" in out


def _interrupt(proc: subprocess.Popen, db: str, study: str, runs: Path) -> tuple[int, str, str]:
    _running_trial_of(db, study, proc.pid, runs)
    proc.send_signal(signal.SIGINT)
    return finish(proc, timeout=60)


def test_ctrl_c_marks_the_running_trial_failed_and_the_study_resumes(db, tmp_path):
    runs = tmp_path / "runs"
    # Trials far too long to finish: each is stopped by the Ctrl-C.
    args = [*TINY, "--set", "train.epochs=1000000", "--study", "ctrlc", "--trials", "2"]
    code, _, err = _interrupt(start(db, *args), db, "ctrlc", runs)
    assert code == 130 and "interrupted; the study is kept" in err, err
    (t,) = optuna.load_study(study_name="ctrlc", storage=db).trials
    assert t.state == TrialState.FAIL and t.user_attrs["reason"] == "interrupted"
    assert json.loads((Path(t.user_attrs["run"]) / "summary.json").read_text())["status"] == "cancelled"  # its files were written
    # The same command joins the study: the interrupted trial does not count, a new one starts.
    code, _, err = _interrupt(start(db, *args), db, "ctrlc", runs)
    assert code == 130, err
    trials = optuna.load_study(study_name="ctrlc", storage=db).trials
    assert [t.number for t in trials] == [0, 1] and all(t.user_attrs["reason"] == "interrupted" for t in trials)


def test_two_jobs_stop_on_ctrl_c_and_leave_no_process(db, tmp_path):
    args = [*TINY, "--set", "train.epochs=1000000", "--study", "jobs", "--trials", "4", "--jobs", "2"]
    proc = start(db, *args)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        trials = optuna.load_study(study_name="jobs", storage=db).trials if _has_study(db, "jobs") else []
        if sum(t.state == TrialState.RUNNING and "pid" in t.user_attrs for t in trials) == 2:
            break  # both workers are in a trial, and have said which process they are
        time.sleep(0.2)
    workers = {t.user_attrs["pid"] for t in trials}
    assert len(workers) == 2
    proc.send_signal(signal.SIGINT)
    code, _, err = finish(proc, timeout=60)
    assert code == 130, err
    trials = optuna.load_study(study_name="jobs", storage=db).trials
    assert len(trials) == 2 and all(t.state == TrialState.FAIL and t.user_attrs["reason"] == "interrupted" for t in trials)
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def _has_study(db: str, name: str) -> bool:
    return name in [s.study_name for s in optuna.get_all_study_summaries(db)]
