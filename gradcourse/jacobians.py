"""Jacobians of the recurrence and the t-by-k map of gradient contributions.

With J_i = dh_i/dh_{i-1} = diag(f'(a_i)) W_hh, backpropagation through time splits
the gradient of the loss at step t into one term per earlier step k::

    dL_t/dW_hh = sum_{k <= t} C_{t,k},
    C_{t,k}    = diag(f'(a_k)) (J_{k+1}^T ... J_t^T) dL_t/dh_t  h_{k-1}^T.

Here e_{t,k} = dL_t/dh_k = (J_t ... J_{k+1})^T dL_t/dh_t is the error signal of
step t after travelling back t - k steps. :func:`contribution_map` gives the norm
of every C_{t,k} (or of every e_{t,k}) as a T-by-T array, row t, column k.

No Python loop runs over (t, k) pairs: the signals of all t at one lag d = t - k
form one array, and a single matrix product moves them all one step further back.
These functions take one model (no model axes); the forward record says which
activation, inputs and initial state it used.

Examples
--------
>>> import numpy as np
>>> from gradcourse import losses, rnn
>>> rng = np.random.default_rng(0)
>>> params = rnn.init_params(1, 8, 1, rng=rng, recurrent_scale=0.5)
>>> fwd = rnn.forward(params, rng.normal(size=(20, 1, 1)))
>>> _, dy = losses.mse(fwd.y, np.zeros_like(fwd.y))
>>> M = contribution_map(params, fwd, dy)
>>> M.shape
(20, 20)
>>> # small recurrent weights: far steps fade
>>> bool(M[19, 0] < 1e-3 * M[19, 19])
True
"""

import numpy as np

from . import _checks, _params, activations, rnn

__all__ = ["step_jacobians", "product_norms", "state_jacobian_norms", "signals_by_lag", "contributions", "contribution_map", "WRT"]

#: What a contribution can be taken with respect to.
WRT = ("W_hh", "W_xh", "b_h", "h")


def _one_model(params, fwd):
    """Check that ``fwd`` is this one model's forward record; return f' at every a_t."""
    sizes = rnn.check_params(params)
    if sizes.model_shape:
        raise ValueError(f"params must be one model's (no model axes), got model axes {sizes.model_shape}")
    _params.check_record(params, fwd, rnn.Forward, "rnn")
    _, f_prime = activations.get(fwd.activation, **fwd.activation_kwargs)
    return f_prime(fwd.a)


def step_jacobians(params, fwd):
    """The step Jacobians J_t = dh_t/dh_{t-1} = diag(f'(a_t)) W_hh for every t and sequence.

    Parameters
    ----------
    params : dict
        RNN parameters (see :mod:`gradcourse.rnn`), one model.
    fwd : gradcourse.rnn.Forward
        A forward pass with these parameters.

    Returns
    -------
    numpy.ndarray, shape (T, B, n_h, n_h)
        ``J[t, b]`` is the Jacobian of step t + 1 for sequence b (row i is unit i of h_t).

    Examples
    --------
    >>> p = rnn.init_params(1, 2, 1, rng=np.random.default_rng(0))
    >>> # zero input: a_t = 0, f'(0) = 1
    >>> fwd = rnn.forward(p, np.zeros((3, 1, 1)))
    >>> np.allclose(step_jacobians(p, fwd)[0, 0], p["W_hh"])
    True
    """
    return _one_model(params, fwd)[..., :, None] * params["W_hh"]


def state_jacobian_norms(params, fwd, *, batch=0):
    """Spectral norms ||dh_t/dh_k|| = ||J_t ... J_{k+1}|| for all 1 <= k <= t <= T.

    The products of all t at one lag d = t - k are held as one (T - d, n_h, n_h)
    array and extended to lag d + 1 by one batched matrix product, so there is a
    Python loop over lags only. A product that overflows is reported as inf.

    Parameters
    ----------
    params : dict
    fwd : gradcourse.rnn.Forward
    batch : int, default 0
        Which sequence of the batch.

    Returns
    -------
    numpy.ndarray, shape (T, T)
        Entry [t - 1, k - 1] is ||dh_t/dh_k|| (1 on the diagonal, 0 for k > t).

    Examples
    --------
    >>> p = rnn.init_params(1, 3, 1, rng=np.random.default_rng(0))
    >>> # zero input: every J_t is W_hh
    >>> fwd = rnn.forward(p, np.zeros((4, 1, 1)))
    >>> N = state_jacobian_norms(p, fwd)
    >>> W3 = np.linalg.matrix_power(p["W_hh"], 3)
    >>> bool(np.isclose(N[3, 0], np.linalg.norm(W3, 2)))
    True
    """
    J = step_jacobians(params, fwd)
    if isinstance(batch, bool) or not (isinstance(batch, (int, np.integer)) and 0 <= batch < J.shape[1]):
        raise ValueError(f"batch must be an integer in [0, {J.shape[1]}), got {batch!r}")
    return product_norms(J[:, batch])  # J[i] is the Jacobian of step i + 1


