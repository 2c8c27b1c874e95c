"""A small training loop for recurrent networks: SGD, optionally clipped, or sign updates.

It records the loss and the global gradient norm (before any clipping) at every step, and
stops at the first step whose loss or gradient is not finite, saying so, with everything
recorded up to there.

Examples
--------
>>> import numpy as np
>>> from gradcourse import rnn, tasks
>>> params = rnn.init_params(2, 8, 1, rng=np.random.default_rng(0))
>>> task = lambda rng: tasks.adding_problem(T=10, batch=16, rng=rng)
>>> history = train_rnn(params, task, steps=20, lr=0.1, rng=np.random.default_rng(1))
>>> len(history.losses), len(history.grad_norms), history.stopped
(20, 20, '')
"""

from typing import NamedTuple

import numpy as np

from . import _checks, clipping, losses, lstm, rnn

__all__ = ["METHODS", "History", "train_rnn"]

#: Update rules: plain SGD, SGD with the gradient clipped by global norm or by value, sign updates.
METHODS = ("sgd", "clip_norm", "clip_value", "sign")


class History(NamedTuple):
    """What :func:`train_rnn` recorded."""

    params: dict  #: parameters after the last update
    losses: np.ndarray  #: loss at each step, before its update
    grad_norms: np.ndarray  #: global gradient norm at each step, before clipping
    stopped: str  #: why training stopped early; "" if it ran all its steps


def _update_direction(grads, method, threshold):
    if method == "sgd":
        return grads
    if method == "clip_norm":
        return clipping.clip_by_global_norm(grads, max_norm=threshold)[0]
    if method == "clip_value":
        return clipping.clip_by_value(grads, clip_value=threshold)
    return clipping.sign(grads)


def train_rnn(params, task, *, steps, lr, rng, method="sgd", threshold=None, activation="tanh", model="rnn"):
    """Train on fresh batches from ``task`` with the loss at the last step.

    Parameters
    ----------
    params : dict
        Initial parameters of a vanilla RNN (:mod:`gradcourse.rnn`) or, with
        ``model="lstm"``, of an LSTM (:mod:`gradcourse.lstm`); not modified.
    task : callable
        ``task(rng) -> (x, y)`` with x of shape (T, B, n_x) and targets y of shape (B, n_y),
        e.g. a wrapper of :func:`gradcourse.tasks.adding_problem`.
    steps : int
    lr : float
        Learning rate. For ``method="sign"`` it is the size of every component's step.
    rng : numpy.random.Generator
        Draws the batches.
    method : {"sgd", "clip_norm", "clip_value", "sign"}, default "sgd"
    threshold : float, optional
        ``max_norm`` for "clip_norm", ``clip_value`` for "clip_value"; required for those.
    activation : str, default "tanh"
        The vanilla RNN's nonlinearity (unused for the LSTM).
    model : {"rnn", "lstm"}, default "rnn"

    Returns
    -------
    History
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if (method in ("clip_norm", "clip_value")) != (threshold is not None):
        raise ValueError(f"threshold is required for method 'clip_norm' and 'clip_value' and unused otherwise; "
                         f"got method={method!r}, threshold={threshold!r}")
    if threshold is not None:
        threshold = _checks.positive_float("threshold", threshold)
    steps = _checks.positive_int("steps", steps)
    lr = _checks.positive_float("lr", lr)
    rng = _checks.generator("rng", rng)
    if model == "rnn":
        rnn.check_params(params)
        run = lambda p, x: rnn.forward(p, x, activation=activation)
        back = lambda p, x, fwd, dy: rnn.backward(p, x, fwd, dy, activation=activation)
    elif model == "lstm":
        lstm.check_params(params)
        run, back = lstm.forward, lstm.backward
    else:
        raise ValueError(f"model must be 'rnn' or 'lstm', got {model!r}")
    params = {k: np.array(v, dtype=float) for k, v in params.items()}
    loss_record, norm_record = [], []

    def history(stopped=""):
        return History(params, np.array(loss_record), np.array(norm_record), stopped)

    for step in range(steps):
        x, y = task(rng)
        try:
            fwd = run(params, x)
            loss, dy = losses.mse_last_step(fwd.y, y)
            grads = back(params, x, fwd, dy)
        except _checks.NonFiniteError as err:
            return history(f"stopped at step {step}: {err}")
        norm = clipping.global_norm(grads)
        if not np.isfinite(norm):
            return history(f"stopped at step {step}: the gradient norm is {norm}")
        loss_record.append(loss)
        norm_record.append(norm)
        direction = _update_direction(grads, method, threshold)
        for k in params:
            params[k] = params[k] - lr * direction[k]
    return history()
