"""The squared-error loss shared by the recurrent and the feedforward networks.

Examples
--------
>>> import numpy as np
>>> loss, dy = mse(np.array([[1.0], [3.0]]), np.zeros((2, 1)))   # batch of 2
>>> loss, dy.ravel()
(2.5, array([0.5, 1.5]))
"""

import numpy as np

from . import _checks

__all__ = ["mse"]


def mse(y, y_target):
    """Half the squared error, summed over everything but the batch, averaged over the batch.

    L = 1/(2B) sum ||y - y*||^2, where B = ``y.shape[-2]`` is the batch size (arrays are
    (B, n) for a feedforward net, (T, B, n) for a recurrent one, where the sum also runs
    over time). The gradient is then simply (y - y*) / B.

    Parameters
    ----------
    y, y_target : array_like, same shape (..., B, n)

    Returns
    -------
    loss : float
    dy : numpy.ndarray
        dL/dy, same shape as ``y``.

    Raises
    ------
    gradcourse.NonFiniteError
        If the loss overflows.
    """
    y = _checks.as_array("y", y)
    if y.ndim < 2:
        raise ValueError(f"y must have shape (..., B, n), got shape {y.shape}")
    y_target = _checks.as_array("y_target", y_target, shape=y.shape)
    B = y.shape[-2]
    r = y - y_target
    with np.errstate(over="ignore"):
        loss = float(0.5 * np.sum(r**2) / B)
    if not np.isfinite(loss):
        raise _checks.NonFiniteError(f"the loss overflowed to {loss} (largest |y - y_target| is {np.abs(r).max():.3g})")
    return loss, r / B
