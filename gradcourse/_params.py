"""What the three models (rnn, lstm, mlp) share: parameter dicts with optional model axes,
forward records that know which parameters made them, and sums over time and batch.

A parameter dict may carry leading *model axes*: every array has shape
``(model_shape..., *core_shape)``, where the core shape is that of one model. S models
(different seeds, different learning rates) then run as one, since numpy's matmul
broadcasts over the leading axes. ``model_shape == ()`` is the usual single model.
"""

import zlib

import numpy as np

from . import _checks
from .errors import NonFiniteError


def check(params, core_ndims, names_hint):
    """Check a parameter dict's keys, dtypes, finiteness and model axes.

    ``core_ndims`` maps each key to the number of axes of one model's array. Returns the
    dict of float arrays and the model shape they share.
    """
    if not isinstance(params, dict) or set(params) != set(core_ndims):
        got = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"params must be a dict with keys {names_hint}, got {got}")
    arrays, model_shape = {}, None
    for key, core_ndim in core_ndims.items():
        arr = _checks.as_array(f"params[{key!r}]", params[key])
        if arr.ndim < core_ndim:
            raise ValueError(f"params[{key!r}] must have at least {core_ndim} axes, got shape {arr.shape}")
        lead = arr.shape[: arr.ndim - core_ndim]
        if model_shape is None:
            model_shape = lead
        elif lead != model_shape:
            raise ValueError(
                f"params[{key!r}] has model axes {lead} but other parameters have {model_shape}: "
                "every parameter must carry the same leading model axes"
            )
        arrays[key] = arr
    return arrays, model_shape


def core(name, arr, model_shape, core_shape):
    """Check that ``arr`` (already an array) has shape ``(model_shape..., *core_shape)``;
    ``None`` in ``core_shape`` is a free size."""
    want = tuple(model_shape) + tuple(core_shape)
    if arr.ndim != len(want) or any(w is not None and w != s for w, s in zip(want, arr.shape)):
        described = "(" + ", ".join("any" if w is None else str(w) for w in want) + ")"
        raise ValueError(f"{name} must have shape {described}, got shape {arr.shape}")
    return arr


def sequence(name, x, model_shape, n):
    """Inputs of shape (T, B, n), shared by all models, or (model_shape..., T, B, n)."""
    x = _checks.as_array(name, x)
    if x.ndim == 3:
        core(name, x, (), (None, None, n))
    else:
        core(name, x, model_shape, (None, None, n))
    T, B = x.shape[-3:-1]
    if T == 0 or B == 0:
        raise ValueError(f"{name} must have at least one step and one sequence, got shape {x.shape}")
    return x


def recurrent_sizes(p, M, n_h, gates, W_in, W_rec, b):
    """Check a recurrent model's arrays, whose input, recurrent and bias blocks have ``gates`` n_h
    rows (1 for the vanilla RNN, 4 for the LSTM), and its readout; return ``(n_x, n_y)``."""
    core(f"params[{W_rec!r}]", p[W_rec], M, (gates * n_h, n_h))
    n_x = core(f"params[{W_in!r}]", p[W_in], M, (gates * n_h, None)).shape[-1]
    n_y = core("params['W_hy']", p["W_hy"], M, (None, n_h)).shape[-2]
    core(f"params[{b!r}]", p[b], M, (gates * n_h,))
    core("params['b_y']", p["b_y"], M, (n_y,))
    return n_x, n_y


def initial_state(name, value, M, B, n_h):
    """An initial state of shape (M..., B, n_h): zeros if ``value`` is None, else ``value``, given
    as (B, n_h) for all models or (M..., B, n_h)."""
    if value is None:
        return np.zeros(M + (B, n_h))
    value = _checks.as_array(name, value)
    return np.broadcast_to(core(name, value, M if value.ndim > 2 else (), (B, n_h)), M + (B, n_h))


def previous_states(initial, states):
    """States at steps 0..T-1, from the initial state (M..., B, n) and the states 1..T (M..., T, B, n)."""
    return np.concatenate([initial[..., None, :, :], states[..., :-1, :, :]], axis=-3)


def fingerprint(params):
    """A checksum of every parameter's bytes: cheap, and different for different values."""
    return tuple(
        (key, np.shape(params[key]), zlib.crc32(np.ascontiguousarray(params[key], dtype=float).view(np.uint8)))
        for key in sorted(params)
    )


def check_record(params, fwd, record_type, module):
    """A forward record must come from this model and from exactly these parameters."""
    if not isinstance(fwd, record_type):
        raise TypeError(f"fwd must be the record returned by {module}.forward, got {type(fwd).__name__}")
    if fwd.params_id != fingerprint(params):
        raise ValueError(
            "fwd was computed with other parameters than params: run forward again with these parameters"
        )


def swap(W):
    """The transpose of every matrix in a stack: W^T for each model."""
    return np.swapaxes(W, -1, -2)


def sum_outer(u, v):
    """sum over steps t and sequences b of u[t, b] v[t, b]^T, per model, as one matrix product.

    ``u`` has shape (M..., T, B, n); ``v`` has shape (M..., T, B, m) or, shared by all
    models, (T, B, m). Returns (M..., n, m).
    """
    v = np.broadcast_to(v, u.shape[:-1] + v.shape[-1:])
    lead = u.shape[:-3]
    u2 = u.reshape(lead + (-1, u.shape[-1]))
    v2 = v.reshape(lead + (-1, v.shape[-1]))
    return swap(u2) @ v2


def first_nonfinite_step(name, values, time_axis=-3):
    """Raise :class:`NonFiniteError` naming the first step t (1-based) where any entry of
    ``values`` along ``time_axis`` is not finite, in any model."""
    moved = np.moveaxis(values, time_axis, 0)
    finite = np.isfinite(moved).reshape(len(moved), -1).all(axis=1)
    if not finite.all():
        t = int(np.argmin(finite)) + 1
        raise NonFiniteError(f"{name} overflowed to inf or NaN at step t={t} of {len(moved)}: the forward pass exploded")


_FROM_OUTPUT = {
    "tanh": lambda h: 1.0 - h * h,  # tanh' = 1 - tanh^2
    "sigmoid": lambda h: h * (1.0 - h),  # sigma' = sigma (1 - sigma)
    "relu": lambda h: (h > 0).astype(float),  # h > 0 exactly where a > 0
    "leaky_relu": lambda h, alpha=0.01: np.where(h > 0, 1.0, alpha),
}


def f_prime_from_output(activation, activation_kwargs, h):
    """f'(a) computed from h = f(a), as autograd frameworks do in the backward pass.

    It needs no transcendental function, so BPTT costs a few multiplications per unit and
    step. Its relative error is about 1e-16 / f'(a): negligible for gradients, though in
    deep saturation (f' below 1e-16) it gives 0 where :mod:`gradcourse.activations`
    keeps the tiny true value; the t-by-k maps of :mod:`gradcourse.jacobians` use the latter.
    """
    return _FROM_OUTPUT[activation](h, **activation_kwargs)


def times(u, W):
    """u @ W for arrays of steps and sequences, one matrix product per model.

    ``u`` has shape (M..., T, B, m) or, shared by all models, (T, B, m); ``W`` has shape
    (M..., m, n). The (T, B) axes are merged first, so each model takes one product of a
    (T B, m) matrix rather than T small ones. Returns (M..., T, B, n).
    """
    T, B, m = u.shape[-3:]
    merged = u.reshape(u.shape[:-3] + (T * B, m)) @ W
    return merged.reshape(merged.shape[:-2] + (T, B, W.shape[-1]))
