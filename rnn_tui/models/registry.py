"""The architectures, by name: where each is built, what it is, and which hyperparameters apply.

Torch-free so the CLI and the configuration panel can list architectures without importing torch.
A new architecture is one new module under rnn_tui/models/ and one entry here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

COMMON = ("hidden_size", "num_layers", "dropout", "head_size", "residual")


@dataclass(frozen=True)
class ArchInfo:
    module: str  # module under rnn_tui.models that has `build(spec, model_cfg) -> Forecaster`
    doc: str  # one line for lists and the UI
    applies: tuple[str, ...]  # ModelConfig fields that matter for this architecture
    supports_field: bool = False  # can take a 1-D field (KdV)
    field_only: bool = False  # only makes sense on a field


ARCHS: dict[str, ArchInfo] = {
    "rnn": ArchInfo("recurrent", "vanilla (Elman) RNN, notes 003/004", COMMON + ("activation", "learn_h0")),
    "lstm": ArchInfo("recurrent", "long short-term memory, notes 000/003", COMMON + ("learn_h0",)),
    "gru": ArchInfo("recurrent", "gated recurrent unit, notes 003", COMMON + ("learn_h0",)),
    "dense_gru": ArchInfo("recurrent", "two dense ReLU layers, then a GRU (notes 003 dnn2_gru2)", COMMON + ("dense_size", "learn_h0")),
    "irnn": ArchInfo("recurrent", "ReLU RNN with identity-initialised recurrent weights, notes 002", COMMON + ("learn_h0",)),
    "esn": ArchInfo(
        "esn",
        "echo state network: fixed random reservoir, ridge readout in closed form",
        ("hidden_size", "spectral_radius", "leak_rate", "input_scaling", "sparsity", "washout", "ridge", "readout", "residual"),
    ),
    "mlp": ArchInfo("mlp", "memoryless baseline on the flattened window, notes 001/003", ("hidden_size", "num_layers", "activation", "residual")),
    "convlstm": ArchInfo(
        "convlstm",
        "1-D ConvLSTM for fields (KdV), notes 000",
        ("filters", "kernel_size", "batch_norm", "residual"),
        supports_field=True,
        field_only=True,
    ),
    "rk4": ArchInfo("rk4", "bilinear residual network, one RK4/Euler step of learned dX/dt (Fablet 2018)", ("hidden_size", "scheme", "substeps")),
}


def build(spec, model_cfg):
    """Build the Forecaster for `model_cfg.arch` (imports torch)."""
    info = ARCHS[model_cfg.arch]
    module = importlib.import_module(f"rnn_tui.models.{info.module}")
    return module.build(spec, model_cfg)
