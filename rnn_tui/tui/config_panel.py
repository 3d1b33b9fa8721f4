"""The configuration panel: one row per setting, built from the typed Config, the system's Param
specs and the architecture registry. Fields are checked as they are typed; the whole form is
checked with config.from_dict so that cross-field rules give the same messages as the CLI."""

from __future__ import annotations

import dataclasses
import inspect
import re
from functools import lru_cache
from typing import Any, Literal, get_args, get_origin

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.validation import ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, Static

from rnn_tui import config as C
from rnn_tui.errors import UserError
from rnn_tui.models.registry import ARCHS
from rnn_tui.systems import SYSTEMS

FORM = "form"  # the `source` given to from_dict; stripped from messages shown under a field
KEY_RE = re.compile(r"\b(system|model|train|rollout)\.(\w+)")
# Shown in their own places (the system and architecture selects head their sections).
SKIP = {"system": {"name", "params"}, "model": {"arch"}}


@lru_cache(maxsize=None)
def field_docs(cls) -> dict[str, str]:
    """Field name -> its trailing comment in config.py (the docs live there, once)."""
    out = {}
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):  # no source shipped: fields just have no tooltip
        return out
    for line in source.splitlines():
        m = re.match(r"\s+(\w+):[^#]*#\s*(.+)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


class ParseValidator(Validator):
    """A Textual validator around a parse function that raises UserError (Param.parse, type checks)."""

    def __init__(self, parse) -> None:
        super().__init__()
        self.parse = parse

    def validate(self, value: str) -> ValidationResult:
        try:
            self.parse(value)
        except UserError as exc:
            return self.failure(strip_source(str(exc)))
        return self.success()


def strip_source(message: str) -> str:
    return message[len(FORM) + 2 :] if message.startswith(FORM + ": ") else message


def _text(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


class FieldRow(Vertical):
    """One setting: its name, an editor (Input, Select or Checkbox) and a line for its error."""

    def __init__(self, key: str, value: Any, tp: Any, doc: str, parse=None) -> None:
        super().__init__(classes="field", id="row-" + key.replace(".", "-"))
        self.key, self.tp, self.initial = key, tp, value
        self.error = ""
        label = key.rsplit(".", 1)[-1]
        self.label = Label(label, classes="field-name")
        self.label.tooltip = doc
        wid = "f-" + key.replace(".", "-")
        if get_origin(tp) is Literal or isinstance(tp, tuple):
            choices = get_args(tp) if get_origin(tp) is Literal else tp
            self.editor: Widget = Select([(str(c), c) for c in choices], value=value, allow_blank=False, compact=True, id=wid)
        elif tp is bool:
            self.editor = Checkbox("", value=bool(value), compact=True, id=wid)
        else:
            parse = parse or (lambda raw: C._coerce(raw, tp, f"{FORM}: {key}"))
            self.editor = Input(_text(value), validators=[ParseValidator(parse)], validate_on=["changed", "submitted"], compact=True, id=wid)
        self.editor.tooltip = doc
        self.message = Static("", classes="field-error")

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field-line"):
            yield self.label
            yield self.editor
        yield self.message

    @property
    def value(self) -> Any:
        v = self.editor.value
        return self.initial if v is Select.NULL else v

    def set_value(self, value: Any) -> None:
        self.initial = value
        self.editor.value = _text(value) if isinstance(self.editor, Input) else value

    def own_error(self) -> str:
        """The field's own check (type, parameter range); '' when it passes."""
        if isinstance(self.editor, Input):
            result = self.editor.validators[0].validate(self.editor.value)
            return "" if result.is_valid else "; ".join(result.failure_descriptions)
        return ""

    def show_error(self, message: str) -> None:
        if message != self.error:
            self.error = message
            self.message.update(message)
            self.set_class(bool(message), "-bad")


class ConfigPanel(VerticalScroll):
    """The left panel. `build()` returns a validated Config or raises UserError naming the field."""

    class Changed(Message):
        """A field changed (the app refreshes the start hint and, for the phase pair, the plots)."""

    class LrSubmitted(Message):
        """Enter pressed in the learning-rate field (applied live while training)."""

        def __init__(self, lr: float) -> None:
            super().__init__()
            self.lr = lr

    def __init__(self, cfg: C.Config, **kw) -> None:
        super().__init__(**kw)
        self.cfg = cfg
        self.rows: dict[str, FieldRow] = {}
        self.param_keys: set[str] = set(cfg.system.params)  # params to keep even when default
        self.system_name = cfg.system.name
        self.arch = cfg.model.arch
        self.running = False
        self.cuda = cfg.train.device == "cuda"  # offered once torch says it is there
        self.general = Static("", id="form-error")

    # -- building -------------------------------------------------------------------------------

    def _row(self, key: str, value: Any, tp: Any, doc: str, parse=None) -> FieldRow:
        row = FieldRow(key, value, tp, doc, parse)
        self.rows[key] = row
        return row

    def _section_rows(self, section: str, cfg: C.Config) -> list[FieldRow]:
        cls = C.SECTIONS[section]
        types = C._field_types(cls)
        docs = field_docs(cls)
        values = dataclasses.asdict(getattr(cfg, section))
        rows = []
        for name in types:
            if name in SKIP.get(section, ()):
                continue
            tp = types[name]
            if section == "train" and name == "device":
                tp = self._device_choices(values[name])
            rows.append(self._row(f"{section}.{name}", values[name], tp, docs.get(name, "")))
        return rows

    def _device_choices(self, current: str) -> tuple[str, ...]:
        return ("auto", "cpu", "cuda") if (self.cuda or current == "cuda") else ("auto", "cpu")

    def _param_rows(self, system_name: str, params: dict) -> list[FieldRow]:
        system = SYSTEMS[system_name]
        rows = []
        for p in system.params:
            value = params.get(p.name, p.default)
            doc = p.doc + (f" (range {p.min:g}..)" if p.min is not None and p.max is None else "")
            parse = (lambda raw, p=p: None if raw == _text(p.default) else p.parse(raw, system_name))  # defaults are valid
            rows.append(self._row(f"system.params.{p.name}", value, str if p.type is str else float, doc, parse))
        return rows

    def compose(self) -> ComposeResult:
        cfg = self.cfg
        yield Label("System", classes="section")
        yield self._row("system.name", cfg.system.name, tuple(SYSTEMS), "the dynamical system that gives the data")
        yield Static(SYSTEMS[cfg.system.name].doc, id="system-doc", classes="doc")
        with Vertical(id="params"):
            yield from self._param_rows(cfg.system.name, cfg.system.params)
        yield from self._section_rows("system", cfg)
        yield Label("Model", classes="section")
        yield self._row("model.arch", cfg.model.arch, tuple(ARCHS), "the architecture")
        yield Static(ARCHS[cfg.model.arch].doc, id="arch-doc", classes="doc")
        yield from self._section_rows("model", cfg)
        yield Label("Training", classes="section")
        yield from self._section_rows("train", cfg)
        yield Label("Rollout", classes="section")
        yield from self._section_rows("rollout", cfg)
        yield self.general

    def on_mount(self) -> None:
        self._show_applicable()
        self.revalidate()

    # -- reacting to edits --------------------------------------------------------------------

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        key = self._key_of(event.select)
        if key == "system.name" and event.value != self.system_name:
            self._rebuild_params(event.value, {})
        elif key == "model.arch" and event.value != self.arch:
            self.arch = event.value
            self.query_one("#arch-doc", Static).update(ARCHS[self.arch].doc)
        self._show_applicable()
        self.revalidate()
        self.post_message(self.Changed())

    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _field_changed(self, event) -> None:
        event.stop()
        self.revalidate()
        self.post_message(self.Changed())

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._key_of(event.input) == "train.lr" and not self.rows["train.lr"].own_error():
            lr = float(event.value)
            if lr > 0:
                self.post_message(self.LrSubmitted(lr))

    def _key_of(self, widget: Widget) -> str:
        for key, row in self.rows.items():
            if row.editor is widget:
                return key
        return ""

    def _rebuild_params(self, system_name: str, params: dict) -> None:
        """Replace the parameter rows with those of another system."""
        self.system_name = system_name
        for key in [k for k in self.rows if k.startswith("system.params.")]:
            del self.rows[key]
        box = self.query_one("#params", Vertical)
        box.remove_children()
        box.mount_all(self._param_rows(system_name, params))
        self.query_one("#system-doc", Static).update(SYSTEMS[system_name].doc)
        if self.running:
            self.set_running(True)

    def _show_applicable(self) -> None:
        """Only the model fields that apply to the architecture; momentum only for SGD."""
        applies = set(ARCHS[self.arch].applies)
        for key, row in self.rows.items():
            section, _, name = key.partition(".")
            if section == "model" and name != "arch":
                row.display = name in applies
        self.rows["train.momentum"].display = self.rows["train.optimizer"].value == "sgd"

    # -- the form as a Config ----------------------------------------------------------------

    def data(self) -> dict:
        """The form as nested dicts of raw values (strings from Inputs; from_dict converts them)."""
        out: dict = {s: {} for s in C.SECTIONS}
        params = {}
        system = SYSTEMS[self.system_name]
        for key, row in self.rows.items():
            parts = key.split(".")
            if parts[:2] == ["system", "params"]:
                p = system.param(parts[2])
                try:
                    value = p.parse(row.value, system.name)
                except UserError:
                    value = row.value
                if p.name in self.param_keys or value != p.default:
                    params[p.name] = value
            else:
                out[parts[0]][parts[1]] = row.value
        out["system"]["params"] = params
        return out

    def revalidate(self) -> str:
        """Check every field and the whole form; mark the bad ones. Returns the first problem ('' if none)."""
        first = ""
        errors = {}
        for key, row in self.rows.items():
            err = row.own_error()
            if err:
                errors[key] = err
                first = first or f"{key}: {err}"
        general = ""
        if not errors:
            try:
                C.from_dict(self.data(), FORM)
            except UserError as exc:
                message = strip_source(str(exc))
                m = KEY_RE.search(message)
                key = f"{m.group(1)}.{m.group(2)}" if m else ""
                if key in self.rows:
                    errors[key] = message
                else:
                    general = message
                first = message
        for key, row in self.rows.items():
            row.show_error(errors.get(key, ""))
        self.general.update(general)
        self.general.display = bool(general)
        return first

    def build(self) -> C.Config:
        """A validated Config from the form, or UserError naming the first bad field."""
        problem = self.revalidate()
        if problem:
            raise UserError(problem)
        return C.from_dict(self.data(), FORM)

    def load(self, cfg: C.Config) -> None:
        """Fill the form from a Config (a loaded preset)."""
        self.param_keys = set(cfg.system.params)
        if cfg.system.name != self.system_name:
            self.rows["system.name"].set_value(cfg.system.name)
            self._rebuild_params(cfg.system.name, cfg.system.params)
        else:
            system = SYSTEMS[cfg.system.name]
            for p in system.params:
                self.rows[f"system.params.{p.name}"].set_value(cfg.system.params.get(p.name, p.default))
        self.arch = cfg.model.arch
        if cfg.train.device == "cuda" and not self.cuda:
            self.enable_cuda()
        for section in C.SECTIONS:
            for name, value in dataclasses.asdict(getattr(cfg, section)).items():
                key = f"{section}.{name}"
                if key in self.rows and key != "system.name":
                    self.rows[key].set_value(value)
        self.query_one("#arch-doc", Static).update(ARCHS[self.arch].doc)
        self._show_applicable()
        self.revalidate()

    def enable_cuda(self) -> None:
        """Offer device = cuda (called once torch reports a CUDA device)."""
        self.cuda = True
        row = self.rows["train.device"]
        current = row.value
        row.editor.set_options([(c, c) for c in ("auto", "cpu", "cuda")])
        row.editor.value = current

    def set_running(self, running: bool) -> None:
        """While training, only the learning rate can be edited (it is applied at the next step)."""
        self.running = running
        for key, row in self.rows.items():
            row.editor.disabled = running and key != "train.lr"
        self.set_class(running, "-running")

    def focus_field(self, key: str) -> None:
        row = self.rows.get(key)
        if row is not None:
            row.editor.focus()
            self.scroll_to_widget(row)
