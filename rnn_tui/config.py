"""Typed run configuration: four sections (system, model, train, rollout), loaded from TOML presets
and overridden with dotted keys. Every field carries its description and bounds (pydantic field
metadata, which the app's panel shows); `model` is a union tagged by `model.arch`, each
architecture's hyperparameters declared beside its network (rnn_tui/models/*/__init__.py).
Bad input is a one-line UserError naming the source, the key and, for unknown keys, the closest one.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import tomli_w
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo

from rnn_tui.errors import UserError, closest
from rnn_tui.fsutil import atomic_write
from rnn_tui.paths import data_dir
from rnn_tui.systems.base import MAX_DT, MAX_STEPS
from rnn_tui.models import registry
from rnn_tui.models.hparams import ArchConfig
from rnn_tui.settings import Float, Int, Section, bounds_text, choices, got  # noqa: F401 - the panel reads bounds_text and choices here

Arch = Literal[tuple(registry.ARCHS)]  # type: ignore[valid-type]
DEFAULT_ARCH = "lstm"
# The hyperparameters of one architecture, chosen by its `arch` tag.
ModelConfig = Annotated[Union[registry.CONFIGS], Field(discriminator="arch")]  # type: ignore[valid-type]
# Every model key of any architecture (a run written by rnn-tui 0.1 lists them all).
MODEL_KEYS = frozenset(name for cls in registry.CONFIGS for name in cls.model_fields)
MAX_SEED = 2**32 - 1  # numpy and torch seeds
MAX_ENSEMBLE = 64  # train.ensemble: members trained at once (the memory estimate covers them all)
CORES = os.cpu_count() or 1


class SystemConfig(Section):
    """Which dynamical system gives the data, and how it is sampled."""

    name: str = Field("sine", description="system name (see `rnn-tui data --list`)")
    params: dict[str, Any] = Field(default_factory=dict, description="system parameters overriding its defaults")
    steps: Int = Field(0, le=MAX_STEPS, description="samples in the trajectory (>= 2); 0 = the system's default")
    dt: Float = Field(0.0, ge=0, le=MAX_DT, description="sample step in time units; 0 = the system's default")
    seed: Int = Field(0, ge=0, le=MAX_SEED, description="seed of stochastic systems (noisy sine) and of the observation noise")
    noise: Float = Field(0.0, ge=0, le=1e6, description="std of Gaussian observation noise on the training split only (data units)")

    @model_validator(mode="before")
    @classmethod
    def _absolute_csv_path(cls, data: Any) -> Any:
        """A CSV file is named relative to where the command ran: keep it absolute, so that the
        run's config.toml repeats the run from any folder."""
        if isinstance(data, dict) and data.get("name") == "csv" and isinstance(data.get("params"), dict):
            path = data["params"].get("path")
            if isinstance(path, str) and path and not os.path.isabs(path):
                data = {**data, "params": {**data["params"], "path": os.path.abspath(path)}}
        return data

    @field_validator("steps")
    @classmethod
    def _steps(cls, value: int) -> int:
        if value != 0 and value < 2:
            raise ValueError("must be >= 2 (or 0 for the default)")
        return value


