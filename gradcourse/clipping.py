"""Gradient clipping: by value, by global norm, and sign updates.

Gradients are dicts of arrays, as :mod:`gradcourse.rnn` returns them. Every function is
pure: it returns new arrays and never modifies its input. Non-finite gradients are never
quietly turned into finite ones: with ``error_if_nonfinite=True`` they raise
:class:`gradcourse.errors.NonFiniteError`; otherwise they pass through unchanged, and
:func:`global_norm` (returned by :func:`clip_by_global_norm`) reports them as inf or NaN.
With ``model_ndim=m``, the first m axes of every array index S models trained at once,
and :func:`global_norm` and :func:`clip_by_global_norm` treat each model on its own.
The names follow optax (``clip_by_global_norm``) and torch (``max_norm``, ``clip_value``,
``error_if_nonfinite``).

Examples
--------
>>> import numpy as np
>>> # global norm 5
>>> grads = {"W": np.array([[3.0, 0.0]]), "b": np.array([4.0])}
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


def _check_grads(grads, error_if_nonfinite, model_ndim=0):
    """The gradient arrays as floats, and the model shape they share."""
    if not isinstance(grads, dict) or not grads:
        raise ValueError(f"grads must be a non-empty dict of arrays, got {type(grads).__name__}")
    model_ndim = _checks.nonnegative_int("model_ndim", model_ndim)
    error_if_nonfinite = _checks.boolean("error_if_nonfinite", error_if_nonfinite)
    arrays = {k: _checks.as_array(f"grads[{k!r}]", v, finite=False, nonempty=True) for k, v in grads.items()}
    model_shape = None
    for k, v in arrays.items():
        if v.ndim < model_ndim:
            raise ValueError(
                f"grads[{k!r}] must have at least model_ndim={model_ndim} leading model axes, got shape {v.shape}"
            )
        if model_shape is None:
            first, model_shape = k, v.shape[:model_ndim]
        elif v.shape[:model_ndim] != model_shape:
            raise ValueError(
                f"grads[{k!r}] has model shape {v.shape[:model_ndim]} but grads[{first!r}] has {model_shape}: "
                "every array in grads must share the leading model axes"
            )
    if error_if_nonfinite:
        for k, v in arrays.items():
            if not np.all(np.isfinite(v)):
                bad = int(v.size - np.count_nonzero(np.isfinite(v)))
                raise _checks.NonFiniteError(f"grads[{k!r}] has {bad} NaN or inf entries of {v.size}")
    return arrays, model_shape


def _expand(x, v, model_ndim):
    """Per-model values ``x`` (shape model_shape) with axes appended to broadcast against ``v``."""
    return np.reshape(x, np.shape(x) + (1,) * (v.ndim - model_ndim))


def _scaled_norm(arrays, model_shape):
    """Per model, ``(r, E)`` with norm = r * 2**E, computed without overflow or underflow.

    E is the binary exponent of the largest |entry|, so the entries scaled by 2**-E
    (exactly) are at most 1 and their squares cannot overflow; the largest one is at
    least 1/4, so the sum is never lost to underflow. r is inf or NaN where an entry is.
    """
    flats = [v.reshape(model_shape + (-1,)) for v in arrays.values()]
    biggest = np.max([np.max(np.abs(f), axis=-1) for f in flats], axis=0)  # NaN wins over inf
    _, E = np.frexp(biggest)  # E = 0 for 0, inf and NaN
    with np.errstate(under="ignore", over="ignore", invalid="ignore"):  # over/invalid: non-finite models only
        total = sum(np.sum(np.square(np.ldexp(f, -E[..., None])), axis=-1) for f in flats)
    return np.sqrt(total), E


def _ldexp(r, E):
    with np.errstate(over="ignore"):  # a norm beyond the largest float64 is reported as inf
        return np.ldexp(r, E)


def _as_output(norm, model_ndim):
    return float(norm) if model_ndim == 0 else np.asarray(norm, dtype=float)


def global_norm(grads, *, model_ndim=0):
    """Euclidean norm of all gradient entries together: sqrt(sum over arrays of ||g||^2).

    Exact to a few units in the last place for entries of any size from the smallest
    subnormal to the largest float64: the entries are scaled by a power of two near the
    largest one before they are squared, so nothing overflows or underflows.
    Returns inf or NaN if any entry is; never raises for that.

    Parameters
    ----------
    grads : dict of array_like
        Arrays of shape ``(*model_shape, ...)``, none of them empty.
    model_ndim : int, default 0
        Number of leading model axes shared by every array: one norm per model, over
        all the other axes of all arrays.

    Returns
    -------
    float or numpy.ndarray
        A float when ``model_ndim == 0``; otherwise an array of shape ``model_shape``.
        inf where the norm exceeds the largest float64.

    Examples
    --------
    >>> global_norm({"a": np.array([3.0]), "b": np.array([[4.0]])})
    5.0
    >>> big = {"a": np.array([1e200, 1e200]), "b": np.array([1e-300])}
    >>> global_norm(big)   # no overflow
    1.414213562373095e+200
    >>> two = {"W": np.array([[3.0, 0.0], [1.0, 1.0]]),
    ...        "b": np.array([4.0, 1.0])}
    >>> global_norm(two, model_ndim=1)
    array([5.        , 1.73205081])
    """
    arrays, model_shape = _check_grads(grads, False, model_ndim)
    r, E = _scaled_norm(arrays, model_shape)
    return _as_output(_ldexp(r, E), len(model_shape))


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
    arrays, _ = _check_grads(grads, error_if_nonfinite)
    return {k: np.where(np.isfinite(v), np.clip(v, -c, c), v) for k, v in arrays.items()}


def _max_norm(max_norm, model_shape):
    """``max_norm`` as an array of shape ``model_shape``: a number, or numbers per model.

    Every threshold must be > 0; ``np.inf`` means no clipping (as in PyTorch), so clipped
    and unclipped models can be trained side by side."""
    if np.ndim(max_norm) == 0 and not isinstance(max_norm, np.ndarray):
        if _checks.is_real_number(max_norm) and float(max_norm) == np.inf:
            return np.full(model_shape, np.inf)
        try:
            return np.full(model_shape, _checks.positive_float("max_norm", max_norm))
        except ValueError:
            raise ValueError(f"max_norm must be a number > 0 (np.inf: no clipping), got {max_norm!r}") from None
    h = _checks.as_array("max_norm", max_norm, finite=False)
    if not np.all(h > 0):  # NaN fails too
        raise ValueError(
            f"max_norm must be > 0 (np.inf: no clipping) for every model, got {float(h[~(h > 0)].flat[0])} at least once"
        )
    try:
        return np.broadcast_to(h, model_shape)
    except ValueError:
        raise ValueError(
            f"max_norm must be a number or an array broadcastable to the model shape {model_shape}, "
            f"got shape {h.shape}"
        ) from None


def clip_by_global_norm(grads, max_norm, *, model_ndim=0, error_if_nonfinite=False):
    """Rescale all gradients together when their global norm exceeds ``max_norm``.

    g <- g * max_norm / ||g|| if ||g|| > max_norm, else g unchanged (Pascanu et al., 2013).
    The direction is kept; only the length changes. The factor is applied as a mantissa
    and a power of two, so the result is right for entries of any size, even when the
    norm itself exceeds the largest float64.

    Parameters
    ----------
    grads : dict of array_like
        Arrays of shape ``(*model_shape, ...)``, none of them empty.
    max_norm : float or array_like
        Threshold h > 0; with model axes, one per model (broadcastable to ``model_shape``).
        ``np.inf`` leaves the gradients unchanged.
    model_ndim : int, default 0
        Number of leading model axes: each model is clipped by its own norm.
    error_if_nonfinite : bool, default False
        Raise :class:`gradcourse.errors.NonFiniteError` if an entry is NaN or inf, or a
        norm exceeds the largest float64. Otherwise a model with a NaN or inf entry is
        returned unchanged, with its norm (inf or NaN) reporting it.

    Returns
    -------
    clipped : dict of numpy.ndarray
    norm : float or numpy.ndarray
        The global norm before clipping: a float when ``model_ndim == 0``, else an array
        of shape ``model_shape``.

    Examples
    --------
    >>> small = {"g": np.array([0.3, 0.4])}
    >>> clipped, norm = clip_by_global_norm(small, max_norm=1.0)
    >>> norm, clipped["g"]          # below the threshold: unchanged
    (0.5, array([0.3, 0.4]))
    >>> two = {"g": np.array([[3.0, 4.0], [0.3, 0.4]])}
    >>> clipped, norm = clip_by_global_norm(two, 1.0, model_ndim=1)
    >>> norm, clipped["g"]          # only the first model is clipped
    (array([5. , 0.5]), array([[0.6, 0.8],
           [0.3, 0.4]]))
    """
    arrays, model_shape = _check_grads(grads, error_if_nonfinite, model_ndim)
    model_ndim = len(model_shape)
    h = _max_norm(max_norm, model_shape)
    r, E = _scaled_norm(arrays, model_shape)
    norm = _ldexp(r, E)
    if error_if_nonfinite and not np.all(np.isfinite(norm)):  # finite entries, too large a norm
        raise _checks.NonFiniteError(
            f"the global norm of the gradients overflowed to inf: it exceeds {np.finfo(float).max:.4g}"
        )
    clip = np.isfinite(r) & (norm > h)
    # h / norm = (h_m / r_m) * 2**(h_e - r_e - E), with the mantissas h_m, r_m in [1/2, 1).
    h_m, h_e = np.frexp(h)
    r_m, r_e = np.frexp(np.where(clip, r, 1.0))
    factor_m = np.where(clip, h_m / r_m, 1.0)
    factor_e = np.where(clip, h_e - r_e - E, 0)
    clipped = {}
    for k, v in arrays.items():
        v_m, v_e = np.frexp(v)
        with np.errstate(under="ignore"):  # only components whose exact value is below the smallest float64
            scaled = np.ldexp(v_m * _expand(factor_m, v, model_ndim), v_e + _expand(factor_e, v, model_ndim))
        clipped[k] = np.where(_expand(clip, v, model_ndim), scaled, v)
    return clipped, _as_output(norm, model_ndim)


def sign(grads, *, error_if_nonfinite=False):
    """Keep only the sign of every component: the update direction of Rprop and signSGD.

    Every component becomes -1, 0 or 1, so the step no longer depends on the gradient's
    size at all. Non-finite entries are left as they are unless ``error_if_nonfinite``.

    Examples
    --------
    >>> sign({"g": np.array([-1e30, 0.0, 1e-30])})["g"]
    array([-1.,  0.,  1.])
    """
    arrays, _ = _check_grads(grads, error_if_nonfinite)
    return {k: np.where(np.isfinite(v), (v > 0).astype(float) - (v < 0), v) for k, v in arrays.items()}
