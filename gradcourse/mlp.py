"""A deep feedforward network with hand-written backpropagation.

Layer l = 1..L computes, for a batch of row vectors::

    a_l = h_{l-1} W_l^T + b_l,    h_l = f(a_l)   (l < L)
    y = a_L   (linear output)

with h_0 = x. Parameters live in a dict with keys ``W1, b1, ..., WL, bL``; ``W_l`` has
shape (n_l, n_{l-1}). The loss is the squared error averaged over the batch,
L = 1/(2B) sum_b ||y_b - y*_b||^2. The backward pass mirrors the forward pass line
by line: dL/da_l = (dL/da_{l+1} W_{l+1}) * f'(a_l). Parameters may carry leading model
axes M, as in :mod:`gradcourse.rnn`; the inputs ``x`` are (B, n_0), shared, or (M..., B, n_0).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> params = init_params([3, 8, 8, 1], rng=rng, scheme="he")
>>> x, y_target = rng.normal(size=(16, 3)), rng.normal(size=(16, 1))
>>> loss, grads = loss_and_grads(params, x, y_target, activation="relu")
>>> sorted(grads) == sorted(params), grads["W2"].shape
(True, (8, 8))
"""

from typing import NamedTuple

import numpy as np

from . import _checks, _params, activations, losses
from ._params import swap

__all__ = [
    "SCHEMES",
    "init_params",
    "n_layers",
    "Forward",
    "forward",
    "backward",
    "loss_and_grads",
    "layer_grad_norms",
    "dead_fraction",
]

#: Initialization schemes: the standard deviation of W_l's entries from (fan_in, fan_out).
SCHEMES = {
    "glorot": lambda fan_in, fan_out: np.sqrt(2.0 / (fan_in + fan_out)),  # Glorot and Bengio (2010)
    "he": lambda fan_in, fan_out: np.sqrt(2.0 / fan_in),  # He et al. (2015), for ReLU
}