def product_norms(J):
    """Spectral norms ||J_t ... J_{k+1}|| of all products of step Jacobians, as a (T, T) map.

    The map of :func:`state_jacobian_norms` for any step Jacobians, e.g. those of a network
    with layer normalization (:func:`gradcourse.normalization.step_jacobians`). The products
    of all t at one lag d = t - k are held as one (T - d, n, n) array and extended to lag
    d + 1 by one batched matrix product, so there is a Python loop over lags only. A product
    that overflows is reported as inf.

    Parameters
    ----------
    J : array_like, shape (T, n, n)
        J[i] is the Jacobian of step i + 1 (one sequence).

    Returns
    -------
    numpy.ndarray, shape (T, T)
        Entry [t - 1, k - 1] is ||J_t ... J_{k+1}|| (1 on the diagonal, 0 for k > t).

    Examples
    --------
    >>> product_norms(np.stack([2 * np.eye(2)] * 3))
    array([[1., 0., 0.],
           [2., 1., 0.],
           [4., 2., 1.]])
    """
    J = _checks.as_array("J", J, ndim=3, nonempty=True)
    if J.shape[1] != J.shape[2]:
        raise ValueError(f"J must hold square matrices, shape (T, n, n), got shape {J.shape}")
    T, n_h = len(J), J.shape[-1]
    N = np.zeros((T, T))
    P = np.broadcast_to(np.eye(n_h), (T, n_h, n_h))  # lag 0: dh_t/dh_t = I, t = 1..T
    with np.errstate(over="ignore", invalid="ignore"):  # overflowed products show as inf
        for d in range(T):
            t = np.arange(d, T)  # 0-based rows t, columns k = t - d
            finite = np.isfinite(P).all(axis=(1, 2))
            N[t, t - d] = np.inf
            N[t[finite], t[finite] - d] = np.linalg.norm(P[finite], ord=2, axis=(1, 2))
            if d + 1 < T:
                # dh_t/dh_{k-1} = (dh_t/dh_k) J_k, for every t at this lag at once
                P = P[1:] @ J[1 : T - d]
    return N


def _signals(params, fwd, dy, f_prime_a):
    """Yield (d, e) with e[k] = dL_{k+d}/dh_k, shape (T - d, B, n_h), for d = 0..T-1."""
    W_hh = params["W_hh"]
    g = dy @ params["W_hy"]  # lag 0: dL_t/dh_t
    T = len(g)
    for d in range(T):
        yield d, g
        if d + 1 < T:
            # g[1:] holds dL_t/dh_k for k = 1..T-d-1; step each back to k - 1.
            # Flattened to 2-D so that this is a single matrix product.
            delta = g[1:] * f_prime_a[1 : T - d]
            g = (delta.reshape(-1, W_hh.shape[0]) @ W_hh).reshape(delta.shape)


def signals_by_lag(params, fwd, dy):
    """The back-travelling error signals e_{t,k} = dL_t/dh_k, one lag at a time.

    Returns an iterator over lags d = 0, 1, ..., T - 1 of pairs ``(d, e)``, where ``e``
    has shape (T - d, B, n_h) and ``e[k] = dL_{k+d}/dh_k`` (0-based steps). Going from lag
    d to d + 1 is one product with W_hh for all t together:
    e_{t,k-1} = (e_{t,k} * f'(a_k)) W_hh. The arguments are checked at once, not when
    the iterator is first used.

    Parameters
    ----------
    params : dict
    fwd : gradcourse.rnn.Forward
    dy : array_like, shape (T, B, n_y)
        dL_t/dy_t for every step.

    Examples
    --------
    >>> p = rnn.init_params(1, 3, 1, rng=np.random.default_rng(0))
    >>> fwd = rnn.forward(p, np.ones((4, 2, 1)))
    >>> [e.shape for d, e in signals_by_lag(p, fwd, np.ones((4, 2, 1)))]
    [(4, 2, 3), (3, 2, 3), (2, 2, 3), (1, 2, 3)]
    """
    f_prime_a = _one_model(params, fwd)
    dy = _params.core("dy", _checks.as_array("dy", dy), (), fwd.y.shape)
    return _signals(params, fwd, dy, f_prime_a)


def _step_inputs(fwd, wrt):
    """The factor u_k that multiplies dL/da_k in dL/d(wrt) at each step k, (T, B, m), or None."""
    if wrt == "W_hh":
        return _params.previous_states(fwd.h0, fwd.h)  # h_{k-1}
    if wrt == "W_xh":
        return fwd.x
    return None


def _check_wrt(wrt):
    if wrt not in WRT:
        raise ValueError(f"wrt must be one of {WRT}, got {wrt!r}")


