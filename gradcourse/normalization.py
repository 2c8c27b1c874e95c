"""Layer normalization, its backward pass and Jacobian, in a deep net and in an RNN.

Layer normalization (Ba, Kiros and Hinton, 2016) rescales the n units of one example's
pre-activation a to mean 0 and variance 1, then applies a gain and a bias::

    mu    = mean(a),   sigma = sqrt(var(a) + eps),   z = (a - mu) / sigma
    LN(a) = gamma * z + beta

(mean and biased variance over the last axis, the units). Its Jacobian is::

    dLN(a)/da = diag(gamma) (I - 1 1^T / n - z z^T / n) / sigma

so LN(c a) = LN(a) for c > 0 (up to eps), and the signal passed back through it scales
like 1 / sigma: a larger pre-activation gets a smaller gradient. Batch normalization
(Ioffe and Szegedy, 2015) takes the same statistics over the examples of a batch instead,
one unit at a time (:func:`batch_norm`).

The deep network (:func:`mlp_forward`, :func:`mlp_backward`) takes the parameters of
:mod:`gradcourse.mlp` and normalizes every hidden layer, h_l = f(LN(a_l)) with gain 1 and
bias 0 (their values at initialization); the output layer stays linear. The RNN
(:func:`rnn_forward`, :func:`step_jacobians`) takes the parameters of :mod:`gradcourse.rnn`
and computes h_t = f(LN(a_t)), a_t = W_hh h_{t-1} + W_xh x_t + b_h, whose step Jacobian is
diag(f'(LN(a_t))) J_LN(a_t) W_hh. Arrays are time-major, (T, B, n), as in the RNN.

Examples
--------
>>> import numpy as np
>>> a = np.array([[1.0, 2.0, 3.0, 6.0]])
>>> y = layer_norm(a, eps=0.0)
>>> np.round(y, 4)
array([[-1.069 , -0.5345,  0.    ,  1.6036]])
>>> bool(np.allclose(layer_norm(1000 * a, eps=0.0), y))
True
"""

from typing import NamedTuple

import numpy as np

from . import _checks, _params, activations, mlp, rnn
from ._params import swap

__all__ = [
    "EPS",
    "LayerNorm",
    "forward",
    "backward",
    "layer_norm",
    "jacobian",
    "batch_norm",
    "MLPForward",
    "mlp_forward",
    "mlp_backward",
    "RNNForward",
    "rnn_forward",
    "step_jacobians",
]

#: The default eps added to the variance, as in PyTorch's ``nn.LayerNorm``.
EPS = 1e-5


def _eps(eps):
    return _checks.nonnegative_float("eps", eps)


def _units(name, a):
    a = _checks.as_array(name, a, min_ndim=1, nonempty=True)
    if a.shape[-1] < 2:
        raise ValueError(f"{name} must have at least 2 units on its last axis to normalize over, got shape {a.shape}")
    return a


def _affine(name, value, n, default):
    """``gamma`` or ``beta``: None (the default value) or an array of shape (n,)."""
    if value is None:
        return np.full(n, default)
    return _checks.as_array(name, value, shape=(n,))


class LayerNorm(NamedTuple):
    """What the forward pass of layer normalization records for the backward pass."""

    z: np.ndarray  #: the normalized units (a - mean) / sigma, shape of a
    sigma: np.ndarray  #: sqrt(var(a) + eps), shape of a without its last axis, kept as size 1
    gamma: np.ndarray  #: the gain, (n,)
    beta: np.ndarray  #: the bias, (n,)
    y: np.ndarray  #: LN(a) = gamma * z + beta


def forward(a, *, gamma=None, beta=None, eps=EPS):
    """Layer normalization of ``a`` over its last axis, with the record the backward pass needs.

    Parameters
    ----------
    a : array_like, shape (..., n)
        Pre-activations; every leading axis (time, batch, models) is one example each.
    gamma, beta : array_like, shape (n,), optional
        Gain and bias; 1 and 0 if omitted.
    eps : float, default :data:`EPS`
        Added to the variance; must be >= 0. With eps = 0 a constant row has no scale and
        cannot be normalized: that raises.

    Returns
    -------
    LayerNorm

    Examples
    --------
    >>> out = forward(np.array([[0.0, 2.0]]), eps=0.0)
    >>> out.z, out.sigma
    (array([[-1.,  1.]]), array([[1.]]))
    """
    a = _units("a", a)
    eps = _eps(eps)
    n = a.shape[-1]
    gamma = _affine("gamma", gamma, n, 1.0)
    beta = _affine("beta", beta, n, 0.0)
    centred = a - a.mean(axis=-1, keepdims=True)
    variance = np.mean(centred**2, axis=-1, keepdims=True)
    if eps == 0 and np.any(variance == 0):
        raise ValueError("a has a row whose units are all equal; with eps = 0 it cannot be normalized (use eps > 0)")
    sigma = np.sqrt(variance + eps)
    z = centred / sigma
    return LayerNorm(z, sigma, gamma, beta, gamma * z + beta)


