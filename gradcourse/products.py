"""Long products of matrices: one matrix used at every step, or a new one at each.

An RNN multiplies its error signal by the same W_hh at every step back; a deep feedforward
network multiplies it by a different W_l at every layer. For Gaussian matrices with entries
N(0, g^2 / n) the two differ in a way that is easy to state. With independent layers,
||W_k ... W_1 v||^2 / ||v||^2 is g^(2k) times a product of k independent chi^2_n / n
variables, so its mean is exactly g^(2k) and the logarithm of the norm spreads like
sqrt(k). With one matrix, W^k v turns towards the dominant eigenvector of W and grows by
rho(W) per step: the one draw's spectral radius is multiplied in k times, so its
deviation from g compounds, and the logarithm spreads like k.

:func:`product_trace` follows ||M_j ... M_1 v|| and the direction of M_j ... M_1 v through
any sequence of layers, in logarithms, so that nothing overflows; :func:`dominant_alignment`
says how far a vector lies in the dominant eigenvector's plane; :func:`signal_ratios`
measures, for many RNNs at once, how much of each error signal survives a given number of
steps back.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> W = gaussian_matrices(4, g=1.0, rng=rng)
>>> trace = product_trace([W] * 3, np.ones(4))
>>> W3_v = np.linalg.matrix_power(W, 3) @ np.ones(4)
>>> bool(np.isclose(np.exp(trace.log_norms[3]), np.linalg.norm(W3_v)))
True
"""

from typing import NamedTuple

import numpy as np

from . import _checks, _params, activations, rnn

__all__ = ["gaussian_matrices", "ProductTrace", "product_trace", "dominant_alignment", "signal_ratios"]


def gaussian_matrices(n, *, g, rng, size=()):
    """Random n x n matrices with independent entries N(0, g^2 / n).

    Parameters
    ----------
    n : int
        Size of each matrix, >= 1.
    g : float
        Scale, > 0. Each column of such a matrix maps a unit vector to one whose squared
        length has mean g^2.
    rng : numpy.random.Generator
    size : int or tuple of int, default ()
        Leading axes: one matrix per entry (seeds, models, ...).

    Returns
    -------
    numpy.ndarray, shape size + (n, n)

    Examples
    --------
    >>> W = gaussian_matrices(3, g=2.0, rng=np.random.default_rng(0), size=5)
    >>> W.shape
    (5, 3, 3)
    """
    n = _checks.positive_int("n", n)
    g = _checks.positive_float("g", g)
    rng = _checks.generator("rng", rng)
    if not isinstance(size, tuple):
        size = (size,)
    size = tuple(_checks.nonnegative_int("size", s) for s in size)
    return rng.normal(scale=g / np.sqrt(n), size=size + (n, n))


class ProductTrace(NamedTuple):
    """What :func:`product_trace` returns."""

    log_norms: np.ndarray
    """ln ||M_j ... M_1 v|| for j = 0, 1, ..., k, shape (k + 1, M...)."""
    directions: np.ndarray
    """The unit vectors M_j ... M_1 v / ||M_j ... M_1 v||, shape (k + 1, M..., n)."""