def _by_lag(params, fwd, dy, wrt):
    """Yield (d, k, part) where part[j] is dL/da_k (or e_{t,k} for wrt="h") at lag d,
    together with the step inputs u_k that it multiplies (None for b_h and h)."""
    _check_wrt(wrt)
    f_prime_a = _one_model(params, fwd)
    dy = _params.core("dy", _checks.as_array("dy", dy), (), fwd.y.shape)
    inputs = _step_inputs(fwd, wrt)
    T = len(fwd.a)
    for d, e in _signals(params, fwd, dy, f_prime_a):
        part = e if wrt == "h" else e * f_prime_a[: T - d]
        yield d, np.arange(T - d), part, None if inputs is None else inputs[: T - d]


def contributions(params, fwd, dy, *, wrt="W_hh"):
    """Every contribution C_{t,k} itself, as a (T, T, ...) array: for small sizes only.

    ``C[t, k]`` is the part of dL_t/d(wrt) that comes from step k (zero for k > t).
    Summed over k it gives dL_t/d(wrt); summed over t and k, the BPTT gradient.
    With ``wrt="h"``, ``C[t, k]`` is e_{t,k} = dL_t/dh_k (shape (B, n_h)).

    Parameters
    ----------
    params, fwd, dy
        As in :func:`gradcourse.rnn.backward`.
    wrt : {"W_hh", "W_xh", "b_h", "h"}, default "W_hh"

    Returns
    -------
    numpy.ndarray, shape (T, T) + shape of the gradient of ``wrt``

    Examples
    --------
    >>> from gradcourse import losses
    >>> p = rnn.init_params(2, 3, 1, rng=np.random.default_rng(0))
    >>> fwd = rnn.forward(p, np.random.default_rng(1).normal(size=(5, 2, 2)))
    >>> _, dy = losses.mse(fwd.y, np.zeros_like(fwd.y))
    >>> C = contributions(p, fwd, dy)
    >>> np.allclose(C.sum(axis=(0, 1)), rnn.backward(p, fwd, dy)["W_hh"])
    True
    """
    _check_wrt(wrt)
    T, B, n_h = fwd.a.shape
    shape = {"h": (B, n_h), "b_h": (n_h,)}.get(wrt) or np.shape(params[wrt])
    C = np.zeros((T, T) + shape)
    for d, k, part, u in _by_lag(params, fwd, dy, wrt):
        if wrt == "h":
            C[k + d, k] = part
        elif u is None:
            C[k + d, k] = part.sum(axis=1)
        else:
            C[k + d, k] = np.swapaxes(part, 1, 2) @ u  # sum over the batch of outer products
    return C


def contribution_map(params, fwd, dy, *, wrt="W_hh"):
    """Frobenius norms ||C_{t,k}|| of all contributions, without keeping them.

    Row t, column k (0-based); entries with k > t are 0 (a later step cannot
    affect an earlier loss). For one sequence (B = 1) each C_{t,k} is an outer product
    delta u^T, whose norm is exactly ||delta|| ||u||; for a batch, each lag's matrices are
    formed (memory linear in B) and their norms taken, so no cancellation can creep in.

    Parameters
    ----------
    params, fwd, dy
        As in :func:`gradcourse.rnn.backward`.
    wrt : {"W_hh", "W_xh", "b_h", "h"}, default "W_hh"
        ``"h"`` gives ||e_{t,k}|| = ||dL_t/dh_k|| (over batch and units).

    Returns
    -------
    numpy.ndarray, shape (T, T)

    Examples
    --------
    >>> from gradcourse import losses
    >>> p = rnn.init_params(2, 3, 1, rng=np.random.default_rng(0))
    >>> fwd = rnn.forward(p, np.random.default_rng(1).normal(size=(5, 2, 2)))
    >>> _, dy = losses.mse(fwd.y, np.zeros_like(fwd.y))
    >>> C = contributions(p, fwd, dy)
    >>> np.allclose(contribution_map(p, fwd, dy),
    ...             np.linalg.norm(C, axis=(2, 3)))
    True
    """
    T = len(fwd.a)
    M = np.zeros((T, T))
    for d, k, part, u in _by_lag(params, fwd, dy, wrt):
        if u is None:  # h: the signal itself; b_h: its sum over the batch
            s = part.reshape(len(k), -1) if wrt == "h" else part.sum(axis=1)
            M[k + d, k] = np.linalg.norm(s, axis=1)
        elif part.shape[1] == 1:  # one sequence: ||delta u^T|| = ||delta|| ||u||
            M[k + d, k] = np.linalg.norm(part[:, 0], axis=1) * np.linalg.norm(u[:, 0], axis=1)
        else:
            M[k + d, k] = np.linalg.norm(np.swapaxes(part, 1, 2) @ u, axis=(1, 2))
    return M
