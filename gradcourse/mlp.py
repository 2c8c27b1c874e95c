"""A deep feedforward network with hand-written backpropagation.

Layer l = 1..L computes, for a batch of row vectors::

    a_l = h_{l-1} W_l^T + b_l,    h_l = f(a_l)   (l < L),    y = a_L   (linear output)

with h_0 = X. Parameters live in a dict with keys ``W1, b1, ..., WL, bL``; ``W_l`` has
shape (n_l, n_{l-1}). The loss is the squared error averaged over the batch,
L = 1/(2B) sum_b ||y_b - y*_b||^2. The backward pass mirrors the forward pass line
by line: dL/da_l = (dL/da_{l+1} W_{l+1}) * f'(a_l).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> params = init_params([3, 8, 8, 1], rng=rng, scheme="he")
>>> X, Y = rng.normal(size=(16, 3)), rng.normal(size=(16, 1))
>>> loss, grads = loss_and_grads(params, X, Y, activation="relu")
>>> sorted(grads) == sorted(params), grads["W2"].shape
(True, (8, 8))
"""

from typing import NamedTuple

import numpy as np

from . import _checks, activations, losses

__all__ = [
    "SCHEMES",
    "init_params",
    "forward",
    "Forward",
    "loss_and_grads",
    "backward",
    "layer_grad_norms",
    "dead_fraction",
    "train",
    "History",
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
    >>> p = init_params([2, 5, 1], rng=np.random.default_rng(0), scheme="normal", std=0.1)
    >>> {k: v.shape for k, v in p.items()}
    {'W1': (5, 2), 'b1': (5,), 'W2': (1, 5), 'b2': (1,)}
    """
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


def n_layers(params):
    """Number of layers L of a parameter dict, after checking that its shapes chain."""
    if not isinstance(params, dict) or not params:
        raise ValueError("params must be a non-empty dict with keys W1, b1, ..., WL, bL")
    L = len(params) // 2
    if set(params) != {f"{p}{l}" for l in range(1, L + 1) for p in "Wb"}:
        raise ValueError(f"params must have keys W1, b1, ..., WL, bL, got {sorted(params)}")
    n_prev = None
    for l in range(1, L + 1):
        W = _checks.as_array(f"params['W{l}']", params[f"W{l}"], shape=(None, n_prev))
        _checks.as_array(f"params['b{l}']", params[f"b{l}"], shape=(W.shape[0],))
        n_prev = W.shape[0]
    return L


class Forward(NamedTuple):
    """What the forward pass records for backpropagation."""

    h: list  #: h_0 = X, h_1, ..., h_{L-1}: the inputs of each layer, (B, n_l)
    a: list  #: a_1, ..., a_L: pre-activations, a_L = y is the output
    residual: bool  #: whether hidden layers of equal width add their input


def forward(params, X, *, activation="tanh", residual=False, **activation_kwargs):
    """Run the network on a batch ``X`` of shape (B, n_0).

    With ``residual=True``, every hidden layer whose input and output widths match adds
    its input: h_l = h_{l-1} + f(a_l) (a skip connection, used in chapter 7).

    Returns
    -------
    Forward
        ``h`` (the input of every layer) and ``a`` (every pre-activation); the output is
        ``a[-1]``.

    Examples
    --------
    >>> p = init_params([2, 4, 1], rng=np.random.default_rng(0))
    >>> out = forward(p, np.ones((3, 2)))
    >>> out.a[-1].shape
    (3, 1)
    """
    L = n_layers(params)
    f, _ = activations.get(activation, **activation_kwargs)
    X = _checks.as_array("X", X, shape=(None, params["W1"].shape[1]))
    h, a = [X], []
    with np.errstate(over="ignore", invalid="ignore"):  # detected below
        for l in range(1, L + 1):
            a.append(h[-1] @ params[f"W{l}"].T + params[f"b{l}"])
            if l < L:
                h_next = f(a[-1])
                if residual and h_next.shape == h[-1].shape:
                    h_next = h[-1] + h_next
                h.append(h_next)
    for l, a_l in enumerate(a, start=1):
        if not np.all(np.isfinite(a_l)):
            raise _checks.NonFiniteError(f"the pre-activation of layer {l} overflowed to inf or NaN")
    return Forward(h=h, a=a, residual=residual)


def _is_residual(fwd, m):
    """Whether hidden layer m added its input: h_m = h_{m-1} + f(a_m)."""
    return fwd.residual and fwd.h[m].shape == fwd.h[m - 1].shape


def backward(params, fwd, dy, *, activation="tanh", **activation_kwargs):
    """Backpropagation: dL/d(param) for every parameter, given dL/dy.

    Mirrors :func:`forward` from the output down. With g_m = dL/dh_m::

        g_{L-1} = dy W_L
        da_m    = g_m * f'(a_m)
        dW_m    = da_m^T h_{m-1},   db_m = sum over the batch of da_m
        g_{m-1} = da_m W_m  (+ g_m for a residual layer, whose skip passes g_m unchanged)

    Examples
    --------
    >>> p = init_params([2, 3, 1], rng=np.random.default_rng(0))
    >>> out = forward(p, np.ones((4, 2)))
    >>> backward(p, out, np.ones((4, 1)))["W1"].shape
    (3, 2)
    """
    L = n_layers(params)
    _, f_prime = activations.get(activation, **activation_kwargs)
    dy = _checks.as_array("dy", dy, shape=fwd.a[-1].shape)
    grads = {f"W{L}": dy.T @ fwd.h[L - 1], f"b{L}": dy.sum(axis=0)}
    g = dy @ params[f"W{L}"]  # dL/dh_{L-1}
    for m in range(L - 1, 0, -1):
        da = g * f_prime(fwd.a[m - 1])
        grads[f"W{m}"] = da.T @ fwd.h[m - 1]
        grads[f"b{m}"] = da.sum(axis=0)
        if m > 1:
            g = da @ params[f"W{m}"] + (g if _is_residual(fwd, m) else 0.0)
    return {k: grads[k] for k in params}


def loss_and_grads(params, X, Y, *, activation="tanh", residual=False, **activation_kwargs):
    """Squared-error loss 1/(2B) sum_b ||y_b - Y_b||^2 and its gradients.

    Examples
    --------
    >>> p = init_params([1, 1], rng=np.random.default_rng(0), scheme="normal", std=1.0)
    >>> p["W1"][:] = 2.0
    >>> loss, grads = loss_and_grads(p, np.ones((1, 1)), np.zeros((1, 1)))
    >>> loss, grads["W1"]
    (2.0, array([[2.]]))
    """
    fwd = forward(params, X, activation=activation, residual=residual, **activation_kwargs)
    loss, dy = losses.mse(fwd.a[-1], Y)
    return loss, backward(params, fwd, dy, activation=activation, **activation_kwargs)


def layer_grad_norms(grads):
    """Frobenius norms ||dL/dW_l|| for l = 1..L, as an array (index 0 is layer 1).

    Examples
    --------
    >>> layer_grad_norms({"W1": np.ones((2, 2)), "b1": np.zeros(2), "W2": np.zeros((1, 2)), "b2": np.zeros(1)})
    array([2., 0.])
    """
    L = n_layers(grads)
    return np.array([np.linalg.norm(grads[f"W{l}"]) for l in range(1, L + 1)])


def dead_fraction(params, X, *, activation="relu", **activation_kwargs):
    """Fraction of hidden units whose output is 0 on every input row of ``X``, per layer.

    A dead ReLU unit outputs 0, and so has slope 0, on all the data: no gradient reaches
    its incoming weights, so it cannot recover by itself (only a change in its inputs, from
    the layers below, can bring it back).

    Returns
    -------
    numpy.ndarray, shape (L - 1,)

    Examples
    --------
    >>> p = init_params([1, 2, 1], rng=np.random.default_rng(0))
    >>> p["b1"][:] = [-100.0, 100.0]     # the first unit is off on any input near 0
    >>> dead_fraction(p, np.zeros((5, 1)))
    array([0.5])
    """
    fwd = forward(params, X, activation=activation, **activation_kwargs)
    return np.array([np.mean(np.all(h == 0, axis=0)) for h in fwd.h[1:]])


class History(NamedTuple):
    """The outcome of :func:`train`."""

    params: dict  #: the parameters after the last step
    losses: np.ndarray  #: the loss before each step taken
    stopped: str  #: why training stopped early ("" if it ran all its steps)


def train(params, X, Y, *, lr, steps, activation="tanh", residual=False, **activation_kwargs):
    """Full-batch gradient descent for ``steps`` steps.

    The input ``params`` is not modified. If the loss or a pre-activation stops being
    finite, training stops there and says so in ``stopped``, keeping the losses so far.

    Returns
    -------
    History

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(32, 2)); Y = X @ np.array([[1.0], [-2.0]])
    >>> result = train(init_params([2, 1], rng=rng), X, Y, lr=0.1, steps=200)
    >>> bool(result.losses[-1] < 1e-6 * result.losses[0]), result.stopped
    (True, '')
    """
    lr = _checks.positive_float("lr", lr)
    steps = _checks.positive_int("steps", steps)
    params = {k: np.array(v, dtype=float) for k, v in params.items()}
    history = []
    for step in range(steps):
        try:
            loss, grads = loss_and_grads(params, X, Y, activation=activation, residual=residual, **activation_kwargs)
        except _checks.NonFiniteError as err:
            return History(params, np.array(history), f"stopped at step {step}: {err}")
        history.append(loss)
        for k in params:
            params[k] -= lr * grads[k]
    return History(params, np.array(history), "")
