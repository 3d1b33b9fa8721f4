"""Recurrent forecasters: rnn, lstm, gru, dense_gru and irnn. Their hyperparameters are declared
here (torch-free); the network is in `net`, imported by `build` only."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from rnn_tui.models.hparams import ARCH_DESCRIPTION, ArchConfig, Float, Int


class RecurrentConfig(ArchConfig):
    """What every recurrent architecture takes."""
    stackable: ClassVar[bool] = True  # train.ensemble: see stacked.py
    shown: ClassVar[tuple[str, ...]] = ("hidden_size", "num_layers")

    hidden_size: Int = Field(64, ge=1, le=4096, description="units per recurrent layer")
    num_layers: Int = Field(1, ge=1, le=16, description="stacked recurrent layers")
    dropout: Float = Field(0.0, ge=0, lt=1, description="dropout between stacked layers, in [0, 1)")
    learn_h0: bool = Field(False, description="learn the initial hidden state instead of starting from zeros")
    head_size: Int = Field(0, ge=0, le=4096, description="width of a ReLU dense layer before the output (notes 003: 8); 0 = linear")
    residual: bool = Field(True, description="predict the increment x[t+1] - x[t] (small for a sampled flow) rather than x[t+1]")


    gates: ClassVar[int] = 1  # weight blocks per layer (LSTM 4, GRU 3)

    def footprint(self, dim: int, seq_len: int, batch: int) -> tuple[int, int]:
        n_in = getattr(self, "dense_size", dim)
        h, g = self.hidden_size, self.gates
        params = sum(g * h * ((n_in if k == 0 else h) + h + 2) for k in range(self.num_layers))
        params += (n_in * (dim + n_in) if n_in != dim else 0) + (h + 1) * max(self.head_size, dim) * 2
        return params, 3 * batch * seq_len * g * h * self.num_layers  # gates, states and their gradients


class RNNConfig(RecurrentConfig):
    doc: ClassVar[str] = "vanilla (Elman) RNN, notes 003/004"
    shown: ClassVar[tuple[str, ...]] = ("hidden_size", "num_layers", "activation")
    arch: Literal["rnn"] = Field("rnn", description=ARCH_DESCRIPTION)
    activation: Literal["tanh", "relu", "sigmoid"] = Field("tanh", description="nonlinearity of the recurrent cell")
    # notes 002: the gradient at lag k goes as the k-th power of W_hh, so its spectral radius at the
    # start decides whether it vanishes (< 1) or explodes (> 1) before training has a say.
    init_radius: Float = Field(0.0, ge=0, le=100, description="rescale each W_hh at initialisation to this spectral radius "
                               "(notes 002); 0 = torch's default initialisation")


class LSTMConfig(RecurrentConfig):
    doc: ClassVar[str] = "long short-term memory, notes 000/003"
    gates: ClassVar[int] = 4
    arch: Literal["lstm"] = Field("lstm", description=ARCH_DESCRIPTION)


class GRUConfig(RecurrentConfig):
    doc: ClassVar[str] = "gated recurrent unit, notes 003"
    gates: ClassVar[int] = 3
    arch: Literal["gru"] = Field("gru", description=ARCH_DESCRIPTION)


class DenseGRUConfig(RecurrentConfig):
    doc: ClassVar[str] = "two dense ReLU layers, then a GRU (notes 003 dnn2_gru2)"
    gates: ClassVar[int] = 3
    arch: Literal["dense_gru"] = Field("dense_gru", description=ARCH_DESCRIPTION)
    dense_size: Int = Field(32, ge=1, le=4096, description="width of each of the two ReLU layers before the GRU")


class IRNNConfig(RecurrentConfig):
    doc: ClassVar[str] = "ReLU RNN with identity-initialised recurrent weights, notes 002"
    arch: Literal["irnn"] = Field("irnn", description=ARCH_DESCRIPTION)


def build(spec, cfg: RecurrentConfig):
    """The RecurrentForecaster for `cfg` (imports torch)."""
    from rnn_tui.models.recurrent.net import RecurrentForecaster

    return RecurrentForecaster(spec, cfg)


def stack(spec, cfg, members):
    """K built members of `cfg` as one batched model, for train.ensemble (imports torch)."""
    from rnn_tui.models.recurrent.stacked import StackedRecurrent

    return StackedRecurrent(members)