def product_trace(layers, v):
    """Norm (as a logarithm) and direction of M_j ... M_1 v after every layer j.

    The vector is renormalised after every product and the logarithms of the stretches are
    summed, so the result is exact to rounding however far the product leaves float64's
    range. A product that maps the vector to exactly 0 gives ln 0 = -inf from there on,
    with a zero direction.

    Parameters
    ----------
    layers : iterable of array_like, each of shape (n, n) or (M..., n, n)
        M_1, M_2, ..., M_k in the order in which they act. For powers of one matrix W,
        pass ``[W] * k``; for a new matrix at each step, a list or a generator of them.
    v : array_like, shape (n,) or (M..., n)
        The starting vector, not zero.

    Returns
    -------
    ProductTrace
        ``(log_norms, directions)``, shapes (k + 1, M...) and (k + 1, M..., n); entry 0
        is v itself.

    Examples
    --------
    >>> D = np.diag([2.0, 0.5])
    >>> trace = product_trace([D] * 3, np.array([1.0, 1.0]))
    >>> np.exp(trace.log_norms).round(4)
    array([1.4142, 2.0616, 4.0078, 8.001 ])
    >>> trace.directions[-1].round(4)
    array([0.9999, 0.0156])
    >>> # 1e200 ** 3 overflows float64; its logarithm does not
    >>> huge = product_trace([np.array([[1e200]])] * 3, [1.0])
    >>> round(float(huge.log_norms[-1] / np.log(10)), 9)
    600.0
    """
    v = _checks.as_array("v", v, min_ndim=1, nonempty=True)
    norm = np.linalg.norm(v, axis=-1)
    if np.any(norm == 0):
        raise ValueError("v must not be the zero vector: it has no direction to follow")
    n = v.shape[-1]
    u = v / norm[..., None]
    log_norms, directions = [np.log(norm)], [u]
    for j, M in enumerate(layers, start=1):
        M = _checks.as_array(f"layers[{j - 1}]", M, min_ndim=2)
        if M.shape[-2:] != (n, n):
            raise ValueError(f"layers[{j - 1}] must have shape (M..., {n}, {n}) to act on v of length {n}, "
                             f"got shape {M.shape}")
        # M = B 2^E with max |B| in [1/2, 1), exactly, so that B u cannot overflow
        E = np.frexp(np.max(np.abs(M), axis=(-2, -1)))[1]
        with np.errstate(divide="ignore", invalid="ignore", under="ignore"):  # a zero product: -inf, direction 0
            w = (np.ldexp(M, -E[..., None, None]) @ u[..., None])[..., 0]
            stretch = np.linalg.norm(w, axis=-1)
            u = np.where(stretch[..., None] > 0, w / stretch[..., None], 0.0)
            log_norms.append(log_norms[-1] + np.log(stretch) + E * np.log(2.0))
        directions.append(u)
    if len(log_norms) == 1:
        raise ValueError("layers must hold at least one matrix")
    shape = np.broadcast_shapes(*(d.shape for d in directions))
    return ProductTrace(np.stack([np.broadcast_to(x, shape[:-1]) for x in log_norms]),
                        np.stack([np.broadcast_to(d, shape) for d in directions]))


def dominant_alignment(W, u):
    """How much of ``u`` lies in the dominant eigen-direction of ``W``: ||Q^T u|| / ||u||.

    Q is an orthonormal basis of the real invariant subspace of the eigenvalue of largest
    modulus: the line of its eigenvector x if it is real, the plane of Re x and Im x if it
    is one of a complex pair. The powers W^k v of almost every v turn into that subspace
    (into the plane, where they keep rotating), so the result tends to 1 along them;
    for a random direction in n dimensions its root mean square is sqrt(1 / n) or
    sqrt(2 / n), its median smaller (about 0.12 and 0.21 for n = 32).

    Parameters
    ----------
    W : array_like, shape (n, n) or (M..., n, n)
    u : array_like, shape (..., n), broadcast against W's M...
        Nonzero vectors.

    Returns
    -------
    numpy.ndarray, shape of u without its last axis (broadcast with M...)
        Values in [0, 1].

    Examples
    --------
    >>> W = np.diag([3.0, 1.0, 0.5])
    >>> v = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    >>> dominant_alignment(W, v).round(4)
    array([1.    , 0.7071])
    >>> # a rotation by 90 degrees in the first plane: eigenvalues +-2i there
    >>> R = np.array([[0.0, -2.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    >>> round(float(dominant_alignment(R, np.array([0.6, 0.8, 0.0]))), 4)
    1.0
    """
    W = _checks.as_array("W", W, min_ndim=2, nonempty=True)
    n = W.shape[-1]
    if W.shape[-2] != n:
        raise ValueError(f"W must be square, shape (M..., n, n), got shape {W.shape}")
    u = _checks.as_array("u", u, min_ndim=1)
    if u.shape[-1] != n:
        raise ValueError(f"u must have shape (..., {n}) to match W, got shape {u.shape}")
    norm = np.linalg.norm(u, axis=-1)
    if np.any(norm == 0):
        raise ValueError("u must not hold a zero vector")
    values, vectors = np.linalg.eig(W)
    top = np.argmax(np.abs(values), axis=-1)
    x = np.take_along_axis(vectors, top[..., None, None], axis=-1)[..., 0]  # (M..., n)
    pair = np.stack([x.real, x.imag], axis=-1)  # (M..., n, 2)
    basis, s, _ = np.linalg.svd(pair, full_matrices=False)
    basis = basis * (s > 1e-10 * s[..., :1])[..., None, :]  # drop Im x when it is 0
    coefficients = (u[..., None, :] @ basis)[..., 0, :]
    return np.minimum(np.linalg.norm(coefficients, axis=-1) / norm, 1.0)


