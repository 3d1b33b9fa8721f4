"""The architectures, by name: one line each, the class of its hyperparameters.

Torch-free so the CLI, the configuration and the app's panel can list architectures and check
their settings without importing torch. Each class (an `hparams.ArchConfig`) carries its `doc`,
`supports_field` and `field_only`, and its fields (with descriptions and bounds) are the
architecture's hyperparameters; the package that declares it has `build(spec, cfg) -> Forecaster`,
which imports the network (torch) only when called.

A new architecture is one new package, rnn_tui/models/NAME/__init__.py (an ArchConfig subclass
with `arch: Literal["NAME"]`, and `build`) plus NAME/net.py (the Forecaster), and one line below.
"""

from __future__ import annotations

import importlib

from rnn_tui.models.hparams import ArchConfig


def _classes(*names: str) -> tuple[type[ArchConfig], ...]:
    """"package.Class" under rnn_tui.models -> the classes (the packages are torch-free)."""
    out = []
    for name in names:
        package, cls = name.rsplit(".", 1)
        out.append(getattr(importlib.import_module(f"rnn_tui.models.{package}"), cls))
    return tuple(out)


# One line an architecture, in the order of lists and the app's select.
CONFIGS: tuple[type[ArchConfig], ...] = _classes(
    "recurrent.RNNConfig",
    "recurrent.LSTMConfig",
    "recurrent.GRUConfig",
    "recurrent.DenseGRUConfig",
    "recurrent.IRNNConfig",
    "esn.ESNConfig",
    "ngrc.NGRCConfig",
    "ngrc_local.LocalNGRCConfig",
    "mlp.MLPConfig",
    "convlstm.ConvLSTMConfig",
    "rk4.RK4Config",
)

# name -> its hyperparameter class, in the order above (the order of lists and the app's select)
ARCHS: dict[str, type[ArchConfig]] = {cls.model_fields["arch"].default: cls for cls in CONFIGS}


def build(spec, model_cfg: ArchConfig):
    """Build the Forecaster for `model_cfg` (imports torch): the `build` of the package that
    declares its class."""
    return importlib.import_module(type(model_cfg).__module__).build(spec, model_cfg)


def stack(spec, model_cfg: ArchConfig, members: list):
    """K members built from `model_cfg` (each from its own seed) as one batched StackedForecaster
    (models/stacked.py), for train.ensemble; only for architectures whose class is `stackable`."""
    return importlib.import_module(type(model_cfg).__module__).stack(spec, model_cfg, members)
