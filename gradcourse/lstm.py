"""A long short-term memory network (LSTM) with hand-written backpropagation through time.

For steps t = 1..T, with gates stacked in the order input, forget, candidate, output::

    z_t = W_x x_t + W_h h_{t-1} + b                        (4 n_h pre-activations)
    i_t = sigma(z_i),  f_t = sigma(z_f),  g_t = tanh(z_g),  o_t = sigma(z_o)
    c_t = f_t * c_{t-1} + i_t * g_t                        cell state
    h_t = o_t * tanh(c_t)                                  hidden state
    y_t = W_hy h_t + b_y

The cell state is the LSTM's answer to vanishing gradients: along it, one step back
multiplies by dc_t/dc_{t-1} = diag(f_t), with no weight matrix and no squashing
derivative, so a forget gate near 1 carries the signal unchanged: the constant error
carousel of Hochreiter and Schmidhuber (1997).

Parameters live in a dict with keys ``W_x`` (4 n_h, n_x), ``W_h`` (4 n_h, n_h), ``b`` (4 n_h,),
``W_hy`` (n_y, n_h), ``b_y`` (n_y,). Arrays are time-major, as in :mod:`gradcourse.rnn`.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> params = init_params(2, 5, 1, rng=rng)
>>> x, y_target = rng.normal(size=(7, 3, 2)), rng.normal(size=(7, 3, 1))
>>> loss, grads = loss_and_grads(params, x, y_target)
>>> grads["W_h"].shape
(20, 5)
"""

from typing import NamedTuple

import numpy as np

from . import _checks, losses
from .activations import tanh

__all__ = ["PARAM_NAMES", "init_params", "forward", "Forward", "backward", "loss_and_grads", "signal_map"]

PARAM_NAMES = ("W_x", "W_h", "b", "W_hy", "b_y")


def init_params(n_x, n_h, n_y, *, rng, forget_bias=1.0):
    """Gaussian weights scaled by fan-in, zero biases except the forget gate's.

    A forget-gate bias of 1 (Gers et al., 2000; Jozefowicz et al., 2015) starts f_t near
    sigma(1) = 0.73 rather than 0.5, so the cell remembers over more steps from the start.

    Examples
    --------
    >>> p = init_params(1, 3, 1, rng=np.random.default_rng(0), forget_bias=2.0)
    >>> p["b"].reshape(4, 3)[1]      # the forget gate's block
    array([2., 2., 2.])
    """
    n_x, n_h, n_y = (_checks.positive_int(k, v) for k, v in (("n_x", n_x), ("n_h", n_h), ("n_y", n_y)))
    rng = _checks.generator("rng", rng)
    if not np.isscalar(forget_bias) or not np.isfinite(forget_bias):
        raise ValueError(f"forget_bias must be a finite number, got {forget_bias!r}")
    b = np.zeros(4 * n_h)
    b[n_h : 2 * n_h] = forget_bias
    return {
        "W_x": rng.normal(size=(4 * n_h, n_x)) / np.sqrt(n_x),
        "W_h": rng.normal(size=(4 * n_h, n_h)) / np.sqrt(n_h),
        "b": b,
        "W_hy": rng.normal(size=(n_y, n_h)) / np.sqrt(n_h),
        "b_y": np.zeros(n_y),
    }


def check_params(params):
    """Validate a parameter dict and return ``(n_x, n_h, n_y)``."""
    if not isinstance(params, dict) or set(params) != set(PARAM_NAMES):
        got = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"params must be a dict with keys {list(PARAM_NAMES)}, got {got}")
    W_h = _checks.as_array("params['W_h']", params["W_h"], ndim=2)
    n_h = W_h.shape[1]
    _checks.as_array("params['W_h']", W_h, shape=(4 * n_h, n_h))
    n_x = _checks.as_array("params['W_x']", params["W_x"], shape=(4 * n_h, None)).shape[1]
    n_y = _checks.as_array("params['W_hy']", params["W_hy"], shape=(None, n_h)).shape[0]
    _checks.as_array("params['b']", params["b"], shape=(4 * n_h,))
    _checks.as_array("params['b_y']", params["b_y"], shape=(n_y,))
    return n_x, n_h, n_y


class Forward(NamedTuple):
    """What the forward pass records (all time-major)."""

    gates: np.ndarray  #: i, f, g, o for every step, (T, 4, B, n_h)
    c: np.ndarray  #: cell states c_0..c_T, (T + 1, B, n_h)
    h: np.ndarray  #: hidden states h_0..h_T, (T + 1, B, n_h)
    y: np.ndarray  #: outputs y_1..y_T, (T, B, n_y)


