"""An ensemble on a plot (train.ensemble): the members' spread as a filled band from their 10th to
their 90th percentile, under their median line. The band is braille dots one dot apart, a few
thousand points however many members there are (plotext draws every point it is given)."""

from __future__ import annotations

import warnings

import numpy as np

BAND = (10, 50, 90)  # percentiles: band bottom, line, band top
BAND_LABEL = "10–90%"


def quantiles(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(10th percentile, median, 90th percentile) over the members (first axis) of (K, N) values,
    at each point over the members whose value is finite there (NaN where none is)."""
    v = np.where(np.isfinite(values), values, np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN points (every member diverged)
        lo, mid, hi = np.nanpercentile(v, BAND, axis=0)
    return lo, mid, hi


def fill(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, ylim: tuple[float, float], dots: int, columns: int,
         log: bool = False) -> tuple[list[float], list[float]]:
    """Points (xs, ys) filling the band between lo and hi: the band interpolated onto `columns`
    evenly spaced x positions (2 a character column, so no gaps between the samples), each column
    filled with dots spaced `dots` to the height of the y range `ylim`, clipped to it; on a log
    axis interpolated and spaced in log10."""
    x, lo, hi = (np.asarray(a, dtype=float) for a in (x, lo, hi))
    ok = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(x)
    if log:
        ok &= (lo > 0) & (hi > 0)
    if not ok.any() or not ylim[1] > ylim[0]:
        return [], []
    f = np.log10 if log else (lambda a: a)
    y0, y1 = f(np.asarray(ylim, dtype=float))
    x, a, b = x[ok], f(lo[ok]), f(hi[ok])
    if len(x) > 1:
        grid = np.linspace(x[0], x[-1], max(2, columns))
        a, b, x = np.interp(grid, x, a), np.interp(grid, x, b), grid
    a, b = np.clip(a, y0, y1), np.clip(b, y0, y1)
    step = (y1 - y0) / max(1, dots)
    n = np.floor((b - a) / step).astype(int) + 1
    xs = np.repeat(x, n)
    offsets = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    ys = np.repeat(a, n) + offsets * step
    return xs.tolist(), (10.0**ys if log else ys).tolist()
