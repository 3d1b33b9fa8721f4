"""The configuration panel: one row per setting, built from the typed Config's field metadata
(description as the tooltip, bounds as the placeholder, Literal choices as a select), the system's
system's parameter model and the chosen architecture's hyperparameters. Each field is checked as it is typed
(config.check_value); the whole form with config.from_dict, so that cross-field rules give the same
messages as the CLI, and the field at fault is the error's `key`.

Floats are shown short (`2.66667`, not `2.6666666666666665`), but a field the user did not edit
gives back the exact value it was filled with: an untouched form is exactly the Config it shows."""

from __future__ import annotations

import re
from typing import Any

from pydantic.fields import FieldInfo
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
from rnn_tui.systems import get_system, system_names

FORM = "form"  # the `source` given to from_dict; stripped from messages shown under a field
# Shown in their own places (the system and architecture selects head their sections).
SKIP = {"system": {"name", "params"}, "model": {"arch"}}
# Fields where 0 means "the system's default": shown empty, with the default as the placeholder.
SYSTEM_DEFAULTS = {"system.steps": "steps", "system.dt": "dt"}


# The training fields of gradient descent: disabled, with the reason, for a closed-form readout (ESN, NG-RC).
CLOSED_FORM_NA = ("train.epochs", "train.batch_size", "train.lr", "train.optimizer", "train.momentum", "train.weight_decay",
                  "train.clip_grad_norm", "train.schedule", "train.seq_loss", "train.lbfgs_steps", "train.early_stop_patience",
                  "train.cuda_graph")


class ParseValidator(Validator):
    """A Textual validator around a parse function that raises UserError (System.check, check_value)."""

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


_PARAM_MESSAGE = re.compile(r"[\w.-]+: parameter '([^']+)' (.+)")  # systems.base's parameter messages


def for_row(key: str, message: str) -> str:
    """A message as shown under its own row, which already names the field: without the key in
    front ("must be a number, got 'abc'"). A message about several fields is left whole."""
    message = strip_source(message)
    for head in (f"{key}: ", f"{key} "):
        rest = message[len(head) :]
        if message.startswith(head) and rest[:1].isalpha():
            return rest
    m = _PARAM_MESSAGE.fullmatch(message)
    if m and key.endswith("." + m.group(1)):
        return m.group(2)
    return message


def in_words(key: str, message: str) -> str:
    """A field's message where the row is not in sight (a notification): the key named once."""
    short = for_row(key, message)
    return message if short == strip_source(message) else f"{key} {short}"


def _text(value: Any) -> str:
    """A value as the form shows it: a float in its shortest exact form when that is short,
    else rounded to 6 significant digits (the row keeps the exact value until it is edited)."""
    if isinstance(value, float):
        short = f"{value:.6g}"
        return repr(value) if float(short) == value else short
    return str(value)


class FieldRow(Vertical):
    """One setting: its name, an editor (Input, Select or Checkbox) and a line for its error.

    `kind` is "bool", a tuple of choices, or "text" (an Input checked by `parse`). `blank` is the
    value an empty Input stands for (0 for "the system's default"), shown as an empty field.
    `initial` is the value the row was filled with; while the Input still shows its text, `value`
    is that exact value (a float is shown rounded, never changed)."""

    def __init__(self, key: str, value: Any, kind: Any, doc: str, parse=None, hint: str = "", blank: Any = None) -> None:
        super().__init__(classes="field")
        self.key, self.initial, self.blank = key, value, blank
        self.error = ""
        self.doc = doc
        self.shown = self._shown(value)  # the text the value is shown as
        self.label = Label(key.rsplit(".", 1)[-1], classes="field-name")
        self.label.tooltip = doc
        if isinstance(kind, tuple):
            self.editor: Widget = Select([(str(c), c) for c in kind], value=value, allow_blank=False, compact=True)
        elif kind == "bool":
            self.editor = Checkbox("", value=bool(value), compact=True)
        else:
            def check(raw: str) -> Any:
                if raw == self.shown:  # as filled in: the exact value is what counts
                    return parse(self.initial)
                return parse(self.blank if (blank is not None and not raw.strip()) else raw)

            self.editor = Input(self.shown, placeholder=hint, validators=[ParseValidator(check)],
                                validate_on=["changed", "submitted"], compact=True)
        self._show_tooltip()
        self.message = Static("", classes="field-error")

    def _shown(self, value: Any) -> str:
        return "" if self.blank is not None and value == self.blank else _text(value)

    def _show_tooltip(self) -> None:
        exact = isinstance(self.initial, float) and self.shown and _text(self.initial) != repr(self.initial)
        self.editor.tooltip = self.doc + (f" (exactly {self.initial!r})" if exact else "")

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field-line"):
            yield self.label
            yield self.editor
        yield self.message

    @property
    def value(self) -> Any:
        """What the row holds: the exact value it was filled with while its text is unedited, else
        the text typed (config.from_dict converts it); an empty `blank` field is `blank`."""
        v = self.editor.value
        if v is Select.NULL:
            return self.initial
        if isinstance(self.editor, Input):
            if v == self.shown:
                return self.initial
            if self.blank is not None and not v.strip():
                return self.blank
        return v

    def set_value(self, value: Any) -> None:
        self.initial = value
        if isinstance(self.editor, Input):
            self.shown = self._shown(value)
            self.editor.value = self.shown
            self._show_tooltip()
        else:
            self.editor.value = value

    def own_error(self) -> str:
        """The field's own check (type, bounds, parameter range); '' when it passes."""
        if isinstance(self.editor, Input):
            result = self.editor.validators[0].validate(self.editor.value)
            return "" if result.is_valid else "; ".join(result.failure_descriptions)
        return ""

    def show_error(self, message: str) -> None:
        if message != self.error:
            self.error = message
            self.message.update(message)
            self.set_class(bool(message), "-bad")


