"""Reading a numeric series from CSV (with one-line errors that name the row and column) and
writing CSV atomically (through fsutil.atomic_write), numbers at full precision.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from rnn_tui.errors import UserError
from rnn_tui.fsutil import atomic_write


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def read_series(path, columns=None) -> tuple[np.ndarray | None, np.ndarray, tuple[str, ...]]:
    """Load a CSV with a header row: (t or None, values (T, D) float64, column names).

    The first column named `t` (any case) is the time column; every other column (or only those
    in `columns`, in that order) is data. Blank lines are skipped. Rows are numbered from 1 for
    the first data row, and the file line is given too. Raises UserError for: a missing or
    unreadable file, an empty file, a header that is missing or repeats a name, fewer than 2
    data rows, a row with the wrong number of cells, a cell that is not a number or not finite,
    an unknown name in `columns`, no data column, and times that do not increase.
    """
    rows = _rows(path)
    header = _header(path, rows)
    data = rows[1:]
    if len(data) < 2:
        raise UserError(f"{path}: needs at least 2 rows of data, found {len(data)}")
    time_col = next((i for i, name in enumerate(header) if name.lower() == "t"), None)
    wanted = _wanted(path, header, time_col, columns)
    table = _numbers(path, header, data)
    t = None
    if time_col is not None:
        t = table[:, time_col].copy()
        bad = np.flatnonzero(np.diff(t) <= 0)
        if bad.size:
            r = int(bad[0]) + 2
            raise UserError(f"{path}: row {r} (line {data[r - 1][0]}), column {header[time_col]!r}: times must increase")
    return t, np.ascontiguousarray(table[:, [header.index(name) for name in wanted]]), tuple(wanted)


def _rows(path) -> list[tuple[int, list[str]]]:
    """The non-blank rows of the file with their line numbers."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"{path}: no such file")
    if p.is_dir():
        raise UserError(f"{path}: is a folder, not a CSV file")
    try:
        with open(p, newline="", encoding="utf-8-sig") as f:
            rows = [(n, row) for n, row in enumerate(csv.reader(f), start=1) if any(c.strip() for c in row)]
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a text (UTF-8) CSV file") from None
    except (OSError, csv.Error) as exc:
        raise UserError(f"{path}: cannot read it: {getattr(exc, 'strerror', None) or exc}") from None
    if not rows:
        raise UserError(f"{path}: the file is empty (expected a header row, e.g. t,x, then rows of numbers)")
    return rows


def _header(path, rows) -> list[str]:
    header = [c.strip() for c in rows[0][1]]
    if all(_is_number(c) for c in header):
        raise UserError(f"{path}: the first row must name the columns (e.g. t,x), found numbers")
    for i, name in enumerate(header):
        if not name:
            raise UserError(f"{path}: column {i + 1} of the header has no name")
        if name in header[:i]:
            raise UserError(f"{path}: the header names column {name!r} twice")
    return header


def _wanted(path, header: list[str], time_col: int | None, columns) -> list[str]:
    """The data columns asked for (all but the time column by default), checked against the header."""
    available = [name for i, name in enumerate(header) if i != time_col]
    if columns:
        wanted = [c.strip() for c in (columns.split(",") if isinstance(columns, str) else columns)]
        for name in wanted:
            if time_col is not None and name == header[time_col]:
                raise UserError(f"{path}: column {name!r} is the time column, not a data column")
            if name not in available:
                raise UserError(f"{path}: unknown column {name!r} in columns; valid: {', '.join(available) or 'none'}")
    else:
        wanted = available
    if not wanted:
        raise UserError(f"{path}: no data columns besides the time column {header[time_col]!r}")
    return wanted


def _numbers(path, header: list[str], data) -> np.ndarray:
    """Every cell as a finite float: (rows, columns)."""
    table = np.empty((len(data), len(header)), dtype=np.float64)
    for r, (line, row) in enumerate(data, start=1):
        if len(row) != len(header):
            raise UserError(f"{path}: row {r} (line {line}) has {len(row)} cells, the header has {len(header)}")
        for j, cell in enumerate(row):
            try:
                value = float(cell)
            except ValueError:
                raise UserError(f"{path}: row {r} (line {line}), column {header[j]!r}: {cell.strip()!r} is not a number") from None
            if not math.isfinite(value):
                raise UserError(f"{path}: row {r} (line {line}), column {header[j]!r}: {cell.strip()!r} is not finite")
            table[r - 1, j] = value
    return table


def format_row(values) -> str:
    """One CSV line of numbers at full precision (the shortest text that reads back to the same float)."""
    return ",".join(map(repr, values))


def write_csv_atomic(path, header, rows_array) -> None:
    """Write `header` and the rows of the 2-D array `rows_array` to `path`, all or nothing.

    All or nothing (fsutil.atomic_write). Numbers are written with repr (full float64 precision).
    OS errors become a UserError.
    """
    p = Path(path)
    rows = np.asarray(rows_array, dtype=np.float64)
    if rows.ndim != 2 or rows.shape[1] != len(header):
        raise ValueError(f"rows {rows.shape} do not match a header of {len(header)} names")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(f"{path}: the folder {str(folder)!r} does not exist")
    if p.is_dir():
        raise UserError(f"{path}: is a folder, not a file")

    def write(f) -> None:
        csv.writer(f, lineterminator="\n").writerow(header)
        f.writelines(format_row(row) + "\n" for row in rows.tolist())

    try:
        atomic_write(p, write, newline="", encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot write it: {exc.strerror or exc}") from None
