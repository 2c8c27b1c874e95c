"""Long-range synthetic tasks for recurrent networks.

Examples
--------
>>> import numpy as np
>>> x, y = adding_problem(T=10, batch=4, rng=np.random.default_rng(0))
>>> x.shape, y.shape
((10, 4, 2), (4, 1))
>>> bool(np.allclose(y[:, 0], np.sum(x[:, :, 0] * x[:, :, 1], axis=0)))
True
"""

import numpy as np

from . import _checks

__all__ = ["adding_problem", "ADDING_BASELINE"]

#: Loss 1/2 E[(y - E y)^2] of always predicting the mean, 1: the sum of two U(0, 1) has
#: variance 2/12, and the course's loss has a factor 1/2.
ADDING_BASELINE = 0.5 * 2 / 12


def adding_problem(T, batch, *, rng):
    """The adding problem of Hochreiter and Schmidhuber (1997), time-major.

    Each sequence has two channels: random values in [0, 1], and a marker that is 1 at
    exactly two steps (one in the first half, one in the second half) and 0 elsewhere.
    The target is the sum of the two marked values, known only at the last step, so the
    network must carry information across up to T - 1 steps. Predicting the mean, 1,
    gives the loss :data:`ADDING_BASELINE`.

    Parameters
    ----------
    T : int
        Sequence length, at least 2.
    batch : int
    rng : numpy.random.Generator

    Returns
    -------
    x : numpy.ndarray, shape (T, batch, 2)
    y : numpy.ndarray, shape (batch, 1)
    """
    T = _checks.positive_int("T", T)
    if T < 2:
        raise ValueError(f"T must be at least 2 to place two markers, got {T}")
    batch = _checks.positive_int("batch", batch)
    rng = _checks.generator("rng", rng)
    values = rng.uniform(0.0, 1.0, size=(T, batch))
    half = T // 2
    first = rng.integers(0, half, size=batch)
    second = rng.integers(half, T, size=batch)
    markers = np.zeros((T, batch))
    markers[first, np.arange(batch)] = 1.0
    markers[second, np.arange(batch)] = 1.0
    x = np.stack([values, markers], axis=-1)
    y = np.sum(values * markers, axis=0)[:, None]
    return x, y
