"""Sweeps on Optuna with the default SQLite storage: the search space, the pruning rule, and real
`rnn-tui sweep` processes (two jobs at once, resuming to N, a diverged trial, the best trial saved as
a preset). Two machines on one PostgreSQL study, SIGKILL and Ctrl-C: tests/sweep/test_postgres.py
(the `postgres` tier that .ci/run runs after the default suite)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from rnn_tui.cli import main
from rnn_tui.errors import UserError
from rnn_tui.sweep import space
from rnn_tui.sweep.pruner import LossMedianPruner

# A tiny sine run: a few epochs of a small RNN on one thread (about 0.3 s a trial).
TINY = ["--preset", "sine_rnn", "--set", "train.epochs=3", "--set", "model.hidden_size=8", "--set", "train.threads=1",
        "--set", "rollout.every=0"]


def sweep(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rnn_tui", "sweep", *args], capture_output=True, text=True, timeout=timeout)


def load_study(runs: Path, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{runs / 'sweeps.db'}")


def trial_folders(runs: Path) -> dict[int, Path]:
    out = {}
    for p in runs.iterdir():
        if (p / "sweep.json").is_file():
            tag = json.loads((p / "sweep.json").read_text())
            assert tag["trial"] not in out, f"two run folders for trial {tag['trial']}"
            out[tag["trial"]] = p
    return out


# ---------------------------------------------------------------------------------------------
# The search space


def test_specs_parse_into_their_kinds():
    assert space.parse("train.lr=log:1e-4:1e-1") == space.Param("train.lr", "log", 1e-4, 1e-1, text="train.lr=log:1e-4:1e-1")
    p = space.parse("train.seq_len=int:5:50:5")
    assert (p.kind, p.low, p.high, p.step) == ("int", 5, 50, 5)
    c = space.parse("model.arch=choice:rnn,lstm,gru")
    assert c.choices == ("rnn", "lstm", "gru")
    assert space.parse("train.seq_loss=choice:true,false").choices == (True, False)
    assert c.override("lstm") == 'model.arch="lstm"' and p.override(10) == "train.seq_len=10"


@pytest.mark.parametrize("spec, says", [
    ("train.lr", "needs KEY=KIND:ARGS"),
    ("lr=log:1e-4:1e-1", "SECTION.NAME"),
    ("train.lr=exp:1:2", "unknown kind 'exp'"),
    ("train.lr=log:1e-1:1e-4", "LOW must be below HIGH"),
    ("train.lr=float:0.5:0.5", "LOW must be below HIGH"),
    ("train.lr=log:0:1", "log range needs positive bounds"),
    ("train.lr=log:-1:1", "log range needs positive bounds"),
    ("model.arch=choice:", "an empty choice"),
    ("model.arch=choice:rnn,rnn", "listed twice"),
    ("model.hidden_size=int:8.5:16", "not an integer"),
    ("train.lr=float:0:inf", "finite"),
    ("train.seq_len=int:5:50:7", "STEP must be a positive divisor"),
])
def test_bad_specs_name_what_is_wrong(spec, says):
    with pytest.raises(UserError, match=says):
        space.parse(spec)


@pytest.mark.parametrize("spec, says", [
    ("model.spectral_radius=float:0.1:1", "does not apply to model.arch 'rnn'"),
    ("model.hidden=int:8:16", "does not apply to model.arch 'rnn'"),
    ("optim.lr=log:1e-4:1e-1", "unknown section 'optim'"),
    ("model.hidden_size=int:0:16", "model.hidden_size must be in"),
    ("train.dropout=float:0:0.5", r"does not apply to \[train\]"),
    ("system.dt=float:0.01:0.1", "changes the data or its split"),
    ("train.val_fraction=float:0.1:0.3", "changes the data or its split"),
    ("model.arch=choice:rnn,lsmt", "unknown architecture 'lsmt' \\(did you mean 'lstm'\\?\\)"),
])
def test_specs_are_checked_against_the_configuration(spec, says):
    with pytest.raises(UserError, match=says):
        space.check([space.parse(spec)], "rnn")


def test_a_key_must_apply_to_every_architecture_of_a_choice():
    params = [space.parse("model.arch=choice:rnn,esn"), space.parse("model.num_layers=int:1:3")]
    with pytest.raises(UserError, match="model.num_layers does not apply to model.arch 'esn'"):
        space.check(params, "rnn")
    space.check([space.parse("model.arch=choice:rnn,lstm,gru"), space.parse("model.num_layers=int:1:3")], "rnn")


@pytest.mark.parametrize("argv, says", [
    ([*TINY, "--trials", "2"], "at least one --param"),
    (["--trials", "2", "--param", "train.lr=log:1e-4:1e-1"], "needs --preset"),
    ([*TINY, "--param", "train.lr=log:1e-4:1e-1"], "--trials must be"),
    ([*TINY, "--trials", "2", "--param", "train.lr=log:1e-4:1e-1", "--jobs", "64"], "--jobs must be between 1 and the"),
    ([*TINY, "--trials", "2", "--param", "train.lr=log:1e-4:1e-1", "--objective", "vpt"], "vpt needs a chaotic system"),
    ([*TINY, "--trials", "2", "--param", "train.lr=log:1e-4:1e-1", "--objective", "rmse@0"], "--objective must be"),
    ([*TINY, "--trials", "2", "--param", "train.lr=log:1e-4:1e-1", "--objective", "rmse@999"], "beyond rollout.horizon"),
    ([*TINY, "--trials", "2", "--param", "model.arch=choice:rnn,convlstm"], "with model.arch 'convlstm'.*needs a field system"),
    ([*TINY, "--trials", "2", "--param", "train.lr=log:1e-4:1e-1", "--storage", "redis://localhost"], "not a database URL"),
    ([*TINY, "--trials", "2", "--param", "train.lr=log:1e-4:1e-1", "--storage", "postgresql://u:pw@127.0.0.1:1/db"],
     r"u:\*\*\*@.*(cannot open it|its database driver is not installed \(pip install 'rnn-tui\[postgres\]'\))"),
    (["--show", "--study", "none"], "no sweeps in"),
])
def test_bad_sweep_commands_are_one_line_and_exit_2(argv, says, capsys, tmp_path):
    assert main(["sweep", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("rnn-tui: error: ")
    import re

    assert re.search(says, err), err
    assert "pw" not in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


@pytest.mark.parametrize("storage, says", [
    ("sqlite:///{tmp}/afile/x.db", "cannot create its folder .*afile: a file is in the way"),
    ("sqlite:////proc/rnn-tui-none/x.db", "cannot create its folder /proc/rnn-tui-none: "),
    ("sqlite:///{tmp}/ro/x.db", "its folder .*/ro is not writable"),
    ("sqlite://", "an SQLite storage needs a file"),
    ("sqlite:///:memory:", "an SQLite storage needs a file"),
    ("sqlite:///{tmp}", "is a folder; name the database file"),
])
def test_a_sweep_storage_that_cannot_be_made_is_one_line_naming_it(storage, says, capsys, tmp_path):
    import re

    (tmp_path / "afile").write_text("a file")
    (tmp_path / "ro").mkdir(mode=0o555)
    if "/ro/" in storage and os.access(tmp_path / "ro", os.W_OK):
        pytest.skip("running as root: a folder without write permission is writable anyway")
    storage = storage.format(tmp=tmp_path)
    argv = [*TINY, "--trials", "1", "--param", "train.lr=log:1e-4:1e-1", "--storage", storage, "--runs", str(tmp_path / "runs")]
    assert main(["sweep", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"rnn-tui: error: --storage {storage}: ") and re.search(says, err), err
    assert not (tmp_path / "runs").exists() and (tmp_path / "afile").read_text() == "a file"


# ---------------------------------------------------------------------------------------------
# Pruning


def _finished(study, losses: list[float]) -> None:
    trial = study.ask()
    for epoch, loss in enumerate(losses, 1):
        trial.report(loss, epoch)
    study.tell(trial, losses[-1])


def test_the_pruner_stops_a_trial_worse_than_the_median_by_the_same_epoch():
    # A maximising study (like --objective vpt) still prunes on the loss, lower is better.
    study = optuna.create_study(direction="maximize", pruner=LossMedianPruner(startup=3, warmup=2))
    for scale in (1.0, 2.0, 3.0):
        _finished(study, [scale / e for e in range(1, 11)])
    good, bad, early = study.ask(), study.ask(), study.ask()
    for e in range(1, 4):
        good.report(0.5 / e, e)
        bad.report(10.0 / e, e)
    early.report(10.0, 1)
    assert not good.should_prune()
    assert bad.should_prune()  # 10/3 against a median of 2/3 at epoch 3
    assert not early.should_prune()  # still in the warm-up
    nan = study.ask()
    nan.report(math.nan, 3)
    assert nan.should_prune()


def test_the_pruner_waits_for_enough_finished_trials():
    study = optuna.create_study(pruner=LossMedianPruner(startup=3, warmup=0))
    _finished(study, [1.0, 0.5])
    t = study.ask()
    t.report(100.0, 2)
    assert not t.should_prune()


# ---------------------------------------------------------------------------------------------
# Real sweeps (SQLite in the runs folder)


@pytest.mark.heavy  # a CI tier (.ci/run): over 6 s on the default run
def test_two_jobs_fill_the_study_and_each_trial_is_a_run(tmp_path):
    runs = tmp_path / "runs"
    r = sweep(*TINY, "--param", "train.lr=log:1e-3:3e-2", "--param", "model.hidden_size=int:4:16", "--trials", "4",
              "--jobs", "2", "--study", "s2")
    assert r.returncode == 0, r.stderr
    study = load_study(runs, "s2")
    done = [t for t in study.trials if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)]
    # a worker that lost the race for the last place records a trial that never trained ("not needed")
    surplus = [t for t in study.trials if t.user_attrs.get("reason", "").startswith("not needed")]
    assert len(done) == 4 and len(study.trials) == 4 + len(surplus) and len(surplus) <= 1
    assert all(t.state == optuna.trial.TrialState.FAIL for t in surplus)
    assert (", 1 not needed" in r.stdout) == bool(surplus)
    pids = {t.user_attrs["pid"] for t in study.trials}
    assert len(pids) == 2 and os.getpid() not in pids  # two worker processes shared the trials
    folders = trial_folders(runs)
    assert set(folders) == {t.number for t in done}
    for t in done:
        folder = folders[t.number]
        assert Path(t.user_attrs["run"]) == folder.resolve()
        cfg = (folder / "config.toml").read_text()
        assert f"lr = {t.params['train.lr']!r}" in cfg and f"hidden_size = {t.params['model.hidden_size']}" in cfg
        assert "threads = 1" in cfg
        summary = json.loads((folder / "summary.json").read_text())
        if t.state == optuna.trial.TrialState.COMPLETE:
            assert summary["status"] == "finished" and summary["best_val_loss"] == pytest.approx(t.value, rel=1e-12)
    # The table at the end, `sweep --show` and the run library agree.
    assert "study s2: 4 trials" in r.stdout
    show = subprocess.run([sys.executable, "-m", "rnn_tui", "sweep", "--show", "--study", "s2"], capture_output=True, text=True)
    assert show.returncode == 0 and show.stdout.splitlines()[0] == r.stdout.splitlines()[0]
    listed = json.loads(subprocess.run([sys.executable, "-m", "rnn_tui", "runs", "--study", "s2", "--json"], capture_output=True,
                                       text=True).stdout)
    assert sorted(row["trial"] for row in listed) == [0, 1, 2, 3] and {row["study"] for row in listed} == {"s2"}


def test_running_again_goes_on_to_n_and_saves_the_best(tmp_path, capsys):
    runs = tmp_path / "runs"
    args = ["sweep", *TINY, "--param", "train.lr=log:1e-3:3e-2", "--trials"]
    assert main([*args, "2", "--quiet"]) == 0  # in this process (--jobs 1 runs its trials here)
    first = {t.number: t.params for t in load_study(runs, "sine_rnn-val_loss").trials}
    assert main([*args, "3", "--save-best", "swept"]) == 0
    study = load_study(runs, "sine_rnn-val_loss")
    assert len(study.trials) == 3 and {t.number: t.params for t in study.trials[:2]} == first
    assert len(trial_folders(runs)) == 3
    best = min((t for t in study.trials if t.value is not None), key=lambda t: t.value)
    saved = (tmp_path / "home" / "presets" / "swept.toml").read_text()
    assert f"lr = {best.params['train.lr']!r}" in saved and f"trial ({best.number})" in saved
    # A different space under the same study name is refused, not mixed in.
    capsys.readouterr()
    assert main(["sweep", *TINY, "--param", "train.lr=log:1e-4:1e-3", "--trials", "4"]) == 2
    assert "give this sweep another --study NAME" in capsys.readouterr().err


def test_a_diverged_trial_is_recorded_with_its_reason_and_the_sweep_goes_on(tmp_path, capsys):
    assert main(["sweep", *TINY, "--set", "train.optimizer=\"sgd\"", "--set", "train.momentum=0.0", "--param",
                 "train.lr=choice:1e-3,1e9", "--trials", "4", "--study", "div", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    trials = load_study(tmp_path / "runs", "div").trials
    diverged = [t for t in trials if t.user_attrs.get("diverged")]
    fine = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(diverged) + len(fine) == 4 and diverged and fine
    assert all(t.params["train.lr"] == 1e9 and t.state == optuna.trial.TrialState.FAIL for t in diverged)
    assert all(t.user_attrs["reason"].startswith("diverged") for t in diverged)
    assert "diverged" in out


def test_a_trial_that_was_not_needed_is_not_counted_as_failed():
    from rnn_tui.sweep.study import counts

    study = optuna.create_study()
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL,
                                              user_attrs={"reason": "not needed: the study already had its trials"}))
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL, user_attrs={"reason": "interrupted"}))
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.COMPLETE, value=1.0))
    c = counts(study.trials)
    assert (c.complete, c.failed, c.surplus, c.done) == (1, 1, 1, 1)
    assert c.failed_text() == "1 failed, 1 not needed"
