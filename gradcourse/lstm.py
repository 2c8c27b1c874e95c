"""A long short-term memory network (LSTM) with hand-written backpropagation through time.

For steps t = 1..T, with gates stacked in the order input, forget, candidate, output::

    z_t = W_x x_t + W_h h_{t-1} + b      (4 n_h pre-activations)
    i_t = sigma(z_i),  f_t = sigma(z_f),  g_t = tanh(z_g),  o_t = sigma(z_o)
    c_t = f_t * c_{t-1} + i_t * g_t      cell state
    h_t = o_t * tanh(c_t)                hidden state
    y_t = W_hy h_t + b_y

Along the cell state, one step back multiplies by dc_t/dc_{t-1} = diag(f_t) when the
gates are held fixed: no weight matrix and no squashing derivative, so where f_t = 1 the
error passes unchanged. Hochreiter and Schmidhuber (1997) built the cell with this
constant error carousel and no forget gate (f_t = 1 always); Gers, Schmidhuber and
Cummins (2000) added the forget gate.

Parameters live in a dict with keys ``W_x`` (4 n_h, n_x), ``W_h`` (4 n_h, n_h), ``b`` (4 n_h,),
``W_hy`` (n_y, n_h), ``b_y`` (n_y,). Arrays are time-major and may carry leading model
axes, as in :mod:`gradcourse.rnn`.

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

from . import _checks, _params, losses
from ._params import swap
from .rnn import Sizes

__all__ = ["PARAM_NAMES", "GATES", "init_params", "check_params", "Forward", "forward", "backward",
           "loss_and_grads", "signal_map"]

PARAM_NAMES = ("W_x", "W_h", "b", "W_hy", "b_y")

#: The gates in the order they are stacked in ``z``, ``b`` and :attr:`Forward.gates`.
GATES = ("input i", "forget f", "candidate g", "output o")

_CORE_NDIM = {"W_x": 2, "W_h": 2, "b": 1, "W_hy": 2, "b_y": 1}


def init_params(n_x, n_h, n_y, *, rng, forget_bias=1.0):
    """Gaussian weights scaled by fan-in, zero biases except the forget gate's.

    A forget-gate bias of 1 (Gers et al., 2000; Jozefowicz et al., 2015) starts f_t near
    sigma(1) = 0.73 rather than 0.5, so the cell remembers over more steps from the start.

    Examples
    --------
    >>> p = init_params(1, 3, 1, rng=np.random.default_rng(0),
    ...                 forget_bias=2.0)
    >>> p["b"].reshape(4, 3)[1]      # the forget gate's block
    array([2., 2., 2.])
    """
    n_x, n_h, n_y = (_checks.positive_int(k, v) for k, v in (("n_x", n_x), ("n_h", n_h), ("n_y", n_y)))
    rng = _checks.generator("rng", rng)
    if isinstance(forget_bias, bool) or not isinstance(forget_bias, (int, float, np.number)) \
            or not np.isfinite(forget_bias):
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
    """Validate a parameter dict and return its :class:`gradcourse.rnn.Sizes`.

    Examples
    --------
    >>> check_params(init_params(2, 3, 1, rng=np.random.default_rng(0)))
    Sizes(n_x=2, n_h=3, n_y=1, model_shape=())
    """
    p, M = _params.check(params, _CORE_NDIM, list(PARAM_NAMES))
    n_h = p["W_h"].shape[-1]
    n_x, n_y = _params.recurrent_sizes(p, M, n_h, 4, "W_x", "W_h", "b")
    return Sizes(n_x, n_h, n_y, M)


class Forward(NamedTuple):
    """What the forward pass records (time-major; steps 1..T at index 0..T-1)."""

    x: np.ndarray  #: inputs, (T, B, n_x) or (M..., T, B, n_x)
    h0: np.ndarray  #: initial hidden state, (M..., B, n_h)
    c0: np.ndarray  #: initial cell state, (M..., B, n_h)
    gates: np.ndarray  #: i, f, g, o for every step, (4, M..., T, B, n_h)
    c: np.ndarray  #: cell states c_1..c_T, (M..., T, B, n_h)
    tanh_c: np.ndarray  #: tanh(c_t), kept for the backward pass
    h: np.ndarray  #: hidden states h_1..h_T, (M..., T, B, n_h)
    y: np.ndarray  #: outputs y_1..y_T, (M..., T, B, n_y)
    params_id: tuple  #: fingerprint of the parameters that made this record


#: sigma(z) = 1 / (1 + exp(-z)) for i, f, o and tanh(z) = 2 / (1 + exp(-2 z)) - 1 for g: one pass
#: of exp over the pre-activations times _RATE (per block of n_h). The forward pass folds _RATE
#: into the weights, which is exact: it only flips signs and doubles.
_RATE = np.array([-1.0, -1.0, -2.0, -1.0])


def _gates_from_exp(e, n_h):
    """i, f, g, o side by side, (..., 4 n_h), from e = exp(_RATE * z); overwrites ``e``.

    np.exp is the forward pass's main cost and about twice as fast as np.tanh. The values
    agree with :func:`gradcourse.activations.sigmoid` and np.tanh to about 3e-16 in
    absolute terms; where exp overflows (z below -709) a gate is its limit 0 (or -1 for g).
    """
    e += 1.0
    np.reciprocal(e, out=e)
    g = e[..., 2 * n_h : 3 * n_h]
    g *= 2.0
    g -= 1.0
    return e


def forward(params, x, *, h0=None, c0=None, check_finite=True):
    """Run the LSTM over a batch of sequences ``x`` of shape (T, B, n_x).

    The initial states ``h0`` and ``c0``, of shape (B, n_h) or (M..., B, n_h), are zero
    unless given. ``check_finite`` as in :func:`gradcourse.rnn.forward`.

    Examples
    --------
    >>> p = init_params(1, 2, 1, rng=np.random.default_rng(0))
    >>> out = forward(p, np.ones((4, 3, 1)))
    >>> out.gates.shape, out.c.shape, out.y.shape
    ((4, 4, 3, 2), (4, 3, 2), (4, 3, 1))
    """
    sizes = check_params(params)
    M, n_h = sizes.model_shape, sizes.n_h
    x = _params.sequence("x", x, M, sizes.n_x)
    T, B = x.shape[-3:-1]
    h_prev, c_prev = h0, c0 = _params.initial_state("h0", h0, M, B, n_h), _params.initial_state("c0", c0, M, B, n_h)
    gates = np.empty(M + (T, B, 4 * n_h))  # i, f, g, o side by side; viewed gate-major below
    c, tanh_c, h = (np.empty(M + (T, B, n_h)) for _ in range(3))
    rate = np.repeat(_RATE, n_h)  # folded into the weights: rate * z for every step, no extra pass
    W_h_T = swap(params["W_h"] * rate[:, None])
    with np.errstate(over="ignore", invalid="ignore"):
        z_in = _params.times(x, swap(params["W_x"] * rate[:, None])) + (params["b"] * rate)[..., None, None, :]
        for t in range(T):
            e = np.exp(z_in[..., t, :, :] + h_prev @ W_h_T)
            gates_t = gates[..., t, :, :] = _gates_from_exp(e, n_h)
            i, f, g, o = (gates_t[..., k * n_h : (k + 1) * n_h] for k in range(4))
            c[..., t, :, :] = c_prev = f * c_prev + i * g
            tanh_c[..., t, :, :] = np.tanh(c_prev)
            h[..., t, :, :] = h_prev = o * tanh_c[..., t, :, :]
        y = _params.times(h, swap(params["W_hy"])) + params["b_y"][..., None, None, :]
    if check_finite:
        _params.first_nonfinite_step("the output y_t", y)
    gates = np.moveaxis(gates.reshape(M + (T, B, 4, n_h)), -2, 0)  # (4, M..., T, B, n_h), a view
    return Forward(x, h0, c0, gates, c, tanh_c, h, y, _params.fingerprint(params))


def _step_back(W_h, gates_t, c_prev, tanh_c, dh, dc):
    """One step of BPTT: from (dL/dh_t, dL/dc_t through later steps) to dz_t and the signals
    for step t - 1. Works for any leading shape, so it serves a whole lag of the map at once."""
    i, f, g, o = gates_t
    dc = dc + dh * o * (1.0 - tanh_c**2)
    # dL/dz for the four blocks side by side, (..., 4 n_h) in the layout of z
    dz = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g**2), dh * tanh_c * o * (1 - o)], axis=-1)
    return dz, dz @ W_h, dc * f


def backward(params, fwd, dy, *, check_finite=True):
    """BPTT for the LSTM: dL/d(param) for every parameter, given dL/dy_t for every step.

    Walks back carrying dL/dh and dL/dc. The cell's own path contributes dc * f_t to the
    step before: the constant error carousel where f_t = 1.

    Examples
    --------
    >>> p = init_params(1, 3, 1, rng=np.random.default_rng(0))
    >>> out = forward(p, np.ones((4, 2, 1)))
    >>> backward(p, out, np.ones((4, 2, 1)))["b"].shape
    (12,)
    """
    check_params(params)
    _params.check_record(params, fwd, Forward, "lstm")
    dy = _params.core("dy", _checks.as_array("dy", dy, finite=check_finite), (), fwd.y.shape)
    c_prev = _params.previous_states(fwd.c0, fwd.c)
    W_h = params["W_h"]
    with np.errstate(over="ignore", invalid="ignore"):
        dh_out = _params.times(dy, params["W_hy"])
        # What does not depend on the signal is computed for all steps at once, so that each
        # step of the loop takes a few products (the formulas are those of _step_back):
        # dL/dc_t = dc_next + dh_t * o_t (1 - tanh^2 c_t), and dL/dz_t is dL/dc_t times
        # (g i (1 - i), c_{t-1} f (1 - f), i (1 - g^2)) for i, f, g, and dh_t tanh(c_t) o (1 - o) for o.
        i, f, g, o = fwd.gates
        to_cell = o * (1.0 - fwd.tanh_c**2)
        from_cell = np.stack([g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g**2)], axis=-2)  # (M..., T, B, 3, n_h)
        o_factor = fwd.tanh_c * o * (1 - o)
        dz = np.empty(fwd.c.shape[:-1] + (4, fwd.c.shape[-1]))  # blocks i, f, g, o
        dh_next = dc_next = 0.0
        for t in reversed(range(dz.shape[-4])):
            step = (Ellipsis, t, slice(None), slice(None))
            dh = dh_out[step] + dh_next
            dc = dc_next + dh * to_cell[step]
            dz_t = dz[(Ellipsis, t, slice(None), slice(None), slice(None))]
            np.multiply(dc[..., None, :], from_cell[(Ellipsis, t, slice(None), slice(None), slice(None))], out=dz_t[..., :3, :])
            np.multiply(dh, o_factor[step], out=dz_t[..., 3, :])
            dh_next = dz_t.reshape(dz_t.shape[:-2] + (-1,)) @ W_h
            dc_next = dc * f[step]
        dz = dz.reshape(dz.shape[:-2] + (-1,))  # (M..., T, B, 4 n_h), the layout of z
        grads = {
            "W_x": _params.sum_outer(dz, fwd.x),
            "W_h": _params.sum_outer(dz, _params.previous_states(fwd.h0, fwd.h)),
            "b": dz.sum(axis=(-3, -2)),
            "W_hy": _params.sum_outer(dy, fwd.h),
            "b_y": dy.sum(axis=(-3, -2)),
        }
    if check_finite:
        _params.first_nonfinite_step("the backward signal dL/dz_t", dz)
    return grads


def loss_and_grads(params, x, y_target, *, h0=None, c0=None, loss_at="every_step", check_finite=True):
    """Squared-error loss (as in :func:`gradcourse.rnn.loss_and_grads`) and its gradients.

    Examples
    --------
    >>> p = init_params(1, 2, 1, rng=np.random.default_rng(0))
    >>> x, y_target = np.zeros((3, 1, 1)), np.ones((1, 1))
    >>> loss, grads = loss_and_grads(p, x, y_target, loss_at="last_step")
    >>> loss      # zero output: half of (0 - 1)^2
    0.5
    """
    loss_fn = losses.sequence_loss(loss_at)
    fwd = forward(params, x, h0=h0, c0=c0, check_finite=check_finite)
    loss, dy = loss_fn(fwd.y, y_target, model_ndim=fwd.y.ndim - 3, check_finite=check_finite)
    return loss, backward(params, fwd, dy, check_finite=check_finite)


def signal_map(params, fwd, dy):
    """Norms ||dL_t/dh_k|| and ||dL_t/dc_k|| for all k <= t, as two (T, T) arrays (one model).

    dL_t/dh_k holds c_k fixed (h_k reaches later steps through the gates); dL_t/dc_k is
    total, including the path through h_k = o_k tanh(c_k).

    As :func:`gradcourse.jacobians.contribution_map` does for the vanilla RNN, the signals
    of all loss steps t at one lag d = t - k are moved back one step together, so the
    loop runs over lags only. Row t, column k, 0-based; zero for k > t.

    Examples
    --------
    >>> p = init_params(1, 3, 1, rng=np.random.default_rng(0))
    >>> out = forward(p, np.ones((5, 2, 1)))
    >>> H, C = signal_map(p, out, np.ones((5, 2, 1)))
    >>> H.shape, bool(np.all(np.triu(H, 1) == 0))
    ((5, 5), True)
    """
    sizes = check_params(params)
    if sizes.model_shape:
        raise ValueError(f"signal_map takes the parameters of one model, got model axes {sizes.model_shape}")
    _params.check_record(params, fwd, Forward, "lstm")
    dy = _params.core("dy", _checks.as_array("dy", dy, finite=True), (), fwd.y.shape)
    T = len(dy)
    c_prev = _params.previous_states(fwd.c0, fwd.c)
    dh = dy @ params["W_hy"]  # lag 0: dL_t/dh_t, and nothing yet through c
    dc = np.zeros_like(dh)
    H, C = np.zeros((T, T)), np.zeros((T, T))
    for d in range(T):
        k = np.arange(T - d)
        H[k + d, k] = np.sqrt(np.einsum("kbi,kbi->k", dh, dh))
        # dc holds dL_t/dc_k through the steps after k; the full dL_t/dc_k adds the path via h_k.
        o_k, tanh_c_k = fwd.gates[3, : T - d], fwd.tanh_c[: T - d]
        dc_full = dc + dh * o_k * (1.0 - tanh_c_k**2)
        C[k + d, k] = np.sqrt(np.einsum("kbi,kbi->k", dc_full, dc_full))
        if d + 1 < T:
            # move every row from its step k back to k - 1: rows k = 1..T-d-1
            rows = slice(1, T - d)
            _, dh, dc = _step_back(params["W_h"], fwd.gates[:, rows], c_prev[rows], fwd.tanh_c[rows], dh[1:], dc[1:])
    return H, C
