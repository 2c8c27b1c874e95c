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

Every array may carry leading model axes M (see :mod:`gradcourse.stacking`): parameters
(M..., n_h, n_h) and so on, states and outputs (M..., T, B, n); inputs either (T, B, n_x),
shared by all models, or (M..., T, B, n_x).

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

from . import _checks, _params, activations, losses
from ._params import swap

__all__ = [
    "PARAM_NAMES",
    "RECURRENT_INITS",
    "LOSS_AT",
    "init_params",
    "check_params",
    "Forward",
    "forward",
    "backward",
    "loss_and_grads",
]

#: The keys of a parameter (and gradient) dict, in a fixed order.
PARAM_NAMES = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")

#: How :func:`init_params` can draw the recurrent matrix.
RECURRENT_INITS = ("gaussian", "orthogonal", "identity")

#: Where :func:`loss_and_grads` takes the loss: summed over every step, or at the last only.
LOSS_AT = losses.LOSS_AT

_CORE_NDIM = {"W_xh": 2, "W_hh": 2, "b_h": 1, "W_hy": 2, "b_y": 1}


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
        Keys :data:`PARAM_NAMES`. For several models at once, stack several of these
        with :func:`gradcourse.stacking.stack`.

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


class Sizes(NamedTuple):
    """The sizes a parameter dict implies."""

    n_x: int
    n_h: int
    n_y: int
    model_shape: tuple  #: leading model axes, () for one model


def check_params(params):
    """Validate a parameter dict and return its :class:`Sizes`.

    Raises ``ValueError`` for a missing key, a wrong shape, model axes that differ between
    parameters, or a non-finite entry.

    Examples
    --------
    >>> check_params(init_params(2, 3, 1, rng=np.random.default_rng(0)))
    Sizes(n_x=2, n_h=3, n_y=1, model_shape=())
    """
    p, M = _params.check(params, _CORE_NDIM, list(PARAM_NAMES))
    n_h = p["W_hh"].shape[-2]
    n_x, n_y = _params.recurrent_sizes(p, M, n_h, 1, "W_xh", "W_hh", "b_h")
    return Sizes(n_x, n_h, n_y, M)


class Forward(NamedTuple):
    """What the forward pass records: everything backpropagation needs (time-major)."""

    x: np.ndarray  #: inputs x_1..x_T, (T, B, n_x) or (M..., T, B, n_x)
    h0: np.ndarray  #: initial state h_0, (M..., B, n_h)
    a: np.ndarray  #: pre-activations a_1..a_T, (M..., T, B, n_h)
    h: np.ndarray  #: hidden states h_1..h_T, (M..., T, B, n_h)
    y: np.ndarray  #: outputs y_1..y_T, (M..., T, B, n_y)
    activation: str  #: name of f
    activation_kwargs: dict  #: its parameters, e.g. {"alpha": 0.01} for leaky ReLU
    params_id: tuple  #: fingerprint of the parameters that made this record


