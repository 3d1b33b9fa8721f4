"""The search space: `--param` specs such as `train.lr=log:1e-4:1e-1`, parsed and checked against
the configuration before any trial runs (a bad spec is one line, exit 2).

Kinds: `log:LOW:HIGH` and `float:LOW:HIGH` (floats, log-uniform or uniform), `int:LOW:HIGH[:STEP]`
(integers, both ends included), `choice:A,B,C` (values read as TOML, else as strings)."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from typing import Any

from rnn_tui.errors import UserError, closest

KINDS = ("log", "float", "int", "choice")


@dataclass(frozen=True)
class Param:
    key: str  # dotted setting, "train.lr"
    kind: str  # one of KINDS
    low: float | int | None = None
    high: float | int | None = None
    step: int | None = None
    choices: tuple[Any, ...] = ()
    text: str = ""  # the spec as given, for messages and the study's record

    def suggest(self, trial) -> Any:
        """This parameter's value for an Optuna trial (fixed values of a retried trial come back)."""
        if self.kind == "choice":
            return trial.suggest_categorical(self.key, list(self.choices))
        if self.kind == "int":
            return trial.suggest_int(self.key, int(self.low), int(self.high), step=self.step or 1)
        return trial.suggest_float(self.key, float(self.low), float(self.high), log=self.kind == "log")

    def override(self, value: Any) -> str:
        """The `--set` form of a value: KEY=VALUE, strings quoted so they read back as TOML strings."""
        return f"{self.key}={_toml(value)}"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def _number(raw: str, spec: str, integer: bool) -> float | int:
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise UserError(f"--param {spec}: {raw!r} is not {kind}") from None
    if not integer and not math.isfinite(value):
        raise UserError(f"--param {spec}: bounds must be finite, got {raw!r}")
    return value


def _choice_value(raw: str) -> Any:
    raw = raw.strip()
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def parse(spec: str) -> Param:
    """`KEY=KIND:ARGS` -> Param; UserError naming what is wrong with the spec."""
    if "=" not in spec:
        raise UserError(f"--param needs KEY=KIND:ARGS such as train.lr=log:1e-4:1e-1, got {spec!r}")
    key, _, body = spec.partition("=")
    key = key.strip()
    parts = key.split(".")
    if len(parts) != 2 or not all(parts):
        raise UserError(f"--param {spec}: the key must be SECTION.NAME such as train.lr or model.hidden_size")
    kind, _, args = body.strip().partition(":")
    if kind not in KINDS:
        raise UserError(f"--param {spec}: unknown kind {kind!r}; use one of {', '.join(KINDS)} (e.g. {key}=log:1e-4:1e-1)")
    if kind == "choice":
        values = tuple(_choice_value(v) for v in args.split(",") if v.strip())
        if not values:
            raise UserError(f"--param {spec}: an empty choice; list values like choice:rnn,lstm,gru")
        if len(set(map(repr, values))) != len(values):
            raise UserError(f"--param {spec}: a value is listed twice")
        return Param(key, kind, choices=values, text=spec)
    fields = args.split(":")
    want = (2, 3) if kind == "int" else (2,)
    if len(fields) not in want:
        form = "int:LOW:HIGH[:STEP]" if kind == "int" else f"{kind}:LOW:HIGH"
        raise UserError(f"--param {spec}: expected {form}")
    low, high = (_number(v, spec, kind == "int") for v in fields[:2])
    step = _number(fields[2], spec, True) if len(fields) == 3 else None
    if low >= high:
        raise UserError(f"--param {spec}: LOW must be below HIGH (got {low} >= {high})")
    if kind == "log" and low <= 0:
        raise UserError(f"--param {spec}: a log range needs positive bounds (got LOW {low})")
    if step is not None and (step < 1 or (high - low) % step):
        raise UserError(f"--param {spec}: STEP must be a positive divisor of HIGH - LOW ({high - low})")
    return Param(key, kind, low, high, step, text=spec)


def check(params: list[Param], base_arch: str) -> None:
    """Every key exists and applies to every architecture the sweep can pick, and every bound or
    choice is a valid value of its setting (so no trial fails for a reason known up front)."""
    from rnn_tui import config

    seen: set[str] = set()
    for p in params:
        if p.key in seen:
            raise UserError(f"--param {p.text}: {p.key} is swept twice")
        seen.add(p.key)
    archs = next((p.choices for p in params if p.key == "model.arch"), (base_arch,))
    for p in params:
        section, name = p.key.split(".")
        if section not in config.SECTIONS:
            raise UserError(f"--param {p.text}: unknown section {section!r}; valid: {', '.join(config.SECTIONS)}")
        if p.key == "model.arch":
            from rnn_tui.models.registry import ARCHS

            for a in p.choices:
                if a not in ARCHS:
                    raise UserError(f"--param {p.text}: unknown architecture {a!r}{closest(str(a), ARCHS)}; valid: {', '.join(ARCHS)}")
            continue
        if section == "system" or p.key in ("train.val_fraction", "train.test_fraction"):
            raise UserError(f"--param {p.text}: {p.key} changes the data or its split; a sweep compares trials on one "
                            "truth, so set it with --set instead")
        for arch in archs:
            cls = config.section_class(section, arch)
            if name not in cls.model_fields or name == "arch":
                where = f"model.arch {arch!r}" if section == "model" else f"[{section}]"
                takes = ", ".join(k for k in cls.model_fields if k != "arch")
                raise UserError(f"--param {p.text}: {p.key} does not apply to {where} (it takes: {takes})")
            values = p.choices if p.kind == "choice" else (p.low, p.high)
            for v in values:
                try:
                    config.check_value(p.key, v, arch)
                except UserError as exc:
                    raise UserError(f"--param {p.text}: {exc}") from None
