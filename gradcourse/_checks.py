"""Input validation shared by the public functions: clear errors, never silent.

Every check raises ``ValueError`` with the argument's name and what was expected, and
runs before anything is computed from the argument. Numbers are checked as they are
given: complex, boolean, object and string values are rejected before any conversion
to float, which would drop an imaginary part or turn ``True`` into 1.

Examples
--------
>>> as_array("x", [[1, 2], [3, 4]], shape=(None, 2))
array([[1., 2.],
       [3., 4.]])
>>> as_array("x", [1 + 2j])
Traceback (most recent call last):
...
ValueError: x must be a real numeric array, got complex values
(dtype complex128)
>>> positive_float("tol", -1)
Traceback (most recent call last):
...
ValueError: tol must be a finite number > 0, got -1
"""

import math
from numbers import Integral, Real

import numpy as np

from .errors import NonFiniteError

__all__ = [
    "NonFiniteError",
    "as_array",
    "positive_int",
    "nonnegative_int",
    "positive_float",
    "nonnegative_float",
    "real_float",
    "boolean",
    "one_of",
    "generator",
]

#: numpy dtype kinds that are real numbers: unsigned and signed integers, floats.
_REAL_KINDS = "uif"
_KIND_NAMES = {"b": "boolean", "c": "complex", "O": "object (non-numeric)", "U": "string", "S": "bytes"}


def _real_array(name, value):
    """``value`` as an array of real numbers, refusing anything float() would have to guess at."""
    if isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be a real numeric array, got a {type(value).__name__}: {value!r:.40}")
    if isinstance(value, np.ma.MaskedArray):  # np.asarray would drop the mask
        raise ValueError(f"{name} must be a plain array, not a masked array: fill or drop the masked entries first")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as err:  # ragged nested lists, unconvertible objects
        raise ValueError(
            f"{name} must be a real numeric array with a regular shape (not a ragged nested list), "
            f"got {type(value).__name__}"
        ) from err
    if arr.dtype.kind not in _REAL_KINDS:
        kind = _KIND_NAMES.get(arr.dtype.kind, arr.dtype.kind)
        raise ValueError(f"{name} must be a real numeric array, got {kind} values (dtype {arr.dtype})")
    return arr.astype(float, copy=False)


def as_array(name, value, *, ndim=None, shape=None, finite=True, min_ndim=None, nonempty=False):
    """Return ``value`` as a float array after checking its dtype, rank, shape and values.

    Parameters
    ----------
    name : str
        The argument's name, used in every error message.
    value : array_like
        Real numbers: integers or floats. Complex, boolean, object and string values and
        ragged nested lists are rejected, never converted.
    ndim : int, optional
        Required number of axes.
    shape : tuple, optional
        Required shape; ``None`` marks a free size. Implies ``ndim``.
    finite : bool, default True
        Reject NaN and inf.
    min_ndim : int, optional
        Required least number of axes.
    nonempty : bool, default False
        Reject arrays with no entries (a zero in the shape).

    Returns
    -------
    numpy.ndarray of float64

    Raises
    ------
    ValueError
        Naming ``name`` and what was expected.

    Examples
    --------
    >>> as_array("b", 3)
    array(3.)
    >>> as_array("W", np.zeros((2, 3)), shape=(2, 2))
    Traceback (most recent call last):
    ...
    ValueError: W must have shape (2, 2), got shape (2, 3)
    """
    arr = _real_array(name, value)
    if shape is not None:
        ndim = len(shape)
    if ndim is not None and arr.ndim != ndim:
        want = _describe(shape) if shape is not None else f"{ndim}-D"
        raise ValueError(f"{name} must have shape {want}, got shape {arr.shape}")
    if shape is not None and any(w is not None and w != s for w, s in zip(shape, arr.shape)):
        raise ValueError(f"{name} must have shape {_describe(shape)}, got shape {arr.shape}")
    if min_ndim is not None and arr.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} axes, got shape {arr.shape}")
    if nonempty and arr.size == 0:
        raise ValueError(f"{name} must have at least one entry, got shape {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} must be finite, but {bad} of its {arr.size} entries are NaN or inf")
    return arr


def _describe(shape):
    return "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"


def _is_int(value):
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def is_real_number(value):
    """True for an int or float (numpy's too), not a bool: a value float() takes without guessing."""
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_))


def _finite_real(value):
    """``value`` as a float if it is a finite real number (not a bool), else ``None``."""
    if not is_real_number(value):
        return None
    try:
        x = float(value)
    except OverflowError:  # an int too large for float64
        return None
    return x if math.isfinite(x) else None


def positive_int(name, value):
    """Check that ``value`` is an integer >= 1 and return it as ``int``.

    >>> positive_int("n_iter", 0)
    Traceback (most recent call last):
    ...
    ValueError: n_iter must be a positive integer, got 0
    """
    if not _is_int(value) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def nonnegative_int(name, value):
    """Check that ``value`` is an integer >= 0 and return it as ``int``."""
    if not _is_int(value) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)


def positive_float(name, value):
    """Check that ``value`` is a finite real number > 0 and return it as ``float``."""
    x = _finite_real(value)
    if x is None or x <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return x


def nonnegative_float(name, value):
    """Check that ``value`` is a finite real number >= 0 and return it as ``float``."""
    x = _finite_real(value)
    if x is None or x < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return x


def real_float(name, value):
    """Check that ``value`` is a finite real number and return it as ``float``."""
    x = _finite_real(value)
    if x is None:
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return x


def boolean(name, value):
    """Check that ``value`` is ``True`` or ``False`` (not merely truthy) and return it."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def one_of(name, value, choices):
    """Check that ``value`` is one of ``choices`` (compared as strings, so unhashables are fine).

    >>> one_of("activation", "relux", ("relu", "tanh"))
    Traceback (most recent call last):
    ...
    ValueError: activation must be one of 'relu', 'tanh'; got 'relux'
    """
    if not isinstance(value, str) or value not in choices:
        known = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {known}; got {value!r}")
    return value


def generator(name, rng):
    """Check that ``rng`` is a ``numpy.random.Generator`` (seeded by the caller)."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"{name} must be a numpy.random.Generator, e.g. np.random.default_rng(0); "
            f"got {type(rng).__name__}"
        )
    return rng
