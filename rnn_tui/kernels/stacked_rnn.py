"""Recurrent layers of K members at once (train.ensemble): Elman, LSTM and GRU over a whole window,
each time step one batched matrix product over the members, and a hand-written backward.

torch.func's vmap has no batching rule for nn.LSTM or nn.GRU, and a loop over members would pay
the per-operation overhead K times, which is what makes small models slow. Here every time step is
one `baddbmm` over (K, B, H) and a few elementwise passes, so the overhead is paid once for all
members; the backward is back-propagation through time written out (as kernels/fused_rnn.py does
for one Elman layer), one `baddbmm` a step plus the weight gradients.

Layout: time-major. `pre` (L, K, B, G) is the input projection of every step with its biases
(any strides: each step's slice is only read), h0 / c0 (K, B, H) or None (zeros), w_hh (K, G, H) in
torch's layout and gate order (LSTM i, f, g, o; GRU r, z, n). Outputs (L, K, B, H), contiguous.

tanh is computed as 2 sigmoid(2x) - 1: on the CPU torch's tanh costs about six times its sigmoid
(83 against 14 us for 32k floats on one core), and the doubling is exact in floating point. The
result differs from torch's tanh by a unit in the last place at most; the tests compare each member
with its own separate run to 1e-9 in float64.
"""

from __future__ import annotations

import torch
from torch.autograd import Function


def _tanh_(x: torch.Tensor) -> torch.Tensor:
    """tanh in place, as 2 sigmoid(2x) - 1 (see the module docstring)."""
    return x.mul_(2).sigmoid_().mul_(2).sub_(1)


def _accumulate_w(grad_a: torch.Tensor, hs: torch.Tensor, h0: torch.Tensor | None, shape) -> torch.Tensor:
    """dW_hh = sum_t dA_t^T h_{t-1}: (K, G, H), one batched product per step (the time-major layout
    cannot merge time and batch without a copy, and the copies cost more than the small products)."""
    gw = grad_a.new_zeros(shape)
    for t in range(1, grad_a.shape[0]):
        gw.baddbmm_(grad_a[t].transpose(1, 2), hs[t - 1])
    if h0 is not None:
        gw.baddbmm_(grad_a[0].transpose(1, 2), h0)
    return gw


class _Elman(Function):
    """h_t = act(pre_t + h_{t-1} W_hh^T), act tanh, relu or sigmoid."""

    @staticmethod
    def forward(ctx, pre, h0, w_hh, act: str):
        hs = torch.empty(pre.shape, dtype=pre.dtype, device=pre.device)  # (L, K, B, H)
        w_t = w_hh.transpose(1, 2)
        h = h0
        for t in range(pre.shape[0]):
            out = hs[t]
            if h is None:
                out.copy_(pre[t])
            else:
                torch.baddbmm(pre[t], h, w_t, out=out)
            if act == "tanh":
                _tanh_(out)
            elif act == "relu":
                out.clamp_(min=0)
            else:
                out.sigmoid_()
            h = out
        ctx.act = act
        ctx.save_for_backward(h0, w_hh, hs)
        return hs

    @staticmethod
    def backward(ctx, grad_hs):
        h0, w_hh, hs = ctx.saved_tensors
        act = ctx.act
        # The activation's derivative at every step, from its output.
        if act == "tanh":
            slope = torch.addcmul(torch.ones((), dtype=hs.dtype, device=hs.device), hs, hs, value=-1)
        elif act == "relu":
            slope = (hs > 0).to(hs.dtype)
        else:
            slope = torch.addcmul(hs, hs, hs, value=-1)
        dz = torch.empty_like(hs)
        g = grad_hs
        last = hs.shape[0] - 1
        torch.mul(g[last], slope[last], out=dz[last])
        for t in range(last - 1, -1, -1):
            torch.baddbmm(g[t], dz[t + 1], w_hh, out=dz[t]).mul_(slope[t])
        g_w = _accumulate_w(dz, hs, h0, w_hh.shape)
        g_h0 = torch.bmm(dz[0], w_hh) if h0 is not None and ctx.needs_input_grad[1] else None
        return dz, g_h0, g_w, None