class TrainConfig(Section):
    """How the model is trained."""

    seq_len: Int = Field(20, ge=1, le=100_000, description="window length fed to the model")
    batch_size: Int = Field(32, ge=1, le=1_000_000, description="windows per optimisation step")
    epochs: Int = Field(100, ge=1, le=10_000_000, description="passes over the training windows")
    lr: Float = Field(1e-3, gt=0, description="learning rate")
    optimizer: Literal["adam", "rmsprop", "sgd"] = Field("adam", description="optimiser; sgd uses `momentum`")
    momentum: Float = Field(0.9, ge=0, description="sgd momentum")
    weight_decay: Float = Field(0.0, ge=0, description="L2 penalty")
    clip_grad_norm: Float = Field(0.0, ge=0, description="clip the gradient norm to this value; 0 = off")
    schedule: Literal["none", "cosine", "plateau"] = Field("none", description="learning-rate schedule")
    rollout_steps: Int = Field(1, ge=1, le=10_000, description="k: loss over k free-running steps; 1 = teacher forcing")
    seq_loss: bool = Field(False, description="recurrent models: also score the prediction after every window step")
    lbfgs_steps: Int = Field(0, ge=0, le=1_000_000, description="full-batch L-BFGS iterations after the last epoch (polish); 0 = off")
    val_fraction: Float = Field(0.2, ge=0, lt=1, description="fraction of samples for validation (after the training part)")
    test_fraction: Float = Field(0.2, ge=0, lt=1, description="fraction of samples for testing (at the end)")
    early_stop_patience: Int = Field(0, ge=0, description="stop after this many epochs without a better val loss; 0 = off")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="where to train; auto = cuda when present")
    dtype: Literal["float32", "float64"] = Field("float32", description="float64 for very small errors (rk4) and the ESN's longest forecasts")
    cuda_graph: bool = Field(True, description="on CUDA, replay the training step as a captured graph (self-checked against an eager step); false trains eagerly")
    seed: Int = Field(0, ge=0, le=MAX_SEED, description="seed of weights, shuffling and dropout")
    threads: Int = Field(0, ge=0, le=CORES, description="CPU threads torch may use for this run (at most the cores); 0 = torch's default (all cores)")
    inspect: bool = Field(False, description="probe the model once per epoch (hidden state, gates, recurrent spectrum, gradient "
                          "by lag) and write inspect.npz; the app's Inside view probes while it is shown")
    # K copies trained at once as one batched model (rnn_tui/ensemble/): member j is exactly the run
    # with train.seed + j (its weights, batch order and optimiser), so K = 1 is an ordinary run.
    ensemble: Int = Field(1, ge=1, le=MAX_ENSEMBLE, description="train this many models at once, seeds train.seed, +1, ...; "
                          "the forecast shows their spread and their mean")


class RolloutConfig(Section):
    """The free-running forecast shown and scored."""

    horizon: Int = Field(200, ge=1, le=1_000_000, description="steps of free-running prediction shown (and scored, "
                         "unless score_horizon says otherwise)")
    # A VPT is only a value where most forecasts cross the threshold within the scored horizon;
    # where half or more never do, the median is a lower bound set by the horizon. Chaotic systems
    # are therefore scored over about 25 Lyapunov times, whatever the display shows.
    score_horizon: Int = Field(0, ge=0, le=1_000_000, description="steps of each scored forecast (test RMSE and VPT); "
                               "0 = about 25 Lyapunov times for chaotic systems, else rollout.horizon")
    vpt_threshold: Float = Field(0.4, gt=0, le=10, description="normalised error at which a forecast stops being valid "
                                 "(the VPT's threshold; papers use 0.3 to 0.5)")
    every: Int = Field(5, ge=0, le=10_000_000, description="epochs between rollouts during training; 0 = only at the end")
    # "carry" the hidden state (O(horizon)); re-feed the last seq_len states each step as the notes
    # do ("window", O(horizon * seq_len)); "auto": carry where the model was trained that way (ESN,
    # stateless models), re-feed for nets trained on windows from a zero state.
    mode: Literal["auto", "carry", "window"] = Field(
        "auto",
        description="how the free run feeds the model: carry the hidden state, re-feed the window, "
        "or auto (carry where the model was trained that way)",
    )


class ClimateConfig(Section):
    """The long run after training (rnn_tui/core/climate.py): whether the model, left to run, stays on
    an attractor with the truth's statistics, and its own Lyapunov exponents."""

    enabled: bool = Field(False, description="after training, run the model for a long time and score its fate, "
                          "its own Lyapunov exponents, D_stsp and D_H against the truth (the chaotic presets turn it on)")
    length: Float = Field(200.0, ge=10.0, le=100_000.0, description="length of the long free run in Lyapunov times "
                          "(time units for a system without a known exponent)")
    lyapunov: bool = Field(True, description="measure the model's own Lyapunov exponents (the longest part of it)")
    exponents: Int = Field(0, ge=0, le=64, description="leading Lyapunov exponents of the model (at most the state's "
                           "components); 0 = all of them up to 5 (3 for Lorenz-63, 5 for a field)")
    starts: Int = Field(64, ge=1, le=1024, description="test-split windows the exponents are averaged over")
    spectrum_length: Float = Field(20.0, ge=1.0, le=100_000.0, description="Lyapunov times counted from each start "
                                   "(after 5 that align the tangent vectors)")
    tangent: Literal["auto", "jvp", "finite_differences"] = Field(
        "auto", description="how tangent vectors cross the model: forward-mode differentiation (jvp), central "
        "differences in float64, or auto (the faster of the two where both run)")


