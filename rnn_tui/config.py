"""Typed run configuration: four sections (system, model, train, rollout), loaded from TOML presets
and overridden with dotted keys. Every field says what it is; unknown keys are errors that name
the key, the file and the closest valid key.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from rnn_tui.errors import UserError, closest

Arch = Literal["rnn", "lstm", "gru", "dense_gru", "irnn", "esn", "mlp", "convlstm", "rk4"]


@dataclass(frozen=True)
class SystemConfig:
    """Which dynamical system gives the data, and how it is sampled."""

    name: str = "sine"  # system name (see `rnn-tui data --list`)
    params: dict = field(default_factory=dict)  # system parameters overriding its defaults
    steps: int = 0  # samples in the trajectory; 0 = the system's default
    dt: float = 0.0  # sample step in time units; 0 = the system's default
    seed: int = 0  # seed of stochastic systems (noisy sine) and of the observation noise
    noise: float = 0.0  # std of Gaussian observation noise on the training split only (data units)


@dataclass(frozen=True)
class ModelConfig:
    """The architecture and its hyperparameters. Fields that do not apply to `arch` are ignored."""

    arch: Arch = "lstm"  # rnn, lstm, gru, dense_gru, irnn, esn, mlp, convlstm or rk4
    hidden_size: int = 64  # units per recurrent layer (reservoir size for esn, width for mlp/rk4)
    num_layers: int = 1  # stacked recurrent layers (hidden layers for mlp)
    activation: Literal["tanh", "relu", "sigmoid"] = "tanh"  # rnn cell / mlp nonlinearity
    dropout: float = 0.0  # dropout between stacked layers, in [0, 1)
    learn_h0: bool = False  # learn the initial hidden state instead of starting from zeros
    head_size: int = 0  # width of a ReLU dense layer before the output (notes 003: 8); 0 = linear
    residual: bool = True  # predict the increment x[t+1] - x[t] (small for a sampled flow) rather than x[t+1]
    dense_size: int = 32  # dense_gru: width of each of the two ReLU layers before the GRU
    spectral_radius: float = 0.9  # esn: largest |eigenvalue| of the reservoir matrix
    leak_rate: float = 1.0  # esn: leaky-integration rate in (0, 1]
    input_scaling: float = 0.5  # esn: scale of the random input weights
    sparsity: float = 0.9  # esn: fraction of reservoir weights that are zero, in [0, 1)
    washout: int = 50  # esn: reservoir steps discarded before fitting the readout
    ridge: float = 1e-6  # esn: Tikhonov regularisation of the closed-form readout
    readout: Literal["linear", "quadratic"] = "linear"  # esn: readout on r, or on [r, r^2]
    filters: int = 16  # convlstm: channels of the ConvLSTM layer
    kernel_size: int = 5  # convlstm: width of the 1-D convolution (odd)
    batch_norm: bool = False  # convlstm: batch normalisation after the ConvLSTM layer
    scheme: Literal["rk4", "euler"] = "rk4"  # rk4: integration scheme of the residual network
    substeps: int = 1  # rk4: steps of the scheme per sample step (1 = one step of dt, as in Fablet 2018)


@dataclass(frozen=True)
class TrainConfig:
    """How the model is trained."""

    seq_len: int = 20  # window length fed to the model
    batch_size: int = 32  # windows per optimisation step
    epochs: int = 100  # passes over the training windows
    lr: float = 1e-3  # learning rate
    optimizer: Literal["adam", "rmsprop", "sgd"] = "adam"  # sgd uses `momentum`
    momentum: float = 0.9  # sgd momentum
    weight_decay: float = 0.0  # L2 penalty
    clip_grad_norm: float = 0.0  # clip the gradient norm to this value; 0 = off
    schedule: Literal["none", "cosine", "plateau"] = "none"  # learning-rate schedule
    rollout_steps: int = 1  # k: loss over k free-running steps; 1 = teacher forcing
    seq_loss: bool = False  # recurrent models: also score the prediction after every window step
    lbfgs_steps: int = 0  # full-batch L-BFGS iterations after the last epoch (polish); 0 = off
    val_fraction: float = 0.2  # fraction of samples for validation (after the training part)
    test_fraction: float = 0.2  # fraction of samples for testing (at the end)
    early_stop_patience: int = 0  # stop after this many epochs without a better val loss; 0 = off
    device: Literal["auto", "cpu", "cuda"] = "auto"  # auto = cuda when present
    dtype: Literal["float32", "float64"] = "float32"  # float64 for very small errors (rk4)
    seed: int = 0  # seed of weights, shuffling and dropout
    threads: int = 0  # CPU threads torch may use for this run; 0 = torch's default (all cores)


@dataclass(frozen=True)
class RolloutConfig:
    """The free-running forecast shown and scored."""

    horizon: int = 200  # steps of free-running prediction shown and scored
    every: int = 5  # epochs between rollouts during training; 0 = only at the end
    # "carry" the hidden state (O(horizon)); re-feed the last seq_len states each step as the notes
    # do ("window", O(horizon * seq_len)); "auto": carry where the model was trained that way (ESN,
    # stateless models), re-feed for nets trained on windows from a zero state.
    mode: Literal["auto", "carry", "window"] = "auto"  # how the free run feeds the model (see above)


@dataclass(frozen=True)
class Config:
    system: SystemConfig = field(default_factory=SystemConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    rollout: RolloutConfig = field(default_factory=RolloutConfig)


SECTIONS = {"system": SystemConfig, "model": ModelConfig, "train": TrainConfig, "rollout": RolloutConfig}


# ---------------------------------------------------------------------------------------------
# Building from dictionaries (TOML) with typed checks


def _field_types(cls) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check/convert one value to the field's type; raise UserError naming `where`."""
    origin = get_origin(tp)
    if origin is Literal:
        choices = get_args(tp)
        if value not in choices:
            raise UserError(f"{where} must be one of {', '.join(map(str, choices))}; got {value!r}{closest(str(value), choices)}")
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise UserError(f"{where} must be true or false, got {value!r}")
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise UserError(f"{where} must be an integer, got {value!r}")
        try:
            f = float(value)
        except ValueError:
            raise UserError(f"{where} must be an integer, got {value!r}") from None
        if not math.isfinite(f) or f != int(f):
            raise UserError(f"{where} must be an integer, got {value!r}")
        return int(f)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise UserError(f"{where} must be a number, got {value!r}")
        try:
            f = float(value)
        except ValueError:
            raise UserError(f"{where} must be a number, got {value!r}") from None
        if not math.isfinite(f):
            raise UserError(f"{where} must be finite, got {value!r}")
        return f
    if tp is str:
        if not isinstance(value, str):
            raise UserError(f"{where} must be a string, got {value!r}")
        return value
    if tp is dict:
        if not isinstance(value, dict):
            raise UserError(f"{where} must be a table, got {value!r}")
        return dict(value)
    raise TypeError(f"unsupported field type {tp!r}")  # pragma: no cover - programming error


