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

__all__ = ["mse", "mse_last_step"]


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
    gradcourse.errors.NonFiniteError
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


def mse_last_step(y, y_target):
    """Squared error of the last step only, for tasks whose answer comes at the end.

    Parameters
    ----------
    y : array_like, shape (T, B, n)
        Outputs at every step.
    y_target : array_like, shape (B, n)
        Targets for the last step.

    Returns
    -------
    loss : float
    dy : numpy.ndarray, shape (T, B, n)
        Zero except at the last step.

    Examples
    --------
    >>> loss, dy = mse_last_step(np.ones((3, 2, 1)), np.zeros((2, 1)))
    >>> loss, dy[:, :, 0].tolist()
    (0.5, [[0.0, 0.0], [0.0, 0.0], [0.5, 0.5]])
    """
    y = _checks.as_array("y", y)
    if y.ndim != 3:
        raise ValueError(f"y must have shape (T, B, n), got shape {y.shape}")
    loss, dy_last = mse(y[-1], _checks.as_array("y_target", y_target, shape=y.shape[1:], finite=True))
    dy = np.zeros_like(y)
    dy[-1] = dy_last
    return loss, dy
