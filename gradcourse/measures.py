"""Measurements that compare activation functions: gradient growth and training speed.

:func:`jacobian_norms_from_start` follows the size of the Jacobian dh_t/dh_0 of a
recurrent layer along its run, for many models at once; next to the size of the state
h_t itself it tells state growth from gradient growth. :func:`steps_to_target` counts
how many steps each of many training runs took to bring its loss to a target.

Examples
--------
>>> import numpy as np
>>> W_hh = 2.0 * np.eye(3)
>>> slopes = np.ones((4, 3))                # f'(a_t) = 1 at every step
>>> jacobian_norms_from_start(W_hh, slopes)  # ||(2 I)^t|| = 2^t
array([ 2.,  4.,  8., 16.])
>>> losses = np.array([[1.0, 1.0], [0.5, 0.9], [0.2, 0.8]])  # (step, run)
>>> steps_to_target(losses, 0.5)
array([ 1., inf])
"""

import numpy as np

from . import _checks

__all__ = ["jacobian_norms_from_start", "steps_to_target"]


def jacobian_norms_from_start(W_hh, slopes):
    """Spectral norms ||dh_t/dh_0|| for t = 1..T, from the recurrent weights and the slopes.

    With J_i = dh_i/dh_{i-1} = diag(f'(a_i)) W_hh, the Jacobian of the state at step t
    with respect to the initial state is the product J_t ... J_1. It is built one step
    at a time and divided by its norm after each step, the logarithms of the norms being
    summed, so that a product that grows or shrinks by hundreds of orders of magnitude
    neither overflows nor underflows on the way; only a final value beyond float64's range
    shows as inf or 0.

    Parameters
    ----------
    W_hh : array_like, shape (M..., n_h, n_h)
        Recurrent weights, with optional leading model axes M.
    slopes : array_like, shape (M..., T, n_h)
        f'(a_t) for t = 1..T (time on the second-to-last axis), e.g. from
        ``f_prime(fwd.a[..., 0, :])`` for the first sequence of an RNN's forward record.
        Its model axes broadcast against those of ``W_hh``.

    Returns
    -------
    numpy.ndarray, shape (M..., T)
        Entry [..., t - 1] is ||J_t ... J_1||, the largest singular value.

    Raises
    ------
    ValueError
        If ``W_hh`` is not a square matrix (with model axes), ``slopes`` does not end in
        (T, n_h) with T >= 1, the model axes do not broadcast, or an entry is not finite.

    Examples
    --------
    Two steps of a 2-unit layer; the second step's first unit is off (slope 0):

    >>> W_hh = np.array([[0.0, 3.0], [1.0, 0.0]])
    >>> slopes = np.array([[1.0, 1.0], [0.0, 1.0]])
    >>> # ||W_hh|| = 3 and ||diag(0, 1) W_hh W_hh|| = 3
    >>> jacobian_norms_from_start(W_hh, slopes)
    array([3., 3.])
    """
    W_hh = _checks.as_array("W_hh", W_hh, min_ndim=2)
    n_h = W_hh.shape[-1]
    if W_hh.shape[-2] != n_h or n_h == 0:
        raise ValueError(f"W_hh must end in a square matrix (n_h, n_h) with n_h >= 1, got shape {W_hh.shape}")
    slopes = _checks.as_array("slopes", slopes, min_ndim=2)
    if slopes.shape[-1] != n_h or slopes.shape[-2] == 0:
        raise ValueError(f"slopes must end in (T, n_h) = (T, {n_h}) with T >= 1, got shape {slopes.shape}")
    try:
        M = np.broadcast_shapes(W_hh.shape[:-2], slopes.shape[:-2])
    except ValueError:
        raise ValueError(f"the model axes of W_hh {W_hh.shape[:-2]} and slopes {slopes.shape[:-2]} "
                         "do not broadcast") from None
    T = slopes.shape[-2]
    P = np.broadcast_to(np.eye(n_h), M + (n_h, n_h))  # dh_0/dh_0, divided by exp(log_scale)
    log_scale = np.zeros(M)
    log_norms = np.empty(M + (T,))
    for t in range(T):
        P = slopes[..., t, :, None] * (W_hh @ P)  # J_t (dh_{t-1}/dh_0), up to the scale
        norm = np.linalg.norm(P, ord=2, axis=(-2, -1))
        with np.errstate(divide="ignore"):  # a zero product has log-norm -inf: exactly 0
            log_norms[..., t] = log_scale + np.log(norm)
        safe = np.where(norm > 0, norm, 1.0)
        P = P / safe[..., None, None]
        log_scale = log_scale + np.log(safe)
    with np.errstate(over="ignore", under="ignore"):  # beyond float64's range: inf or 0
        return np.exp(log_norms)


def steps_to_target(losses, target):
    """How many steps each run took until its loss was first at or below ``target``.

    ``losses[s]`` is the loss before update s (as :func:`gradcourse.train.train` records
    it), so the answer s counts the updates made before the target was reached: 0 if the
    first loss already meets it. A run that never meets it, within the recorded steps,
    gets ``inf``, not the number of steps run, which would claim it had. NaN (a run that
    stopped) never meets a target.

    Parameters
    ----------
    losses : array_like, shape (steps, M...)
        Losses of one or many runs, steps first; NaN allowed.
    target : float
        The loss to reach.

    Returns
    -------
    numpy.ndarray of float, shape (M...)
        The first step s with ``losses[s] <= target``, or inf.

    Raises
    ------
    ValueError
        If ``losses`` holds no step, holds inf or non-real values, or ``target`` is not a
        finite number.

    Examples
    --------
    >>> steps_to_target(np.array([3.0, 2.0, 1.0, np.nan]), 1.5)
    array(2.)
    >>> # a run that stopped before reaching the target
    >>> steps_to_target(np.array([3.0, np.nan]), 1.5)
    array(inf)
    """
    losses = _checks.as_array("losses", losses, finite=False, min_ndim=1, nonempty=True)
    if np.any(np.isinf(losses)):
        raise ValueError("losses must be finite numbers or NaN (for a run that stopped), got inf")
    target = _checks.real_float("target", target)
    reached = losses <= target  # NaN <= target is False: a stopped run never reaches it
    first = np.argmax(reached, axis=0)  # 0 also where no step reached it: told apart below
    return np.where(reached.any(axis=0), first.astype(float), np.inf)