def _kind(info: FieldInfo) -> Any:
    """The editor a field gets: its choices, "bool" or "text"."""
    return C.choices(info) or ("bool" if info.annotation is bool else "text")


class ConfigPanel(VerticalScroll):
    """The left panel. `build()` returns a validated Config or raises UserError naming the field."""

    DEFAULT_CSS = "ConfigPanel #model-fields { height: auto; }"

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

    def _row(self, key: str, value: Any, kind: Any, doc: str, parse=None, hint: str = "", blank: Any = None) -> FieldRow:
        row = FieldRow(key, value, kind, doc, parse, hint, blank)
        self.rows[key] = row
        return row

    def _default_hint(self, key: str) -> str:
        """The placeholder of a field where 0 (empty) means the system's default: that default."""
        return f"default {_text(getattr(get_system(self.system_name), SYSTEM_DEFAULTS[key]))}"

    def _table_rows(self, section: str, values: dict, arch: str) -> list[FieldRow]:
        """The rows of a section's own fields (for "model", those of `arch`), filled from `values`."""
        rows = []
        for name, info in C.section_class(section, arch).model_fields.items():
            if name in SKIP.get(section, ()):
                continue
            key = f"{section}.{name}"
            kind = _kind(info)
            if key == "train.device":
                kind = self._device_choices(values[name])
            value = values[name]
            if (isinstance(kind, tuple) and value not in kind) or (kind == "bool" and not isinstance(value, bool)):
                value = info.default  # a value carried over from another architecture that does not fit
            parse = (lambda raw, key=key: C.check_value(key, raw, arch)) if kind == "text" else None
            if key in SYSTEM_DEFAULTS:
                rows.append(self._row(key, value, kind, info.description or "", parse, self._default_hint(key), blank=0))
            else:
                rows.append(self._row(key, value, kind, info.description or "", parse, C.bounds_text(info)))
        return rows

    def _model_rows(self, arch: str, values: dict) -> list[FieldRow]:
        """The rows of architecture `arch`: `values` where given (a field two architectures share
        keeps what was typed), else its defaults."""
        defaults = ARCHS[arch]().model_dump()
        return self._table_rows("model", {**defaults, **{k: v for k, v in values.items() if k in defaults}}, arch)

    def _device_choices(self, current: str) -> tuple[str, ...]:
        return ("auto", "cpu", "cuda") if (self.cuda or current == "cuda") else ("auto", "cpu")

    def _param_rows(self, system_name: str, params: dict) -> list[FieldRow]:
        """The system's parameters, each a row from its field's metadata (description and bounds)."""
        system = get_system(system_name)
        rows = []
        for name, info in system.fields.items():
            value = params.get(name, info.default)
            parse = (lambda raw, name=name, d=info.default: None if raw == d else system.check(name, raw))  # defaults are valid
            rows.append(self._row(f"system.params.{name}", value, "text", info.description or "", parse, C.bounds_text(info)))
        return rows

    def compose(self) -> ComposeResult:
        cfg = self.cfg
        yield Label("System", classes="section")
        yield self._row("system.name", cfg.system.name, tuple(system_names()), C.SystemConfig.model_fields["name"].description or "")
        yield Static(get_system(cfg.system.name).doc, id="system-doc", classes="doc")
        with Vertical(id="params"):
            yield from self._param_rows(cfg.system.name, cfg.system.params)
        yield from self._table_rows("system", cfg.system.model_dump(), self.arch)
        yield Label("Model", classes="section")
        yield self._row("model.arch", cfg.model.arch, tuple(ARCHS), ARCHS[self.arch].model_fields["arch"].description or "")
        yield Static(ARCHS[cfg.model.arch].doc, id="arch-doc", classes="doc")
        with Vertical(id="model-fields"):
            yield from self._model_rows(self.arch, cfg.model.model_dump())
        yield Label("Training", classes="section")
        yield from self._table_rows("train", cfg.train.model_dump(), self.arch)
        yield Label("Rollout", classes="section")
        yield from self._table_rows("rollout", cfg.rollout.model_dump(), self.arch)
        yield Label("Climate (the long run after training)", classes="section")
        yield from self._table_rows("climate", cfg.climate.model_dump(), self.arch)
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
            typed = {k.split(".", 1)[1]: r.value for k, r in self.rows.items() if k.startswith("model.") and k != "model.arch"}
            self._rebuild_model(event.value, typed)
        self._show_applicable()
        self.revalidate()

    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _field_changed(self, event) -> None:
        event.stop()
        self.revalidate()

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

    def _swap_rows(self, box_id: str, rows: list[FieldRow]) -> None:
        """Put freshly built rows (already in self.rows) in place of a box's old ones."""
        box = self.query_one(box_id, Vertical)
        box.remove_children()
        box.mount_all(rows)
        if self.running:
            self.set_running(True)

    def _rebuild_params(self, system_name: str, params: dict) -> None:
        """Replace the parameter rows with those of another system."""
        self.system_name = system_name
        for key in [k for k in self.rows if k.startswith("system.params.")]:
            del self.rows[key]
        self._swap_rows("#params", self._param_rows(system_name, params))
        self.query_one("#system-doc", Static).update(get_system(system_name).doc)
        for key in SYSTEM_DEFAULTS:
            self.rows[key].editor.placeholder = self._default_hint(key)

    def choose_system(self, system_name: str) -> None:
        """Pick a system as the picker would (the command palette's "System: NAME")."""
        if self.running or system_name == self.system_name:
            return
        self.rows["system.name"].set_value(system_name)  # its Select.Changed rebuilds the parameter rows

    def _rebuild_model(self, arch: str, values: dict) -> None:
        """Replace the model rows with those of another architecture (values given are kept)."""
        self.arch = arch
        for key in [k for k in self.rows if k.startswith("model.") and k != "model.arch"]:
            del self.rows[key]
        self._swap_rows("#model-fields", self._model_rows(arch, values))
        self.query_one("#arch-doc", Static).update(ARCHS[arch].doc)

    def _show_applicable(self) -> None:
        """Momentum only for SGD (the model rows are always the architecture's own); the training
        fields of gradient descent disabled, their tooltip saying why, for a closed-form readout."""
        self.rows["train.momentum"].display = self.rows["train.optimizer"].value == "sgd"
        closed = ARCHS[self.arch].closed_form
        for key in CLOSED_FORM_NA:
            row = self.rows.get(key)
            if row is None:
                continue
            row.set_class(closed, "-na")
            row.editor.disabled = closed or (self.running and key != "train.lr")
            row.editor.tooltip = (f"does not apply: the {self.arch} readout is solved in closed form (one ridge regression: "
                                  "no epochs, batches, learning rate, optimiser or schedule)") if closed else row.doc

    # -- the form as a Config ----------------------------------------------------------------

    def data(self) -> dict:
        """The form as nested dicts of raw values (strings from Inputs; from_dict converts them)."""
        out: dict = {s: {} for s in C.SECTIONS}
        params = {}
        system = get_system(self.system_name)
        for key, row in self.rows.items():
            parts = key.split(".")
            if parts[:2] == ["system", "params"]:
                name, default = parts[2], system.fields[parts[2]].default
                try:
                    value = system.check(name, row.value)
                except UserError:
                    value = row.value
                if name in self.param_keys or value != default:
                    params[name] = value
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
                first = first or in_words(key, err)
        general = ""
        if not errors:
            try:
                C.from_dict(self.data(), FORM)
            except UserError as exc:
                message = strip_source(str(exc))
                if exc.key in self.rows:
                    errors[exc.key] = message
                    first = in_words(exc.key, message)
                else:
                    general = first = message
        for key, row in self.rows.items():
            row.show_error(for_row(key, errors[key]) if key in errors else "")
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
            for name, info in get_system(cfg.system.name).fields.items():
                self.rows[f"system.params.{name}"].set_value(cfg.system.params.get(name, info.default))
        if cfg.train.device == "cuda" and not self.cuda:
            self.enable_cuda()
        self.rows["model.arch"].set_value(cfg.model.arch)
        self._rebuild_model(cfg.model.arch, cfg.model.model_dump())  # filled from cfg as they are built
        for section in ("system", "train", "rollout", "climate"):
            for name, value in getattr(cfg, section).model_dump().items():
                key = f"{section}.{name}"
                if key in self.rows and key != "system.name":
                    self.rows[key].set_value(value)
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
        closed = ARCHS[self.arch].closed_form
        for key, row in self.rows.items():
            row.editor.disabled = (running and key != "train.lr") or (closed and key in CLOSED_FORM_NA)
        self.set_class(running, "-running")
