"""One training loop for every model of the course: the RNN, the LSTM and the deep net.

It takes a model module (:mod:`gradcourse.rnn`, :mod:`gradcourse.lstm` or
:mod:`gradcourse.mlp`), parameters (optionally stacked: many models at once, see
:mod:`gradcourse.stacking`), data, a learning rate (one, or one per model) and an update
rule from :mod:`gradcourse.updates`. At every step it records the loss and, before any
clipping, the gradient norm of every parameter group and of all together. A model whose
loss or gradient stops being finite stops there, with a report saying at which step and
what; the other models go on.

Examples
--------
>>> import numpy as np
>>> from gradcourse import rnn, tasks
>>> params = rnn.init_params(2, 8, 1, rng=np.random.default_rng(0))
>>> task = lambda rng: tasks.adding_problem(T=10, batch=16, rng=rng)
>>> history = train(rnn, params, task, steps=20, lr=0.1,
...                 rng=np.random.default_rng(1), loss_at="last_step")
>>> history.losses.shape, history.grad_norms["W_hh"].shape, history.stopped
((20,), (20,), '')
"""

from types import ModuleType
from typing import NamedTuple

import numpy as np

from . import _checks, clipping, stacking, updates

__all__ = ["History", "train"]


class History(NamedTuple):
    """What :func:`train` recorded; M is the model shape, () for one model.

    A model stops at the first step whose loss or gradient is not finite, or whose update
    would make a parameter infinite; its parameters are then the last ones whose loss and
    gradient were finite."""

    params: dict  #: parameters after the last update (for a stopped model, its last healthy ones)
    losses: np.ndarray  #: (steps, M...): the loss at each step, before its update; NaN once a model stopped
    global_norms: np.ndarray  #: (steps, M...): the norm of the whole gradient, before clipping
    grad_norms: dict  #: parameter name -> (steps, M...): the norm of that gradient, before clipping
    stopped: object  #: why each model stopped early ("" if it ran all its steps): a str, or an array of str


def _learning_rate(lr, M):
    try:
        if isinstance(lr, (str, bytes)):  # np.asarray would parse "0.1"
            raise TypeError
        lr = np.asarray(lr, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"lr must be a number or an array of numbers, got {lr!r}") from None
    if not np.all(np.isfinite(lr)) or not np.all(lr > 0):
        raise ValueError(f"lr must be finite and > 0, got {lr}")
    try:
        return np.broadcast_to(lr, M)
    except ValueError:
        raise ValueError(f"lr of shape {lr.shape} does not broadcast to the model shape {M}") from None


def _report(step, loss, norms):
    if not np.isfinite(loss):
        return f"stopped at step {step}: the loss is {loss}"
    bad = [k for k, n in norms.items() if not np.isfinite(n)]
    return f"stopped at step {step}: the gradient of {', '.join(bad)} is not finite"


