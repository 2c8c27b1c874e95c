"""Finite-difference gradient checks: the independent witness for every backward pass.

A central difference (L(theta + eps) - L(theta - eps)) / (2 eps) has error of
order eps^2, so in float64 with eps = 1e-6 a correct gradient agrees to a
relative error near 1e-9, and a wrong one is off by far more.

Examples
--------
>>> import numpy as np
>>> params = {"w": np.array([1.0, -2.0])}
>>> loss = lambda p: float(np.sum(p["w"] ** 3))
>>> grads = {"w": 3 * params["w"] ** 2}
>>> max_relative_error(numerical_gradient(loss, params), grads) < 1e-8
True
"""

import numpy as np

from . import _checks

__all__ = ["numerical_gradient", "relative_error", "max_relative_error"]


def numerical_gradient(loss_fn, params, *, eps=1e-6):
    """Central-difference gradient of ``loss_fn`` with respect to each array in ``params``.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn(params) -> float``. It is called 2 * (number of entries) times.
    params : dict of numpy.ndarray
        Point at which to differentiate. Not modified (each entry is restored).
    eps : float, default 1e-6
        Step size.

    Returns
    -------
    dict of numpy.ndarray
        Same keys and shapes as ``params``.

    Examples
    --------
    >>> g = numerical_gradient(lambda p: float(p["x"] @ p["x"]), {"x": np.array([1.0, 2.0])})
    >>> g["x"].round(6)
    array([2., 4.])
    """
    eps = _checks.positive_float("eps", eps)
    work = {k: _checks.as_array(f"params[{k!r}]", v).copy() for k, v in params.items()}
    grads = {}
    for name, theta in work.items():
        g = np.empty_like(theta)
        for i in np.ndindex(theta.shape):
            old = theta[i]
            theta[i] = old + eps
            up = loss_fn(work)
            theta[i] = old - eps
            down = loss_fn(work)
            theta[i] = old
            g[i] = (up - down) / (2 * eps)
        grads[name] = g
    return grads


def relative_error(a, b):
    """Relative error ||a - b|| / max(||a||, ||b||) of two arrays (0 if both are 0).

    Examples
    --------
    >>> relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9])) < 1e-9
    True
    >>> relative_error(np.zeros(3), np.zeros(3))
    0.0
    """
    a = _checks.as_array("a", a)
    b = _checks.as_array("b", b, shape=a.shape)
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def max_relative_error(grads_a, grads_b):
    """Largest :func:`relative_error` over the keys of two gradient dicts.

    Examples
    --------
    >>> round(max_relative_error({"w": np.ones(2)}, {"w": np.array([1.0, 1.5])}), 4)
    0.2774
    """
    if set(grads_a) != set(grads_b):
        raise ValueError(f"grads_b must have the keys {sorted(grads_a)}, got {sorted(grads_b)}")
    return max(relative_error(grads_a[k], grads_b[k]) for k in grads_a)