def forward(params, x, *, h0=None, c0=None):
    """Run the LSTM over a batch of sequences ``x`` of shape (T, B, n_x).

    The initial states ``h0`` and ``c0``, of shape (B, n_h), are zero unless given.

    Examples
    --------
    >>> p = init_params(1, 2, 1, rng=np.random.default_rng(0))
    >>> out = forward(p, np.ones((4, 3, 1)))
    >>> out.gates.shape, out.c.shape, out.y.shape
    ((4, 4, 3, 2), (5, 3, 2), (4, 3, 1))
    """
    n_x, n_h, _ = check_params(params)
    x = _checks.as_array("x", x, shape=(None, None, n_x))
    T, B, _ = x.shape
    if T == 0 or B == 0:
        raise ValueError(f"x must have at least one step and one sequence, got shape {x.shape}")
    z_in = x @ params["W_x"].T + params["b"]  # the input part of every z_t at once
    gates = np.empty((T, 4, B, n_h))
    c = np.zeros((T + 1, B, n_h))
    h = np.zeros((T + 1, B, n_h))
    if h0 is not None:
        h[0] = _checks.as_array("h0", h0, shape=(B, n_h))
    if c0 is not None:
        c[0] = _checks.as_array("c0", c0, shape=(B, n_h))
    W_h_T = params["W_h"].T
    for t in range(T):
        z = (z_in[t] + h[t] @ W_h_T).reshape(B, 4, n_h)  # gate-major blocks
        # i, f, o are sigmoids, sigma(z) = (1 + tanh(z / 2)) / 2 (one fast, overflow-free call);
        # the candidate g is a tanh
        gates[t] = (0.5 + 0.5 * np.tanh(0.5 * z)).transpose(1, 0, 2)
        gates[t, 2] = np.tanh(z[:, 2])
        i, f, g, o = gates[t]
        c[t + 1] = f * c[t] + i * g
        h[t + 1] = o * tanh(c[t + 1])
    return Forward(gates=gates, c=c, h=h, y=h[1:] @ params["W_hy"].T + params["b_y"])


def _step_back(params, gates_t, c_prev, c_t, dh, dc):
    """One step of BPTT: from (dL/dh_t, dL/dc_t through later steps) to dz_t and the signals
    for step t - 1. Works for any leading shape, so it serves a whole lag of the map at once."""
    i, f, g, o = gates_t
    tanh_c = tanh(c_t)
    dc = dc + dh * o * (1.0 - tanh_c**2)
    # dL/dz for the four blocks side by side, (..., 4 n_h) in the layout of z
    dz = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g**2), dh * tanh_c * o * (1 - o)], axis=-1)
    return dz, dz @ params["W_h"], dc * f


def backward(params, x, fwd, dy):
    """BPTT for the LSTM: dL/d(param) for every parameter, given dL/dy_t for every step.

    Walks back carrying dL/dh and dL/dc. The cell's own path contributes dc * f_t to the
    step before: the constant error carousel when f_t is near 1.

    Examples
    --------
    >>> p = init_params(1, 3, 1, rng=np.random.default_rng(0))
    >>> x = np.ones((4, 2, 1))
    >>> out = forward(p, x)
    >>> backward(p, x, out, np.ones((4, 2, 1)))["b"].shape
    (12,)
    """
    check_params(params)
    x = _checks.as_array("x", x, shape=(*fwd.y.shape[:2], params["W_x"].shape[1]))
    dy = _checks.as_array("dy", dy, shape=fwd.y.shape)
    T, B, _ = x.shape
    n_h = params["W_h"].shape[1]
    dh_out = dy @ params["W_hy"]
    dz = np.empty((T, B, 4 * n_h))
    dh_next = np.zeros((B, n_h))
    dc_next = np.zeros((B, n_h))
    for t in reversed(range(T)):
        dz[t], dh_next, dc_next = _step_back(params, fwd.gates[t], fwd.c[t], fwd.c[t + 1], dh_out[t] + dh_next, dc_next)
    flat = lambda a: a.reshape(-1, a.shape[-1])  # (T, B, m) -> (T B, m)
    return {
        "W_x": flat(dz).T @ flat(x),
        "W_h": flat(dz).T @ flat(fwd.h[:-1]),
        "b": dz.sum(axis=(0, 1)),
        "W_hy": flat(dy).T @ flat(fwd.h[1:]),
        "b_y": dy.sum(axis=(0, 1)),
    }


def loss_and_grads(params, x, y_target):
    """Squared-error loss summed over time (as :func:`gradcourse.rnn.mse`) and its gradients."""
    fwd = forward(params, x)
    loss, dy = losses.mse(fwd.y, y_target)
    return loss, backward(params, x, fwd, dy)


def signal_map(params, x, fwd, dy):
    """Norms ||dL_t/dh_k|| and ||dL_t/dc_k|| for all k <= t, as two (T, T) arrays.

    dL_t/dh_k holds c_k fixed (h_k reaches later steps through the gates); dL_t/dc_k is
    total, including the path through h_k = o_k tanh(c_k).

    As :func:`gradcourse.jacobians.contribution_map` does for the vanilla RNN, the signals
    of all loss steps t at one lag d = t - k are moved back one step together, so the
    loop runs over lags only. Row t, column k, 0-based; zero for k > t.
    """
    check_params(params)
    dy = _checks.as_array("dy", dy, shape=fwd.y.shape)
    T = len(dy)
    dh = dy @ params["W_hy"]  # lag 0: dL_t/dh_t, and nothing yet through c
    dc = np.zeros_like(dh)
    H, C = np.zeros((T, T)), np.zeros((T, T))
    for d in range(T):
        k = np.arange(T - d)
        H[k + d, k] = np.sqrt(np.einsum("kbi,kbi->k", dh, dh))
        # dc holds dL_t/dc_k through the steps after k; the full dL_t/dc_k adds the path via h_k.
        o_k, c_k = fwd.gates[: T - d, 3], fwd.c[1 : T - d + 1]
        dc_full = dc + dh * o_k * (1.0 - tanh(c_k) ** 2)
        C[k + d, k] = np.sqrt(np.einsum("kbi,kbi->k", dc_full, dc_full))
        if d + 1 < T:
            # move every row from its step k back to k - 1: rows k = 1..T-d-1
            gates = np.moveaxis(fwd.gates[1 : T - d], 1, 0)  # (4, rows, B, n_h)
            _, dh, dc = _step_back(params, gates, fwd.c[1 : T - d], fwd.c[2 : T - d + 1], dh[1:], dc[1:])
    return H, C
