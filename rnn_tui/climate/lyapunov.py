"""The Lyapunov spectrum of any map that advances a batch of states, by Benettin's method with QR
re-orthonormalisation (Benettin et al. 1980; Sprott, "Chaos and Time-Series Analysis", 2003).

The state is a pytree of tensors (a tensor, or tuples and lists of them, each with a leading batch
dimension): for a trained model it is the prediction *and* the hidden state, so the tangent vectors
are carried through the network, memory included. Each step advances the state and pushes k
tangent vectors through the map's Jacobian by forward-mode differentiation (torch.func.jvp: the
batch of k copies of one state carries the k directions at once); every `every` steps the tangent
vectors are re-orthonormalised by a QR factorisation and the logs of |diag R| are summed. The sums
over the time run, divided by it, are the k leading exponents. torch is imported lazily.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

Step = Callable[[Any], Any]  # a pytree of (B, ...) tensors -> the same pytree one step later


@dataclass(frozen=True)
class Spectrum:
    """The k leading exponents, per time unit, largest first, and their standard errors (from the
    spread of the exponents over `blocks` equal parts of the run)."""

    exponents: tuple[float, ...]
    errors: tuple[float, ...]
    steps: int  # map steps averaged over (after the transient)
    dt: float  # time units per map step
    state_size: int  # dimension of the tangent space (prediction and hidden state together)
    method: str = "jvp"  # how the tangent vectors were pushed: "jvp" or "finite differences"

    @property
    def kaplan_yorke(self) -> float | None:
        return kaplan_yorke(self.exponents)


def kaplan_yorke(exponents) -> float | None:
    """The Kaplan–Yorke (Lyapunov) dimension j + (λ1 + … + λj) / |λ(j+1)|, j the largest index with a
    non-negative partial sum; None when the spectrum given is too short to reach a negative sum
    (the dimension would be at least its length) or is not finite."""
    lam = np.sort(np.asarray(exponents, dtype=float))[::-1]
    if lam.size == 0 or not np.all(np.isfinite(lam)):
        return None
    sums = np.cumsum(lam)
    if sums[0] < 0:
        return 0.0
    nonneg = np.nonzero(sums >= 0)[0]
    j = int(nonneg[-1]) + 1  # exponents summed
    if j >= lam.size:
        return None
    return float(j + sums[j - 1] / abs(lam[j]))


def flatten(tree) -> tuple[list, Callable[[list], Any]]:
    """(the tensors of a state pytree, a function that rebuilds the tree from such a list); tuples and
    lists (and their subclasses) nest, None is kept as it is."""
    import torch

    if isinstance(tree, torch.Tensor):
        return [tree], lambda leaves: leaves[0]
    if tree is None:
        return [], lambda leaves: None
    if isinstance(tree, (tuple, list)):
        parts = [flatten(t) for t in tree]
        sizes = [len(p[0]) for p in parts]
        kind = type(tree)

        def build(leaves):
            out, i = [], 0
            for (_, rebuild), n in zip(parts, sizes):
                out.append(rebuild(leaves[i : i + n]))
                i += n
            return kind(*out) if hasattr(tree, "_fields") else kind(out)

        return [x for p in parts for x in p[0]], build
    raise TypeError(f"a state must be tensors, tuples or lists of them, got {type(tree).__name__}")


def _tile(leaves: list, k: int) -> list:
    """Each (B, ...) leaf -> (B*k, ...): every state repeated k times, state by state."""
    return [x.repeat_interleave(k, dim=0) for x in leaves]


def _pack(leaves: list, b: int, k: int):
    """(B*k, ...) tangent leaves -> (B, n, k): each state's k tangent vectors as columns."""
    import torch

    flat = torch.cat([x.reshape(b, k, -1) for x in leaves], dim=2)  # (B, k, n)
    return flat.transpose(1, 2)


def _unpack(q, like: list) -> list:
    """(B, n, k) columns -> tangent leaves shaped as the (B*k, ...) primal leaves `like`."""
    b, n, k = q.shape
    rows = q.transpose(1, 2).reshape(b * k, n)
    out, i = [], 0
    for x in like:
        m = x[0].numel()
        out.append(rows[:, i : i + m].reshape(x.shape).to(x.dtype))
        i += m
    return out


def _jvp_push(f, x: list, q, b: int, k: int):
    """Advance the B states x one step and push their (B, n, k) tangent vectors through the step's
    Jacobian by forward-mode differentiation (torch.func.jvp; k copies of each state carry its k
    directions in one batched call)."""
    from torch.func import jvp

    tiled = _tile(x, k)
    out, tan = jvp(f, tuple(tiled), tuple(_unpack(q, tiled)))
    return [y[::k] for y in out], _pack(list(tan), b, k)


FD_EPS = 1e-6  # central differences on states of order one (the models' normalised units), in float64


