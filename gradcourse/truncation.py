"""Truncated backpropagation through time: a band of the t-by-k map, and what it costs.

Full BPTT sums every contribution C_{t,k} of the t-by-k map (see
:mod:`gradcourse.jacobians`). Truncated BPTT with window K keeps the loss at step t in
touch with the last K steps only::

    dL/dW_hh (truncated) = sum_t sum_{t - K < k <= t} C_{t,k}

so the contributions with t - k >= K are cut, not shrunk. The window may differ from one
loss step to the next: K_t, as an array of T windows. Two schemes fit that form:

- the *band*, K_t = K for every t: the loss at step t looks back exactly K steps
  (BPTT(h) of Williams and Peng, 1990, with h = K);
- *chunks*, K_t = (t - 1) mod K + 1: the sequence is cut into pieces of K steps and each
  loss looks back to the start of its piece, as when the state is detached every K steps
  (:func:`chunk_windows`).

A *randomized* window (:func:`geometric_windows`) draws K_t at random and multiplies the
contribution at lag d = t - k by a weight w_d = 1 / P(K_t > d), so that its expected value
is the full gradient.

:func:`backward` computes such a truncated gradient by moving the error signals of all loss
steps back together, one lag at a time, as :mod:`gradcourse.jacobians` does: a Python
loop over lags d < max K_t only. Parameters may carry model axes, as in :mod:`gradcourse.rnn`,
and :func:`loss_and_grads` has the signature that :func:`gradcourse.train.train` expects of a
model module, so ``train.train(truncation, params, task, ..., window=K)`` trains with
truncated gradients.

Examples
--------
>>> import numpy as np
>>> from gradcourse import rnn
>>> rng = np.random.default_rng(0)
>>> params = rnn.init_params(2, 4, 1, rng=rng)
>>> x, y_target = rng.normal(size=(6, 3, 2)), rng.normal(size=(6, 3, 1))
>>> _, full = rnn.loss_and_grads(params, x, y_target)
>>> _, long = loss_and_grads(params, x, y_target, window=6)
>>> bool(np.allclose(long["W_hh"], full["W_hh"]))  # K >= T: nothing is cut
True
>>> _, short = loss_and_grads(params, x, y_target, window=2)
>>> bool(np.allclose(short["W_hh"], full["W_hh"]))
False
"""

import math
from typing import NamedTuple

import numpy as np

from . import _checks, _params, losses, rnn
from ._params import swap

__all__ = [
    "SCHEMES",
    "chunk_windows",
    "geometric_windows",
    "kept_mask",
    "backward",
    "loss_and_grads",
    "Cost",
    "cost",
]

#: The truncation schemes whose cost :func:`cost` counts.
SCHEMES = ("full", "chunks", "band")