def layer_norm(a, *, gamma=None, beta=None, eps=EPS):
    """LN(a) = gamma * (a - mean(a)) / sqrt(var(a) + eps) + beta, over the last axis.

    Examples
    --------
    >>> gamma, beta = np.array([2.0, 2.0]), np.array([0.0, 1.0])
    >>> layer_norm(np.array([1.0, 3.0]), gamma=gamma, beta=beta, eps=0.0)
    array([-2.,  3.])
    """
    return forward(a, gamma=gamma, beta=beta, eps=eps).y


def backward(fwd, dy):
    """dL/da, dL/dgamma and dL/dbeta from dL/dy, y = LN(a).

    With dz = dy * gamma, row by row (the Jacobian's transpose applied to dy)::

        dL/da = (dz - mean(dz) - z * mean(dz * z)) / sigma

    and dL/dgamma, dL/dbeta summed over every leading axis.

    Parameters
    ----------
    fwd : LayerNorm
        What :func:`forward` returned.
    dy : array_like, shape of ``fwd.y``

    Returns
    -------
    dict
        ``{"a": dL/da, "gamma": dL/dgamma, "beta": dL/dbeta}``.

    Examples
    --------
    >>> out = forward(np.array([[1.0, 2.0, 4.0]]))
    >>> grads = backward(out, np.ones((1, 3)))
    >>> # dy = 1 shifts every output unit alike, which LN undoes
    >>> bool(np.allclose(grads["a"], 0)), grads["beta"]
    (True, array([1., 1., 1.]))
    """
    if not isinstance(fwd, LayerNorm):
        raise TypeError(f"fwd must be the record returned by normalization.forward, got {type(fwd).__name__}")
    dy = _checks.as_array("dy", dy, shape=fwd.y.shape)
    dz = dy * fwd.gamma
    da = (dz - dz.mean(axis=-1, keepdims=True) - fwd.z * np.mean(dz * fwd.z, axis=-1, keepdims=True)) / fwd.sigma
    leading = tuple(range(dy.ndim - 1))
    return {"a": da, "gamma": np.sum(dy * fwd.z, axis=leading), "beta": np.sum(dy, axis=leading)}


def jacobian(a, *, gamma=None, eps=EPS):
    """The Jacobian dLN(a)/da = diag(gamma) (I - 1 1^T / n - z z^T / n) / sigma, in closed form.

    Parameters
    ----------
    a : array_like, shape (..., n)
    gamma : array_like, shape (n,), optional
    eps : float, default :data:`EPS`

    Returns
    -------
    numpy.ndarray, shape (..., n, n)
        Row i holds the derivatives of output unit i.

    Examples
    --------
    >>> a = np.array([1.0, 2.0, 4.0])
    >>> J = jacobian(a, eps=0.0)
    >>> # LN(c a) = LN(a): no change along a itself
    >>> bool(np.allclose(J @ a, 0))
    True
    """
    out = forward(a, gamma=gamma, eps=eps)
    n = out.z.shape[-1]
    z = out.z
    P = np.eye(n) - 1.0 / n - z[..., :, None] * z[..., None, :] / n
    return out.gamma[:, None] * P / out.sigma[..., None]


def batch_norm(a, *, gamma=None, beta=None, eps=EPS):
    """Batch normalization in training mode: each unit normalized over the batch (axis -2).

    BN(a)[b, i] = gamma_i (a[b, i] - mu_i) / sqrt(v_i + eps) + beta_i, with mu_i and v_i the
    mean and variance of a[:, i]: the statistics of unit i come from the B examples of the
    batch, so one example's output depends on the others in its batch.

    Parameters
    ----------
    a : array_like, shape (..., B, n)
    gamma, beta : array_like, shape (n,), optional
    eps : float, default :data:`EPS`

    Examples
    --------
    >>> a = np.array([[1.0, 5.0], [3.0, 5.0]])
    >>> np.round(batch_norm(a, eps=1e-12), 6)
    array([[-1.,  0.],
           [ 1.,  0.]])
    >>> batch_norm(a[:1])   # one example: every unit becomes beta
    array([[0., 0.]])
    """
    a = _checks.as_array("a", a, min_ndim=2, nonempty=True)
    eps = _eps(eps)
    n = a.shape[-1]
    gamma, beta = _affine("gamma", gamma, n, 1.0), _affine("beta", beta, n, 0.0)
    centred = a - a.mean(axis=-2, keepdims=True)
    variance = np.mean(centred**2, axis=-2, keepdims=True)
    if eps == 0 and np.any(variance == 0):
        raise ValueError("a has a unit that is equal on every example (or a batch of one example); with eps = 0 "
                         "it cannot be normalized")
    return gamma * centred / np.sqrt(variance + eps) + beta