def _fd_push(f, x: list, q, b: int, k: int):
    """As _jvp_push by central differences (f(x + εv) − f(x − εv)) / 2ε, for maps whose operations
    forward-mode differentiation does not cover (sparse reservoirs, out= kernels); one batched call
    on the B states and their 2k displaced copies. Error O(ε²) from curvature, O(1e-16/ε) from rounding."""
    import torch

    tiled = _tile(x, k)
    size = max([1.0] + [float(v.abs().max()) for v in x])  # the step relative to the state's size
    eps = FD_EPS * size
    step = [eps * v for v in _unpack(q, tiled)]
    rows = [torch.cat([a, t + s, t - s]) for a, t, s in zip(x, tiled, step)]
    out = f(*rows)
    nxt = [y[:b] for y in out]
    diff = [(y[b : b + b * k] - y[b + b * k :]) / (2 * eps) for y in out]
    return nxt, _pack(diff, b, k)


def tangent_method(f, x: list, q, b: int, k: int) -> str:
    """The faster of "jvp" and "finite differences" on this map (timed over a few steps; both push
    the same tangents to ~1e-9), or "finite differences" where forward-mode differentiation does not
    run through it (sparse reservoirs, out= kernels)."""
    import time

    def timed(push) -> float:
        push(f, x, q, b, k)  # once to warm up
        t0 = time.perf_counter()
        for _ in range(3):
            push(f, x, q, b, k)
        return time.perf_counter() - t0

    try:
        jvp_s = timed(_jvp_push)
    except (RuntimeError, NotImplementedError):
        return "finite differences"
    return "jvp" if jvp_s <= timed(_fd_push) else "finite differences"


def spectrum(step: Step, state, k: int, steps: int, dt: float, every: int = 1, transient: int = 0, blocks: int = 10,
             seed: int = 0, tick: Callable[[int], None] | None = None, method: str = "auto") -> Spectrum:
    """The k leading Lyapunov exponents of `step` from each of the B states in `state` (a pytree of
    (B, ...) tensors), averaged over the B starts and `steps` map steps (rounded to whole multiples
    of `every` and `blocks`) after `transient` steps that only align the tangent vectors. `dt`: time
    units per step (the exponents are per time unit). `method`: "jvp", "finite differences" or
    "auto" (jvp where it runs through the map). `tick(done)` is called every renormalisation (a
    progress report; it may raise errors.Stopped). Raises FloatingPointError when the run or its
    tangents stop being finite (a blown-up model has no spectrum)."""
    import torch

    leaves, rebuild = flatten(state)
    b = leaves[0].shape[0]
    n = sum(x[0].numel() for x in leaves)
    if not 1 <= k <= n:
        raise ValueError(f"k = {k} exponents of a {n}-dimensional state")
    chunk = every * blocks
    steps = max(chunk, (steps // chunk) * chunk)
    transient = (transient // every) * every
    gen = torch.Generator().manual_seed(seed)
    q = torch.linalg.qr(torch.randn(b, n, k, generator=gen, dtype=torch.float64))[0].to(leaves[0].device)
    f = lambda *xs: flatten(step(rebuild(list(xs))))[0]  # noqa: E731 - leaves -> leaves
    with torch.no_grad():
        if method == "auto":
            method = tangent_method(f, leaves, q, b, k)
        push = _jvp_push if method == "jvp" else _fd_push
        sums = _run(push, f, leaves, q, b, k, transient + steps, transient, every, blocks, tick)
    per_block = steps // blocks
    rates = (sums.mean(dim=1) / (per_block * dt)).cpu().numpy()  # (blocks, k): each block's estimate
    mean = rates.mean(axis=0)
    err = rates.std(axis=0, ddof=1) / math.sqrt(blocks) if blocks > 1 else np.full(k, np.nan)
    order = np.argsort(-mean)
    return Spectrum(tuple(float(v) for v in mean[order]), tuple(float(v) for v in err[order]), steps, float(dt), n, method)


def _run(push, f, x: list, q, b: int, k: int, total: int, transient: int, every: int, blocks: int, tick):
    """The Benettin loop: (blocks, B, k) sums of log |diag R| over each block of the counted steps."""
    import torch

    sums = torch.zeros(blocks, b, k, dtype=torch.float64, device=q.device)
    per_block = (total - transient) // blocks
    for i in range(total):
        x, q = push(f, x, q, b, k)
        q = q.to(torch.float64)
        if (i + 1) % every:
            continue
        q, r = torch.linalg.qr(q)
        d = torch.diagonal(r, dim1=1, dim2=2)
        if not bool(torch.isfinite(d).all()) or not all(bool(torch.isfinite(v).all()) for v in x):
            raise FloatingPointError(f"the run or its tangent vectors are not finite after {i + 1} steps")
        q = q * torch.sign(d).unsqueeze(1)
        if i >= transient:
            sums[(i - transient) // per_block] += torch.log(d.abs())
        if tick is not None:
            tick(i + 1)
    return sums
