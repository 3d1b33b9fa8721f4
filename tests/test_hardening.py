"""Bad input of every kind (issue 15): absurd sizes refused before any allocation, run folders that
are never written over by accident, stop that stops every architecture, one-line errors."""

import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rnn_tui import budget, config
from rnn_tui.core import events as ev
from rnn_tui.core.trainer import Control, train
from rnn_tui.errors import UserError

CLI = [sys.executable, "-m", "rnn_tui"]
FAST = ["--set", "train.epochs=2", "--set", "model.hidden_size=8", "--set", "train.threads=1", "--set", "system.steps=300",
        "--set", "rollout.horizon=20"]


def rnn_tui(*args, **kw):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=120, **kw)


class Ran:
    def __init__(self, returncode: int, stderr: str) -> None:
        self.returncode, self.stderr = returncode, stderr


@pytest.fixture
def cli(capsys):
    """`rnn-tui ARGS` in this process (no interpreter start-up): (exit code, stderr)."""
    from rnn_tui.cli import main

    def run(*args):
        code = main([str(a) for a in args])
        return Ran(code, capsys.readouterr().err)

    return run


@pytest.mark.parametrize(
    "preset, overrides, key",
    [
        ("sine_rnn", ["model.hidden_size=1000000000"], "model.hidden_size"),
        ("sine_rnn", ["model.head_size=1000000000"], "model.head_size"),
        ("sine_rnn", ["model.arch=dense_gru", "model.dense_size=100000000"], "model.dense_size"),
        ("sine_rnn", ["model.num_layers=100000"], "model.num_layers"),
        ("lorenz63_esn", ["model.hidden_size=200000"], "model.hidden_size"),
        ("kdv_convlstm", ["model.kernel_size=1000001"], "model.kernel_size"),
        ("lorenz63_rk4", ["model.substeps=1000000000"], "model.substeps"),
        ("sine_rnn", ["system.steps=1e9"], "system.steps"),
        ("sine_rnn", ["train.threads=100000"], "train.threads"),
        ("sine_rnn", ["train.seed=-1"], "train.seed"),
        ("sine_rnn", ["train.seed=2e70"], "train.seed"),
        ("sine_rnn", ["system.seed=4294967296"], "system.seed"),
        ("sine_rnn", ["system.noise=1e308"], "system.noise"),
        ("sine_rnn", ["system.dt=1e308"], "system.dt"),
        # each within its bounds, together far beyond the machine: the memory estimate names the weightiest
        ("lorenz63_lstm", ["model.hidden_size=4096", "train.batch_size=100000"], "train.batch_size"),
        ("lorenz63_esn", ["system.steps=10000000", "model.hidden_size=4000"], "system.steps"),
        ("lorenz63_lstm", ["system.steps=10000000", "rollout.horizon=1000000"], "rollout.horizon"),
    ],
)
def test_absurd_sizes_are_refused_naming_the_field(preset, overrides, key):
    with pytest.raises(UserError) as err:
        config.load(preset, overrides=overrides)
    msg = str(err.value)
    assert err.value.key == key and key in msg and "\n" not in msg, msg


def test_the_memory_estimate_passes_every_preset_and_says_what_weighs():
    for name in config.list_presets():
        est = budget.estimate(config.load(name))
        assert 0 < est.total < budget.LIMIT_FRACTION * budget.machine_memory(), name
    big = budget.estimate(config.load("lorenz63_esn"))
    assert big.largest == "fit"  # the reservoir states of the whole training series


# The child reads its own peak (VmHWM, per address space, so reset by exec) as it exits. ru_maxrss is
# not: Linux keeps the larger of the old and new image's peaks across exec, and the old image of a
# forked child is this test process (hundreds of MB late in a full run).
PEAK = """import atexit, os, runpy, sys
def peak():
    kib = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    open(os.environ["RNN_TUI_PEAK_FILE"], "w").write(str(kib))
atexit.register(peak)
sys.argv = ["rnn-tui", *sys.argv[1:]]
runpy.run_module("rnn_tui", run_name="__main__")
"""


