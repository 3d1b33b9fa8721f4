"""1-D ConvLSTM for fields (KdV). Its hyperparameters are declared here (torch-free); the network
is in `net`, imported by `build` only."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from rnn_tui.models.hparams import ARCH_DESCRIPTION, ArchConfig, Int


class ConvLSTMConfig(ArchConfig):
    doc: ClassVar[str] = "1-D ConvLSTM for fields (KdV), notes 000"
    supports_field: ClassVar[bool] = True
    field_only: ClassVar[bool] = True
    size_field: ClassVar[str] = "filters"
    shown: ClassVar[tuple[str, ...]] = ("filters", "kernel_size")
    arch: Literal["convlstm"] = Field("convlstm", description=ARCH_DESCRIPTION)
    filters: Int = Field(16, ge=1, le=256, description="channels of the ConvLSTM layer")
    kernel_size: Int = Field(5, ge=1, le=255, description="width of the 1-D convolution (odd)")
    batch_norm: bool = Field(False, description="batch normalisation after the ConvLSTM layer")
    residual: bool = Field(True, description="predict the increment of the field rather than the field")

    def footprint(self, dim: int, seq_len: int, batch: int) -> tuple[int, int]:
        f, k = self.filters, self.kernel_size
        params = 4 * f * (1 + f) * k + 4 * f + 3 * f + 1
        return params, 4 * batch * seq_len * 4 * f * dim  # dim = grid points of the field

    @field_validator("kernel_size")
    @classmethod
    def _odd(cls, value: int) -> int:
        if value % 2 == 0:
            raise ValueError("must be odd")  # circular padding of k // 2 on each side keeps the width
        return value


def build(spec, cfg: ConvLSTMConfig):
    """The ConvLSTM for `cfg` (imports torch)."""
    from rnn_tui.models.convlstm.net import ConvLSTM

    return ConvLSTM(spec, cfg)