def _default_model() -> ArchConfig:
    return registry.ARCHS[DEFAULT_ARCH]()


class Config(Section):
    """A whole run: the data, the model, its training and the forecast."""

    system: SystemConfig = Field(default_factory=SystemConfig, description="the dynamical system and its sampling")
    model: ModelConfig = Field(default_factory=_default_model, description="the architecture (model.arch) and its hyperparameters")
    train: TrainConfig = Field(default_factory=TrainConfig, description="how the model is trained")
    rollout: RolloutConfig = Field(default_factory=RolloutConfig, description="the free-running forecast")
    climate: ClimateConfig = Field(default_factory=ClimateConfig, description="the long run after training")

    @model_validator(mode="before")
    @classmethod
    def _default_arch(cls, data: Any) -> Any:
        """A [model] table without `arch` is the default architecture's."""
        if isinstance(data, dict) and isinstance(data.get("model"), dict) and "arch" not in data["model"]:
            data = {**data, "model": {"arch": DEFAULT_ARCH, **data["model"]}}
        return data


# The sections in file order, with their class (model's depends on the architecture: section_class).
SECTIONS: dict[str, type[Section] | None] = {"system": SystemConfig, "model": None, "train": TrainConfig, "rollout": RolloutConfig,
                                              "climate": ClimateConfig}


def section_class(section: str, arch: str = DEFAULT_ARCH) -> type[Section]:
    """The class of a section's table; for "model", that of architecture `arch`."""
    if section == "model":
        return registry.ARCHS[arch]
    return SECTIONS[section]  # type: ignore[return-value]


def model_config(arch: str = DEFAULT_ARCH, **fields: Any) -> ArchConfig:
    """The hyperparameters of `arch` with `fields` set, checked (UserError naming the bad one)."""
    try:
        return Config.model_validate({"model": {"arch": arch, **fields}}).model
    except ValidationError as exc:
        raise _user_error(exc, "model_config", arch) from None


# ---------------------------------------------------------------------------------------------
# Field metadata: bounds for messages and the app's panel


# ---------------------------------------------------------------------------------------------
# pydantic's structured errors as one-line messages


_TYPE_WORDS = {
    "int_type": "an integer", "int_parsing": "an integer", "int_from_float": "an integer",
    "float_type": "a number", "float_parsing": "a number",
    "bool_type": "true or false", "bool_parsing": "true or false",
    "string_type": "a string", "dict_type": "a table", "model_type": "a table", "model_attributes_type": "a table",
}
_BOUND_TYPES = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}


def _locate(loc: tuple) -> tuple[str, FieldInfo | None, tuple[str, ...]]:
    """A pydantic error location -> (dotted key, the field's info or None, the keys of its table).
    In `model` the location carries the union's tag: ("model", "lstm", "hidden_size")."""
    parts = [str(p) for p in loc]
    if not parts:
        return "", None, tuple(SECTIONS)
    if parts[0] == "model" and len(parts) >= 2 and parts[1] in registry.ARCHS:
        cls: type[Section] | None = registry.ARCHS[parts[1]]
        parts = ["model"] + parts[2:]
    else:
        cls = SECTIONS.get(parts[0])
    key = ".".join(parts)
    if cls is None or len(parts) < 2:
        return key, None, tuple(SECTIONS) if len(parts) == 1 else ()
    return key, cls.model_fields.get(parts[1]), tuple(cls.model_fields)


def _describe(err: dict) -> tuple[str, str]:
    """(message without the source, dotted key) for one pydantic error."""
    typ, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    key, info, keys = _locate(err["loc"])
    if typ == "extra_forbidden":
        name = key.rsplit(".", 1)[-1]
        if "." not in key:
            return f"unknown section [{key}]{closest(key, SECTIONS)}; valid: {', '.join(SECTIONS)}", ""
        return f"unknown key {key}{closest(name, keys)}", key
    if typ in ("union_tag_invalid", "union_tag_not_found"):  # the model table's arch
        tag = value.get("arch") if isinstance(value, dict) else value
        return f"model.arch must be one of {', '.join(registry.ARCHS)}; got {tag!r}{closest(str(tag), registry.ARCHS)}", "model.arch"
    if typ in ("model_type", "model_attributes_type", "dict_type") and "." not in key:
        return f"[{key}] must be a table", key
    if typ == "literal_error" and info is not None:
        allowed = choices(info)
        return f"{key} must be one of {', '.join(map(str, allowed))}; got {value!r}{closest(str(value), map(str, allowed))}", key
    if (typ in _BOUND_TYPES or typ == "int_parsing_size") and info is not None:
        return f"{key} must be {bounds_text(info)}, got {got(value)}", key
    if typ == "finite_number":
        return f"{key} must be finite, got {got(value)}", key
    if typ in _TYPE_WORDS:
        return f"{key} must be {_TYPE_WORDS[typ]}, got {got(value) if isinstance(value, bool) else repr(value)}", key
    if typ == "value_error" and "error" in ctx:
        return f"{key} {ctx['error']}, got {got(value)}", key
    return f"{key}: {' '.join(str(err.get('msg', typ)).split())}", key  # pragma: no cover - a type not met yet


