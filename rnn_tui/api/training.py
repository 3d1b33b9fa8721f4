"""The Python API's verbs: load a configuration, train it into a run folder, open runs. Each is the
CLI's own path (config.load, core/runfolder.train_into, core/library), so a run trained here is the
run `rnn-tui train` makes of the same configuration, to the last digit on the CPU."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from rnn_tui import config as config_mod
from rnn_tui.api.run import Run
from rnn_tui.config import Config
from rnn_tui.core import events as ev
from rnn_tui.core import library, runio
from rnn_tui.core.control import Control, stop_on_interrupt
from rnn_tui.core.runfolder import RunFolder, train_into
from rnn_tui.errors import UserError


def load_config(preset: str | None = None, path: str | Path | None = None, overrides: Mapping[str, Any] | None = None) -> Config:
    """A run configuration from a shipped or saved preset, or a TOML file (a run's config.toml, say),
    or the defaults; then `overrides`, a mapping of dotted keys to values. The same rules and one-line
    `UserError`s as `rnn-tui train --preset/--config/--set`.

    >>> import rnn_tui
    >>> cfg = rnn_tui.load_config("lorenz63_lstm", overrides={"train.epochs": 2, "model.hidden_size": 8})
    >>> cfg.model.arch, cfg.train.epochs, cfg.model.hidden_size
    ('lstm', 2, 8)
    """
    if preset is not None and path is not None:
        raise UserError("load_config takes a preset or a path, not both")
    if overrides is not None and not isinstance(overrides, Mapping):
        raise UserError(f"overrides must map dotted keys to values, e.g. {{'train.lr': 3e-3}}; got {type(overrides).__name__}")
    return config_mod.load(preset, path, overrides)


def train(config: Config | str, *, out: str | Path | None = None, on_epoch: Callable[[ev.EpochEnd], None] | None = None,
          force: bool = False) -> Run:
    """Train `config` (a `Config`, or a preset's name) into a run folder and return the `Run`.

    `out`: the folder (default: a new one in the runs folder, $RNN_TUI_RUNS or ./runs); an existing
    folder with files in it needs `force=True`. `on_epoch` is called with each epoch's typed
    `EpochEnd` event (losses, learning rate, gradient norm) as it ends. Ctrl-C (a notebook's
    interrupt) stops the run at its next step: it ends as cancelled, its files written, and is
    returned; a second Ctrl-C raises KeyboardInterrupt at once. Bad input is a one-line UserError.

    >>> import rnn_tui
    >>> cfg = rnn_tui.load_config("sine_rnn", overrides={"train.epochs": 2})
    >>> run = rnn_tui.train(cfg, on_epoch=lambda e: print(e.epoch, e.val_loss))   # doctest: +SKIP
    >>> run.summary.status                                                         # doctest: +SKIP
    'finished'
    """
    label = config if isinstance(config, str) else None
    cfg = load_config(config) if isinstance(config, str) else config
    if not isinstance(cfg, Config):
        raise UserError(f"train needs a Config (rnn_tui.load_config) or a preset's name, got {type(config).__name__}")
    config_mod.validate(cfg)  # the checks across settings, as a loaded file gets them
    label = label or f"{cfg.system.name}_{cfg.model.arch}"
    path = Path(out) if out is not None else runio.new_run_dir(label, library.runs_root())
    folder = RunFolder.claim(path, force=force)  # before any work: a taken folder is refused
    header = f"Resolved configuration of this run (rnn_tui.train).\nRepeat it with: rnn-tui train --config {path / 'config.toml'}"

    def report(event) -> None:
        if on_epoch is not None and isinstance(event, ev.EpochEnd):
            on_epoch(event)

    control = Control()
    with stop_on_interrupt(control):
        train_into(folder, cfg, header, report, control)
    return Run(path)


def open_run(path: str | Path) -> Run:
    """The run in folder `path`, or the run of that id in the runs folder ($RNN_TUI_RUNS or ./runs).
    A folder that is not a run is a one-line UserError.

    >>> import rnn_tui
    >>> run = rnn_tui.open_run("runs/20261206-101500-lorenz63_lstm")   # doctest: +SKIP
    >>> run.summary.status                                              # doctest: +SKIP
    'finished'
    """
    folder = Path(path)
    if not folder.exists() and len(folder.parts) == 1:  # an id: look in the runs folder
        folder = library.find(library.runs_root(), [str(path)])[0]
    if not folder.is_dir():
        raise UserError(f"{path}: no such run folder")
    if not (folder / "summary.json").is_file():
        raise UserError(f"{path}: not a run folder (it has no summary.json)")
    runio.read_status(folder)  # a summary that is not one: the UserError naming it, now
    return Run(folder)


def runs(folder: str | Path | None = None, *, system: str | None = None, arch: str | None = None) -> list[Run]:
    """Every readable run in the runs folder (`folder`, else $RNN_TUI_RUNS or ./runs), oldest first,
    as `rnn-tui runs` lists them; optionally only those of one system or architecture. Folders that
    are not runs are left out.

    >>> import rnn_tui
    >>> [r.id for r in rnn_tui.runs(system="lorenz63")]   # doctest: +SKIP
    ['20261206-101500-lorenz63_lstm']
    """
    root = library.runs_root(None if folder is None else str(folder))
    rows = library.select(library.scan(root), system, arch, "when")
    return [Run(Path(r.path)) for r in rows if r.status != "unreadable"]