def _lstm_forward(pre, h0, c0, w_hh, keep: bool):
    """The LSTM's time loop: (all h, then what the backward needs: the activated gates i, f, g, o,
    every c and tanh(c)). keep=False (no gradient wanted) keeps one step of those, not the window."""
    steps, k, b, four_h = pre.shape
    hidden = four_h // 4
    kept = steps if keep else 1
    gates = pre.new_empty(kept, k, b, four_h)  # activated i, f, g, o
    cs = pre.new_empty(steps if keep else 2, k, b, hidden)
    tcs = pre.new_empty(kept, k, b, hidden)  # tanh(c_t)
    hs = pre.new_empty(steps, k, b, hidden)
    w_t = w_hh.transpose(1, 2)
    h, c = h0, c0
    g_block = slice(2 * hidden, 3 * hidden)
    for t in range(steps):
        s = t if keep else 0
        a = gates[s]
        if h is None:
            a.copy_(pre[t])
        else:
            torch.baddbmm(pre[t], h, w_t, out=a)
        a[..., g_block].mul_(2)  # all four gates through one sigmoid: g = 2 sigmoid(2 a_g) - 1
        a.sigmoid_()
        a[..., g_block].mul_(2).sub_(1)
        i, f, g, o = a.split(hidden, dim=-1)
        c_t = torch.mul(i, g, out=cs[t if keep else t % 2])
        if c is not None:
            c_t.addcmul_(f, c)
        _tanh_(tcs[s].copy_(c_t))
        h = torch.mul(o, tcs[s], out=hs[t])
        c = c_t
    if not keep:
        cs = c.unsqueeze(0)
    return hs, gates, cs, tcs


def _gru_forward(pre, h0, w_hh, b_hh, keep: bool):
    """The GRU's time loop: (all h, then what the backward needs: every step's h W_hh^T + b_hh,
    r and z, and n). keep=False (no gradient wanted) keeps one step of those."""
    steps, k, b, three_h = pre.shape
    hidden = three_h // 3
    kept = steps if keep else 1
    gh = pre.new_empty(kept, k, b, three_h)
    rz = pre.new_empty(kept, k, b, 2 * hidden)
    ns = pre.new_empty(kept, k, b, hidden)
    hs = pre.new_empty(steps, k, b, hidden)
    w_t = w_hh.transpose(1, 2)
    bias = b_hh.unsqueeze(1)  # (K, 1, 3H)
    h = h0
    for t in range(steps):
        s = t if keep else 0
        if h is None:
            gh[s].copy_(bias.expand(k, b, three_h))
        else:
            torch.baddbmm(bias, h, w_t, out=gh[s])
        torch.add(pre[t][..., : 2 * hidden], gh[s][..., : 2 * hidden], out=rz[s]).sigmoid_()
        r, z = rz[s].split(hidden, dim=-1)
        n = torch.addcmul(pre[t][..., 2 * hidden :], r, gh[s][..., 2 * hidden :], out=ns[s])
        _tanh_(n)
        out = hs[t]
        if h is None:
            torch.mul(n, z, out=out).neg_().add_(n)  # h_prev = 0: (1 - z) n
        else:
            torch.sub(h, n, out=out).mul_(z).add_(n)
        h = out
    return hs, gh, rz, ns


def _wants_grad(*tensors) -> bool:
    return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


