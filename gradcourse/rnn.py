"""A vanilla recurrent network, its loss, and backpropagation through time.

The course's notation, for steps t = 1..T (array index t - 1)::

    a_t = W_hh h_{t-1} + W_xh x_t + b_h     pre-activation
    h_t = f(a_t)                            hidden state
    y_t = W_hy h_t + b_y                    output
    L   = sum_t L_t                         loss, a sum over time

Arrays are time-major: inputs ``x`` have shape (T, B, n_x), states (T, B, n_h),
outputs (T, B, n_y), with B the batch size. Parameters live in a plain dict with
keys ``W_xh`` (n_h, n_x), ``W_hh`` (n_h, n_h), ``b_h`` (n_h,), ``W_hy`` (n_y, n_h),
``b_y`` (n_y,). Gradients use the same keys. A batch of vectors is stored as rows,
so ``W_hh h`` is written ``h @ W_hh.T`` in the code.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> params = init_params(n_x=2, n_h=4, n_y=1, rng=rng)
>>> x = rng.normal(size=(6, 3, 2))          # T=6 steps, batch of 3
>>> y_target = rng.normal(size=(6, 3, 1))
>>> loss, grads = loss_and_grads(params, x, y_target, activation="tanh")
>>> sorted(grads) == sorted(params)
True
>>> grads["W_hh"].shape
(4, 4)
"""

from typing import NamedTuple

import numpy as np

from . import _checks, activations, losses

__all__ = ["PARAM_NAMES", "RECURRENT_INITS", "init_params", "forward", "Forward", "mse", "backward", "loss_and_grads"]

#: The keys of a parameter (and gradient) dict, in a fixed order.
PARAM_NAMES = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


#: How :func:`init_params` can draw the recurrent matrix.
RECURRENT_INITS = ("gaussian", "orthogonal", "identity")


def init_params(n_x, n_h, n_y, *, rng, recurrent_scale=1.0, recurrent_init="gaussian"):
    """Random parameters: Gaussian weights scaled by fan-in, zero biases.

    ``W_hh`` is ``recurrent_scale`` times

    - ``"gaussian"``: a matrix with entries from N(0, 1 / n_h), whose spectral radius is
      close to 1 for large ``n_h`` (the circular law) and whose norm is close to 2;
    - ``"orthogonal"``: a random orthogonal matrix, all singular values exactly 1;
    - ``"identity"``: the identity, as Le, Jaitly and Hinton (2015) use with ReLU units.

    Parameters
    ----------
    n_x, n_h, n_y : int
        Input, hidden and output sizes.
    rng : numpy.random.Generator
        Source of randomness; seed it for reproducible parameters.
    recurrent_scale : float, default 1.0
        Scale g of the recurrent weights.
    recurrent_init : {"gaussian", "orthogonal", "identity"}, default "gaussian"

    Returns
    -------
    dict of numpy.ndarray
        Keys :data:`PARAM_NAMES`.

    Examples
    --------
    >>> p = init_params(3, 5, 2, rng=np.random.default_rng(1))
    >>> {k: v.shape for k, v in p.items()}
    {'W_xh': (5, 3), 'W_hh': (5, 5), 'b_h': (5,), 'W_hy': (2, 5), 'b_y': (2,)}
    """
    n_x, n_h, n_y = (_checks.positive_int(k, v) for k, v in (("n_x", n_x), ("n_h", n_h), ("n_y", n_y)))
    rng = _checks.generator("rng", rng)
    g = _checks.positive_float("recurrent_scale", recurrent_scale)
    if recurrent_init not in RECURRENT_INITS:
        raise ValueError(f"recurrent_init must be one of {RECURRENT_INITS}, got {recurrent_init!r}")
    W_xh = rng.normal(size=(n_h, n_x)) / np.sqrt(n_x)
    gaussian = rng.normal(size=(n_h, n_h)) / np.sqrt(n_h)
    if recurrent_init == "orthogonal":
        Q, R = np.linalg.qr(gaussian)
        W_hh = Q * np.sign(np.diag(R))  # sign fix: uniformly distributed over orthogonal matrices
    elif recurrent_init == "identity":
        W_hh = np.eye(n_h)
    else:
        W_hh = gaussian
    return {
        "W_xh": W_xh,
        "W_hh": g * W_hh,
        "b_h": np.zeros(n_h),
        "W_hy": rng.normal(size=(n_y, n_h)) / np.sqrt(n_h),
        "b_y": np.zeros(n_y),
    }


