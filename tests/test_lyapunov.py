"""Benettin's two-trajectory estimate (rnn_tui/systems/lyapunov.py) on linear flows, whose largest
Lyapunov exponent is the largest real part of an eigenvalue."""

import numpy as np
import pytest

from rnn_tui.systems.lyapunov import largest_exponent, rk4


def _linear(blocks, seed=0):
    """x' = A x with A = Q B Qᵀ: B block-diagonal from `blocks`, Q a random rotation."""
    b = np.zeros((sum(len(k) for k in blocks),) * 2)
    i = 0
    for k in blocks:
        k = np.atleast_2d(k)
        b[i : i + len(k), i : i + len(k)] = k
        i += len(k)
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal(b.shape))
    return q @ b @ q.T


@pytest.mark.parametrize(
    "blocks, exponent",
    [
        ([[0.5], [-1.0], [-2.0]], 0.5),  # a real leading eigenvalue
        ([[[0.3, -2.0], [2.0, 0.3]], [-1.0]], 0.3),  # a rotating pair: the separation never settles on one direction
        ([[-0.2], [-1.5]], -0.2),  # a stable flow: a negative exponent
    ],
)
def test_linear_flows_give_their_leading_real_part(blocks, exponent):
    a = _linear(blocks)
    advance = rk4(lambda x: x @ a.T, 0.01, 10)  # RK4's error in e^{0.5h} is ~1e-12 per step
    starts = np.random.default_rng(1).standard_normal((4, a.shape[0]))
    est = largest_exponent(advance, starts, 0.1, count=100, discard=50)
    # 5 time units of alignment leave e^{-1.3·5} of the second direction; rounding in the small
    # separation beside a growing state adds ~1e-5 (measured)
    np.testing.assert_allclose(est, exponent, rtol=0, atol=1e-4)


def test_nothing_is_counted_during_the_alignment():
    a = _linear([[0.5], [-1.0]])
    advance = rk4(lambda x: x @ a.T, 0.01, 10)
    starts = np.ones((1, 2))
    short = largest_exponent(advance, starts, 0.1, count=10, discard=100)
    assert abs(short[0] - 0.5) < 1e-4  # aligned long before the 10 counted intervals (5.5 if they were counted)


def test_the_adaptive_ode_advance_gives_a_linear_flow_its_exponent():
    """x' = diag(0.5, -5) x: DOP853's advance (lyapunov.ode, used for the dysts flows) grows every
    separation by e^{0.5 t} once it has turned to the unstable axis (kept short: the states themselves
    grow, and a separation of 1e-8 of them is lost to rounding once they are large)."""
    from rnn_tui.systems.lyapunov import largest_exponent, ode

    rates = np.array([0.5, -5.0])
    advance = ode(lambda x: x * rates, 0.5)
    np.testing.assert_allclose(advance(np.array([[1.0, 1.0]])), [[np.exp(0.25), np.exp(-2.5)]], rtol=1e-9)
    each = largest_exponent(advance, np.array([[1.0, 2.0], [-3.0, 0.5]]), 0.5, 10, discard=4)
    np.testing.assert_allclose(each, 0.5, rtol=1e-6)
