"""The shared output head: a linear map, or a ReLU dense layer of `head_size` then a linear map."""

from __future__ import annotations

from torch import nn


def output_head(in_features: int, out_features: int, head_size: int = 0) -> nn.Module:
    """Linear(in -> out), or Linear(in -> head_size) + ReLU + Linear(head_size -> out) when head_size > 0
    (notes 003: SimpleRNN(32, relu) -> Dense(8, relu) -> Dense(1))."""
    if head_size > 0:
        return nn.Sequential(nn.Linear(in_features, head_size), nn.ReLU(), nn.Linear(head_size, out_features))
    return nn.Linear(in_features, out_features)