def init_params(sizes, *, rng, scheme="glorot", std=None):
    """Weights for layer sizes ``[n_0, n_1, ..., n_L]``, zero biases.

    Parameters
    ----------
    sizes : sequence of int
        Input size, hidden sizes, output size (at least two entries).
    rng : numpy.random.Generator
    scheme : {"glorot", "he", "normal"}, default "glorot"
        ``"normal"`` draws every weight from N(0, std^2), the same for all layers (the naive
        choice); the others scale by fan-in and fan-out (see :data:`SCHEMES`).
    std : float, optional
        Standard deviation for ``scheme="normal"`` (required there, not allowed otherwise).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = init_params([2, 5, 1], rng=rng, scheme="normal", std=0.1)
    >>> {k: v.shape for k, v in p.items()}
    {'W1': (5, 2), 'b1': (5,), 'W2': (1, 5), 'b2': (1,)}
    """
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise TypeError(f"sizes must be a sequence of positive integers, got {type(sizes).__name__}")
    sizes = [_checks.positive_int(f"sizes[{i}]", n) for i, n in enumerate(sizes)]
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output size, got {sizes}")
    rng = _checks.generator("rng", rng)
    if scheme == "normal":
        std = _checks.positive_float("std", std)
        stds = [std] * (len(sizes) - 1)
    elif scheme in SCHEMES:
        if std is not None:
            raise ValueError(f"std is only used with scheme='normal'; scheme {scheme!r} sets it from the layer sizes")
        stds = [SCHEMES[scheme](n_in, n_out) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    else:
        raise ValueError(f"scheme must be one of {['normal', *SCHEMES]}, got {scheme!r}")
    params = {}
    for l, (n_in, n_out, s) in enumerate(zip(sizes[:-1], sizes[1:], stds), start=1):
        params[f"W{l}"] = rng.normal(scale=s, size=(n_out, n_in))
        params[f"b{l}"] = np.zeros(n_out)
    return params


def _layers(params):
    """Number of layers L and the shared model shape, after checking that the shapes chain."""
    if not isinstance(params, dict) or not params:
        raise ValueError("params must be a non-empty dict with keys W1, b1, ..., WL, bL")
    L = len(params) // 2
    names = {f"{p}{l}": (2 if p == "W" else 1) for l in range(1, L + 1) for p in "Wb"}
    p, M = _params.check(params, names, "W1, b1, ..., WL, bL")
    n_prev = None
    for l in range(1, L + 1):
        W = _params.core(f"params['W{l}']", p[f"W{l}"], M, (None, n_prev))
        _params.core(f"params['b{l}']", p[f"b{l}"], M, (W.shape[-2],))
        n_prev = W.shape[-2]
    return L, M


def n_layers(params):
    """Number of layers L of a parameter dict, after checking that its shapes chain.

    Examples
    --------
    >>> n_layers(init_params([2, 3, 3, 1], rng=np.random.default_rng(0)))
    3
    """
    return _layers(params)[0]


class Forward(NamedTuple):
    """What the forward pass records: everything backpropagation needs.

    Layer l's arrays sit at list index l - 1, as time step t's do in the recurrent models.
    """

    x: np.ndarray  #: the input h_0, (B, n_0) or (M..., B, n_0)
    a: list  #: pre-activations a_1, ..., a_L, each (M..., B, n_l)
    h: list  #: hidden outputs h_1, ..., h_{L-1}
    y: np.ndarray  #: the output y = a_L
    activation: str  #: name of f
    activation_kwargs: dict  #: its parameters, e.g. {"alpha": 0.01}
    residual: bool  #: whether hidden layers of equal width add their input
    params_id: tuple  #: fingerprint of the parameters that made this record


def forward(params, x, *, activation="tanh", residual=False, check_finite=True, **activation_kwargs):
    """Run the network on a batch ``x`` of shape (B, n_0).

    With ``residual=True``, every hidden layer whose input and output widths match adds
    its input: h_l = h_{l-1} + f(a_l) (a skip connection, used in chapter 7).

    Returns
    -------
    Forward

    Examples
    --------
    >>> p = init_params([2, 4, 1], rng=np.random.default_rng(0))
    >>> out = forward(p, np.ones((3, 2)))
    >>> out.y.shape, len(out.a), len(out.h)
    ((3, 1), 2, 1)
    """
    L, M = _layers(params)
    f, _ = activations.get(activation, **activation_kwargs)
    if not isinstance(residual, (bool, np.bool_)):
        raise TypeError(f"residual must be True or False, got {residual!r}")
    x = _checks.as_array("x", x)
    _params.core("x", x, M if x.ndim > 2 else (), (None, params["W1"].shape[-1]))
    if x.shape[-2] == 0:
        raise ValueError(f"x must hold at least one example, got shape {x.shape}")
    h_prev, a, h = x, [], []
    with np.errstate(over="ignore", invalid="ignore"):  # detected below
        for l in range(1, L + 1):
            a.append(h_prev @ swap(params[f"W{l}"]) + params[f"b{l}"][..., None, :])
            if l < L:
                h_next = f(a[-1])
                if residual and h_next.shape[-1] == h_prev.shape[-1]:
                    h_next = h_prev + h_next
                h.append(h_next)
                h_prev = h_next
    if check_finite:
        for l, a_l in enumerate(a, start=1):
            if not np.all(np.isfinite(a_l)):
                raise _checks.NonFiniteError(f"the pre-activation of layer {l} overflowed to inf or NaN")
    return Forward(x, a, h, a[-1], activation, dict(activation_kwargs), bool(residual), _params.fingerprint(params))


def _inputs(fwd):
    """The input of every layer: h_0 = x, h_1, ..., h_{L-1}."""
    return [fwd.x, *fwd.h]


def backward(params, fwd, dy, *, check_finite=True):
    """Backpropagation: dL/d(param) for every parameter, given dL/dy.

    Mirrors :func:`forward` from the output down. With g_m = dL/dh_m::

        g_{L-1} = dy W_L
        da_m    = g_m * f'(a_m)
        dW_m    = da_m^T h_{m-1},   db_m = sum over the batch of da_m
        g_{m-1} = da_m W_m  (+ g_m for a residual layer,
                             whose skip passes g_m unchanged)

    Examples
    --------
    >>> p = init_params([2, 3, 1], rng=np.random.default_rng(0))
    >>> out = forward(p, np.ones((4, 2)))
    >>> backward(p, out, np.ones((4, 1)))["b2"]
    array([4.])
    """
    return _backward(params, fwd, dy, check_finite)[0]


def backward_signals(params, fwd, dy):
    """The backward signals dL/da_l of every layer l = 1..L, as a list (index l - 1).

    They are what a gradient dL/dW_l = (dL/da_l)^T h_{l-1} multiplies with the forward
    signal h_{l-1}, so they show vanishing and exploding apart from the size of h.

    Examples
    --------
    >>> p = init_params([2, 3, 1], rng=np.random.default_rng(0))
    >>> out = forward(p, np.ones((4, 2)))
    >>> [s.shape for s in backward_signals(p, out, np.ones((4, 1)))]
    [(4, 3), (4, 1)]
    """
    return _backward(params, fwd, dy, True)[1]


def _backward(params, fwd, dy, check_finite):
    L, _ = _layers(params)
    _params.check_record(params, fwd, Forward, "mlp")
    _, f_prime = activations.get(fwd.activation, **fwd.activation_kwargs)
    dy = _params.core("dy", _checks.as_array("dy", dy, finite=check_finite), (), fwd.y.shape)
    inputs = _inputs(fwd)
    grads, signals = {}, [dy]
    da, g = dy, None  # dL/da_m and dL/dh_m, from the top layer down
    with np.errstate(over="ignore", invalid="ignore"):
        for m in range(L, 0, -1):
            grads[f"W{m}"] = swap(da) @ inputs[m - 1]
            grads[f"b{m}"] = da.sum(axis=-2)
            if m > 1:
                skip = fwd.residual and m < L and inputs[m].shape[-1] == inputs[m - 1].shape[-1]
                # dL/dh_{m-1}: through layer m, plus g_m itself if layer m added its input
                g = da @ params[f"W{m}"] + (g if skip else 0.0)
                da = g * f_prime(fwd.a[m - 2])
                signals.insert(0, da)
    if check_finite:
        for key, value in grads.items():
            if not np.all(np.isfinite(value)):
                raise _checks.NonFiniteError(f"the gradient {key} overflowed to inf or NaN")
    return {k: grads[k] for k in params}, signals


def loss_and_grads(params, x, y_target, *, activation="tanh", residual=False, check_finite=True, **activation_kwargs):
    """Squared-error loss 1/(2B) sum_b ||y_b - y*_b||^2 and its gradients.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = init_params([1, 1], rng=rng, scheme="normal", std=1.0)
    >>> p["W1"][:] = 2.0
    >>> loss, grads = loss_and_grads(p, np.ones((1, 1)), np.zeros((1, 1)))
    >>> loss, grads["W1"]
    (2.0, array([[2.]]))
    """
    fwd = forward(params, x, activation=activation, residual=residual, check_finite=check_finite, **activation_kwargs)
    loss, dy = losses.mse(fwd.y, y_target, model_ndim=fwd.y.ndim - 2, check_finite=check_finite)
    return loss, backward(params, fwd, dy, check_finite=check_finite)


def layer_grad_norms(grads):
    """Frobenius norms ||dL/dW_l|| for l = 1..L, as an array (last axis: layer l at index l - 1).

    Examples
    --------
    >>> grads = {"W1": np.ones((2, 2)), "b1": np.zeros(2),
    ...          "W2": np.zeros((1, 2)), "b2": np.zeros(1)}
    >>> layer_grad_norms(grads)
    array([2., 0.])
    """
    L, _ = _layers(grads)
    return np.stack([np.linalg.norm(grads[f"W{l}"], axis=(-2, -1)) for l in range(1, L + 1)], axis=-1)


def dead_fraction(params, x, *, activation="relu", **activation_kwargs):
    """Fraction of hidden units whose output is 0 on every input row of ``x``, per layer.

    A dead ReLU unit outputs 0, and so has slope 0, on all the data: no gradient reaches
    its incoming weights, so it cannot recover by itself (only a change in its inputs, from
    the layers below, can bring it back).

    Returns
    -------
    numpy.ndarray, shape (M..., L - 1)

    Examples
    --------
    >>> p = init_params([1, 2, 1], rng=np.random.default_rng(0))
    >>> # the first unit is off on any input near 0
    >>> p["b1"][:] = [-100.0, 100.0]
    >>> dead_fraction(p, np.zeros((5, 1)))
    array([0.5])
    """
    fwd = forward(params, x, activation=activation, **activation_kwargs)
    if not fwd.h:
        raise ValueError("dead_fraction needs a network with at least one hidden layer")
    return np.stack([np.mean(np.all(h == 0, axis=-2), axis=-1) for h in fwd.h], axis=-1)