class _LSTM(Function):
    """torch's LSTM: i, f, o = sigmoid, g = tanh of the gates; c_t = f c + i g; h_t = o tanh(c_t).
    Returns (all h (L, K, B, H), the last c (K, B, H))."""

    @staticmethod
    def forward(ctx, pre, h0, c0, w_hh):
        hs, gates, cs, tcs = _lstm_forward(pre, h0, c0, w_hh, keep=True)
        ctx.save_for_backward(h0, c0, w_hh, gates, cs, tcs, hs)
        return hs, cs[-1]

    @staticmethod
    def backward(ctx, grad_hs, grad_c):
        h0, c0, w_hh, gates, cs, tcs, hs = ctx.saved_tensors
        steps, hidden = gates.shape[0], gates.shape[-1] // 4
        # Derivatives of the activations, from their outputs: s - s^2 for the sigmoid gates, 1 - g^2 for g.
        slope = torch.addcmul(gates, gates, gates, value=-1)
        g_act = gates[..., 2 * hidden : 3 * hidden]
        slope[..., 2 * hidden : 3 * hidden] = torch.addcmul(torch.ones((), dtype=gates.dtype, device=gates.device), g_act, g_act, value=-1)
        tc_slope = torch.addcmul(torch.ones((), dtype=tcs.dtype, device=tcs.device), tcs, tcs, value=-1)
        da = torch.empty_like(gates)  # gradient of every step's pre-activations (= of `pre`)
        dc = grad_c.clone() if grad_c is not None else torch.zeros_like(cs[0])
        dh = grad_hs[steps - 1]
        for t in range(steps - 1, -1, -1):
            if t < steps - 1:
                dh = torch.baddbmm(grad_hs[t], da[t + 1], w_hh)
            i, f, g, o = gates[t].split(hidden, dim=-1)
            di, df, dg, do = da[t].split(hidden, dim=-1)
            dc.addcmul_(dh * o, tc_slope[t])
            c_prev = cs[t - 1] if t > 0 else c0
            torch.mul(dc, g, out=di)
            if c_prev is not None:
                torch.mul(dc, c_prev, out=df)
            else:
                df.zero_()
            torch.mul(dc, i, out=dg)
            torch.mul(dh, tcs[t], out=do)
            da[t].mul_(slope[t])
            dc.mul_(f)
        g_w = _accumulate_w(da, hs, h0, w_hh.shape)
        g_h0 = torch.bmm(da[0], w_hh) if h0 is not None and ctx.needs_input_grad[1] else None
        g_c0 = dc if c0 is not None and ctx.needs_input_grad[2] else None
        return da, g_h0, g_c0, g_w


class _GRU(Function):
    """torch's GRU: r, z = sigmoid(pre_rz + h W_hrz^T + b_hrz), n = tanh(pre_n + r (h W_hn^T + b_hn)),
    h_t = (1 - z) n + z h. `pre` holds the input part with b_ih only (b_hh sits inside r's product)."""

    @staticmethod
    def forward(ctx, pre, h0, w_hh, b_hh):
        hs, gh, rz, ns = _gru_forward(pre, h0, w_hh, b_hh, keep=True)
        ctx.save_for_backward(h0, w_hh, gh, rz, ns, hs)
        return hs

    @staticmethod
    def backward(ctx, grad_hs):
        h0, w_hh, gh, rz, ns, hs = ctx.saved_tensors
        steps, hidden = ns.shape[0], ns.shape[-1]
        rz_slope = torch.addcmul(rz, rz, rz, value=-1)
        n_slope = torch.addcmul(torch.ones((), dtype=ns.dtype, device=ns.device), ns, ns, value=-1)
        d_in = torch.empty_like(gh)  # gradient of `pre`: r, z, n pre-activations
        d_gh = torch.empty_like(gh)  # gradient of h W_hh^T + b_hh: r, z, and r's product
        zero = torch.zeros_like(ns[0])
        dh, dh_direct = grad_hs[steps - 1], zero  # dh_direct: the gradient reaching h_{t-1} through z h
        for t in range(steps - 1, -1, -1):
            if t < steps - 1:
                dh = torch.baddbmm(grad_hs[t], d_gh[t + 1], w_hh).add_(dh_direct)
            r, z = rz[t].split(hidden, dim=-1)
            n = ns[t]
            h_prev = hs[t - 1] if t > 0 else (h0 if h0 is not None else zero)
            dr_in, dz_in, dn_in = d_in[t].split(hidden, dim=-1)
            dr_h, dz_h, dn_h = d_gh[t].split(hidden, dim=-1)
            # n's pre-activation: dh (1 - z) (1 - n^2)
            torch.mul(dh, 1 - z, out=dn_in).mul_(n_slope[t])
            torch.mul(dn_in, r, out=dn_h)  # through r * (h W_hn^T + b_hn)
            torch.mul(dn_in, gh[t][..., 2 * hidden :], out=dr_in).mul_(rz_slope[t][..., :hidden])
            torch.sub(h_prev, n, out=dz_in).mul_(dh).mul_(rz_slope[t][..., hidden:])
            dr_h.copy_(dr_in)
            dz_h.copy_(dz_in)
            dh_direct = dh * z
        g_w = _accumulate_w(d_gh, hs, h0, w_hh.shape)
        g_b = d_gh.sum(dim=(0, 2))
        g_h0 = None
        if h0 is not None and ctx.needs_input_grad[1]:
            g_h0 = torch.baddbmm(dh_direct, d_gh[0], w_hh)
        return d_in, g_h0, g_w, g_b