def forward(params, x, *, h0=None, activation="tanh", check_finite=True, **activation_kwargs):
    """Run the recurrence over a batch of sequences.

    Parameters
    ----------
    params : dict
        Parameters as made by :func:`init_params` (optionally with model axes).
    x : array_like, shape (T, B, n_x) or (M..., T, B, n_x)
        Inputs, time-major.
    h0 : array_like, shape (B, n_h) or (M..., B, n_h), optional
        Initial state; zeros if omitted.
    activation : str, default "tanh"
        Name of the nonlinearity f (see :data:`gradcourse.activations.NAMES`).
    check_finite : bool, default True
        Raise if a state or output overflows. The training loop turns this off and
        reports non-finite values per model itself.
    **activation_kwargs
        Parameters of f, such as ``alpha`` for ``"leaky_relu"``.

    Returns
    -------
    Forward

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
    sizes = check_params(params)
    f, _ = activations.get(activation, **activation_kwargs)
    M, n_h = sizes.model_shape, sizes.n_h
    x = _params.sequence("x", x, M, sizes.n_x)
    T, B = x.shape[-3:-1]
    h0 = _params.initial_state("h0", h0, M, B, n_h)
    W_hh_T = swap(params["W_hh"])
    with np.errstate(over="ignore", invalid="ignore"):  # detected below, with the step
        a_in = _params.times(x, swap(params["W_xh"])) + params["b_h"][..., None, None, :]
        a = np.empty(M + (T, B, n_h))
        h = np.empty_like(a)
        h_prev = h0
        for t in range(T):
            a[..., t, :, :] = h_prev @ W_hh_T + a_in[..., t, :, :]
            h[..., t, :, :] = h_prev = f(a[..., t, :, :])
        y = _params.times(h, swap(params["W_hy"])) + params["b_y"][..., None, None, :]
    if check_finite:
        _params.first_nonfinite_step("the hidden state h_t", h)
        _params.first_nonfinite_step("the output y_t", y)
    return Forward(x, h0, a, h, y, activation, dict(activation_kwargs), _params.fingerprint(params))


def backward(params, fwd, dy, *, check_finite=True):
    """Backpropagation through time: gradients of L for every parameter.

    Walks the steps backwards carrying dL/dh_t, which gathers the output's direct
    term at step t and what flows back from step t + 1 through
    dh_{t+1}/dh_t = diag(f'(a_{t+1})) W_hh. The weight gradients are then
    sums over time, done in one matrix product each. As autograd frameworks do, f'(a_t)
    is computed from h_t (for tanh, 1 - h_t^2): its error is about 1e-16 in absolute terms, so
    its relative error, about 1e-16 / f'(a), grows as the slope shrinks.

    Parameters
    ----------
    params : dict
        The parameters used in the forward pass.
    fwd : Forward
        What :func:`forward` returned for these parameters; it knows the inputs, the
        initial state and the activation.
    dy : array_like, shape of ``fwd.y``
        dL/dy_t for every step, e.g. from :func:`gradcourse.losses.mse`.
    check_finite : bool, default True
        Raise if the backward signal overflows.

    Returns
    -------
    dict of numpy.ndarray
        dL/d(param) for every key of ``params``, same shapes.

    Raises
    ------
    ValueError
        If ``fwd`` was computed with other parameters, or ``dy`` has the wrong shape.
    gradcourse.errors.NonFiniteError
        If the backward signal overflows, naming the step where it first did.

    Examples
    --------
    >>> p = init_params(1, 3, 1, rng=np.random.default_rng(0))
    >>> out = forward(p, np.ones((4, 2, 1)))
    >>> backward(p, out, np.ones((4, 2, 1)))["b_y"]
    array([8.])
    """
    check_params(params)
    _params.check_record(params, fwd, Forward, "rnn")
    dy = _params.core("dy", _checks.as_array("dy", dy, finite=check_finite), (), fwd.y.shape)
    W_hh = params["W_hh"]
    # overflow and invalid values are detected below, with their step
    with np.errstate(over="ignore", invalid="ignore"):
        # f'(a_t) for every step at once, from h_t (for tanh, 1 - h_t^2)
        f_prime = _params.f_prime_from_output(
            fwd.activation, fwd.activation_kwargs, fwd.h)
        dh_out = _params.times(dy, params["W_hy"])  # direct part of dL/dh_t
        da = np.empty_like(fwd.a)  # dL/da_t
        dh_next = 0.0  # what flows back from step t + 1
        for t in reversed(range(da.shape[-3])):
            step = (..., t, slice(None), slice(None))
            da[step] = (dh_out[step] + dh_next) * f_prime[step]
            dh_next = da[step] @ W_hh
        # sum_t dL/da_t h_{t-1}^T: h_0 for t = 1, then the recorded states
        later = (..., slice(1, None), slice(None), slice(None))  # t = 2..T
        h_before = fwd.h[..., :-1, :, :]  # h_1..h_{T-1}
        first = swap(da[..., 0, :, :]) @ fwd.h0  # t = 1, from h_0
        grads = {
            "W_xh": _params.sum_outer(da, fwd.x),
            "W_hh": _params.sum_outer(da[later], h_before) + first,
            "b_h": da.sum(axis=(-3, -2)),
            "W_hy": _params.sum_outer(dy, fwd.h),
            "b_y": dy.sum(axis=(-3, -2)),
        }
    if check_finite:
        _params.first_nonfinite_step("the backward signal dL/da_t", da)
    return grads


def loss_and_grads(params, x, y_target, *, h0=None, activation="tanh", loss_at="every_step", check_finite=True,
                   **activation_kwargs):
    """Forward pass, squared-error loss and BPTT in one call.

    Parameters
    ----------
    params, x, h0, activation, check_finite, **activation_kwargs
        As in :func:`forward`.
    y_target : array_like
        Targets: (T, B, n_y) for ``loss_at="every_step"``, (B, n_y) for ``"last_step"``
        (with model axes in front if the targets differ between models).
    loss_at : {"every_step", "last_step"}, default "every_step"
        The loss of :func:`gradcourse.losses.mse` summed over all steps, or
        :func:`gradcourse.losses.mse_last_step` for tasks answered at the end.

    Returns
    -------
    loss : float, or numpy.ndarray of shape M
    grads : dict of numpy.ndarray

    Examples
    --------
    >>> p = init_params(2, 3, 1, rng=np.random.default_rng(0))
    >>> x, y_target = np.zeros((3, 1, 2)), np.ones((3, 1, 1))
    >>> loss, grads = loss_and_grads(p, x, y_target)
    >>> loss   # with zero input and zero biases every output is 0
    1.5
    """
    loss_fn = losses.sequence_loss(loss_at)
    fwd = forward(params, x, h0=h0, activation=activation, check_finite=check_finite, **activation_kwargs)
    loss, dy = loss_fn(fwd.y, y_target, model_ndim=fwd.y.ndim - 3, check_finite=check_finite)
    return loss, backward(params, fwd, dy, check_finite=check_finite)