# ---------------------------------------------------------------------------------------------
# A deep feedforward network with layer normalization in every hidden layer.
# ---------------------------------------------------------------------------------------------


class MLPForward(NamedTuple):
    """What :func:`mlp_forward` records (layer l at list index l - 1)."""

    x: np.ndarray  #: the input h_0, (B, n_0) or (M..., B, n_0)
    a: list  #: pre-activations a_1, ..., a_L
    norms: list  #: the :class:`LayerNorm` records of hidden layers 1..L-1
    h: list  #: hidden outputs h_l = f(LN(a_l)), l = 1..L-1
    y: np.ndarray  #: the output y = a_L (not normalized)
    activation: str  #: name of f
    eps: float  #: the eps of every layer norm
    params_id: tuple  #: fingerprint of the parameters


def mlp_forward(params, x, *, activation="tanh", eps=EPS):
    """The network of :mod:`gradcourse.mlp` with h_l = f(LN(a_l)) in every hidden layer.

    Parameters
    ----------
    params : dict
        As from :func:`gradcourse.mlp.init_params` (optionally with model axes).
    x : array_like, shape (B, n_0) or (M..., B, n_0)
    activation : str, default "tanh"
    eps : float, default :data:`EPS`

    Returns
    -------
    MLPForward

    Examples
    --------
    >>> p = mlp.init_params([3, 8, 8, 1], rng=np.random.default_rng(0))
    >>> out = mlp_forward(p, np.ones((5, 3)) + np.arange(3))
    >>> z_std = out.norms[0].z.std(axis=-1)
    >>> out.y.shape, len(out.h), bool(np.allclose(z_std, 1, atol=1e-4))
    ((5, 1), 2, True)
    """
    L = mlp.n_layers(params)
    f, _ = activations.get(activation)
    eps = _eps(eps)
    x = _checks.as_array("x", x, min_ndim=2)
    if x.shape[-1] != params["W1"].shape[-1]:
        raise ValueError(f"x must have {params['W1'].shape[-1]} inputs on its last axis, got shape {x.shape}")
    h_prev, a, norms, h = x, [], [], []
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is detected below
        for l in range(1, L + 1):
            a.append(h_prev @ swap(params[f"W{l}"]) + params[f"b{l}"][..., None, :])
            if l < L:
                norms.append(forward(a[-1], eps=eps))
                h_prev = f(norms[-1].y)
                h.append(h_prev)
    if not np.all(np.isfinite(a[-1])):
        raise _checks.NonFiniteError("the output of the layer-normalized network overflowed to inf or NaN")
    return MLPForward(x, a, norms, h, a[-1], activation, eps, _params.fingerprint(params))


def mlp_backward(params, fwd, dy):
    """Backpropagation through :func:`mlp_forward`: the weight gradients and dL/dh_l per layer.

    From the top down, with g_l = dL/dh_l::

        g_{L-1}     = dy W_L
        dL/dLN(a_l) = g_l * f'(LN(a_l))
        dL/da_l     = J_LN(a_l)^T dL/dLN(a_l)    (as backward does)
        g_{l-1}     = dL/da_l W_l

    Returns
    -------
    grads : dict
        dL/d(param) for every key of ``params``.
    dh : list
        dL/dh_l for l = 0..L-1 (index l; l = 0 is dL/dx).

    Examples
    --------
    >>> p = mlp.init_params([2, 4, 1], rng=np.random.default_rng(0))
    >>> out = mlp_forward(p, np.array([[1.0, -1.0], [0.5, 2.0]]))
    >>> grads, dh = mlp_backward(p, out, np.ones((2, 1)))
    >>> grads["W1"].shape, [g.shape for g in dh]
    ((4, 2), [(2, 2), (2, 4)])
    """
    L = mlp.n_layers(params)
    _params.check_record(params, fwd, MLPForward, "normalization.mlp_forward")
    _, f_prime = activations.get(fwd.activation)
    dy = _checks.as_array("dy", dy, shape=fwd.y.shape)
    inputs = [fwd.x, *fwd.h]
    grads, dh = {}, [None] * L
    da = dy
    for l in range(L, 0, -1):
        grads[f"W{l}"] = swap(da) @ np.broadcast_to(inputs[l - 1], da.shape[:-1] + inputs[l - 1].shape[-1:])
        grads[f"b{l}"] = da.sum(axis=-2)
        dh[l - 1] = da @ params[f"W{l}"]
        if l > 1:
            norm = fwd.norms[l - 2]
            da = backward(norm, dh[l - 1] * f_prime(norm.y))["a"]
    return {key: grads[key] for key in params}, dh


