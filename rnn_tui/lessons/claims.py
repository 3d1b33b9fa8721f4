"""A lesson's claim, measured: small expressions over the lesson's runs (`lstm.vpt / rnn.vpt`,
`rnn.rmse(8)`, `clip.diverged`), evaluated by a walker of Python's syntax tree that allows only
numbers, arithmetic, comparisons, the runs' documented facts and a few functions. Nothing else of
Python is reachable from a lesson file (no imports, no attributes outside `RunFacts.FACTS`, no
calls but the functions below), so a teacher's file is data, not code.

The facts come from each run's summary.json (read through core/runio), so the number a claim
prints is the number in the run's files.
"""

from __future__ import annotations

import ast
import math
import string
from typing import Any, Callable

import numpy as np

from rnn_tui.core.results import Summary
from rnn_tui.errors import UserError, closest

FUNCTIONS: dict[str, Callable] = {
    "min": min, "max": max, "abs": abs, "round": round,
    "log10": lambda x: math.log10(x) if x > 0 else math.nan,
    "sqrt": lambda x: math.sqrt(x) if x >= 0 else math.nan,
    "median": lambda xs: float(np.nanmedian(list(xs))) if len(xs) else math.nan,
    "mean": lambda xs: float(np.nanmean(list(xs))) if len(xs) else math.nan,
}


def _num(v) -> float:
    return math.nan if v is None else float(v)


class Curve:
    """RMSE by lead step: `rmse(8)` in an expression, `{run.rmse[8]}` in a sentence (1: the first
    predicted step; NaN beyond the curve)."""

    def __init__(self, values) -> None:
        self.values = tuple(float(v) for v in values)

    def __call__(self, lead: int) -> float:
        lead = int(lead)
        return self.values[lead - 1] if 1 <= lead <= len(self.values) else math.nan

    def __getitem__(self, lead: int) -> float:
        return self(lead)

    def __len__(self) -> int:
        return len(self.values)


KEYED = {  # fact -> its summary.json key: the long run ([climate]) and the probe (train.inspect)
    "lambda1": "climate.lyapunov_model.0", "lambda1_truth": "climate.lyapunov_truth.0",
    "d_stsp": "climate.d_stsp", "d_stsp_floor": "climate.d_stsp_floor", "d_h": "climate.d_h", "d_h_floor": "climate.d_h_floor",
    "grad_lag_ratio": "inspect.grad_lag_ratio", "grad_decay": "inspect.grad_decay_per_step",
    "spectral_radius": "inspect.spectral_radius"}


class RunFacts:
    """What a claim may read of one run (errors in data units, losses in normalised units, VPT in
    Lyapunov times; NaN where the run has no such number)."""

    FACTS = ("status", "diverged", "epochs", "steps", "params", "val_loss", "final_val_loss", "train_loss", "horizon",
             "rmse", "rmse_end", "vpt", "vpt_time", "truth_vpt", "members_vpt", "fit_s", "train_s", "wall_s", "get",
             "fate", "lambda1", "lambda1_truth", "d_stsp", "d_stsp_floor", "d_h", "d_h_floor", "grad_lag_ratio", "grad_decay", "spectral_radius")

    def __init__(self, summary: Summary) -> None:
        self.summary = summary
        self._dict = summary.to_dict()

    # -- status and size
    @property
    def status(self) -> str:
        return self.summary.status

    @property
    def diverged(self) -> bool:
        return self.summary.status == "diverged"

    @property
    def epochs(self) -> int:
        return self.summary.epochs_run

    @property
    def steps(self) -> int:
        return self.summary.steps

    @property
    def params(self) -> int:
        return self.summary.n_params

    # -- losses (MSE, normalised units)
    @property
    def val_loss(self) -> float:
        return _num(self.summary.best_val_loss)

    @property
    def final_val_loss(self) -> float:
        return _num(self.summary.final_val_loss)

    @property
    def train_loss(self) -> float:
        return _num(self.summary.final_train_loss)

    # -- free-running forecasts on the test split (data units)
    @property
    def _curve(self) -> tuple[float, ...]:
        e = self.summary.evaluation
        return e.rmse_curve if e is not None else ()

    @property
    def horizon(self) -> int:
        return len(self._curve)

    @property
    def rmse(self) -> Curve:
        """RMSE of the free runs by lead step: rmse(1) the first predicted step."""
        return Curve(self._curve)

    @property
    def rmse_end(self) -> float:
        return float(self._curve[-1]) if self._curve else math.nan

    @property
    def _vpt(self):
        e = self.summary.evaluation
        return e.vpt if e is not None else None

    @property
    def vpt(self) -> float:
        return self._vpt.lyapunov.median if self._vpt is not None else math.nan

    @property
    def vpt_time(self) -> float:
        return self._vpt.time.median if self._vpt is not None else math.nan

    @property
    def truth_vpt(self) -> float:
        v = self._vpt
        return _num(v.truth_lyapunov) if v is not None else math.nan

    @property
    def members_vpt(self) -> list[float]:
        ens = self.summary.ensemble
        return [float(x) for x in ens.vpts()] if ens is not None else []

    # -- time
    @property
    def fit_s(self) -> float:
        return _num(self.summary.fit_time_s)

    @property
    def train_s(self) -> float:
        return _num(self.summary.train_time_s)

    @property
    def wall_s(self) -> float:
        return _num(self.summary.wall_time_s)

    # -- the long run ([climate]) and the probe (train.inspect): NaN (fate "") where not measured
    @property
    def fate(self) -> str:
        fate = self.get("climate.fate")
        return fate if isinstance(fate, str) else ""

    def __getattr__(self, name: str) -> float:
        """The numbers read straight from summary.json by their key (KEYED); NaN where not measured."""
        if name in KEYED:
            return _num(self.get(KEYED[name]))
        raise AttributeError(name)

    def get(self, path: str) -> Any:
        """Any summary.json value by its dotted key ("inspect.grad_lag_ratio"); NaN where missing."""
        node: Any = self._dict
        for part in str(path).split("."):
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return math.nan
        return math.nan if node is None else node