def _stray(errors: list[dict], arch: str) -> list[dict]:
    """The errors for model keys of other architectures given to `arch` (extra keys that some
    architecture takes)."""
    return [e for e in errors if e["type"] == "extra_forbidden" and len(e["loc"]) == 3
            and e["loc"][:2] == ("model", arch) and e["loc"][2] in MODEL_KEYS]


def _user_error(exc: ValidationError, source: str, arch: Any) -> UserError:
    """The first problem of a ValidationError as one line naming the source and the key; keys of
    other architectures are named together, with what the chosen one takes."""
    errors = exc.errors(include_url=False)
    stray = _stray(errors, arch) if isinstance(arch, str) and arch in registry.ARCHS else []
    first = errors[0]
    if stray and first is stray[0]:
        names = [f"model.{e['loc'][2]}" for e in stray]
        takes = ", ".join(registry.ARCHS[arch].applies)
        if len(names) == 1:
            return UserError(f"{source}: {names[0]} does not apply to model.arch {arch!r} (it takes: {takes})", key=names[0])
        named = f"{', '.join(names[:3])} and {len(names) - 3} more" if len(names) > 3 else f"{', '.join(names[:-1])} and {names[-1]}"
        return UserError(
            f"{source}: {named} do not apply to model.arch {arch!r} (it takes: {takes}); a config.toml written by "
            "rnn-tui 0.1 lists every model field: delete those that do not apply",
            key=names[0],
        )
    message, key = _describe(first)
    return UserError(f"{source}: {message}", key=key)


def check_value(key: str, value: Any, arch: str = DEFAULT_ARCH) -> Any:
    """One setting on its own ("train.lr", "3e-3") -> its converted value, or UserError (no source
    prefix) saying what is wrong with it, as from_dict would. `arch` picks the model's table."""
    section, _, name = key.partition(".")
    cls = section_class(section, arch)
    data = {name: value, **({"arch": arch} if section == "model" else {})}
    try:
        return getattr(cls.model_validate(data), name)
    except ValidationError as exc:
        tag = (section, arch) if section == "model" else (section,)
        err = next((e for e in exc.errors(include_url=False) if e["loc"][:1] == (name,)), exc.errors(include_url=False)[0])
        message, at = _describe({**err, "loc": tag + tuple(err["loc"])})
        raise UserError(message, key=at or key) from None


# ---------------------------------------------------------------------------------------------
# Building from dictionaries (TOML)


def from_dict(data: dict, source: str = "configuration", strict: bool = True, check: bool = True) -> Config:
    """Build a Config from nested dicts (e.g. parsed TOML), rejecting unknown keys by name.

    strict=False is for reading a run's own saved configuration: model keys that the chosen
    architecture does not take (rnn-tui 0.1 wrote all of them) are dropped instead of refused.
    check=False skips the checks across settings (`validate`: the system, the memory estimate), for
    reading a run that is what it was."""
    if not isinstance(data, dict):
        raise UserError(f"{source}: a configuration must be a table of sections, got {data!r}")
    for name in data:
        if name not in SECTIONS:
            raise UserError(f"{source}: unknown section [{name}]{closest(name, SECTIONS)}; valid: {', '.join(SECTIONS)}")
    for name in SECTIONS:
        if not isinstance(data.get(name, {}), dict):
            raise UserError(f"{source}: [{name}] must be a table", key=name)
    model = {"arch": DEFAULT_ARCH, **data.get("model", {})}
    arch = model["arch"]
    known = isinstance(arch, str) and arch in registry.ARCHS
    if known and not strict:
        takes = registry.ARCHS[arch].model_fields
        model = {k: v for k, v in model.items() if k in takes or k not in MODEL_KEYS}
    system = data.get("system", {}).get("name", SystemConfig.model_fields["name"].default)
    if known and isinstance(system, str) and check:
        _check_arch_fits_system(arch, system, source)  # before the keys: a wrong pair is the bigger news
    try:
        cfg = Config.model_validate({**data, "model": model})
    except ValidationError as exc:
        raise _user_error(exc, source, arch) from None
    if check:
        validate(cfg, source)
    return cfg


