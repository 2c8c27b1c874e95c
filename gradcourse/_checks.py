"""Input validation shared by the public functions: clear errors, never silent.

Every check raises ``ValueError`` with the argument's name and what was expected.
"""

import numpy as np

from .errors import NonFiniteError


def first_nonfinite_step(name, values):
    """Raise :class:`NonFiniteError` naming the first step t (1-based) where ``values[t-1]`` is not finite."""
    finite = np.isfinite(values).reshape(len(values), -1).all(axis=1)
    if not finite.all():
        t = int(np.argmin(finite)) + 1
        raise NonFiniteError(
            f"{name} overflowed to inf or NaN at step t={t} of {len(values)}: the forward pass exploded"
        )


def as_array(name, value, *, ndim=None, shape=None, finite=True):
    """Return ``value`` as a float array after checking its rank, shape and values.

    ``shape`` may hold ``None`` for a free dimension. Raises ``ValueError`` naming
    ``name`` when a check fails.
    """
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a numeric array, got {type(value).__name__}") from err
    if shape is not None:
        ndim = len(shape)
    if ndim is not None and arr.ndim != ndim:
        want = _describe(shape) if shape is not None else f"{ndim}-D"
        raise ValueError(f"{name} must have shape {want}, got shape {arr.shape}")
    if shape is not None and any(w is not None and w != s for w, s in zip(shape, arr.shape)):
        raise ValueError(f"{name} must have shape {_describe(shape)}, got shape {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} must be finite, but {bad} of its {arr.size} entries are NaN or inf")
    return arr


def _describe(shape):
    return "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"


def positive_int(name, value):
    """Check that ``value`` is an integer >= 1 and return it as ``int``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def positive_float(name, value):
    """Check that ``value`` is a finite number > 0 and return it as ``float``."""
    if isinstance(value, bool) or not np.isscalar(value) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def generator(name, rng):
    """Check that ``rng`` is a ``numpy.random.Generator`` (seeded by the caller)."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"{name} must be a numpy.random.Generator, e.g. np.random.default_rng(0); "
            f"got {type(rng).__name__}"
        )
    return rng