def train(model, params, data, *, steps, lr, update=None, rng=None, **loss_kwargs):
    """Train by gradient steps, with fresh batches or on fixed data.

    Parameters
    ----------
    model : module
        :mod:`gradcourse.rnn`, :mod:`gradcourse.lstm` or :mod:`gradcourse.mlp`.
    params : dict
        Initial parameters for that model, optionally with leading model axes M; not modified.
    data : tuple or callable
        ``(x, y_target)`` to train on the same data at every step (full batch), or
        ``task(rng) -> (x, y_target)`` for a fresh batch at every step (e.g. a wrapper of
        :func:`gradcourse.tasks.adding_problem`). All models see the same data.
    steps : int
    lr : float or array_like
        Learning rate; an array broadcastable to M gives each model its own. For
        :func:`gradcourse.updates.sign` it is the size of every component's step.
    update : gradcourse.updates.UpdateRule, default :func:`gradcourse.updates.sgd`
    rng : numpy.random.Generator, optional
        Draws the batches; required when ``data`` is a callable, unused otherwise.
    **loss_kwargs
        Passed to ``model.loss_and_grads``, e.g. ``activation``, ``residual``,
        ``loss_at="last_step"``.

    Returns
    -------
    History

    Examples
    --------
    >>> from gradcourse import mlp
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(32, 2)); y_target = x @ np.array([[1.0], [-2.0]])
    >>> params = mlp.init_params([2, 1], rng=rng)
    >>> result = train(mlp, params, (x, y_target), lr=0.1, steps=200)
    >>> bool(result.losses[-1] < 1e-6 * result.losses[0]), result.stopped
    (True, '')
    """
    if not isinstance(model, ModuleType) or not hasattr(model, "loss_and_grads"):
        raise TypeError(f"model must be a model module such as gradcourse.rnn, got {model!r}")
    steps = _checks.positive_int("steps", steps)
    update = updates.sgd() if update is None else update
    if not isinstance(update, updates.UpdateRule):
        raise TypeError(f"update must be a rule from gradcourse.updates, e.g. updates.sgd(), got {update!r}")
    if callable(data):
        rng = _checks.generator("rng", rng)
        draw = lambda: data(rng)  # noqa: E731
    elif isinstance(data, tuple) and len(data) == 2:
        if rng is not None:
            raise ValueError("rng is only used when data is a callable that draws batches")
        draw = lambda: data  # noqa: E731
    else:
        raise TypeError(f"data must be a pair (x, y_target) or a callable task(rng), got {type(data).__name__}")
    params = {k: np.array(v, dtype=float) for k, v in params.items()} if isinstance(params, dict) else params
    M = stacking.model_shape(params)
    lr = _learning_rate(lr, M)
    alive = np.ones(M, dtype=bool)
    stopped = np.full(M, "", dtype=object)
    losses = np.full((steps,) + M, np.nan)
    global_norms = np.full((steps,) + M, np.nan)
    grad_norms = {k: np.full((steps,) + M, np.nan) for k in params}
    ran = steps
    previous = params  # the parameters before the last update: finite loss and gradient
    for step in range(steps):
        x, y_target = draw()
        with np.errstate(all="ignore"):  # non-finite values are found and reported below
            loss, grads = model.loss_and_grads(params, x, y_target, check_finite=False, **loss_kwargs)
            norms = {k: clipping.global_norm({k: g}, model_ndim=len(M)) for k, g in grads.items()}
            # the norm of everything is the norm of the groups' norms
            total = clipping.global_norm({k: np.asarray(n)[..., None] for k, n in norms.items()}, model_ndim=len(M))
        ok = alive & np.isfinite(loss) & np.isfinite(total)
        for idx in np.ndindex(M):
            if alive[idx] and not ok[idx]:
                stopped[idx] = _report(step, np.asarray(loss)[idx], {k: np.asarray(n)[idx] for k, n in norms.items()})
        for k, p in params.items():  # a model that stops here goes back to its last healthy parameters
            params[k] = np.where((alive & ~ok).reshape(M + (1,) * (p.ndim - len(M))), previous[k], p)
        alive = ok
        if not alive.any():
            ran = step
            break
        losses[step] = np.where(alive, loss, np.nan)
        global_norms[step] = np.where(alive, total, np.nan)
        for k in params:
            grad_norms[k][step] = np.where(alive, norms[k], np.nan)
        with np.errstate(all="ignore"):
            direction = update(grads, model_ndim=len(M))
            stepped = {k: p - lr.reshape(M + (1,) * (p.ndim - len(M))) * direction[k] for k, p in params.items()}
        finite = np.ones(M, dtype=bool)
        for k, p in stepped.items():
            finite &= np.isfinite(p).reshape(M + (-1,)).all(axis=-1)
        for idx in np.ndindex(M):
            if alive[idx] and not finite[idx]:
                stopped[idx] = f"stopped after step {step}: its update overflowed the parameters"
        alive &= finite  # such a model keeps the parameters it had before the step
        previous = params
        params = {k: np.where(alive.reshape(M + (1,) * (p.ndim - len(M))), stepped[k], p) for k, p in params.items()}
    return History(
        params,
        losses[:ran],
        global_norms[:ran],
        {k: v[:ran] for k, v in grad_norms.items()},
        stopped[()] if M == () else stopped,
    )