def rnn_tui_rss(*args) -> tuple[int, str, int]:
    """`rnn-tui ARGS` in a child: (exit code, stderr, the child's own peak resident memory in KiB)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        peak_file = os.path.join(tmp, "peak")
        proc = subprocess.run([sys.executable, "-c", PEAK, *map(str, args)], capture_output=True, text=True,
                              env={**os.environ, "RNN_TUI_PEAK_FILE": peak_file})
        rss = int(open(peak_file).read()) if os.path.exists(peak_file) else -1
    return proc.returncode, proc.stderr, rss


def test_absurd_sizes_fail_at_once_with_little_memory_headless_and_in_the_data_command(tmp_path):
    for args in (["train", "--preset", "lorenz63_lstm", "--set", "model.hidden_size=4096", "--set", "train.batch_size=100000",
                  "--out", tmp_path / "r"],
                 ["data", "sine", "--steps", "1000000000", "--out", tmp_path / "s.csv"]):
        code, err, rss = rnn_tui_rss(*args)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("rnn-tui: error:"), err
        assert "Warning" not in err
        assert 0 < rss < 600_000, rss  # KiB: the child never grew past 600 MB
    assert not (tmp_path / "r").exists() and not list(tmp_path.iterdir())


# -- run folders -------------------------------------------------------------------------------


def _tree(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_dt_that_overflows_is_one_line_without_warnings(tmp_path, cli):
    p = cli("data", "lorenz63", "--steps", "10", "--dt", "1e308", "--out", tmp_path / "l.csv")
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "dt must be" in p.stderr


def test_an_existing_folder_is_never_written_over_without_force(tmp_path, cli):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "config.toml").write_text("# my own notes\n")
    (out / "data.csv").write_text("t,x\n0,1\n")
    before = _tree(out)
    p = cli("train", "--preset", "sine_rnn", *FAST, "--out", out)
    assert p.returncode == 2 and "not empty" in p.stderr and "--force" in p.stderr
    assert _tree(out) == before  # byte for byte
    p = cli("train", "--preset", "sine_rnn", *FAST, "--out", out, "--force", "--quiet")
    assert p.returncode == 0, p.stderr
    assert (out / "data.csv").read_text() == "t,x\n0,1\n"  # --force replaces run files only
    from rnn_tui.core import runio

    assert not runio.is_marked(out)  # a user's folder holding a run is not one `runs rm` may remove
    assert json.loads((out / "summary.json").read_text())["status"] == "finished"
    assert not (out / ".rnn-tui.lock").exists()


def test_a_folder_another_run_is_writing_is_refused(tmp_path, cli):
    out = tmp_path / "busy"
    out.mkdir()
    fd = os.open(out / ".rnn-tui.lock", os.O_CREAT | os.O_WRONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # what a running rnn-tui holds
    try:
        p = cli("train", "--preset", "sine_rnn", *FAST, "--out", out, "--force")
    finally:
        os.close(fd)
    assert p.returncode == 2 and "another rnn-tui run is writing to this folder" in p.stderr
    assert sorted(x.name for x in out.iterdir()) == [".rnn-tui.lock"]  # nothing else was written


def test_a_failure_found_at_set_up_leaves_no_folder(tmp_path, cli):
    out = tmp_path / "esn"
    p = cli("train", "--preset", "lorenz63_esn", "--set", "system.steps=2000", "--set", "model.washout=5000",
                "--set", "model.hidden_size=20", "--set", "train.seq_len=10", "--out", out)
    assert p.returncode == 2 and "model.washout" in p.stderr and "Traceback" not in p.stderr
    assert not out.exists()


def test_a_killed_run_leaves_a_folder_that_reads_as_running(tmp_path):
    out = tmp_path / "killed"
    proc = subprocess.Popen([*CLI, "train", "--preset", "sine_rnn", "--set", "train.epochs=100000", "--set", "train.threads=1",
                             "--out", str(out), "--quiet"], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not ((out / "metrics.jsonl").is_file() and (out / "metrics.jsonl").read_text()):
            time.sleep(0.1)
    finally:
        proc.kill()
        proc.wait()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "running" and summary["arch"] == "rnn" and summary["pid"] == proc.pid


def test_run_files_are_readable_by_others_under_the_usual_umask(tmp_path, cli):
    out = tmp_path / "r"
    old = os.umask(0o022)
    try:
        p = cli("train", "--preset", "sine_rnn", *FAST, "--out", out, "--quiet")
    finally:
        os.umask(old)
    assert p.returncode == 0, p.stderr
    for name in ("config.toml", "metrics.jsonl", "summary.json", "rollout.csv", "model.pt"):
        assert (out / name).stat().st_mode & 0o777 == 0o644, name


# -- stop means stop -----------------------------------------------------------------------------

SLOW = {  # a configuration of each architecture that would train for minutes
    "rnn": ("sine_rnn", []), "lstm": ("lorenz63_lstm", []), "gru": ("lorenz63_lstm", ["model.arch=gru"]),
    "dense_gru": ("lorenz63_lstm", ["model.arch=dense_gru"]), "irnn": ("logistic_irnn", []),
    "mlp": ("lorenz63_mlp", []), "rk4": ("lorenz63_rk4", []), "convlstm": ("kdv_convlstm", []),
    "esn": ("lorenz63_esn", ["system.name=sine", "system.steps=200000", "model.hidden_size=200"]),
    "ngrc": ("lorenz63_ngrc_std", ["system.name=sine", "system.steps=600000", "model.delays=12", "train.seq_len=12"]),  # an 8 s fit
}


@pytest.mark.parametrize("arch", list(SLOW))
def test_stop_ends_every_architecture_promptly(arch):
    preset, extra = SLOW[arch]
    cfg = config.load(preset, overrides=extra + ["train.epochs=100000", "train.threads=1", "rollout.every=0"])
    control = Control()
    asked = {}

    def on_event(e):
        if isinstance(e, ev.Started):  # stop 0.3 s into training (the ESN: inside its reservoir run)
            threading.Timer(0.3, lambda: (asked.setdefault("t", time.monotonic()), control.request_stop())).start()

    result = train(cfg, on_event, control)
    took = time.monotonic() - asked["t"]
    assert result.status == "cancelled", result.message
    assert took < 5.0, f"{arch} took {took:.1f} s to stop"  # was 28 s for the ESN; generous for a loaded machine


def test_stop_during_the_evaluation_skips_it():
    control = Control()
    cfg = config.load("lorenz63_lstm", overrides=["system.steps=3000", "train.epochs=1", "train.threads=1", "model.hidden_size=16"])
    result = train(cfg, lambda e: control.request_stop() if isinstance(e, ev.EpochEnd) else None, control)
    assert result.status == "finished" and result.summary.evaluation is None
    assert result.summary.evaluation_note == "skipped: the run was stopped during the evaluation"


def test_ctrl_c_stops_an_esn_and_writes_its_files(tmp_path):
    out = tmp_path / "esn"
    proc = subprocess.Popen([*CLI, "train", "--preset", "lorenz63_esn", "--set", "system.name=sine", "--set", "system.steps=200000",
                             "--set", "model.hidden_size=200",
                             "--set", "train.threads=1", "--out", str(out)], stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()  # "training on cpu ..." once set-up is done
    assert "training on" in line, line
    time.sleep(0.5)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.wait(60)
    took = time.monotonic() - sent
    assert proc.returncode == 130 and took < 5.0, (proc.returncode, took)
    assert json.loads((out / "summary.json").read_text())["status"] == "cancelled"


def test_a_csv_run_repeats_from_another_folder(tmp_path, cli, monkeypatch):
    data = tmp_path / "work"
    data.mkdir()
    t = [i * 0.1 for i in range(400)]
    (data / "series.csv").write_text("t,x\n" + "".join(f"{a!r},{__import__('math').sin(a)!r}\n" for a in t))
    monkeypatch.chdir(data)
    p = cli("train", "--preset", "sine_rnn", *FAST, "--set", "system.name=csv", "--set", "system.steps=0",
            "--set", "system.params.path=series.csv", "--out", tmp_path / "r1", "--quiet")
    assert p.returncode == 0, p.stderr
    saved = config.load(config=tmp_path / "r1" / "config.toml")
    assert saved.system.params["path"] == str(data / "series.csv")
    monkeypatch.chdir(tmp_path)
    p = cli("train", "--config", tmp_path / "r1" / "config.toml", "--out", tmp_path / "r2", "--quiet")
    assert p.returncode == 0, p.stderr


# -- every new surface: one line, exit 2, before anything is done (issue 21) -------------------------


@pytest.mark.parametrize("argv", [
    ["runs", "--runs", "{file}"],
    ["runs", "--runs", "{file}", "compare", "a"],
    ["serve", "--runs", "{file}", "--port", "0"],
    ["train", "--preset", "sine_rnn", "--runs", "{file}"],
    ["sweep", "--preset", "sine_rnn", "--trials", "1", "--param", "train.lr=log:1e-4:1e-1", "--runs", "{file}"],
])
def test_a_file_given_as_the_runs_folder_is_refused_before_anything(argv, tmp_path, cli):
    afile = tmp_path / "runs.txt"
    afile.write_text("mine")
    p = cli(*(a.format(file=afile) for a in argv))
    assert p.returncode == 2 and p.stderr.count("\n") == 1, p.stderr
    assert f"--runs {afile}: a file, not a folder of runs" in p.stderr
    assert sorted(x.name for x in tmp_path.iterdir()) == ["runs.txt"] and afile.read_text() == "mine"


def test_the_runs_folder_from_the_environment_is_named_when_it_is_a_file(tmp_path, cli, monkeypatch):
    afile = tmp_path / "runs.txt"
    afile.write_text("mine")
    monkeypatch.setenv("RNN_TUI_RUNS", str(afile))
    p = cli("runs")
    assert p.returncode == 2 and f"$RNN_TUI_RUNS {afile}: a file" in p.stderr


@pytest.mark.parametrize("argv, says", [
    (["sweep", "--preset", "sine_rnn", "--trials", "x"], "argument --trials: invalid int value: 'x'"),
    (["serve", "--port", "abc"], "argument --port: invalid int value: 'abc'"),
    (["serve", "--max-sessions"], "argument --max-sessions: expected one argument"),
    (["runs", "rm"], "the following arguments are required: ID"),
    (["runs", "--sort"], "argument --sort: expected one argument"),
    (["runs", "compare"], "the following arguments are required: ID"),
    (["bench", "nope"], "invalid choice: 'nope'"),
    (["data", "sine", "--steps", "1.5"], "--steps needs an integer, got '1.5'"),
    (["lessons", "--run", "x"], "argument --run"),
    (["train", "--bogus"], "unrecognized arguments: --bogus (see `rnn-tui train --help`)"),
    (["nosuch"], "invalid choice: 'nosuch'"),
    (["--log-level", "loud"], "argument --log-level: invalid choice: 'loud'"),
])
def test_every_sub_command_s_bad_argument_is_one_line_exit_2(argv, says, capsys):
    from rnn_tui.cli import main

    try:
        code = main(argv)
    except SystemExit as stop:  # argparse's own checks end in SystemExit, the commands' in a return
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("rnn-tui: error: "), err
    assert says in err and "usage:" not in err
