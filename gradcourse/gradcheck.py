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

    Raises
    ------
    ValueError
        If an argument is not as described, or ``loss_fn`` returns anything but one real number.
    gradcourse.errors.NonFiniteError
        If ``loss_fn`` returns NaN or inf.

    Examples
    --------
    >>> params = {"x": np.array([1.0, 2.0])}
    >>> g = numerical_gradient(lambda p: float(p["x"] @ p["x"]), params)
    >>> g["x"].round(6)
    array([2., 4.])
    """
    if not callable(loss_fn):
        raise ValueError(f"loss_fn must be a function of the parameter dict, got {type(loss_fn).__name__}")
    if not isinstance(params, dict) or not params:
        raise ValueError(f"params must be a non-empty dict of arrays, got {type(params).__name__}")
    eps = _checks.positive_float("eps", eps)
    work = {k: _checks.as_array(f"params[{k!r}]", v, nonempty=True).copy() for k, v in params.items()}
    grads = {}
    for name, theta in work.items():
        g = np.empty_like(theta)
        for i in np.ndindex(theta.shape):
            old = theta[i]
            theta[i] = old + eps
            up = _loss_value(loss_fn(work), name, i)
            theta[i] = old - eps
            down = _loss_value(loss_fn(work), name, i)
            theta[i] = old
            g[i] = (up - down) / (2 * eps)
        grads[name] = g
    return grads


def _loss_value(value, name, i):
    """The loss as a finite float; a clear error if loss_fn returned anything else."""
    where = f"params[{name!r}]" + (f"[{', '.join(map(str, i))}]" if i else "") + " moved by eps"
    arr = np.asarray(value)
    if arr.ndim != 0 or arr.dtype.kind not in "iuf":
        raise ValueError(f"loss_fn must return one real number, got {value!r:.60} with {where}")
    value = float(arr)
    if not np.isfinite(value):
        raise _checks.NonFiniteError(f"loss_fn returned {value} with {where}")
    return value


def relative_error(a, b):
    """Relative error ||a - b|| / max(||a||, ||b||) of two arrays (0 if both are 0).

    Both are divided by a power of two near their largest entry first (exactly), so the
    result is right for entries of any size.

    Parameters
    ----------
    a : array_like
        Finite, at least one entry.
    b : array_like
        Finite, of the shape of ``a``.

    Returns
    -------
    float

    Examples
    --------
    >>> relative_error(np.array([1.0, 2.0]),
    ...                np.array([1.0, 2.0 + 1e-9])) < 1e-9
    True
    >>> relative_error(np.zeros(3), np.zeros(3))
    0.0
    """
    a = _checks.as_array("a", a, nonempty=True)
    b = _checks.as_array("b", b, shape=a.shape)
    biggest = max(np.max(np.abs(a)), np.max(np.abs(b)))
    if biggest == 0:
        return 0.0
    # Divide by a power of two near the largest entry (exact), so that no norm overflows.
    E = int(np.frexp(biggest)[1])
    with np.errstate(under="ignore"):
        a, b = np.ldexp(a, -E), np.ldexp(b, -E)
        return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b)))


def max_relative_error(grads_a, grads_b):
    """Largest :func:`relative_error` over the keys of two gradient dicts.

    Examples
    --------
    >>> a, b = {"w": np.ones(2)}, {"w": np.array([1.0, 1.5])}
    >>> round(max_relative_error(a, b), 4)
    0.2774
    """
    for name, grads in (("grads_a", grads_a), ("grads_b", grads_b)):
        if not isinstance(grads, dict) or not grads:
            raise ValueError(f"{name} must be a non-empty dict of arrays, got {type(grads).__name__}")
    if set(grads_a) != set(grads_b):
        raise ValueError(f"grads_b must have the keys {sorted(grads_a)}, got {sorted(grads_b)}")
    errors = []
    for k in grads_a:
        a = _checks.as_array(f"grads_a[{k!r}]", grads_a[k], nonempty=True)
        b = _checks.as_array(f"grads_b[{k!r}]", grads_b[k], shape=a.shape)
        errors.append(relative_error(a, b))
    return max(errors)
