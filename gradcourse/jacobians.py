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

Examples
--------
>>> import numpy as np
>>> from gradcourse import rnn
>>> rng = np.random.default_rng(0)
>>> params = rnn.init_params(1, 8, 1, rng=rng, recurrent_scale=0.5)
>>> x = rng.normal(size=(20, 1, 1))
>>> fwd = rnn.forward(params, x)
>>> _, dy = rnn.mse(fwd.y, np.zeros_like(fwd.y))
>>> M = contribution_map(params, x, fwd, dy)
>>> M.shape
(20, 20)
>>> bool(M[19, 0] < 1e-3 * M[19, 19])  # small recurrent weights: far steps fade
True
"""

import numpy as np

from . import _checks, activations, rnn

__all__ = ["step_jacobians", "state_jacobian_norms", "signals_by_lag", "contributions", "contribution_map", "WRT"]

#: What a contribution can be taken with respect to.
WRT = ("W_hh", "W_xh", "b_h", "h")


def step_jacobians(params, fwd, *, activation="tanh"):
    """The step Jacobians J_t = dh_t/dh_{t-1} = diag(f'(a_t)) W_hh for every t and sequence.

    Parameters
    ----------
    params : dict
        RNN parameters (see :mod:`gradcourse.rnn`).
    fwd : gradcourse.rnn.Forward
        A forward pass with these parameters.
    activation : str, default "tanh"

    Returns
    -------
    numpy.ndarray, shape (T, B, n_h, n_h)
        ``J[t, b]`` is the Jacobian of step t + 1 for sequence b (row i is unit i of h_t).

    Examples
    --------
    >>> p = rnn.init_params(1, 2, 1, rng=np.random.default_rng(0))
    >>> fwd = rnn.forward(p, np.zeros((3, 1, 1)))   # zero input: a_t = 0, f'(0) = 1
    >>> np.allclose(step_jacobians(p, fwd)[0, 0], p["W_hh"])
    True
    """
    rnn.check_params(params)
    _, f_prime = activations.get(activation)
    return f_prime(fwd.a)[..., :, None] * params["W_hh"]


def state_jacobian_norms(params, fwd, *, activation="tanh", batch=0):
    """Spectral norms ||dh_t/dh_k|| = ||J_t ... J_{k+1}|| for all 1 <= k <= t <= T.

    The products of all t at one lag d = t - k are held as one (T - d, n_h, n_h)
    array and extended to lag d + 1 by one batched matrix product, so there is a
    Python loop over lags only.

    Parameters
    ----------
    params : dict
    fwd : gradcourse.rnn.Forward
    activation : str, default "tanh"
    batch : int, default 0
        Which sequence of the batch.

    Returns
    -------
    numpy.ndarray, shape (T, T)
        Entry [t - 1, k - 1] is ||dh_t/dh_k|| (1 on the diagonal, 0 for k > t).

    Examples
    --------
    >>> p = rnn.init_params(1, 3, 1, rng=np.random.default_rng(0))
    >>> fwd = rnn.forward(p, np.zeros((4, 1, 1)))   # zero input: every J_t is W_hh
    >>> N = state_jacobian_norms(p, fwd)
    >>> bool(np.isclose(N[3, 0], np.linalg.norm(np.linalg.matrix_power(p["W_hh"], 3), 2)))
    True
    """
    J = step_jacobians(params, fwd, activation=activation)
    if not (isinstance(batch, (int, np.integer)) and 0 <= batch < J.shape[1]):
        raise ValueError(f"batch must be an integer in [0, {J.shape[1]}), got {batch!r}")
    J = J[:, batch]  # J[i] is the Jacobian of step i + 1
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


def signals_by_lag(params, fwd, dy, *, activation="tanh"):
    """Yield the back-travelling error signals e_{t,k} = dL_t/dh_k, one lag at a time.

    For lag d = 0, 1, ..., T - 1 yields ``(d, g)`` where ``g`` has shape
    (T - d, B, n_h) and ``g[k] = dL_{k+d}/dh_k`` (0-based steps). Going from lag d
    to d + 1 is one product with W_hh for all t together:
    e_{t,k-1} = (e_{t,k} * f'(a_k)) W_hh.

    Parameters
    ----------
    params : dict
    fwd : gradcourse.rnn.Forward
    dy : array_like, shape (T, B, n_y)
        dL_t/dy_t for every step.
    activation : str, default "tanh"

    Examples
    --------
    >>> p = rnn.init_params(1, 3, 1, rng=np.random.default_rng(0))
    >>> fwd = rnn.forward(p, np.ones((4, 2, 1)))
    >>> [g.shape for d, g in signals_by_lag(p, fwd, np.ones((4, 2, 1)))]
    [(4, 2, 3), (3, 2, 3), (2, 2, 3), (1, 2, 3)]
    """
    rnn.check_params(params)
    _, f_prime = activations.get(activation)
    dy = _checks.as_array("dy", dy, shape=fwd.y.shape)
    f_prime_a = f_prime(fwd.a)
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


def _step_inputs(params, x, fwd, wrt):
    """The factor that multiplies dL/da_k in dL/d(wrt) at each step k, (T, B, m) or None."""
    if wrt == "W_hh":
        return np.concatenate([fwd.h0[None], fwd.h[:-1]])  # h_{k-1}
    if wrt == "W_xh":
        return _checks.as_array("x", x, shape=(*fwd.a.shape[:2], params["W_xh"].shape[1]))
    return None


def _check_wrt(wrt):
    if wrt not in WRT:
        raise ValueError(f"wrt must be one of {WRT}, got {wrt!r}")


def contributions(params, x, fwd, dy, *, activation="tanh", wrt="W_hh"):
    """Every contribution C_{t,k} itself, as a (T, T, ...) array: for small sizes only.

    ``C[t, k]`` is the part of dL_t/d(wrt) that comes from step k (zero for k > t).
    Summed over k it gives dL_t/d(wrt); summed over t and k, the BPTT gradient.
    With ``wrt="h"``, ``C[t, k]`` is e_{t,k} = dL_t/dh_k (shape (B, n_h)).

    Parameters
    ----------
    params, x, fwd, dy, activation
        As in :func:`gradcourse.rnn.backward`.
    wrt : {"W_hh", "W_xh", "b_h", "h"}, default "W_hh"

    Returns
    -------
    numpy.ndarray, shape (T, T) + shape of the gradient of ``wrt``

    Examples
    --------
    >>> p = rnn.init_params(2, 3, 1, rng=np.random.default_rng(0))
    >>> x = np.random.default_rng(1).normal(size=(5, 2, 2))
    >>> fwd = rnn.forward(p, x)
    >>> _, dy = rnn.mse(fwd.y, np.zeros_like(fwd.y))
    >>> C = contributions(p, x, fwd, dy)
    >>> np.allclose(C.sum(axis=(0, 1)), rnn.backward(p, x, fwd, dy)["W_hh"])
    True
    """
    _check_wrt(wrt)
    _, f_prime = activations.get(activation)
    f_prime_a = f_prime(fwd.a)
    inputs = _step_inputs(params, x, fwd, wrt)
    T, B, n_h = fwd.a.shape
    shape = {"h": (B, n_h), "b_h": (n_h,)}.get(wrt) or params[wrt].shape
    C = np.zeros((T, T) + shape)
    for d, g in signals_by_lag(params, fwd, dy, activation=activation):
        k = np.arange(T - d)
        if wrt == "h":
            C[k + d, k] = g
            continue
        delta = g * f_prime_a[: T - d]  # dL_t/da_k
        C[k + d, k] = delta.sum(axis=1) if inputs is None else np.einsum("kbi,kbj->kij", delta, inputs[: T - d])
    return C


def contribution_map(params, x, fwd, dy, *, activation="tanh", wrt="W_hh"):
    """Frobenius norms ||C_{t,k}|| of all contributions, without storing them.

    Row t, column k (0-based); entries with k > t are 0 (a later step cannot
    affect an earlier loss). The norm of a batch-summed outer product
    sum_b delta_b u_b^T is taken through Gram matrices, so only (B, B) blocks
    are formed, never the (n_h, m) matrices themselves.

    Parameters
    ----------
    params, x, fwd, dy, activation
        As in :func:`gradcourse.rnn.backward`.
    wrt : {"W_hh", "W_xh", "b_h", "h"}, default "W_hh"
        ``"h"`` gives ||e_{t,k}|| = ||dL_t/dh_k|| (over batch and units).

    Returns
    -------
    numpy.ndarray, shape (T, T)

    Examples
    --------
    >>> p = rnn.init_params(2, 3, 1, rng=np.random.default_rng(0))
    >>> x = np.random.default_rng(1).normal(size=(5, 2, 2))
    >>> fwd = rnn.forward(p, x)
    >>> _, dy = rnn.mse(fwd.y, np.zeros_like(fwd.y))
    >>> C = contributions(p, x, fwd, dy)
    >>> np.allclose(contribution_map(p, x, fwd, dy), np.linalg.norm(C, axis=(2, 3)))
    True
    """
    _check_wrt(wrt)
    _, f_prime = activations.get(activation)
    f_prime_a = f_prime(fwd.a)
    inputs = _step_inputs(params, x, fwd, wrt)
    T = len(fwd.a)
    # ||sum_b delta_b u_b^T||^2 = sum_{b,c} (delta_b . delta_c)(u_b . u_c)
    gram_inputs = None if inputs is None else np.einsum("kbj,kcj->kbc", inputs, inputs)
    M = np.zeros((T, T))
    for d, g in signals_by_lag(params, fwd, dy, activation=activation):
        k = np.arange(T - d)
        if wrt == "h":
            M[k + d, k] = np.sqrt(np.einsum("kbi,kbi->k", g, g))
            continue
        delta = g * f_prime_a[: T - d]
        if gram_inputs is None:  # b_h: the contribution is sum_b delta_b
            s = delta.sum(axis=1)
            M[k + d, k] = np.sqrt(np.einsum("ki,ki->k", s, s))
        else:
            gram_delta = np.einsum("kbi,kci->kbc", delta, delta)
            M[k + d, k] = np.sqrt(np.maximum(np.einsum("kbc,kbc->k", gram_delta, gram_inputs[: T - d]), 0.0))
    return M