def signal_ratios(params, fwd, dy, distance):
    """||dL_t/dh_{t-d}|| / ||dL_t/dh_t|| for every loss step t >= d, for many RNNs at once.

    The share of each loss step's error signal that survives d = ``distance`` steps back,
    one diagonal of the map of :func:`gradcourse.jacobians.contribution_map` (``wrt="h"``)
    divided by its main diagonal. Unlike that function, this one takes parameters with
    model axes (see :mod:`gradcourse.stacking`): the signals of all models and all t travel
    back together, one matrix product per step, e_{t,k-1} = (e_{t,k} * f'(a_k)) W_hh.

    Parameters
    ----------
    params : dict
        RNN parameters, optionally with model axes M.
    fwd : gradcourse.rnn.Forward
        The forward pass with these parameters.
    dy : array_like, shape (M..., T, B, n_y)
        dL_t/dy_t for every step.
    distance : int
        d, from 0 to T - 1.

    Returns
    -------
    numpy.ndarray, shape (M..., T - d, B)
        Entry [..., j, b] belongs to the loss at 0-based step j + d traced back to step j;
        NaN where the immediate signal dL_t/dh_t is 0.

    Examples
    --------
    >>> from gradcourse import losses, stacking
    >>> def small(seed):
    ...     rng = np.random.default_rng(seed)
    ...     return rnn.init_params(1, 4, 1, rng=rng, recurrent_scale=0.5)
    >>> two = stacking.stack([small(0), small(1)])
    >>> fwd = rnn.forward(two, np.ones((2, 6, 1, 1)))
    >>> _, dy = losses.mse(fwd.y, np.zeros((6, 1, 1)), model_ndim=1)
    >>> signal_ratios(two, fwd, dy, 5).shape
    (2, 1, 1)
    >>> bool(np.all(signal_ratios(two, fwd, dy, 5) < 0.1))
    True
    """
    sizes = rnn.check_params(params)
    _params.check_record(params, fwd, rnn.Forward, "rnn")
    M, n_h = sizes.model_shape, sizes.n_h
    T, B = fwd.a.shape[-3:-1]
    dy = _params.core("dy", _checks.as_array("dy", dy), M, (T, B, sizes.n_y))
    if not _checks._is_int(distance) or not 0 <= distance < T:
        raise ValueError(f"distance must be an integer from 0 to T - 1 = {T - 1}, got {distance!r}")
    distance = int(distance)
    _, f_prime = activations.get(fwd.activation, **fwd.activation_kwargs)
    slopes = f_prime(fwd.a)  # (M..., T, B, n_h)
    W_hh = params["W_hh"][..., None, :, :]  # one matrix per model, for all of its (t, b)
    e = dy @ params["W_hy"][..., None, :, :]  # e[j] = dL_j/dh_j
    immediate = np.linalg.norm(e, axis=-1)[..., distance:, :]
    with np.errstate(over="ignore", invalid="ignore"):
        for lag in range(distance):
            # e[j] holds dL_{j+lag}/dh_j for j >= 0; step each back to j - 1
            e = (e[..., 1:, :, :] * slopes[..., 1 : T - lag, :, :]) @ W_hh
        with np.errstate(divide="ignore"):
            return np.linalg.norm(e, axis=-1) / np.where(immediate > 0, immediate, np.nan)
