"""`rnn-tui data`, run as a real process: a CSV for every system, --list, and one-line refusals that
leave no file behind (and never clobber an existing one)."""

import os
import subprocess
import sys

import numpy as np
import pytest

from rnn_tui.csvio import read_series
from rnn_tui.systems import SYSTEMS


def rnn_tui(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "rnn_tui", *map(str, args)], capture_output=True, text=True, cwd=cwd)


@pytest.fixture
def series(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("t,a,b\n0,1,2\n0.5,3,4\n1.0,5,6\n1.5,7,8\n")
    return path


@pytest.mark.parametrize("name", [n for n in SYSTEMS if n != "csv"])
def test_writes_a_csv_for_every_system(tmp_path, name):
    out = tmp_path / f"{name}.csv"
    result = rnn_tui("data", name, "--steps", 5, "--out", out)
    assert result.returncode == 0, result.stderr
    s = SYSTEMS[name]
    traj = s.trajectory(steps=5)
    header = out.read_text().splitlines()[0].split(",")
    assert header == ["t", *traj.names]
    t, values, names = read_series(out)
    assert np.array_equal(t, traj.t) and np.array_equal(values, traj.values)  # full precision
    assert len(out.read_text().splitlines()) == 6


def test_csv_system_through_the_cli(tmp_path, series):
    out = tmp_path / "copy.csv"
    result = rnn_tui("data", "csv", "--param", f"path={series}", "--param", "columns=b", "--steps", 3, "--out", out)
    assert result.returncode == 0, result.stderr
    assert out.read_text() == "t,b\n0.0,2.0\n0.5,4.0\n1.0,6.0\n"


def test_params_steps_dt_and_seed_are_applied(tmp_path):
    out = tmp_path / "o.csv"
    args = ["--param", "frequency=2", "--param", "amplitude=0.5", "--steps", 4, "--dt", 0.1]
    assert rnn_tui("data", "sine", *args, "--out", out).returncode == 0
    t, values, _ = read_series(out)
    np.testing.assert_allclose(t, [0, 0.1, 0.2, 0.3], rtol=0, atol=1e-15)
    np.testing.assert_allclose(values[:, 0], 0.5 * np.sin(2 * t), rtol=0, atol=1e-15)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert rnn_tui("data", "noisy_sine", "--steps", 5, "--seed", 3, "--out", a).returncode == 0
    assert rnn_tui("data", "noisy_sine", "--steps", 5, "--seed", 4, "--out", b).returncode == 0
    assert a.read_text() != b.read_text()


def test_list_shows_every_system_and_parameter():
    result = rnn_tui("data", "--list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for s in SYSTEMS.values():
        assert any(line.startswith(f"{s.name} (") for line in lines), s.name
        for name, info in s.fields.items():
            assert any(line.split() and line.split()[0] == name and info.description in line for line in lines), (s.name, name)
    assert any(line.split()[:3] == ["r", "=", "3.5"] and line.endswith("(in [0, 4])") for line in lines)  # the logistic map's bounds


@pytest.mark.parametrize(
    "args, message",
    [
        (["lorenz-63"], "unknown system 'lorenz-63' (did you mean 'lorenz63'?); valid: sine, noisy_sine"),
        (["lorenz63", "--param", "rh=27"], "unknown parameter 'rh' for system 'lorenz63'"),
        (["lorenz63", "--param", "rho"], "--param needs NAME=VALUE"),
        (["lorenz63", "--param", "rho=abc"], "'rho' needs a number, got 'abc'"),
        (["lorenz63", "--param", "rho=nan"], "'rho' must be finite"),
        (["lorenz63", "--param", "rho=inf"], "'rho' must be finite"),
        (["sine", "--steps", "1"], "--steps must be >= 2"),
        (["sine", "--steps", "ten"], "--steps needs an integer"),
        (["sine", "--dt", "0"], "--dt must be a finite number > 0"),
        (["sine", "--dt", "-0.1"], "--dt must be a finite number > 0"),
        (["sine", "--dt", "nan"], "--dt must be a finite number > 0"),
        (["sine", "--seed", "x"], "--seed needs an integer"),
        (["csv"], "set the file with --param path="),
        (["csv", "--param", "path=NOPE.csv"], "NOPE.csv: no such file"),
        (["kdv", "--param", "kappa1=0.6"], "kappa1 and kappa2 must differ"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_file(tmp_path, args, message):
    out = tmp_path / "out.csv"
    result = rnn_tui("data", *args, "--out", out, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("rnn-tui: error: "), result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "the file is empty"),
        ("t,x\n", "found 0"),
        ("t,x\n0,1\n", "found 1"),
        ("t,x\n0,1\n1,oops\n", "row 2 (line 3), column 'x'"),
        ("t,x\n0,1\n1,nan\n", "row 2 (line 3), column 'x': 'nan' is not finite"),
        ("t,x\n0,1\n1,2,3\n", "row 2 (line 3) has 3 cells"),
    ],
)
def test_bad_csv_input_keeps_the_existing_output(tmp_path, text, message):
    src = tmp_path / "in.csv"
    src.write_text(text)
    out = tmp_path / "out.csv"
    out.write_text("precious\n")
    result = rnn_tui("data", "csv", "--param", f"path={src}", "--out", out)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert out.read_text() == "precious\n"
    assert sorted(os.listdir(tmp_path)) == ["in.csv", "out.csv"]


def test_missing_out_and_missing_folder_are_refused(tmp_path):
    result = rnn_tui("data", "sine", cwd=tmp_path)
    assert result.returncode == 2 and "--out FILE.csv is required" in result.stderr
    result = rnn_tui("data", "sine", "--out", tmp_path / "no" / "o.csv")
    assert result.returncode == 2 and "does not exist" in result.stderr and "Traceback" not in result.stderr
    assert os.listdir(tmp_path) == []