def check_params(params):
    """Validate a parameter dict and return its sizes ``(n_x, n_h, n_y)``.

    Raises ``ValueError`` for a missing key, a wrong shape or a non-finite entry.
    """
    if not isinstance(params, dict) or set(params) != set(PARAM_NAMES):
        got = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"params must be a dict with keys {list(PARAM_NAMES)}, got {got}")
    W_hh = _checks.as_array("params['W_hh']", params["W_hh"], ndim=2)
    n_h = W_hh.shape[0]
    _checks.as_array("params['W_hh']", W_hh, shape=(n_h, n_h))
    n_x = _checks.as_array("params['W_xh']", params["W_xh"], shape=(n_h, None)).shape[1]
    n_y = _checks.as_array("params['W_hy']", params["W_hy"], shape=(None, n_h)).shape[0]
    _checks.as_array("params['b_h']", params["b_h"], shape=(n_h,))
    _checks.as_array("params['b_y']", params["b_y"], shape=(n_y,))
    return n_x, n_h, n_y


class Forward(NamedTuple):
    """What the forward pass records for backpropagation (all time-major)."""

    h0: np.ndarray  #: initial state, (B, n_h)
    a: np.ndarray  #: pre-activations a_1..a_T, (T, B, n_h)
    h: np.ndarray  #: hidden states h_1..h_T, (T, B, n_h)
    y: np.ndarray  #: outputs y_1..y_T, (T, B, n_y)


def forward(params, x, *, h0=None, activation="tanh"):
    """Run the recurrence over a batch of sequences.

    Parameters
    ----------
    params : dict
        Parameters as made by :func:`init_params`.
    x : array_like, shape (T, B, n_x)
        Inputs, time-major.
    h0 : array_like, shape (B, n_h), optional
        Initial state; zeros if omitted.
    activation : str, default "tanh"
        Name of the nonlinearity f (see :data:`gradcourse.activations.NAMES`).

    Returns
    -------
    Forward
        ``h0``, pre-activations ``a``, states ``h`` and outputs ``y``.

    Raises
    ------
    ValueError
        For parameters or inputs of the wrong shape, or not finite.
    gradcourse.errors.NonFiniteError
        If a state or output overflows, naming the first step where it did.

    Examples
    --------
    >>> p = init_params(1, 2, 1, rng=np.random.default_rng(0))
    >>> out = forward(p, np.ones((5, 1, 1)))
    >>> out.a.shape, out.h.shape, out.y.shape
    ((5, 1, 2), (5, 1, 2), (5, 1, 1))
    """
    n_x, n_h, _ = check_params(params)
    f, _ = activations.get(activation)
    x = _checks.as_array("x", x, shape=(None, None, n_x))
    T, B, _ = x.shape
    if T == 0 or B == 0:
        raise ValueError(f"x must have at least one step and one sequence, got shape {x.shape}")
    h0 = np.zeros((B, n_h)) if h0 is None else _checks.as_array("h0", h0, shape=(B, n_h))
    W_hh = params["W_hh"]
    a_in = x @ params["W_xh"].T + params["b_h"]  # input part of a_t, all steps at once
    a = np.empty((T, B, n_h))
    h = np.empty((T, B, n_h))
    h_prev = h0
    with np.errstate(over="ignore", invalid="ignore"):  # detected below, with the step
        for t in range(T):
            a[t] = h_prev @ W_hh.T + a_in[t]
            h[t] = h_prev = f(a[t])
        y = h @ params["W_hy"].T + params["b_y"]
    _checks.first_nonfinite_step("the hidden state h_t", h)
    _checks.first_nonfinite_step("the output y_t", y)
    return Forward(h0=h0, a=a, h=h, y=y)


def mse(y, y_target):
    """Squared-error loss summed over time, and its gradient dL/dy.

    L = sum_t L_t with L_t = 1/(2B) sum_b ||y_t,b - y*_t,b||^2, so that the
    gradient is simply (y - y*) / B.

    Parameters
    ----------
    y, y_target : array_like, shape (T, B, n_y)
        Outputs and targets.

    Returns
    -------
    loss : float
    dy : numpy.ndarray, shape (T, B, n_y)
        dL/dy; its slice ``dy[t]`` is also dL_t/dy_t, since L_t depends on y_t only.

    Examples
    --------
    >>> loss, dy = mse(np.ones((2, 1, 1)), np.zeros((2, 1, 1)))
    >>> loss, dy.ravel()
    (1.0, array([1., 1.]))
    """
    y = _checks.as_array("y", y, ndim=3)
    return losses.mse(y, y_target)