def _window(name, window):
    """A window K >= 1 as an int, or an integer array of windows, all >= 1."""
    if isinstance(window, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer >= 1 or an array of them, got {window!r}")
    if isinstance(window, (int, np.integer)):
        if window < 1:
            raise ValueError(f"{name} must be >= 1, got {window}")
        return int(window)
    try:
        arr = np.asarray(window)
    except Exception:  # noqa: BLE001  (ragged lists and other odd objects)
        arr = np.asarray(None, dtype=object)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer >= 1 or an array of integers, got {window!r:.80}")
    if arr.size == 0 or arr.min() < 1:
        raise ValueError(f"{name} must hold integers >= 1, got {window!r:.80}")
    return arr


def chunk_windows(T, K):
    """The windows of truncation in chunks: K_t = (t - 1) mod K + 1.

    The sequence is cut into pieces of K steps (the last one shorter if K does not divide
    T), and the loss at step t looks back to the first step of its piece. This is what
    detaching the state every K steps computes.

    Parameters
    ----------
    T : int
        Number of steps.
    K : int
        Length of a chunk.

    Returns
    -------
    numpy.ndarray of int, shape (T,)
        Entry t - 1 is K_t.

    Examples
    --------
    >>> chunk_windows(7, 3)
    array([1, 2, 3, 1, 2, 3, 1])
    """
    T = _checks.positive_int("T", T)
    K = _checks.positive_int("K", K)
    return np.arange(T) % K + 1


def geometric_windows(T, mean, *, rng, size=()):
    """Random windows for unbiased truncation, and the weights that make it unbiased.

    Each loss step t draws its own window K_t from the geometric distribution with mean
    ``mean``, P(K_t > d) = q^d with q = 1 - 1/mean, independently of the others. A
    contribution at lag d = t - k is kept with probability q^d; multiplied by the weight
    w_d = q^(-d) when kept, its expected value is the contribution itself. The weights grow
    geometrically with the lag: the price of being unbiased is variance.

    Parameters
    ----------
    T : int
        Number of steps.
    mean : float
        Mean window E[K_t], > 1.
    rng : numpy.random.Generator
    size : tuple of int, default ()
        Leading shape of independent draws (e.g. one per model).

    Returns
    -------
    windows : numpy.ndarray of int, shape size + (T,)
    weights : numpy.ndarray, shape (T,)
        w_d for lags d = 0, ..., T - 1.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> windows, weights = geometric_windows(4, 2.0, rng=rng)
    >>> windows.shape, weights
    ((4,), array([1., 2., 4., 8.]))
    >>> many, _ = geometric_windows(4, 2.0, rng=np.random.default_rng(0),
    ...                             size=(20000,))
    >>> bool(abs(np.mean(many > 1) - 0.5) < 0.02)  # P(K_t > 1) = q = 1/2
    True
    """
    T = _checks.positive_int("T", T)
    mean = _checks.positive_float("mean", mean)
    if mean <= 1:
        raise ValueError(f"mean must be > 1 (a mean window of 1 cuts every lag d >= 1 for sure), got {mean!r}")
    rng = _checks.generator("rng", rng)
    if isinstance(size, (int, np.integer)):
        size = (size,)
    size = tuple(_checks.nonnegative_int("size", s) for s in size)
    q = 1.0 - 1.0 / mean
    windows = rng.geometric(1.0 / mean, size=size + (T,))
    with np.errstate(over="ignore"):
        weights = q ** -np.arange(T, dtype=float)
    return windows, weights


def kept_mask(T, window):
    """Which contributions a truncation keeps: a (T, T) array, row t, column k.

    Entry [t - 1, k - 1] is True where 0 <= t - k < K_t.

    Parameters
    ----------
    T : int
    window : int or array_like of int, shape (T,)
        K, or the window K_t of every loss step.

    Examples
    --------
    >>> kept_mask(4, 2).astype(int)
    array([[1, 0, 0, 0],
           [1, 1, 0, 0],
           [0, 1, 1, 0],
           [0, 0, 1, 1]])
    """
    T = _checks.positive_int("T", T)
    window = _window("window", window)
    if np.ndim(window) not in (0, 1) or np.size(window) not in (1, T):
        raise ValueError(f"window must be an integer or an array of shape ({T},), got shape {np.shape(window)}")
    window = np.broadcast_to(window, (T,))
    lag = np.subtract.outer(np.arange(T), np.arange(T))
    return (lag >= 0) & (lag < window[:, None])


def _per_model(name, value, M, T, kind):
    """``value`` broadcast to (M..., T), with a message naming ``name`` if it does not fit."""
    try:
        return np.broadcast_to(value, M + (T,))
    except ValueError:
        raise ValueError(f"{name} of shape {np.shape(value)} does not broadcast to the model shape and the "
                         f"{kind}, {M + (T,)}") from None


def backward(params, fwd, dy, *, window, weights=None, check_finite=True):
    """Truncated BPTT: the gradient from the contributions C_{t,k} with t - k < K_t only.

    The error signal of every loss step t starts at e_{t,t} = W_hy^T dL/dy_t and moves back
    one step at a time, e_{t,k-1} = W_hh^T (f'(a_k) * e_{t,k}), for all t at once; at lag
    d = t - k, dL_t/da_k = f'(a_k) * e_{t,k} is added to dL/da_k where d < K_t (times the
    lag's weight) and left out elsewhere. The loop runs over lags d < max K_t, so the work
    grows with the window: about (K - 1) T products with W_hh for a band of width K, against
    T - 1 for full BPTT (see :func:`cost`). The weight gradients are then sums over time, as in :func:`gradcourse.rnn.backward`;
    those of W_hy and b_y are the full ones, since they act at step t only.

    Parameters
    ----------
    params : dict
        RNN parameters (see :mod:`gradcourse.rnn`), optionally with model axes M.
    fwd : gradcourse.rnn.Forward
        The forward pass with these parameters.
    dy : array_like, shape of ``fwd.y``
        dL/dy_t for every step.
    window : int or array_like of int
        K (every loss step keeps the last K steps, itself included), or windows K_t
        broadcastable to (M..., T), e.g. from :func:`chunk_windows` or
        :func:`geometric_windows`. A window >= T cuts nothing.
    weights : array_like, optional
        Weights w_d of the lags d = 0, ..., T - 1, broadcastable to (M..., T), finite and
        >= 0: a kept contribution at lag d is multiplied by w_d. Default 1 for every lag.
    check_finite : bool, default True
        Raise if the backward signal overflows.

    Returns
    -------
    dict of numpy.ndarray
        The truncated dL/d(param) for every key of ``params``.

    Raises
    ------
    ValueError
        If ``fwd`` was computed with other parameters, or ``dy``, ``window`` or ``weights``
        have the wrong shape or values.
    TypeError
        If ``window`` is not made of integers.
    gradcourse.errors.NonFiniteError
        If the backward signal overflows.

    Examples
    --------
    >>> p = rnn.init_params(1, 3, 1, rng=np.random.default_rng(0))
    >>> fwd = rnn.forward(p, np.ones((5, 2, 1)))
    >>> dy = np.ones((5, 2, 1))
    >>> one = backward(p, fwd, dy, window=1)   # immediate terms only
    >>> full = rnn.backward(p, fwd, dy)
    >>> bool(np.allclose(one["W_hy"], full["W_hy"]))  # the readout is not cut
    True
    >>> whole = backward(p, fwd, dy, window=5)  # K = T: nothing is cut
    >>> bool(np.allclose(whole["W_hh"], full["W_hh"]))
    True
    """
    sizes = rnn.check_params(params)
    _params.check_record(params, fwd, rnn.Forward, "rnn")
    dy = _params.core("dy", _checks.as_array("dy", dy, finite=check_finite), (), fwd.y.shape)
    M, T = sizes.model_shape, fwd.a.shape[-3]
    windows = _per_model("window", _window("window", window), M, T, "steps")
    if weights is None:
        weights = np.ones(T)
    weights = _checks.as_array("weights", weights)
    if np.any(weights < 0):
        raise ValueError("weights must be >= 0")
    weights = _per_model("weights", weights, M, T, "lags")
    f_prime = _params.f_prime_from_output(fwd.activation, fwd.activation_kwargs, fwd.h)  # f'(a_k)
    # the lags d = 0..reach-1 that any loss step keeps
    reach = min(int(windows.max()), T)
    # overflow and invalid values are detected below
    with np.errstate(over="ignore", invalid="ignore"):
        # lag 0: e[k] = e_{k,k} = dL_k/dh_k
        e = _params.times(dy, params["W_hy"])
        da = np.zeros_like(fwd.a)  # dL/da_k, truncated
        for d in range(reach):
            # e[k] = e_{k+d,k} and delta[k] = dL_{k+d}/da_k for k = 1..T-d
            delta = e * f_prime[..., : T - d, :, :]
            # (M..., T - d): lag d's weight where the loss keeps it, else 0
            kept = windows[..., d:] > d
            factor = np.where(kept, weights[..., d : d + 1], 0.0)
            da[..., : T - d, :, :] += factor[..., None, None] * delta
            if d + 1 < reach:
                # e_{t,k-1} = W_hh^T (f'(a_k) * e_{t,k}), all t of this lag
                e = _params.times(delta[..., 1:, :, :], params["W_hh"])
        later = (..., slice(1, None), slice(None), slice(None))  # steps 2..T
        grads = {
            "W_xh": _params.sum_outer(da, fwd.x),
            "W_hh": _params.sum_outer(da[later], fwd.h[..., :-1, :, :]) + swap(da[..., 0, :, :]) @ fwd.h0,
            "b_h": da.sum(axis=(-3, -2)),
            "W_hy": _params.sum_outer(dy, fwd.h),
            "b_y": dy.sum(axis=(-3, -2)),
        }
    if check_finite:
        _params.first_nonfinite_step("the backward signal dL/da_t", da)
    return grads


def loss_and_grads(params, x, y_target, *, window, weights=None, h0=None, activation="tanh",
                   loss_at="every_step", check_finite=True, **activation_kwargs):
    """Forward pass, squared-error loss and truncated BPTT in one call.

    The same as :func:`gradcourse.rnn.loss_and_grads`, with the gradient of :func:`backward`;
    the loss itself is the full one. With this function this module is a model module for
    :func:`gradcourse.train.train`.

    Parameters
    ----------
    params, x, y_target, h0, activation, loss_at, check_finite, **activation_kwargs
        As in :func:`gradcourse.rnn.loss_and_grads`.
    window, weights
        As in :func:`backward`.

    Returns
    -------
    loss : float, or numpy.ndarray of shape M
    grads : dict of numpy.ndarray

    Examples
    --------
    >>> p = rnn.init_params(2, 3, 1, rng=np.random.default_rng(0))
    >>> x, y_target = np.zeros((3, 1, 2)), np.ones((3, 1, 1))
    >>> loss, grads = loss_and_grads(p, x, y_target, window=1)
    >>> loss
    1.5
    """
    loss_fn = losses.sequence_loss(loss_at)
    _window("window", window)  # a wrong window costs no forward pass
    fwd = rnn.forward(params, x, h0=h0, activation=activation, check_finite=check_finite, **activation_kwargs)
    loss, dy = loss_fn(fwd.y, y_target, model_ndim=fwd.y.ndim - 3, check_finite=check_finite)
    return loss, backward(params, fwd, dy, window=window, weights=weights, check_finite=check_finite)


class Cost(NamedTuple):
    """What the backward pass of one sequence costs."""

    products: int  #: products of an error signal with W_hh^T (n_h^2 multiplications each)
    states: int  #: hidden states held in memory at once, in an online implementation


def cost(T, K, scheme):
    """Products with W_hh^T and stored states of one sequence's backward pass.

    Counted from the algorithms, with a loss at every step:

    - ``"full"``: one backward sweep over all T steps, T - 1 products (the signal of every
      loss is carried along by the sweep); all T states must be kept for it.
    - ``"chunks"``: one sweep per chunk of K steps, K - 1 products in each full chunk
      (T - ceil(T / K) in all); one chunk's states are kept, min(K, T).
    - ``"band"``: the loss at step t sends its own signal back min(t, K) - 1 steps, since
      no two losses cut at the same place; sum over t of (min(t, K) - 1) products. The last
      min(K, T) states are kept.

    Parameters
    ----------
    T : int
        Number of steps.
    K : int
        Window (unused for ``"full"``).
    scheme : {"full", "chunks", "band"}

    Returns
    -------
    Cost

    Examples
    --------
    >>> cost(100, 10, "full"), cost(100, 10, "chunks")
    (Cost(products=99, states=100), Cost(products=90, states=10))
    >>> cost(100, 10, "band")
    Cost(products=855, states=10)
    """
    T = _checks.positive_int("T", T)
    K = _checks.positive_int("K", K)
    _checks.one_of("scheme", scheme, SCHEMES)
    if scheme == "full" or K >= T and scheme == "chunks":
        return Cost(T - 1, T)
    if scheme == "chunks":
        return Cost(T - math.ceil(T / K), K)
    K = min(K, T)
    # sum over t of (min(t, K) - 1): K(K - 1)/2 for t <= K, then K - 1 for each later t
    return Cost(K * (K - 1) // 2 + (T - K) * (K - 1), K)