def from_dict(data: dict, source: str = "configuration") -> Config:
    """Build a Config from nested dicts (e.g. parsed TOML), rejecting unknown keys by name."""
    sections = {}
    for key in data:
        if key not in SECTIONS:
            raise UserError(f"{source}: unknown section [{key}]{closest(key, SECTIONS)}; valid: {', '.join(SECTIONS)}")
    for name, cls in SECTIONS.items():
        raw = data.get(name, {})
        if not isinstance(raw, dict):
            raise UserError(f"{source}: [{name}] must be a table")
        types = _field_types(cls)
        kwargs = {}
        for key, value in raw.items():
            if key not in types:
                raise UserError(f"{source}: unknown key {name}.{key}{closest(key, types)}")
            kwargs[key] = _coerce(value, types[key], f"{source}: {name}.{key}")
        sections[name] = cls(**kwargs)
    cfg = Config(**sections)
    validate(cfg, source)
    return cfg


def to_dict(cfg: Config) -> dict:
    """Plain nested dict of a Config (for TOML output and the TUI)."""
    return {name: dataclasses.asdict(getattr(cfg, name)) for name in SECTIONS}


def validate(cfg: Config, source: str = "configuration") -> None:
    """Range checks that do not need the data (those that do live in the trainer's set-up)."""
    from rnn_tui.systems import get_system

    s, m, t, r = cfg.system, cfg.model, cfg.train, cfg.rollout

    def need(ok: bool, msg: str) -> None:
        if not ok:
            raise UserError(f"{source}: {msg}")

    system = get_system(s.name)  # raises UserError for an unknown system
    system.resolve(s.params)  # raises for unknown or bad parameters
    need(s.steps == 0 or s.steps >= 2, f"system.steps must be >= 2 (or 0 for the default), got {s.steps}")
    need(s.dt >= 0, f"system.dt must be > 0 (or 0 for the default), got {s.dt:g}")
    need(s.noise >= 0, f"system.noise must be >= 0, got {s.noise:g}")
    need(m.hidden_size >= 1, f"model.hidden_size must be >= 1, got {m.hidden_size}")
    need(m.num_layers >= 1, f"model.num_layers must be >= 1, got {m.num_layers}")
    need(0 <= m.dropout < 1, f"model.dropout must be in [0, 1), got {m.dropout:g}")
    need(m.head_size >= 0, f"model.head_size must be >= 0, got {m.head_size}")
    need(m.dense_size >= 1, f"model.dense_size must be >= 1, got {m.dense_size}")
    need(m.spectral_radius > 0, f"model.spectral_radius must be > 0, got {m.spectral_radius:g}")
    need(0 < m.leak_rate <= 1, f"model.leak_rate must be in (0, 1], got {m.leak_rate:g}")
    need(m.input_scaling > 0, f"model.input_scaling must be > 0, got {m.input_scaling:g}")
    need(0 <= m.sparsity < 1, f"model.sparsity must be in [0, 1), got {m.sparsity:g}")
    need(m.washout >= 0, f"model.washout must be >= 0, got {m.washout}")
    need(m.ridge >= 0, f"model.ridge must be >= 0, got {m.ridge:g}")
    need(m.substeps >= 1, f"model.substeps must be >= 1, got {m.substeps}")
    need(m.filters >= 1, f"model.filters must be >= 1, got {m.filters}")
    need(m.kernel_size >= 1 and m.kernel_size % 2 == 1, f"model.kernel_size must be odd and >= 1, got {m.kernel_size}")
    need(t.seq_len >= 1, f"train.seq_len must be >= 1, got {t.seq_len}")
    need(t.batch_size >= 1, f"train.batch_size must be >= 1, got {t.batch_size}")
    need(t.epochs >= 1, f"train.epochs must be >= 1, got {t.epochs}")
    need(t.lr > 0, f"train.lr must be > 0, got {t.lr:g}")
    need(t.momentum >= 0, f"train.momentum must be >= 0, got {t.momentum:g}")
    need(t.weight_decay >= 0, f"train.weight_decay must be >= 0, got {t.weight_decay:g}")
    need(t.clip_grad_norm >= 0, f"train.clip_grad_norm must be >= 0 (0 = off), got {t.clip_grad_norm:g}")
    need(t.rollout_steps >= 1, f"train.rollout_steps must be >= 1, got {t.rollout_steps}")
    need(t.lbfgs_steps >= 0, f"train.lbfgs_steps must be >= 0, got {t.lbfgs_steps}")
    need(0 <= t.val_fraction < 1, f"train.val_fraction must be in [0, 1), got {t.val_fraction:g}")
    need(0 <= t.test_fraction < 1, f"train.test_fraction must be in [0, 1), got {t.test_fraction:g}")
    need(t.val_fraction + t.test_fraction < 0.9, "train.val_fraction + train.test_fraction must leave at least 10% for training")
    need(t.threads >= 0, f"train.threads must be >= 0 (0 = all cores), got {t.threads}")
    need(t.early_stop_patience >= 0, f"train.early_stop_patience must be >= 0, got {t.early_stop_patience}")
    need(r.horizon >= 1, f"rollout.horizon must be >= 1, got {r.horizon}")
    need(r.every >= 0, f"rollout.every must be >= 0, got {r.every}")
    from rnn_tui.models.registry import ARCHS

    info = ARCHS[m.arch]
    if system.kind == "field" and not info.supports_field:
        fields = ", ".join(a for a, i in ARCHS.items() if i.supports_field)
        raise UserError(f"{source}: system {s.name!r} is a field; model.arch {m.arch!r} cannot take it (use {fields})")
    if system.kind != "field" and info.field_only:
        raise UserError(f"{source}: model.arch {m.arch!r} needs a field system such as kdv, not {s.name!r}")


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
    path = [p for p in key.strip().split(".")]
    if len(path) < 2 or any(not p for p in path):
        raise UserError(f"--set key must be dotted like train.lr, got {key.strip()!r}")
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return path, value


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Return a copy of nested `data` with each KEY=VALUE applied (unknown keys are caught later)."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for item in overrides:
        path, value = parse_override(item)
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
    """Where presets saved from the app go: $RNN_TUI_HOME/presets (default ~/.local/share/rnn-tui)."""
    import os

    home = os.environ.get("RNN_TUI_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share", "rnn-tui")
    return Path(home) / "presets"


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


