"""Reading a user's CSV series (each bad file refused with a one-line message naming the place) and
the atomic CSV writer."""

import os

import numpy as np
import pytest

from rnn_tui import csvio
from rnn_tui.csvio import read_series, write_csv_atomic
from rnn_tui.errors import UserError
from rnn_tui.systems import SYSTEMS


def _file(tmp_path, text, name="s.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_good_file_with_a_time_column(tmp_path):
    path = _file(tmp_path, "t,x,y\n0.0,1.5,-2\n0.5,2.5,-3\n1.0,3.5,-4e-1\n\n")
    t, values, names = read_series(path)
    assert names == ("x", "y")
    assert t.tolist() == [0.0, 0.5, 1.0]
    assert values.dtype == np.float64 and values.tolist() == [[1.5, -2.0], [2.5, -3.0], [3.5, -0.4]]


def test_good_file_without_a_time_column_and_a_column_selection(tmp_path):
    path = _file(tmp_path, "a, b ,c\n1,2,3\n4,5,6\n")
    t, values, names = read_series(path, columns="c, a")
    assert t is None and names == ("c", "a") and values.tolist() == [[3.0, 1.0], [6.0, 4.0]]


def test_time_column_is_found_in_any_case_and_position(tmp_path):
    t, values, names = read_series(_file(tmp_path, "x,T\n1,0\n2,0.1\n"))
    assert names == ("x",) and t.tolist() == [0.0, 0.1]


def test_csv_system_reads_the_file(tmp_path):
    path = _file(tmp_path, "t,x,y\n" + "".join(f"{0.1 * i!r},{i},{i * i}\n" for i in range(10)))
    s = SYSTEMS["csv"]
    traj = s.trajectory({"path": str(path)})
    assert traj.kind == "data" and traj.names == ("x", "y") and traj.values.shape == (10, 2)
    assert abs(traj.dt - 0.1) < 1e-12 and traj.t[3] == 0.1 * 3
    # `steps` takes the first rows; more steps than rows is the whole file
    assert s.trajectory({"path": str(path)}, steps=4).values.shape == (4, 2)
    assert s.trajectory({"path": str(path)}, steps=50).values.shape == (10, 2)
    # without a time column, t = n·dt
    plain = _file(tmp_path, "x\n1\n2\n3\n", "plain.csv")
    traj = s.trajectory({"path": str(plain), "columns": "x"}, dt=0.25)
    assert traj.t.tolist() == [0.0, 0.25, 0.5] and traj.dt == 0.25


@pytest.mark.parametrize(
    "text, columns, message",
    [
        ("", None, "the file is empty"),
        ("\n  \n", None, "the file is empty"),
        ("t,x\n", None, "needs at least 2 rows of data, found 0"),
        ("t,x\n0,1\n", None, "needs at least 2 rows of data, found 1"),
        ("t,x\n0,1\n1,abc\n2,3\n", None, "row 2 (line 3), column 'x': 'abc' is not a number"),
        ("t,x\n0,1\n1,\n", None, "row 2 (line 3), column 'x': '' is not a number"),
        ("t,x,y\n0,1,2\n1,2,nan\n", None, "row 2 (line 3), column 'y': 'nan' is not finite"),
        ("t,x\n0,1\n1,2\n2,-inf\n", None, "row 3 (line 4), column 'x': '-inf' is not finite"),
        ("t,x\n0,1\n1,2,3\n", None, "row 2 (line 3) has 3 cells, the header has 2"),
        ("t,x\n0,1\n1\n", None, "row 2 (line 3) has 1 cells, the header has 2"),
        ("t,x,y\n0,1,2\n1,2,3\n", "x,z", "unknown column 'z' in columns; valid: x, y"),
        ("t,x\n0,1\n1,2\n", "t", "column 't' is the time column"),
        ("1,2\n3,4\n5,6\n", None, "the first row must name the columns"),
        ("t,x,x\n0,1,2\n1,2,3\n", None, "names column 'x' twice"),
        ("t\n0\n1\n", None, "no data columns besides the time column 't'"),
        ("t,x\n0,1\n1,2\n1,3\n", None, "row 3 (line 4), column 't': times must increase"),
    ],
)
def test_bad_files_are_refused_with_one_line(tmp_path, text, columns, message):
    path = _file(tmp_path, text)
    with pytest.raises(UserError) as info:
        read_series(path, columns)
    text = str(info.value)
    assert message in text and "\n" not in text and str(path) in text


def test_missing_file_and_folder_are_refused(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        read_series(tmp_path / "nope.csv")
    with pytest.raises(UserError, match="is a folder"):
        read_series(tmp_path)


def test_csv_system_refuses_a_bad_file_through_the_system(tmp_path):
    path = _file(tmp_path, "t,x\n0,1\n")
    with pytest.raises(UserError, match="needs at least 2 rows"):
        SYSTEMS["csv"].trajectory({"path": str(path)})


def test_write_round_trips_at_full_precision(tmp_path):
    rng = np.random.default_rng(0)
    rows = np.column_stack([np.arange(50) * 0.1, rng.normal(size=(50, 3)) * 10.0 ** rng.integers(-300, 300, size=(50, 3))])
    path = tmp_path / "out.csv"
    write_csv_atomic(path, ("t", "a", "b", "c"), rows)
    assert path.read_text().splitlines()[0] == "t,a,b,c"
    t, values, names = read_series(path)
    assert names == ("a", "b", "c")
    assert np.array_equal(t, rows[:, 0]) and np.array_equal(values, rows[:, 1:])
    assert os.listdir(tmp_path) == ["out.csv"]


def test_failed_write_leaves_nothing_and_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "out.csv"
    path.write_text("keep me\n")

    def boom(values):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(csvio, "format_row", boom)
    with pytest.raises(RuntimeError):
        write_csv_atomic(path, ("t", "x"), np.zeros((3, 2)))
    assert path.read_text() == "keep me\n"
    assert os.listdir(tmp_path) == ["out.csv"]


def test_write_into_a_missing_folder_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        write_csv_atomic(tmp_path / "no" / "out.csv", ("t",), np.zeros((2, 1)))
