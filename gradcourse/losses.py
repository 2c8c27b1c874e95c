"""The squared-error loss shared by the recurrent and the feedforward networks.

With model axes (see :mod:`gradcourse.stacking`), the first ``model_ndim`` axes of ``y``
index models, and the loss is one number per model.

Examples
--------
>>> import numpy as np
>>> loss, dy = mse(np.array([[1.0], [3.0]]), np.zeros((2, 1)))   # batch of 2
>>> loss, dy.ravel()
(2.5, array([0.5, 1.5]))
"""

import numpy as np

from . import _checks
from .errors import NonFiniteError

__all__ = ["LOSS_AT", "mse", "mse_last_step", "sequence_loss"]

#: Where a recurrent model's loss is taken: summed over every step, or at the last only.
LOSS_AT = ("every_step", "last_step")


def _model_ndim(model_ndim, y, min_sample_ndim):
    if isinstance(model_ndim, bool) or not isinstance(model_ndim, (int, np.integer)) or model_ndim < 0:
        raise ValueError(f"model_ndim must be an integer >= 0, got {model_ndim!r}")
    if y.ndim < model_ndim + min_sample_ndim:
        raise ValueError(
            f"y must have {model_ndim} model axes and then at least {min_sample_ndim} more, got shape {y.shape}"
        )
    return int(model_ndim)


def _target(y_target, shape):
    """Targets shaped like the outputs, or shared by all models (fewer leading axes)."""
    y_target = _checks.as_array("y_target", y_target)
    if y_target.shape != shape[len(shape) - y_target.ndim :] or y_target.ndim == 0:
        raise ValueError(f"y_target must have shape {shape} or a trailing part of it, got shape {y_target.shape}")
    return y_target


def mse(y, y_target, *, model_ndim=0, check_finite=True):
    """Half the squared error, summed over everything but the batch, averaged over the batch.

    L = 1/(2B) sum ||y - y*||^2, where B = ``y.shape[-2]`` is the batch size (arrays are
    (B, n) for a feedforward net, (T, B, n) for a recurrent one, where the sum also runs
    over time). The gradient is then simply (y - y*) / B.

    Parameters
    ----------
    y : array_like, shape (M..., ..., B, n)
        Outputs; the first ``model_ndim`` axes M index models.
    y_target : array_like
        Targets, the shape of ``y`` or of a trailing part of it (shared by all models).
    model_ndim : int, default 0
        How many leading axes of ``y`` index models.
    check_finite : bool, default True
        Raise :class:`gradcourse.errors.NonFiniteError` if a loss overflows; with False,
        such a loss is returned as inf or NaN for the caller to report.

    Returns
    -------
    loss : float, or numpy.ndarray of shape M
    dy : numpy.ndarray
        dL/dy, same shape as ``y``.

    Examples
    --------
    >>> y = np.array([[[1.0]], [[2.0]]])          # two models, batch of 1
    >>> mse(y, np.zeros((1, 1)), model_ndim=1)[0]
    array([0.5, 2. ])
    """
    y = _checks.as_array("y", y, finite=False)
    model_ndim = _model_ndim(model_ndim, y, 2)
    y_target = _target(y_target, y.shape)
    B = y.shape[-2]
    if B == 0:
        raise ValueError(f"y must hold at least one example (B >= 1), got shape {y.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        r = y - y_target
        loss = 0.5 * np.sum(r * r, axis=tuple(range(model_ndim, y.ndim))) / B
    if check_finite and not np.all(np.isfinite(loss)):
        raise NonFiniteError(f"the loss overflowed to {loss} (largest |y - y_target| is {np.nanmax(np.abs(r)):.3g})")
    return (float(loss) if model_ndim == 0 else loss), r / B


def mse_last_step(y, y_target, *, model_ndim=0, check_finite=True):
    """Squared error of the last step only, for tasks whose answer comes at the end.

    Parameters
    ----------
    y : array_like, shape (M..., T, B, n)
        Outputs at every step.
    y_target : array_like, shape (B, n) or (M..., B, n)
        Targets for the last step.
    model_ndim, check_finite
        As in :func:`mse`.

    Returns
    -------
    loss : float, or numpy.ndarray of shape M
    dy : numpy.ndarray, shape (M..., T, B, n)
        Zero except at the last step.

    Examples
    --------
    >>> loss, dy = mse_last_step(np.ones((3, 2, 1)), np.zeros((2, 1)))
    >>> loss, dy[:, :, 0].tolist()
    (0.5, [[0.0, 0.0], [0.0, 0.0], [0.5, 0.5]])
    """
    y = _checks.as_array("y", y, finite=False)
    model_ndim = _model_ndim(model_ndim, y, 3)
    if y.ndim != model_ndim + 3:
        raise ValueError(f"y must have shape (M..., T, B, n) with {model_ndim} model axes, got shape {y.shape}")
    loss, dy_last = mse(y[..., -1, :, :], y_target, model_ndim=model_ndim, check_finite=check_finite)
    dy = np.zeros_like(y)
    dy[..., -1, :, :] = dy_last
    return loss, dy


def sequence_loss(loss_at):
    """The loss of a recurrent model for ``loss_at``: :func:`mse` over every step, or
    :func:`mse_last_step`. Checked before any computation, so a wrong name costs nothing.

    Examples
    --------
    >>> sequence_loss("last_step") is mse_last_step
    True
    """
    if loss_at not in LOSS_AT:
        raise ValueError(f"loss_at must be one of {LOSS_AT}, got {loss_at!r}")
    return mse if loss_at == "every_step" else mse_last_step
