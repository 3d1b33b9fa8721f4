"""The run library on the command line: `rnn-tui runs`, `runs compare`, `runs rm`."""

import json

import pytest

from rnn_tui.cli import main

SHORT = ["--preset", "lorenz63_lstm", "--set", "system.steps=1500", "--set", "train.epochs=2", "--set", "model.hidden_size=8",
         "--set", "train.threads=1", "--set", "rollout.horizon=30", "--quiet"]


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """Two runs (an RNN and an LSTM on the same data) and three folders that are not whole runs."""
    root = tmp_path_factory.mktemp("lib") / "runs"
    assert main(["train", *SHORT, "--set", "model.arch=rnn", "--runs", str(root)]) == 0
    assert main(["train", *SHORT, "--runs", str(root)]) == 0
    (root / "notes").mkdir()
    (root / "notes" / "todo.txt").write_text("not a run")
    (root / "old").mkdir()
    (root / "old" / "summary.json").write_text('{"status": "finished"}')
    (root / "killed").mkdir()
    (root / "killed" / "summary.json").write_text('{"status": "running", "system": "sine", "arch": "rnn"}')
    return root


def _json(capsys, *args):
    assert main(["runs", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_runs_lists_every_folder_and_its_values_are_the_summary_s(library, capsys):
    rows = _json(capsys, "--runs", str(library), "--json")
    by_status = {}
    for r in rows:
        by_status.setdefault(r["status"], []).append(r)
    assert len(by_status["finished"]) == 2 and len(by_status["unreadable"]) == 2 and len(by_status["running"]) == 1
    for r in by_status["finished"]:
        s = json.loads((library / r["id"] / "summary.json").read_text())
        assert r["best_val"] == s["best_val_loss"] and r["epochs"] == s["epochs_run"] == 2
        assert [r["rmse_1"], r["rmse_4"], r["rmse_8"]] == [s["rmse_at_steps"][k] for k in ("1", "4", "8")]
        assert r["vpt"] == s["vpt_lyapunov"]["median"] and r["vpt_units"] == "Lyapunov times"
        assert r["train_s"] == s["train_time_s"] and r["system"] == "lorenz63" and "hidden_size=8" in r["params"]
    reasons = {r["id"]: r["reason"] for r in by_status["unreadable"]}
    assert "no summary.json" in reasons["notes"] and "lacks" in reasons["old"]


def test_filters_and_sorting(library, capsys, monkeypatch):
    monkeypatch.setenv("RNN_TUI_RUNS", str(library))  # the folder from the environment
    rnns = _json(capsys, "--arch", "rnn", "--json")
    assert sorted((r["arch"], r["status"]) for r in rnns) == [("rnn", "finished"), ("rnn", "running")]
    ranked = _json(capsys, "--sort", "rmse_8", "--json")
    scores = [r["rmse_8"] for r in ranked if r["rmse_8"] is not None]
    assert scores == sorted(scores) and ranked[-1]["rmse_8"] is None  # best first, runs without scores last
    assert main(["runs"]) == 0
    table = capsys.readouterr()
    assert "rmse@8" in table.out and "lorenz63" in table.out and "notes: unreadable" in table.err


def test_compare_marks_the_best_of_each_row(library, capsys):
    ids = sorted(p.name for p in library.iterdir() if (p / "config.toml").exists())
    rows = _json(capsys, "--runs", str(library), "compare", *ids, "--json")
    assert [r["id"] for r in rows] == ids
    assert main(["runs", "--runs", str(library), "compare", *ids]) == 0
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if l.startswith("rmse@8"))
    best = min(rows, key=lambda r: r["rmse_8"])
    assert line.count("*") == 1 and f"{best['rmse_8']:.3g} *" in line


def test_bad_ids_and_sort_keys_are_one_line_errors(library, capsys):
    assert main(["runs", "--runs", str(library), "compare", "nope"]) == 2
    assert "no run 'nope'" in capsys.readouterr().err
    assert main(["runs", "--runs", str(library), "--sort", "vtp"]) == 2
    assert "did you mean 'vpt'" in capsys.readouterr().err


@pytest.fixture
def own_library(library, tmp_path):
    """A runs folder of this test's own (a copy of one trained run, an old run from before the marker,
    and folders that are not runs): removing from it changes nothing another test counts."""
    import shutil

    root = tmp_path / "runs"
    root.mkdir()
    run = next(p for p in sorted(library.iterdir()) if (p / "config.toml").exists())
    shutil.copytree(run, root / "run")
    shutil.copytree(run, root / "old-run")
    (root / "old-run" / ".rnn-tui-run").unlink()  # a run made before the marker: only run files in it
    (root / "notes").mkdir()
    (root / "notes" / "todo.txt").write_text("not a run")
    shutil.copytree(run, root / "mine")  # a run's files and a user's own, without the marker
    (root / "mine" / ".rnn-tui-run").unlink()
    (root / "mine" / "notes.txt").write_text("mine")
    (tmp_path / "outside").mkdir()
    shutil.copytree(run, tmp_path / "outside" / "run")
    (root / "link").symlink_to(tmp_path / "outside" / "run")
    return root


def test_every_run_is_marked_as_one(library):
    from rnn_tui.core import runio

    runs = [p for p in library.iterdir() if (p / "config.toml").exists()]
    assert len(runs) == 2 and all(runio.is_marked(p) for p in runs)
    assert not any(runio.is_marked(library / n) for n in ("notes", "old", "killed"))


def test_rm_asks_unless_yes_and_removes_runs(own_library, capsys):
    root = own_library
    assert main(["runs", "--runs", str(root), "rm", "run"]) == 2  # no terminal to ask on
    assert "--yes" in capsys.readouterr().err and (root / "run").exists()
    assert main(["runs", "--runs", str(root), "rm", "run", "old-run", "run", "--yes"]) == 0  # an id twice: removed once
    assert not (root / "run").exists() and not (root / "old-run").exists()


@pytest.mark.parametrize("given, why", [
    ("notes", "not a run folder that rnn-tui made"),
    ("mine", "not a run folder that rnn-tui made"),
    ("link", "is a link"),
    ("../outside/run", "a path, not a run id"),
    ("..", "a path, not a run id"),
    ("ABSOLUTE", "a path, not a run id"),
    ("nope", "no run 'nope'"),
])
def test_rm_removes_nothing_that_is_not_a_run_of_the_runs_folder(own_library, capsys, given, why):
    root = own_library
    before = sorted(str(p) for p in root.parent.rglob("*"))
    given = str(root.parent / "outside" / "run") if given == "ABSOLUTE" else given
    assert main(["runs", "--runs", str(root), "rm", "run", given, "--yes"]) == 2  # one bad id: nothing removed
    err = capsys.readouterr().err
    assert why in err and len(err.strip().splitlines()) == 1 and "nothing removed" in err
    assert sorted(str(p) for p in root.parent.rglob("*")) == before


def test_rm_refuses_a_run_that_is_being_written(own_library, capsys):
    import fcntl
    import os

    fd = os.open(own_library / "run" / ".rnn-tui.lock", os.O_CREAT | os.O_WRONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert main(["runs", "--runs", str(own_library), "rm", "run", "--yes"]) == 2
        assert "is writing" in capsys.readouterr().err and (own_library / "run" / "config.toml").exists()
    finally:
        os.close(fd)


@pytest.mark.parametrize("command", [["runs"], ["runs", "rm", "x", "--yes"], ["runs", "compare", "x"]])
def test_a_file_as_the_runs_folder_is_refused(tmp_path, capsys, command):
    afile = tmp_path / "runs.txt"
    afile.write_text("not a folder")
    assert main([*command[:1], "--runs", str(afile), *command[1:]]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--runs {afile}: a file, not a folder" in err and afile.read_text() == "not a folder"
