"""Gradient clipping: by value, by global norm, and sign updates.

Gradients are dicts of arrays, as :mod:`gradcourse.rnn` returns them. Every function is
pure: it returns new arrays and never modifies its input. Non-finite gradients are never
quietly turned into finite ones: with ``error_if_nonfinite=True`` they raise
:class:`gradcourse.errors.NonFiniteError`; otherwise they pass through unchanged, and
:func:`global_norm` (returned by :func:`clip_by_global_norm`) reports them as inf or NaN.
The names follow optax (``clip_by_global_norm``) and torch (``max_norm``, ``clip_value``,
``error_if_nonfinite``).

Examples
--------
>>> import numpy as np
>>> grads = {"W": np.array([[3.0, 0.0]]), "b": np.array([4.0])}   # global norm 5
>>> clipped, norm = clip_by_global_norm(grads, max_norm=1.0)
>>> norm, clipped["W"], clipped["b"]
(5.0, array([[0.6, 0. ]]), array([0.8]))
>>> clip_by_value(grads, clip_value=1.0)["W"]
array([[1., 0.]])
>>> sign(grads)["b"]
array([1.])
"""

import numpy as np

from . import _checks

__all__ = ["global_norm", "clip_by_value", "clip_by_global_norm", "sign"]


def _check_grads(grads, error_if_nonfinite):
    if not isinstance(grads, dict) or not grads:
        raise ValueError(f"grads must be a non-empty dict of arrays, got {type(grads).__name__}")
    arrays = {k: _checks.as_array(f"grads[{k!r}]", v, finite=False) for k, v in grads.items()}
    if error_if_nonfinite:
        for k, v in arrays.items():
            if not np.all(np.isfinite(v)):
                bad = int(v.size - np.count_nonzero(np.isfinite(v)))
                raise _checks.NonFiniteError(f"grads[{k!r}] has {bad} NaN or inf entries of {v.size}")
    return arrays


def global_norm(grads):
    """Euclidean norm of all gradient entries together: sqrt(sum over arrays of ||g||^2).

    Returns inf or NaN if any entry is; never raises for that.

    Examples
    --------
    >>> global_norm({"a": np.array([3.0]), "b": np.array([[4.0]])})
    5.0
    """
    arrays = _check_grads(grads, error_if_nonfinite=False)
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.sqrt(sum(np.sum(v * v) for v in arrays.values())))


def clip_by_value(grads, clip_value, *, error_if_nonfinite=False):
    """Clip every component to [-clip_value, clip_value].

    This changes the direction of the gradient whenever some components are clipped and
    others are not.

    Parameters
    ----------
    grads : dict of array_like
    clip_value : float
        Positive bound c.
    error_if_nonfinite : bool, default False
        Raise :class:`gradcourse.errors.NonFiniteError` on NaN or inf; otherwise such entries
        are left as they are (not clipped to a finite value).

    Examples
    --------
    >>> clip_by_value({"g": np.array([-5.0, 0.5, np.inf])}, 1.0)["g"]
    array([-1. ,  0.5,  inf])
    """
    c = _checks.positive_float("clip_value", clip_value)
    arrays = _check_grads(grads, error_if_nonfinite)
    return {k: np.where(np.isfinite(v), np.clip(v, -c, c), v) for k, v in arrays.items()}


def clip_by_global_norm(grads, max_norm, *, error_if_nonfinite=False):
    """Rescale all gradients together when their global norm exceeds ``max_norm``.

    g <- g * max_norm / ||g|| if ||g|| > max_norm, else g unchanged (Pascanu et al., 2013).
    The direction is kept; only the length changes.

    Parameters
    ----------
    grads : dict of array_like
    max_norm : float
        Threshold h > 0.
    error_if_nonfinite : bool, default False
        Raise :class:`gradcourse.errors.NonFiniteError` if the norm is NaN or inf; otherwise
        return the gradients unchanged with that norm, which reports it.

    Returns
    -------
    clipped : dict of numpy.ndarray
    norm : float
        The global norm before clipping.

    Examples
    --------
    >>> clipped, norm = clip_by_global_norm({"g": np.array([0.3, 0.4])}, max_norm=1.0)
    >>> norm, clipped["g"]          # below the threshold: unchanged
    (0.5, array([0.3, 0.4]))
    """
    h = _checks.positive_float("max_norm", max_norm)
    arrays = _check_grads(grads, error_if_nonfinite)
    norm = global_norm(arrays)
    if not np.isfinite(norm):
        if error_if_nonfinite:  # finite entries whose squares overflow
            raise _checks.NonFiniteError(f"the global norm of the gradients overflowed to {norm}")
        return {k: v.copy() for k, v in arrays.items()}, norm
    scale = min(1.0, h / norm) if norm > 0 else 1.0
    return {k: v * scale for k, v in arrays.items()}, norm


def sign(grads, *, error_if_nonfinite=False):
    """Keep only the sign of every component: the update direction of Rprop and signSGD.

    Every component becomes -1, 0 or 1, so the step no longer depends on the gradient's
    size at all. Non-finite entries are left as they are unless ``error_if_nonfinite``.

    Examples
    --------
    >>> sign({"g": np.array([-1e30, 0.0, 1e-30])})["g"]
    array([-1.,  0.,  1.])
    """
    arrays = _check_grads(grads, error_if_nonfinite)
    return {k: np.where(np.isfinite(v), np.sign(v), v) for k, v in arrays.items()}
