"""Activation functions f and their derivatives f_prime.

Every function takes the pre-activation ``a`` (any shape) and works elementwise.
A derivative is named after its function with ``_prime`` and, like the function,
takes the pre-activation, so that backpropagation reads ``f_prime(a) * dh``.

Examples
--------
>>> import numpy as np
>>> f, f_prime = get("sigmoid")
>>> f(np.array([-1000.0, 0.0, 1000.0]))
array([0. , 0.5, 1. ])
>>> float(f_prime(np.array(0.0)))
0.25
"""

from functools import partial
from numbers import Real

import numpy as np

__all__ = [
    "sigmoid",
    "sigmoid_prime",
    "tanh",
    "tanh_prime",
    "relu",
    "relu_prime",
    "leaky_relu",
    "leaky_relu_prime",
    "get",
    "NAMES",
]


def sigmoid(a):
    """Logistic sigmoid 1 / (1 + exp(-a)), without overflow for any ``a``.

    ``exp`` is only ever taken of ``-|a|``, which lies in (0, 1], so nothing
    overflows and large ``|a|`` give exactly 0 or 1.

    Parameters
    ----------
    a : array_like
        Pre-activations, any shape.

    Returns
    -------
    numpy.ndarray
        sigma(a), same shape as ``a``, values in [0, 1].

    Examples
    --------
    >>> sigmoid(np.array([-1000.0, -1.0, 0.0, 1.0, 1000.0])).round(4)
    array([0.    , 0.2689, 0.5   , 0.7311, 1.    ])
    """
    a = np.asarray(a, dtype=float)
    e = np.exp(-np.abs(a))  # in (0, 1]: never overflows
    r = 1.0 / (1.0 + e)  # sigma(|a|)
    return np.where(a >= 0, r, e * r)  # sigma(-|a|) = e / (1 + e)


def sigmoid_prime(a):
    """Derivative of the sigmoid: sigma(a) (1 - sigma(a)), at most 1/4 (at a = 0).

    Computed as ``e / (1 + e)**2`` with ``e = exp(-abs(a))``, which equals sigma(a) (1 - sigma(a))
    but keeps full relative precision in the tails, where 1 - sigma(a) would round
    to 0 (from a = 37 on).

    Examples
    --------
    >>> sigmoid_prime(np.array([0.0, 10.0, 40.0]))
    array([2.50000000e-01, 4.53958077e-05, 4.24835426e-18])
    """
    e = np.exp(-np.abs(np.asarray(a, dtype=float)))
    return e / (1.0 + e) ** 2


def tanh(a):
    """Hyperbolic tangent, values in [-1, 1].

    Examples
    --------
    >>> tanh(np.array([0.0, 1000.0]))
    array([0., 1.])
    """
    return np.tanh(np.asarray(a, dtype=float))


def tanh_prime(a):
    """Derivative of tanh: 1 - tanh(a)^2 = sech^2(a), at most 1 (at a = 0).

    Computed as 4 sigma'(2a), the derivative of tanh(a) = 2 sigma(2a) - 1, which
    keeps full relative precision where 1 - tanh(a)^2 would round to 0.

    Examples
    --------
    >>> tanh_prime(np.array([0.0, 20.0, 1000.0]))
    array([1.0000000e+00, 1.6993417e-17, 0.0000000e+00])
    """
    return 4.0 * sigmoid_prime(2.0 * np.asarray(a, dtype=float))


def relu(a):
    """Rectified linear unit max(0, a).

    Examples
    --------
    >>> relu(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 3.])
    """
    return np.maximum(np.asarray(a, dtype=float), 0.0)


def relu_prime(a):
    """Derivative of ReLU: 1 where a > 0, else 0 (0 is the convention at the kink).

    Examples
    --------
    >>> relu_prime(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 1.])
    """
    return (np.asarray(a, dtype=float) > 0).astype(float)


def _check_alpha(alpha):
    if not (isinstance(alpha, Real) and np.isfinite(alpha) and 0 <= alpha < 1):
        raise ValueError(f"alpha must be a finite number in [0, 1), got {alpha!r}")


def leaky_relu(a, alpha=0.01):
    """Leaky ReLU max(alpha a, a): slope ``alpha`` instead of 0 for a < 0.

    Parameters
    ----------
    a : array_like
        Pre-activations.
    alpha : float, default 0.01
        Slope for negative inputs, in [0, 1).

    Examples
    --------
    >>> leaky_relu(np.array([-2.0, 3.0]), alpha=0.1)
    array([-0.2,  3. ])
    """
    _check_alpha(alpha)
    a = np.asarray(a, dtype=float)
    return np.where(a > 0, a, alpha * a)


def leaky_relu_prime(a, alpha=0.01):
    """Derivative of leaky ReLU: 1 where a > 0, else ``alpha``.

    Examples
    --------
    >>> leaky_relu_prime(np.array([-2.0, 3.0]), alpha=0.1)
    array([0.1, 1. ])
    """
    _check_alpha(alpha)
    return np.where(np.asarray(a, dtype=float) > 0, 1.0, alpha)


_TABLE = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (tanh, tanh_prime),
    "relu": (relu, relu_prime),
    "leaky_relu": (leaky_relu, leaky_relu_prime),
}

#: Names accepted by :func:`get` and by every ``activation=`` argument.
NAMES = tuple(_TABLE)


def get(name, **kwargs):
    """Look up an activation by name: returns the pair ``(f, f_prime)``.

    Parameters
    ----------
    name : str
        One of :data:`NAMES`.
    **kwargs
        Fixed keyword arguments, e.g. ``alpha`` for ``"leaky_relu"``.

    Raises
    ------
    ValueError
        If ``name`` is not a known activation.

    Examples
    --------
    >>> f, f_prime = get("leaky_relu", alpha=0.2)
    >>> f(np.array([-1.0])), f_prime(np.array([-1.0]))
    (array([-0.2]), array([0.2]))
    >>> get("softsign")
    Traceback (most recent call last):
    ...
    ValueError: activation must be one of 'sigmoid', 'tanh', 'relu', 'leaky_relu'; got 'softsign'
    """
    if name not in _TABLE:
        known = ", ".join(repr(n) for n in NAMES)
        raise ValueError(f"activation must be one of {known}; got {name!r}")
    f, f_prime = _TABLE[name]
    if kwargs:
        f, f_prime = partial(f, **kwargs), partial(f_prime, **kwargs)
    return f, f_prime
