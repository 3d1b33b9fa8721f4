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


def test_rm_asks_unless_yes(library, capsys):
    assert main(["runs", "--runs", str(library), "rm", "notes"]) == 2  # no terminal to ask on
    assert "--yes" in capsys.readouterr().err and (library / "notes").exists()
    assert main(["runs", "--runs", str(library), "rm", "notes", "--yes"]) == 0
    assert not (library / "notes").exists()
