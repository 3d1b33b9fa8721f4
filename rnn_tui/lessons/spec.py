"""A lesson file: Markdown text after a TOML front matter between `+++` lines, small enough for a
teacher to write one. The front matter names the lesson, the note it comes from, the configurations
to run (2 to 4, one after another) and the claim the runs are measured against:

    +++
    title = "One step is not a forecast"
    note = "004"
    minutes = 1                         # about how long the full size takes on a laptop CPU
    views = ["runs"]                    # what to open when it is done: runs, inside, climate

    [[runs]]
    name = "rnn"                        # how the claim calls it (a Python name)
    label = "sine RNN"
    preset = "sine_rnn"
    set = ["train.epochs=60"]           # overrides, as rnn-tui train --set takes them
    quick = ["train.epochs=5"]          # added with --quick (a test-sized run)

    [claim]
    value = "rnn.rmse_end / rnn.rmse(1)"   # a number computed from the runs (claims.py)
    holds = "value > 5"                 # when the claim holds
    text = "after {horizon} free steps the error is {value:.0f} times the one-step error"
    +++
    The lesson's text: the question, what to watch, the note it comes from (~250 words at most).

Reading a file checks everything a run would need before anything runs: every key known, every
configuration valid, the claim's expressions well formed and naming only the lesson's runs. A
problem is one UserError naming the file and the key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from rnn_tui import config as config_mod
from rnn_tui.errors import UserError, closest
from rnn_tui.lessons import claims

FENCE = "+++"
KEYS = {"title", "note", "minutes", "views", "runs", "claim"}
RUN_KEYS = {"name", "label", "preset", "config", "set", "quick"}
CLAIM_KEYS = {"value", "holds", "text"}
VIEWS = ("runs", "inside", "climate")
MAX_WORDS = 300  # the issue's ~250, with room for a formula


@dataclass(frozen=True)
class RunSpec:
    """One configuration of a lesson."""

    name: str
    label: str
    preset: str | None
    config: dict | None  # an inline configuration (tables as in a config.toml), when no preset
    overrides: tuple[str, ...]
    quick: tuple[str, ...]

    def load(self, quick: bool = False) -> config_mod.Config:
        """The resolved configuration (the quick size adds `quick` after `overrides`)."""
        extra = list(self.overrides) + (list(self.quick) if quick else [])
        if self.preset is not None:
            return config_mod.load(self.preset, overrides=extra)
        data = config_mod.apply_overrides(self.config or {}, extra)
        return config_mod.from_dict(data, f"lesson run {self.name}")


@dataclass(frozen=True)
class Claim:
    value: str  # an expression over the runs (claims.evaluate)
    holds: str  # an expression over `value` and the runs: true when the claim holds
    text: str  # the sentence, formatted with value= and the runs' numbers (claims.sentence)


@dataclass(frozen=True)
class Lesson:
    number: int
    slug: str
    path: Path
    title: str
    note: str
    minutes: float
    views: tuple[str, ...]
    runs: tuple[RunSpec, ...]
    claim: Claim
    text: str  # Markdown

    @property
    def words(self) -> int:
        return len(re.findall(r"[\w'’-]+", self.text))


def split(text: str, source: str) -> tuple[dict, str]:
    """(front matter as a table, Markdown body)."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != FENCE:
        raise UserError(f"{source}: a lesson starts with a '+++' line, then its TOML front matter, then '+++'")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == FENCE)
    except StopIteration:
        raise UserError(f"{source}: the front matter has no closing '+++' line") from None
    try:
        front = tomllib.loads("\n".join(lines[1:end]))
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{source}: malformed TOML in the front matter: {exc}") from None
    return front, "\n".join(lines[end + 1 :]).strip() + "\n"


def _unknown(table: dict, known: set, source: str, where: str) -> None:
    for key in table:
        if key not in known:
            raise UserError(f"{source}: unknown key {where}{key}{closest(key, known)}; valid: {', '.join(sorted(known))}", key=key)


def _need(table: dict, key: str, kind, source: str, where: str):
    if key not in table:
        raise UserError(f"{source}: {where}{key} is missing", key=key)
    value = table[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise UserError(f"{source}: {where}{key} must be {_KIND.get(kind, 'a value')}, got {value!r}", key=key)
    return value


_KIND = {str: "a string", list: "a list", dict: "a table", (int, float): "a number"}


def _strings(table: dict, key: str, source: str, where: str) -> tuple[str, ...]:
    values = table.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise UserError(f"{source}: {where}{key} must be a list of strings like \"train.epochs=20\"", key=key)
    return tuple(values)


def _run(table, i: int, source: str) -> RunSpec:
    where = f"runs[{i}]."
    if not isinstance(table, dict):
        raise UserError(f"{source}: runs[{i}] must be a table ([[runs]])")
    _unknown(table, RUN_KEYS, source, where)
    name = _need(table, "name", str, source, where)
    if not name.isidentifier() or name == "value" or name in claims.FUNCTIONS:
        raise UserError(f"{source}: {where}name must be a Python name other than 'value' and {', '.join(claims.FUNCTIONS)}, got {name!r}")
    if ("preset" in table) == ("config" in table):
        raise UserError(f"{source}: {where[:-1]} needs a preset or a config table (one of them)")
    spec = RunSpec(name, str(table.get("label", name)), table.get("preset"), table.get("config"),
                   _strings(table, "set", source, where), _strings(table, "quick", source, where))
    for quick in (False, True):  # both sizes must load: a broken configuration is found before anything runs
        try:
            spec.load(quick)
        except UserError as exc:
            raise UserError(f"{source}: {where[:-1]}{' (quick)' if quick else ''}: {exc}", key=exc.key or "runs") from None
    return spec


def parse(text: str, path: Path, number: int) -> Lesson:
    """A lesson from its file's text; UserError naming the file and the key at fault."""
    source = str(path)
    front, body = split(text, source)
    _unknown(front, KEYS, source, "")
    title = _need(front, "title", str, source, "")
    note = str(_need(front, "note", str, source, ""))
    minutes = float(_need(front, "minutes", (int, float), source, ""))
    views = _strings(front, "views", source, "")
    for v in views:
        if v not in VIEWS:
            raise UserError(f"{source}: views must name {', '.join(VIEWS)}; got {v!r}{closest(v, VIEWS)}", key="views")
    runs = _need(front, "runs", list, source, "")
    if not 1 <= len(runs) <= 4:
        raise UserError(f"{source}: a lesson runs 1 to 4 configurations, found {len(runs)}", key="runs")
    specs = tuple(_run(r, i, source) for i, r in enumerate(runs))
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise UserError(f"{source}: two runs are called {next(n for n in names if names.count(n) > 1)!r}", key="runs")
    table = _need(front, "claim", dict, source, "")
    _unknown(table, CLAIM_KEYS, source, "claim.")
    claim = Claim(*(_need(table, k, str, source, "claim.") for k in ("value", "holds", "text")))
    claims.check(claim.value, names, f"{source}: claim.value")
    claims.check(claim.holds, names + ["value"], f"{source}: claim.holds")
    claims.check_text(claim.text, names, f"{source}: claim.text")
    slug = re.sub(r"^\d+[-_]", "", path.stem)
    lesson = Lesson(number, slug, path, title, note, minutes, views, specs, claim, body)
    if lesson.words > MAX_WORDS:
        raise UserError(f"{source}: the text has {lesson.words} words; a lesson's text is at most {MAX_WORDS}")
    return lesson


def read(path: Path, number: int) -> Lesson:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the lesson ({exc})") from None
    return parse(text, Path(path), number)