def save_preset(cfg: Config, name: str, description: str = "") -> Path:
    """Write cfg as a user preset NAME.toml (complete and loadable with --preset NAME)."""
    import re

    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name or ""):
        raise UserError(f"preset name may use letters, digits, _ . and - only, got {name!r}")
    folder = user_presets_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(dumps(cfg, description or f"Saved from the app: {cfg.system.name} with {cfg.model.arch}"), encoding="utf-8")
    tmp.replace(path)
    return path


def load(preset: str | None = None, config: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Resolve a run configuration from a preset or a file (or the defaults), then overrides."""
    if preset is not None:
        path = preset_path(preset)
        data, source = read_toml(path), str(path)
    elif config is not None:
        data, source = read_toml(Path(config)), str(config)
    else:
        data, source = {}, "defaults"
    if overrides:
        data = apply_overrides(data, overrides)
        source = f"{source} with --set"
    return from_dict(data, source)


def dumps(cfg: Config, header: str = "") -> str:
    """TOML text of a Config (complete, so the file repeats the run by itself)."""
    lines = [f"# {line}" for line in header.splitlines()] if header else []
    for name, values in to_dict(cfg).items():
        if lines:
            lines.append("")
        lines.append(f"[{name}]")
        nested = []
        for key, value in values.items():
            if isinstance(value, dict):
                nested.append((key, value))
            else:
                lines.append(f"{key} = {_toml_value(value)}")
        for key, table in nested:
            inner = ", ".join(f"{k} = {_toml_value(v)}" for k, v in table.items())
            lines.append(f"{key} = {{ {inner} }}" if inner else f"{key} = {{}}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"cannot write {value!r} as TOML")  # pragma: no cover
