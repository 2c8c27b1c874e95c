"""Checkers for chapter 5, deep feedforward networks.

Examples
--------
>>> import numpy as np
>>> def add_identity_layers(params, k):
...     L = len(params) // 2
...     new = {key: value.copy() for key, value in params.items() if key not in (f"W{L}", f"b{L}")}
...     n = params[f"W{L}"].shape[1]
...     for j in range(k):
...         new[f"W{L + j}"], new[f"b{L + j}"] = np.eye(n), np.zeros(n)
...     new[f"W{L + k}"], new[f"b{L + k}"] = params[f"W{L}"].copy(), params[f"b{L}"].copy()
...     return new
>>> check_add_identity_layers(add_identity_layers)
Correct: add_identity_layers keeps the network's outputs on all 4 cases.
"""

import numpy as np

from .. import mlp
from ._feedback import Feedback

__all__ = ["check_add_identity_layers"]


def _cases():
    rng = np.random.default_rng(11)
    cases = []
    for sizes, k in (([3, 5, 2], 1), ([4, 6, 6, 1], 3), ([2, 8, 3], 5), ([5, 4, 4, 4, 2], 2)):
        params = mlp.init_params(sizes, rng=rng, scheme="he")
        for key in params:
            if key.startswith("b"):
                params[key] = rng.normal(size=params[key].shape)
        cases.append((params, k, rng.normal(size=(50, sizes[0]))))
    return cases


def check_add_identity_layers(add_identity_layers):
    """Check ``add_identity_layers(params, k)`` for ReLU networks of :mod:`gradcourse.mlp`.

    It must return a new parameter dict with k more layers that computes the same function
    as ``params`` on every input, and leave ``params`` unchanged.

    Examples
    --------
    >>> def after_output(params, k):   # appends identity layers after the linear output
    ...     L = len(params) // 2
    ...     new = {key: value.copy() for key, value in params.items()}
    ...     n = params[f"W{L}"].shape[0]
    ...     for j in range(1, k + 1):
    ...         new[f"W{L + j}"], new[f"b{L + j}"] = np.eye(n), np.zeros(n)
    ...     return new
    >>> check_add_identity_layers(after_output)
    Not yet: network [3, 5, 2] with k=1: the outputs changed (largest difference 1.82). They equal the old outputs with negative values set to 0: the old output layer is linear and may be negative, and a ReLU layer after it cuts that off. Insert the identity layers between the last hidden layer and the output layer, where every value is already >= 0.
    """
    name = getattr(add_identity_layers, "__name__", "add_identity_layers")
    cases = _cases()
    for params, k, X in cases:
        L = len(params) // 2
        sizes = [params["W1"].shape[1]] + [params[f"W{l}"].shape[0] for l in range(1, L + 1)]
        where = f"network {sizes} with k={k}"
        original = {key: value.copy() for key, value in params.items()}
        try:
            new = add_identity_layers(params, k)
            y_new = mlp.forward(new, X, activation="relu").a[-1]
        except Exception as err:  # the reader's code may fail in any way
            return Feedback(False, f"Not yet: {where}: it raised {type(err).__name__}: {err}")
        if any(not np.array_equal(params[key], original[key]) for key in original) or set(params) != set(original):
            return Feedback(False, f"Not yet: {where}: the input params were modified; build a new dict (copy the arrays).")
        if len(new) // 2 != L + k:
            return Feedback(False, f"Not yet: {where}: expected {L + k} layers, got {len(new) // 2}.")
        y_old = mlp.forward(params, X, activation="relu").a[-1]
        if y_new.shape != y_old.shape:
            return Feedback(False, f"Not yet: {where}: the output shape changed from {y_old.shape} to {y_new.shape}.")
        diff = np.abs(y_new - y_old).max()
        if diff > 1e-12 * (1 + np.abs(y_old).max()):
            if np.allclose(y_new, np.maximum(y_old, 0)):
                hint = (
                    " They equal the old outputs with negative values set to 0: the old output layer is linear and may"
                    " be negative, and a ReLU layer after it cuts that off. Insert the identity layers between the last"
                    " hidden layer and the output layer, where every value is already >= 0."
                )
            else:
                hint = " A ReLU layer with W = I and b = 0 is the identity only on vectors with no negative entries."
            return Feedback(False, f"Not yet: {where}: the outputs changed (largest difference {diff:.3g}).{hint}")
    return Feedback(True, f"Correct: {name} keeps the network's outputs on all {len(cases)} cases.")