class _NarrowProjection(Function):
    """x W^T + b for inputs of a few components (a system's state), straight into the time-major
    layout: as broadcast multiply-adds forward (a batched product with an inner dimension of 1 to 3
    runs at a fraction of the machine's speed: 0.87 ms against 0.06 for the sine ensemble's
    16 x 640 x 64 projection on one core), and one small product a step backward."""

    @staticmethod
    def forward(ctx, x, w, b):
        cols = w.transpose(1, 2).unsqueeze(2)  # (K, I, 1, G): row i holds input i's weights
        out = torch.addcmul(b.unsqueeze(1), x[..., 0:1], cols[:, 0])
        for i in range(1, x.shape[-1]):
            out.addcmul_(x[..., i : i + 1], cols[:, i])
        ctx.save_for_backward(x, w)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        grad = grad.contiguous()
        ones = torch.ones((*x.shape[:-1], 1), dtype=x.dtype, device=x.device)
        x1 = torch.cat([x, ones], dim=-1)  # (L, K, B, I + 1): the last column gives the bias gradient
        acc = x.new_zeros(w.shape[0], w.shape[1], x.shape[-1] + 1)
        for t in range(grad.shape[0]):
            acc.baddbmm_(grad[t].transpose(1, 2), x1[t])
        g_x = torch.matmul(grad, w) if ctx.needs_input_grad[0] else None
        return g_x, acc[..., :-1], acc[..., -1]


def narrow_projection(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """x (L, K, B, I) with few inputs (any strides), w (K, G, I), b (K, G) -> x W^T + b, (L, K, B, G)."""
    return _NarrowProjection.apply(x, w, b)


def elman(pre: torch.Tensor, h0: torch.Tensor | None, w_hh: torch.Tensor, act: str) -> torch.Tensor:
    """All hidden states (L, K, B, H) of an Elman layer; act: tanh, relu or sigmoid."""
    return _Elman.apply(pre, h0, w_hh, act)


def lstm(pre: torch.Tensor, h0: torch.Tensor | None, c0: torch.Tensor | None, w_hh: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(all hidden states (L, K, B, H), the last cell state (K, B, H)) of an LSTM layer."""
    if not _wants_grad(pre, h0, c0, w_hh):  # a forecast or a validation pass: no window of buffers
        hs, _, cs, _ = _lstm_forward(pre, h0, c0, w_hh, keep=False)
        return hs, cs[-1]
    return _LSTM.apply(pre, h0, c0, w_hh)


def gru(pre: torch.Tensor, h0: torch.Tensor | None, w_hh: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
    """All hidden states (L, K, B, H) of a GRU layer (`pre` with b_ih only)."""
    if not _wants_grad(pre, h0, w_hh, b_hh):
        return _gru_forward(pre, h0, w_hh, b_hh, keep=False)[0]
    return _GRU.apply(pre, h0, w_hh, b_hh)
