"""Activation functions f and their derivatives f_prime.

Every function takes the pre-activation ``a`` (any shape) and works elementwise.
A derivative is named after its function with ``_prime`` and, like the function,
takes the pre-activation, so that backpropagation reads ``f_prime(a) * dh``.

``a`` may be any real array, of any size: +-inf give the limits, NaN stays NaN (it is
never made finite), and nothing overflows or warns, even under ``np.seterr(all="raise")``.
Complex, boolean, object and string input raises ``ValueError`` instead of being converted.

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

import numpy as np

from . import _checks

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


def _pre_activation(a):
    """``a`` as a float array: real numbers of any shape; NaN and +-inf pass through."""
    return _checks.as_array("a", a, finite=False)


def _exp_neg_abs(a, factor=1.0):
    """exp(-factor |a|), in (0, 1]; exactly 0 where it underflows, without a warning."""
    with np.errstate(under="ignore"):  # exp underflows to 0 for factor |a| > 745: exact enough
        return np.exp(-factor * np.minimum(np.abs(a), 1000.0))


def sigmoid(a):
    """Logistic sigmoid 1 / (1 + exp(-a)), without overflow for any ``a``.

    ``exp`` is only ever taken of ``-|a|``, which lies in (0, 1], so nothing
    overflows and large ``|a|`` give exactly 0 or 1, silently even under
    ``np.seterr(all="raise")``. NaN gives NaN.

    Parameters
    ----------
    a : array_like
        Pre-activations, real, any shape; +-inf give the limits 0 and 1.

    Returns
    -------
    numpy.ndarray
        sigma(a), same shape as ``a``, values in [0, 1].

    Examples
    --------
    >>> sigmoid(np.array([-1000.0, -1.0, 0.0, 1.0, 1000.0])).round(4)
    array([0.    , 0.2689, 0.5   , 0.7311, 1.    ])
    """
    a = _pre_activation(a)
    e = _exp_neg_abs(a)  # in [0, 1]: never overflows
    r = 1.0 / (1.0 + e)  # sigma(|a|)
    with np.errstate(under="ignore"):  # e * r below the smallest float64 rounds to 0
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
    e = _exp_neg_abs(_pre_activation(a))
    return e / (1.0 + e) ** 2


def tanh(a):
    """Hyperbolic tangent, values in [-1, 1].

    Examples
    --------
    >>> tanh(np.array([0.0, 1000.0]))
    array([0., 1.])
    """
    return np.tanh(_pre_activation(a))


def tanh_prime(a):
    """Derivative of tanh: 1 - tanh(a)^2 = sech^2(a), at most 1 (at a = 0).

    Computed as ``4 e / (1 + e)**2`` with ``e = exp(-2 abs(a))``, that is 4 sigma'(2a),
    the derivative of tanh(a) = 2 sigma(2a) - 1. This keeps full relative precision
    where 1 - tanh(a)^2 would round to 0, and never forms 2a, which overflows for
    ``|a| > 9e307``.

    Examples
    --------
    >>> tanh_prime(np.array([0.0, 20.0, 1000.0]))
    array([1.0000000e+00, 1.6993417e-17, 0.0000000e+00])
    """
    e = _exp_neg_abs(_pre_activation(a), factor=2.0)
    return 4.0 * e / (1.0 + e) ** 2


def relu(a):
    """Rectified linear unit max(0, a).

    Examples
    --------
    >>> relu(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 3.])
    """
    return np.maximum(_pre_activation(a), 0.0)


def _step(a, below):
    """1 where a > 0, ``below`` where a <= 0, NaN where a is NaN (never made finite).

    ``np.heaviside(a, 0)`` is 0, 0, 1 for a < 0, a = 0, a > 0 and keeps NaN, in one pass.
    """
    step = np.heaviside(a, 0.0)
    return step if below == 0 else below + (1.0 - below) * step


def relu_prime(a):
    """Derivative of ReLU: 1 where a > 0, else 0 (0 is the convention at the kink).

    NaN gives NaN.

    Examples
    --------
    >>> relu_prime(np.array([-2.0, 0.0, 3.0, np.nan]))
    array([ 0.,  0.,  1., nan])
    """
    return _step(_pre_activation(a), 0.0)


def _check_alpha(alpha):
    x = _checks._finite_real(alpha)
    if x is None or not 0 <= x < 1:
        raise ValueError(f"alpha must be a finite number in [0, 1), got {alpha!r}")
    return x


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
    alpha = _check_alpha(alpha)
    a = _pre_activation(a)
    if alpha == 0:  # 0 * (-inf) would be NaN; the limit is 0
        return relu(a)
    with np.errstate(under="ignore"):  # alpha a below the smallest float64 rounds to 0
        return np.where(a > 0, a, alpha * a)


def leaky_relu_prime(a, alpha=0.01):
    """Derivative of leaky ReLU: 1 where a > 0, else ``alpha``.

    Examples
    --------
    >>> leaky_relu_prime(np.array([-2.0, 3.0]), alpha=0.1)
    array([0.1, 1. ])
    """
    alpha = _check_alpha(alpha)
    return _step(_pre_activation(a), alpha)


_TABLE = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (tanh, tanh_prime),
    "relu": (relu, relu_prime),
    "leaky_relu": (leaky_relu, leaky_relu_prime),
}

_KEYWORDS = {"sigmoid": (), "tanh": (), "relu": (), "leaky_relu": ("alpha",)}

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
        If ``name`` is not a known activation, or a keyword is unknown or out of range.

    Examples
    --------
    >>> f, f_prime = get("leaky_relu", alpha=0.2)
    >>> f(np.array([-1.0])), f_prime(np.array([-1.0]))
    (array([-0.2]), array([0.2]))
    >>> get("softsign")
    Traceback (most recent call last):
    ...
    ValueError: activation must be one of 'sigmoid', 'tanh', 'relu',
    'leaky_relu'; got 'softsign'
    >>> get("relu", alpha=0.1)
    Traceback (most recent call last):
    ...
    ValueError: alpha is not a keyword of activation 'relu', which takes none
    """
    name = _checks.one_of("activation", name, NAMES)
    f, f_prime = _TABLE[name]
    allowed = _KEYWORDS[name]
    for key in kwargs:
        if key not in allowed:
            takes = ", ".join(allowed) or "none"
            raise ValueError(f"{key} is not a keyword of activation {name!r}, which takes {takes}")
    if "alpha" in kwargs:
        _check_alpha(kwargs["alpha"])
    if kwargs:
        f, f_prime = partial(f, **kwargs), partial(f_prime, **kwargs)
    return f, f_prime