# ---------------------------------------------------------------------------------------------
# An RNN with layer normalization of the pre-activation.
# ---------------------------------------------------------------------------------------------


class RNNForward(NamedTuple):
    """What :func:`rnn_forward` records (time-major; step t at index t - 1)."""

    x: np.ndarray  #: inputs x_1..x_T, (T, B, n_x)
    h0: np.ndarray  #: the initial state, (B, n_h)
    a: np.ndarray  #: pre-activations a_t, (T, B, n_h)
    ln: np.ndarray  #: LN(a_t), (T, B, n_h)
    h: np.ndarray  #: states h_t = f(LN(a_t)), (T, B, n_h)
    activation: str  #: name of f
    eps: float  #: the layer norm's eps
    params_id: tuple  #: fingerprint of the parameters


def rnn_forward(params, x, *, h0=None, activation="tanh", eps=EPS):
    """The recurrence h_t = f(LN(a_t)), a_t = W_hh h_{t-1} + W_xh x_t + b_h, for one model.

    The layer norm has gain 1 and bias 0, its values at initialization.

    Parameters
    ----------
    params : dict
        As from :func:`gradcourse.rnn.init_params`, one model (no model axes).
    x : array_like, shape (T, B, n_x)
    h0 : array_like, shape (B, n_h), optional
        Zeros if omitted.
    activation : str, default "tanh"
    eps : float, default :data:`EPS`

    Returns
    -------
    RNNForward

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = rnn.init_params(2, 8, 1, rng=rng, recurrent_scale=5.0)
    >>> out = rnn_forward(p, np.ones((4, 3, 2)))
    >>> out.h.shape, bool(np.allclose(out.ln.mean(axis=-1), 0))
    ((4, 3, 8), True)
    """
    sizes = rnn.check_params(params)
    if sizes.model_shape:
        raise ValueError(f"params must be one model's (no model axes), got model axes {sizes.model_shape}")
    f, _ = activations.get(activation)
    eps = _eps(eps)
    x = _params.sequence("x", x, (), sizes.n_x)
    T, B = x.shape[:2]
    h0 = _params.initial_state("h0", h0, (), B, sizes.n_h)
    a_in = x @ params["W_xh"].T + params["b_h"]
    a, ln, h = (np.empty((T, B, sizes.n_h)) for _ in range(3))
    h_prev = h0
    for t in range(T):
        a[t] = h_prev @ params["W_hh"].T + a_in[t]
        ln[t] = layer_norm(a[t], eps=eps)
        h[t] = h_prev = f(ln[t])
    return RNNForward(x, h0, a, ln, h, activation, eps, _params.fingerprint(params))


def step_jacobians(params, fwd):
    """The step Jacobians dh_t/dh_{t-1} = diag(f'(LN(a_t))) J_LN(a_t) W_hh, every t and sequence.

    Returns
    -------
    numpy.ndarray, shape (T, B, n_h, n_h)

    Examples
    --------
    >>> p = rnn.init_params(1, 4, 1, rng=np.random.default_rng(0))
    >>> x = np.random.default_rng(1).normal(size=(3, 1, 1))
    >>> out = rnn_forward(p, x)
    >>> J = step_jacobians(p, out)
    >>> J.shape, bool(np.allclose(np.ones(4) @ jacobian(out.a[1, 0]), 0))
    ((3, 1, 4, 4), True)
    """
    rnn.check_params(params)
    _params.check_record(params, fwd, RNNForward, "normalization.rnn_forward")
    _, f_prime = activations.get(fwd.activation)
    return f_prime(fwd.ln)[..., :, None] * (jacobian(fwd.a, eps=fwd.eps) @ params["W_hh"])