def to_dict(cfg: Config) -> dict:
    """Plain nested dict of a Config (for TOML output and model.pt); model: its architecture's fields."""
    return cfg.model_dump()


def _check_arch_fits_system(arch: str, system_name: str, source: str) -> None:
    """A field system (KdV) needs an architecture that takes fields, and field-only ones need a field."""
    from rnn_tui.systems import get_system

    try:
        system = get_system(system_name)
    except UserError:
        return  # named by validate()
    info = registry.ARCHS[arch]
    if system.kind == "field" and not info.supports_field:
        fields = ", ".join(a for a, c in registry.ARCHS.items() if c.supports_field)
        raise UserError(f"{source}: system {system_name!r} is a field; model.arch {arch!r} cannot take it (use {fields})", key="model.arch")
    if system.kind != "field" and info.field_only:
        raise UserError(f"{source}: model.arch {arch!r} needs a field system such as kdv, not {system_name!r}", key="model.arch")


def _check_ensemble(cfg: Config, source: str) -> None:
    """train.ensemble > 1 needs an architecture that batches (and no dropout: its masks come from
    the one global random stream, so a member could not equal its separate run)."""
    m = cfg.model
    if not type(m).stackable:
        takes = ", ".join(a for a, c in registry.ARCHS.items() if c.stackable)
        raise UserError(f"{source}: train.ensemble = {cfg.train.ensemble} needs an architecture that trains batched "
                        f"({takes}); model.arch {m.arch!r} does not: set train.ensemble = 1", key="train.ensemble")
    if getattr(m, "dropout", 0) > 0 and getattr(m, "num_layers", 1) > 1:
        raise UserError(f"{source}: train.ensemble = {cfg.train.ensemble} cannot use model.dropout (each member's dropout "
                        "masks would differ from its own run's); set model.dropout = 0 or train.ensemble = 1", key="train.ensemble")


def state_size(system, params: dict) -> int | None:
    """Components of a system's state (grid points of a field) without making its data; None for CSV."""
    if system.components:
        return len(system.components)
    n = system.resolve(params).get("n")
    return int(n) if isinstance(n, int) else None


def _check_climate(cfg: Config, system, source: str) -> None:
    """climate.exponents at most the state's components (the truth has no more to compare with)."""
    c = cfg.climate
    if not c.enabled or system.kind == "data":
        return
    n = state_size(system, cfg.system.params)
    if n is not None and c.exponents > n:
        raise UserError(f"{source}: climate.exponents = {c.exponents} is more than {cfg.system.name}'s {n} state components",
                        key="climate.exponents")


def validate(cfg: Config, source: str = "configuration") -> None:
    """The checks across fields (each field's own type and bounds are checked when it is built);
    those that need the data live in the trainer's set-up."""
    from rnn_tui.systems import get_system

    s, t = cfg.system, cfg.train
    try:
        system = get_system(s.name)  # raises UserError for an unknown system
    except UserError as exc:
        raise UserError(str(exc), key="system.name") from None
    try:
        system.resolve(s.params)  # raises for unknown or bad parameters
    except UserError as exc:
        raise UserError(str(exc), key="system.params") from None
    if t.val_fraction + t.test_fraction >= 0.9:
        raise UserError(f"{source}: train.val_fraction + train.test_fraction must leave at least 10% for training", key="train.val_fraction")
    _check_arch_fits_system(cfg.model.arch, s.name, source)
    if t.ensemble > 1:
        _check_ensemble(cfg, source)
    _check_climate(cfg, system, source)
    from rnn_tui import budget

    budget.check(cfg, source)  # the memory it would need, before anything is allocated


# ---------------------------------------------------------------------------------------------
# TOML files, presets and --set overrides


