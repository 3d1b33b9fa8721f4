"""Adding an architecture is its package plus one registry line, shown: a copy of rnn_tui gets a new
package `models/linear/` (a linear autoregressive forecaster: its configuration, facts and `build`,
the network in `net.py`) and the line "linear.LinearConfig" in models/registry.py, nothing else;
then the configuration takes `model.arch = "linear"` with its own keys and one-line errors, the
panel's fields come from its metadata, `rnn-tui train` trains it and scores it, and `rnn-tui runs`
shows its hyperparameters."""

from __future__ import annotations

import pytest
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import rnn_tui
from rnn_tui import config

PACKAGE = '''
"""A linear autoregressive forecaster: the next state from the last `order` states."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from rnn_tui.models.hparams import ARCH_DESCRIPTION, ArchConfig, Int


class LinearConfig(ArchConfig):
    doc: ClassVar[str] = "linear autoregression on the last `order` states"
    size_field: ClassVar[str] = "order"
    shown: ClassVar[tuple[str, ...]] = ("order", "residual")
    arch: Literal["linear"] = Field("linear", description=ARCH_DESCRIPTION)
    order: Int = Field(2, ge=1, le=64, description="states the prediction is a linear function of")
    residual: bool = Field(True, description="predict the increment")

    def footprint(self, dim: int, seq_len: int, batch: int) -> tuple[int, int]:
        return self.order * dim * dim + dim, batch * self.order * dim * 3


def build(spec, cfg: LinearConfig):
    from rnn_tui.models.linear.net import Linear  # torch: only when a model is built

    return Linear(spec, cfg)
'''

NET = '''
"""The linear forecaster's network."""

import torch

from rnn_tui.models.base import Forecaster, with_residual


class Linear(Forecaster):
    def __init__(self, spec, cfg):
        super().__init__(spec)
        self.order, self.residual = min(cfg.order, spec.seq_len), cfg.residual
        self.out = torch.nn.Linear(self.order * spec.dim, spec.dim)

    def forward(self, x):
        return with_residual(self.out(x[:, -self.order :].flatten(1)), x[:, -1], self.residual)
'''


@pytest.mark.heavy  # a CI tier (.ci/run): over 5 s on the default run
def test_an_architecture_is_its_package_and_one_registry_line(tmp_path):
    copy = tmp_path / "src" / "rnn_tui"
    shutil.copytree(Path(rnn_tui.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(config.presets_dir(), copy.parent / "presets")
    (copy / "models" / "linear").mkdir()
    (copy / "models" / "linear" / "__init__.py").write_text(textwrap.dedent(PACKAGE))
    (copy / "models" / "linear" / "net.py").write_text(textwrap.dedent(NET))
    registry = copy / "models" / "registry.py"
    text = registry.read_text()
    assert text.count('    "rk4.RK4Config",\n') == 1
    registry.write_text(text.replace('    "rk4.RK4Config",\n', '    "rk4.RK4Config",\n    "linear.LinearConfig",\n'))

    env = dict(os.environ, PYTHONPATH=str(tmp_path / "src"))
    run = lambda *args: subprocess.run([sys.executable, "-m", "rnn_tui", *args], capture_output=True, text=True, env=env, cwd=tmp_path)  # noqa: E731
    out = tmp_path / "runs" / "linear-run"
    cfg = tmp_path / "linear.toml"
    cfg.write_text('[system]\nname = "lorenz63"\nsteps = 800\n[model]\narch = "linear"\norder = 3\n'
                   '[train]\nepochs = 30\nlr = 0.01\nthreads = 1\ndevice = "cpu"\n')
    done = run("train", "--config", str(cfg), "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["arch"] == "linear" and summary["status"] == "finished" and summary["n_params"] == 3 * 3 * 3 + 3
    assert summary["rmse_at_steps"]["1"] < 1.0  # it learned the one-step map of Lorenz-63 (data std ~8)

    listed = run("runs", "--runs", str(tmp_path / "runs"), "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)[0]["params"] == "order=3 residual=True"

    bad = run("train", "--config", str(cfg), "--set", "model.order=0")
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "model.order must be in [1, 64], got 0" in bad.stderr
    stray = run("train", "--preset", "lorenz63_lstm", "--set", "model.arch=linear")  # the preset's hidden_size is not its key
    assert stray.returncode == 2 and "(it takes: order, residual)" in stray.stderr

    panel = subprocess.run([sys.executable, "-c", "from rnn_tui import config; cls = config.section_class('model', 'linear'); "
                            "print(cls.model_fields['order'].description, '|', config.bounds_text(cls.model_fields['order']))"],
                           capture_output=True, text=True, env=env, cwd=tmp_path)
    assert panel.stdout.strip() == "states the prediction is a linear function of | in [1, 64]"


def test_each_architecture_names_what_its_rows_show_and_its_size():
    """The run table's hyperparameters and the overlay labels come from each architecture's own facts
    (NG-RC runs once showed none: their keys were in nobody's list)."""
    from rnn_tui.core import library

    expect = {"ngrc": ("delays=2 order=2 ridge=2.5e-06", "ngrc delays=2", "model.delays"),
              "lstm": ("hidden_size=64 num_layers=1", "lstm 64", "model.hidden_size"),
              "convlstm": ("filters=16 kernel_size=5", "convlstm filters=16", "model.filters")}
    for arch, (params, label, key) in expect.items():
        cfg = config.load(None, overrides=[f"model.arch={arch}"] + (["system.name=kdv"] if arch == "convlstm" else []))
        row = library.RunRow(id="x", path="")
        library.fill_config(row, cfg)
        assert (row.params, cfg.model.label(), cfg.model.budget_key("model")) == (params, label, key)
    for arch, cls in __import__("rnn_tui.models.registry", fromlist=["ARCHS"]).ARCHS.items():
        assert cls.size_field in cls.model_fields and set(cls.shown) <= set(cls.model_fields), arch