def backward(params, x, fwd, dy, *, activation="tanh"):
    """Backpropagation through time: gradients of L for every parameter.

    Walks the steps backwards carrying dL/dh_t, which gathers the output's direct
    term at step t and what flows back from step t + 1 through
    dh_{t+1}/dh_t = diag(f'(a_{t+1})) W_hh. The weight gradients are then
    sums over time, done in one matrix product each.

    Parameters
    ----------
    params : dict
        The parameters used in the forward pass.
    x : array_like, shape (T, B, n_x)
        The inputs used in the forward pass.
    fwd : Forward
        What :func:`forward` returned.
    dy : array_like, shape (T, B, n_y)
        dL/dy_t for every step, e.g. from :func:`mse`.
    activation : str, default "tanh"
        The nonlinearity used in the forward pass.

    Returns
    -------
    dict of numpy.ndarray
        dL/d(param) for every key of ``params``, same shapes.

    Raises
    ------
    gradcourse.errors.NonFiniteError
        If the backward signal overflows, naming the step where it first did.

    Examples
    --------
    >>> p = init_params(1, 3, 1, rng=np.random.default_rng(0))
    >>> x = np.ones((4, 2, 1))
    >>> out = forward(p, x)
    >>> loss, dy = mse(out.y, np.zeros_like(out.y))
    >>> backward(p, x, out, dy)["b_y"].shape
    (1,)
    """
    _, f_prime = activations.get(activation)
    check_params(params)
    x = _checks.as_array("x", x, shape=(None, None, params["W_xh"].shape[1]))
    if x.shape[:2] != fwd.a.shape[:2]:
        raise ValueError(f"x has shape {x.shape} but the forward pass saw (T, B) = {fwd.a.shape[:2]}")
    dy = _checks.as_array("dy", dy, shape=fwd.y.shape)
    f_prime_a = f_prime(fwd.a)  # f'(a_t) for all t, (T, B, n_h)
    dh_out = dy @ params["W_hy"]  # direct part of dL/dh_t, (T, B, n_h)
    da = np.empty_like(fwd.a)  # dL/da_t
    dh_next = np.zeros_like(fwd.h0)  # what flows back from step t + 1
    with np.errstate(over="ignore", invalid="ignore"):  # detected below, with the step
        for t in reversed(range(len(da))):
            da[t] = (dh_out[t] + dh_next) * f_prime_a[t]
            dh_next = da[t] @ params["W_hh"]
    _checks.first_nonfinite_step("the backward signal dL/da_t", da)
    h_prev = np.concatenate([fwd.h0[None], fwd.h[:-1]])  # h_{t-1} for t = 1..T
    return {
        "W_xh": _sum_outer(da, x),
        "W_hh": _sum_outer(da, h_prev),
        "b_h": da.sum(axis=(0, 1)),
        "W_hy": _sum_outer(dy, fwd.h),
        "b_y": dy.sum(axis=(0, 1)),
    }


def _sum_outer(u, v):
    """sum over t and b of the outer products u[t, b] v[t, b]^T, as one matrix product."""
    return u.reshape(-1, u.shape[-1]).T @ v.reshape(-1, v.shape[-1])


def loss_and_grads(params, x, y_target, *, h0=None, activation="tanh"):
    """Forward pass, squared-error loss and BPTT in one call.

    Returns
    -------
    loss : float
    grads : dict of numpy.ndarray

    Examples
    --------
    >>> p = init_params(2, 3, 1, rng=np.random.default_rng(0))
    >>> x, y_target = np.zeros((3, 1, 2)), np.ones((3, 1, 1))
    >>> loss, grads = loss_and_grads(p, x, y_target)
    >>> loss   # with zero input and zero biases every output is 0
    1.5
    """
    fwd = forward(params, x, h0=h0, activation=activation)
    loss, dy = mse(fwd.y, y_target)
    return loss, backward(params, x, fwd, dy, activation=activation)