def read_toml(path: Path) -> dict:
    """Parse a TOML file; a malformed one gives a UserError naming the file and line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"configuration file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        if "at end of document" in msg:  # say which line that is
            msg = msg.replace("at end of document", f"at line {len(text.splitlines()) or 1}, end of file")
        raise UserError(f"{path}: malformed TOML: {msg}") from None


def parse_override(item: str) -> tuple[list[str], Any]:
    """'train.lr=3e-3' -> (['train', 'lr'], 0.003). Values are read as TOML, else as strings."""
    if "=" not in item:
        raise UserError(f"--set needs KEY=VALUE, got {item!r}")
    key, raw = item.split("=", 1)
    path = dotted_key(key)
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return path, value


def dotted_key(key: str, what: str = "--set") -> list[str]:
    """'train.lr' -> ['train', 'lr']; a UserError for a key that is not dotted."""
    path = str(key).strip().split(".")
    if len(path) < 2 or any(not p for p in path):
        raise UserError(f"{what} key must be dotted like train.lr, got {str(key).strip()!r}")
    return path


def apply_overrides(data: dict, overrides: list[str] | Mapping[str, Any]) -> dict:
    """Return a copy of nested `data` with each KEY=VALUE applied (unknown keys are caught later).
    `overrides` is a list of 'KEY=VALUE' strings (--set, values read as TOML) or a mapping of dotted
    keys to values (the Python API's `overrides`)."""
    if isinstance(overrides, Mapping):
        pairs = [(dotted_key(k, "overrides"), v) for k, v in overrides.items()]
    else:
        pairs = [parse_override(item) for item in overrides]
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for path, value in pairs:
        node = out
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
            else:
                child = dict(child)
            node[part] = child
            node = child
        node[path[-1]] = value
    return out


def presets_dir() -> Path:
    """Where the shipped presets live: beside the package when installed, else the repo's presets/."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "presets", here.parent / "presets"):
        if candidate.is_dir():
            return candidate
    return here.parent / "presets"


def user_presets_dir() -> Path:
    """Where presets saved from the app go: $RNN_TUI_HOME/presets, else in the platform's user data
    folder (platformdirs; ~/.local/share/rnn-tui/presets on Linux)."""
    return data_dir() / "presets"


def _preset_files() -> dict[str, Path]:
    """Preset name -> file; a user preset of the same name as a shipped one takes precedence."""
    files = {p.stem: p for p in sorted(presets_dir().glob("*.toml"))}
    user = user_presets_dir()
    if user.is_dir():
        files.update({p.stem: p for p in sorted(user.glob("*.toml"))})
    return files


def list_presets() -> dict[str, str]:
    """Preset name -> its one-line description (the first comment line of the file)."""
    out = {}
    for name, path in _preset_files().items():
        first = ""
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("#"):
                first = line.lstrip("# ").strip()
                break
        out[name] = first
    return out


def preset_path(name: str) -> Path:
    files = _preset_files()
    if name not in files:
        raise UserError(f"unknown preset {name!r}{closest(name, files)}; see `rnn-tui presets`")
    return files[name]


def check_preset_name(name: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name or ""):
        raise UserError(f"preset name may use letters, digits, _ . and - only, got {name!r}")


def save_preset(cfg: Config, name: str, description: str = "") -> Path:
    """Write cfg as a user preset NAME.toml (complete and loadable with --preset NAME)."""
    check_preset_name(name)
    folder = user_presets_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    text = dumps(cfg, description or f"Saved from the app: {cfg.system.name} with {cfg.model.arch}")
    atomic_write(path, lambda fh: fh.write(text), encoding="utf-8")
    return path


def load(preset: str | None = None, config: str | Path | None = None, overrides: list[str] | Mapping[str, Any] | None = None,
         strict: bool = True) -> Config:
    """Resolve a run configuration from a preset or a file (or the defaults), then overrides (--set
    strings, or a mapping of dotted keys to values). strict=False reads a run's own config.toml (see
    from_dict)."""
    if preset is not None:
        path = preset_path(preset)
        data, source = read_toml(path), str(path)
    elif config is not None:
        data, source = read_toml(Path(config)), str(config)
    else:
        data, source = {}, "defaults"
    if overrides:
        data = apply_overrides(data, overrides)
        source = f"{source} with {'overrides' if isinstance(overrides, Mapping) else '--set'}"
    return from_dict(data, source, strict)


def dumps(cfg: Config, header: str = "") -> str:
    """TOML text of a Config (complete, so the file repeats the run by itself), `header` as leading
    comment lines."""
    head = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    return head + ("\n" if head else "") + tomli_w.dumps(to_dict(cfg))
