"""A faster Elman RNN layer for the CPU: whole-sequence forward and a hand-written backward.

torch's `nn.RNN` on the CPU records every time step as several autograd nodes, and at the sizes
of the course notes (hidden 64, batch 32, seq 20) its backward pass costs about four times its
forward. Here the input projection of all steps is one matrix product, each step is one
`addmm` plus the activation written into a preallocated buffer, and the backward is the
textbook back-propagation through time: one `addmm` and one multiply per step, then the weight
gradients of all steps as single matrix products. Same parameters, same results as `nn.RNN`
(tests compare both to 1e-12 in float64).
"""

from __future__ import annotations

import torch


class _ElmanLayer(torch.autograd.Function):
    """h_t = act(x_t W_ih^T + b_ih + b_hh + h_{t-1} W_hh^T) over a time-major sequence.

    h0 may be None: a zero initial state (the first step then needs no product with W_hh).
    """

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, relu: bool):
        # x (T, B, I) time-major; h0 (B, H) or None. Returns all hidden states (T, B, H).
        steps, batch, n_in = x.shape
        pre = torch.addmm(b_ih + b_hh, x.reshape(steps * batch, n_in), w_ih.t()).view(steps, batch, -1)
        hs = pre if h0 is None else torch.empty_like(pre)  # step t overwrites only pre[t]: reuse it
        w_hh_t = w_hh.t()
        h = h0
        for pre_t, out_t in zip(pre.unbind(0), hs.unbind(0)):
            h = pre_t if h is None else torch.addmm(pre_t, h, w_hh_t, out=out_t)
            h.clamp_(min=0) if relu else h.tanh_()
        ctx.relu = relu
        ctx.save_for_backward(x, h0, w_ih, w_hh, hs)
        return hs

    @staticmethod
    def backward(ctx, grad_hs):
        x, h0, w_ih, w_hh, hs = ctx.saved_tensors
        steps, batch, n_in = x.shape
        # The activation's derivative at every step, from its output.
        slope = (hs > 0).to(hs.dtype) if ctx.relu else 1 - hs * hs
        dz = torch.empty_like(hs)  # gradient w.r.t. the pre-activation of every step
        d, g, k = dz.unbind(0), grad_hs.contiguous().unbind(0), slope.unbind(0)
        torch.mul(g[-1], k[-1], out=d[-1])
        for t in range(steps - 2, -1, -1):
            torch.addmm(g[t], d[t + 1], w_hh, out=d[t]).mul_(k[t])
        hidden = hs.shape[-1]
        flat = dz.view(steps * batch, hidden)
        # dW_hh = sum_t dz_t^T h_{t-1}: all steps after the first in one product, h0's term apart.
        g_w_hh = flat[batch:].t().mm(hs[:-1].reshape(-1, hidden))
        if h0 is not None:
            g_w_hh.addmm_(d[0].t(), h0)
        g_w_ih = flat.t().mm(x.reshape(steps * batch, n_in))
        g_b = flat.sum(0)
        g_x = flat.mm(w_ih).view(steps, batch, n_in) if ctx.needs_input_grad[0] else None
        g_h0 = d[0].mm(w_hh) if h0 is not None and ctx.needs_input_grad[1] else None
        return g_x, g_h0, g_w_ih, g_w_hh, g_b, g_b, None


def elman(core: torch.nn.RNN, x: torch.Tensor, h0: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """`core(x, h0)` for a batch-first `nn.RNN` (tanh or relu, any depth), computed as above.

    Dropout between layers follows nn.RNN's rule (training mode only).
    """
    layer_in = x.transpose(0, 1).contiguous()
    relu = core.nonlinearity == "relu"
    h_n = []
    for k in range(core.num_layers):
        if k > 0 and core.dropout > 0 and core.training:
            layer_in = torch.nn.functional.dropout(layer_in, core.dropout, True)
        hk = None if h0 is None else h0[k]
        w = [getattr(core, f"{n}_l{k}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        layer_in = _ElmanLayer.apply(layer_in, hk, *w, relu)
        h_n.append(layer_in[-1])
    return layer_in.transpose(0, 1), torch.stack(h_n)


# Forward + backward + Adam step against nn.RNN on the 2-core CPU: batch x hidden = 256 (seq 200):
# 2.9x faster; 2,048: 1.4x; 8,192 (four shapes): 1.3-1.55x; 16,384: 0.97x; 65,536: 0.95x. Past
# this size the step is arithmetic, not overhead, and torch's own kernel is as good or better.
MAX_BATCH_HIDDEN = 8192


def applies(core: torch.nn.Module, x: torch.Tensor) -> bool:
    """Where the fused layer is used: a plain batch-first nn.RNN on the CPU while gradients are on,
    up to MAX_BATCH_HIDDEN. (On CUDA cuDNN's kernel is faster; without gradients nn.RNN's fused
    forward is as fast.)"""
    return (
        type(core) is torch.nn.RNN
        and core.batch_first
        and core.bias
        and not core.bidirectional
        and x.device.type == "cpu"
        and x.shape[0] * core.hidden_size <= MAX_BATCH_HIDDEN
        and torch.is_grad_enabled()
    )
