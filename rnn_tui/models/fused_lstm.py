"""A faster LSTM layer for the CPU: whole-sequence forward and a hand-written backward.

The same idea as fused_rnn.py for torch's LSTM equations (gates i, f, g, o):
    c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t).
Forward: the input projection of all steps is one product; each step adds h_{t-1} W_hh^T to its
slice, applies the gate functions in place and writes c_t, tanh(c_t) and h_t into preallocated
buffers. Backward: every factor that does not depend on the incoming gradient (the gate
derivatives, o * (1 - tanh(c)^2)) is computed for all steps at once, so the loop over time is
five small ops a step; the weight gradients of all steps are single products. Same parameters
and results as `nn.LSTM` (tests compare values and gradients to 1e-12 in float64).
"""

from __future__ import annotations

import torch


class _LSTMLayer(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        # x (T, B, I) time-major; h0, c0 (B, H) or None (zeros). Returns hs, cs (T, B, H).
        ctx.set_materialize_grads(False)
        steps, batch, n_in = x.shape
        H = w_hh.shape[1]
        gates = torch.addmm(b_ih + b_hh, x.reshape(steps * batch, n_in), w_ih.t()).view(steps, batch, 4 * H)
        hs, cs, tcs = (gates.new_empty(steps, batch, H) for _ in range(3))
        w_hh_t = w_hh.t()
        h, c = h0, c0
        for g, h_t, c_t, tc_t in zip(gates.unbind(0), hs.unbind(0), cs.unbind(0), tcs.unbind(0)):
            if h is not None:
                g.addmm_(h, w_hh_t)
            g[:, : 2 * H].sigmoid_()
            g[:, 2 * H : 3 * H].tanh_()
            g[:, 3 * H :].sigmoid_()
            i, f, gg, o = g[:, :H], g[:, H : 2 * H], g[:, 2 * H : 3 * H], g[:, 3 * H :]
            if c is None:
                torch.mul(i, gg, out=c_t)
            else:
                torch.mul(f, c, out=c_t).addcmul_(i, gg)
            torch.tanh(c_t, out=tc_t)
            torch.mul(o, tc_t, out=h_t)
            h, c = h_t, c_t
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, gates, cs, tcs, hs)
        return hs, cs

    @staticmethod
    def backward(ctx, g_hs, g_cs):
        x, h0, c0, w_ih, w_hh, gates, cs, tcs, hs = ctx.saved_tensors
        steps, batch, n_in = x.shape
        H = hs.shape[-1]
        if g_hs is None:
            g_hs = torch.zeros_like(hs)
        i, f, gg, o = (gates[..., k * H : (k + 1) * H] for k in range(4))
        c_prev = torch.cat([(c0 if c0 is not None else torch.zeros_like(cs[0])).unsqueeze(0), cs[:-1]])
        # What multiplies the incoming gradient, for all steps at once: d(gates)/d(pre-activation)
        # times what each gate multiplies (dc for i, f, g; dh for o).
        A = torch.empty_like(gates).view(steps, batch, 4, H)
        torch.mul(gg, i * (1 - i), out=A[:, :, 0])
        torch.mul(c_prev, f * (1 - f), out=A[:, :, 1])
        torch.mul(i, 1 - gg * gg, out=A[:, :, 2])
        torch.mul(tcs, o * (1 - o), out=A[:, :, 3])
        K = o * (1 - tcs * tcs)  # dc_t += dh_t * K_t
        dG = torch.empty_like(A)  # gradient w.r.t. the pre-activation gates
        dh = hs.new_empty(batch, H)
        dc = g_cs[-1].clone() if g_cs is not None else hs.new_zeros(batch, H)
        for t in range(steps - 1, -1, -1):
            if t == steps - 1:
                dh.copy_(g_hs[t])
            else:
                torch.addmm(g_hs[t], dG[t + 1].view(batch, 4 * H), w_hh, out=dh)
                if g_cs is not None:
                    dc.add_(g_cs[t])
            dc.addcmul_(dh, K[t])
            torch.mul(A[t, :, :3], dc.unsqueeze(1), out=dG[t, :, :3])
            torch.mul(A[t, :, 3], dh, out=dG[t, :, 3])
            dc.mul_(f[t])  # carried to step t - 1
        flat = dG.view(steps * batch, 4 * H)
        g_w_hh = flat[batch:].t().mm(hs[:-1].reshape(-1, H))
        if h0 is not None:
            g_w_hh.addmm_(dG[0].view(batch, 4 * H).t(), h0)
        g_w_ih = flat.t().mm(x.reshape(steps * batch, n_in))
        g_b = flat.sum(0)
        g_x = flat.mm(w_ih).view(steps, batch, n_in) if ctx.needs_input_grad[0] else None
        g_h0 = dG[0].view(batch, 4 * H).mm(w_hh) if h0 is not None and ctx.needs_input_grad[1] else None
        g_c0 = dc if c0 is not None and ctx.needs_input_grad[2] else None
        return g_x, g_h0, g_c0, g_w_ih, g_w_hh, g_b, g_b


def lstm(core: torch.nn.LSTM, x: torch.Tensor, state) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """`core(x, state)` for a batch-first `nn.LSTM` (any depth; dropout between layers in training
    mode as nn.LSTM applies it), computed as above."""
    layer_in = x.transpose(0, 1).contiguous()
    h_n, c_n = [], []
    for k in range(core.num_layers):
        if k > 0 and core.dropout > 0 and core.training:
            layer_in = torch.nn.functional.dropout(layer_in, core.dropout, True)
        h0, c0 = (None, None) if state is None else (state[0][k], state[1][k])
        w = [getattr(core, f"{n}_l{k}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        layer_in, cs = _LSTMLayer.apply(layer_in, h0, c0, *w)
        h_n.append(layer_in[-1])
        c_n.append(cs[-1])
    return layer_in.transpose(0, 1), (torch.stack(h_n), torch.stack(c_n))


def applies(core: torch.nn.Module, x: torch.Tensor) -> bool:
    """A plain batch-first nn.LSTM on the CPU while gradients are on (see fused_rnn.applies)."""
    return (
        type(core) is torch.nn.LSTM
        and core.batch_first
        and core.bias
        and not core.bidirectional
        and core.proj_size == 0
        and x.device.type == "cpu"
        and torch.is_grad_enabled()
    )