_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Constant, ast.Name, ast.Load, ast.Attribute,
          ast.Call, ast.Subscript, ast.List, ast.Tuple, ast.IfExp,
          ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.FloorDiv, ast.USub, ast.UAdd, ast.Not,
          ast.And, ast.Or, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)


def check(expr: str, names: list[str], source: str) -> ast.Expression:
    """Parse `expr` and check that it uses only what claims allow and names only `names` (runs, and
    `value` in `holds`); UserError naming `source` otherwise."""
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        raise UserError(f"{source}: not an expression ({exc.msg}): {expr!r}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _NODES):
            raise UserError(f"{source}: {type(node).__name__.lower()} is not allowed in a claim: {expr!r}")
        if isinstance(node, ast.Name) and node.id not in names and node.id not in FUNCTIONS:
            raise UserError(f"{source}: unknown name {node.id!r}{closest(node.id, [*names, *FUNCTIONS])}; "
                            f"the runs are {', '.join(n for n in names if n != 'value')}")
        if isinstance(node, ast.Attribute) and node.attr not in RunFacts.FACTS:
            raise UserError(f"{source}: a run has no fact {node.attr!r}{closest(node.attr, RunFacts.FACTS)}; "
                            f"facts: {', '.join(RunFacts.FACTS)}")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) or isinstance(node.func, ast.Attribute)
                                               and node.func.attr in ("rmse", "get")):
            raise UserError(f"{source}: only {', '.join(FUNCTIONS)}, run.rmse(k) and run.get(key) may be called: {expr!r}")
    return tree


def evaluate(expr: str, env: dict[str, Any], source: str = "claim") -> Any:
    """The value of a checked expression with `env` (run name -> RunFacts, and `value`)."""
    tree = check(expr, list(env), source)
    code = compile(tree, source, "eval")
    with np.errstate(all="ignore"):
        try:
            return eval(code, {"__builtins__": {}}, {**FUNCTIONS, **env})  # noqa: S307 - the tree is checked above
        except ZeroDivisionError:
            return math.nan
        except (TypeError, ValueError, IndexError, AttributeError) as exc:
            raise UserError(f"{source}: {expr!r} cannot be computed from these runs ({exc})") from None


class _Formatter(string.Formatter):
    """str.format for a claim's sentence, without access to anything but the runs' facts."""

    def get_field(self, field_name, args, kwargs):
        for part in _parts(field_name):
            if part not in RunFacts.FACTS and not part.isdigit():
                raise UserError(f"claim.text: {{{field_name}}} is not a fact of a run")
        return super().get_field(field_name, args, kwargs)


def _parts(field: str) -> list[str]:
    """'run.rmse[8]' -> ['rmse', '8']: the attributes and indices after the root name."""
    return [p.rstrip("]") for p in field.replace("[", ".").split(".")[1:]]


def check_text(text: str, names: list[str], source: str) -> None:
    for _, field, _, _ in string.Formatter().parse(text):
        if field is None:
            continue
        root = field.split(".")[0].split("[")[0]
        if root != "value" and root not in names:
            raise UserError(f"{source}: {{{field}}} names no run{closest(root, names)}; the runs are {', '.join(names)}")
        for part in _parts(field):
            if part not in RunFacts.FACTS and not part.isdigit():
                raise UserError(f"{source}: {{{field}}}: a run has no fact {part!r}; facts: {', '.join(RunFacts.FACTS)}")


def sentence(text: str, env: dict[str, Any]) -> str:
    """The claim's sentence with its numbers (a NaN reads 'n/a')."""
    safe = {k: (math.nan if v is None else v) for k, v in env.items()}
    try:
        return _Formatter().format(text, **safe)
    except (ValueError, TypeError) as exc:  # a format that does not fit the value (a string where a number was expected)
        return f"{text} ({exc})"


def unmeasured(text: str) -> str:
    """The sentence before its numbers are measured: each field reads '…'."""
    return "".join(literal + ("…" if field is not None else "") for literal, field, _, _ in string.Formatter().parse(text))
