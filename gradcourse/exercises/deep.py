"""Checkers for chapter 5, deep feedforward networks.

:func:`check_add_identity_layers` calls the reader's ``add_identity_layers(params, k)`` on
fixed ReLU networks of :mod:`gradcourse.mlp` and on random ones drawn afresh at every call
(random depths, widths, biases and k). It checks that the result is a new parameter dict
``W1, b1, ..., W{L+k}, b{L+k}`` of a valid network with k more layers, that ``params`` is left
unchanged, and that the new network's outputs equal the old ones on 50 random inputs, to
``1e-12 (1 + max |y|)``.

:func:`check_shrink_per_layer` checks how the reader measures a backward signal's shrinkage per
layer: it takes the reader's *function* ``shrink_per_layer(backward)`` and runs it on fixed and
on random lists of norms, drawn afresh at every call. Each list is built from per-layer factors
whose geometric mean is known, the reference answer, and the result must match it to a
relative 1e-9. A bare number is not judged: it is the computation that is asked for.

Examples
--------
Deliberately wrong stubs, to show the messages:

>>> check_add_identity_layers(lambda params, k: None)  # doctest: +ELLIPSIS
Not yet: network [3, 5, 2] with k=1: add_identity_layers returned None where a dict of parameters W1, b1, ..., W3, b3 was expected (is a `return` missing?). Tolerance: ...
>>> check_shrink_per_layer(lambda backward: "shrinks")  # doctest: +ELLIPSIS
Not yet: shrink_per_layer fails 14 of 14 cases (6 fixed, 8 random). First: norms [1, 4, 16, 64]: returned a str where a single number was expected. Tolerance: ...
"""

import math
from collections.abc import Mapping

import numpy as np

from .. import mlp
from ._feedback import (Diagnosis, Feedback, answer, describe, name_of, never_raises, report, safe_str, start,
                        verdict)
from ._forbid import Guard

__all__ = ["check_add_identity_layers", "check_shrink_per_layer"]

N_RANDOM = 4
TOLERANCE = "outputs equal to 1e-12 (1 + the largest |output|)"
_GUARD = Guard()


def _network(rng, sizes, k, X_rows=50):
    params = mlp.init_params(sizes, rng=rng, scheme="he")
    for key in params:
        if key.startswith("b"):
            params[key] = rng.normal(size=params[key].shape)
    return params, k, rng.normal(size=(X_rows, sizes[0]))


def _cases(rng, seed):
    fixed_rng = np.random.default_rng(11)
    fixed = [(None,) + _network(fixed_rng, sizes, k)
             for sizes, k in (([3, 5, 2], 1), ([4, 6, 6, 1], 3), ([2, 8, 3], 5), ([5, 4, 4, 4, 2], 2))]
    random = []
    for i in range(1, N_RANDOM + 1):
        depth = int(rng.integers(2, 5))  # at least one hidden layer, whose values are >= 0
        sizes = [int(n) for n in rng.integers(1, 9, size=depth + 1)]
        random.append((f"random case {i} (seed {seed})",) + _network(rng, sizes, int(rng.integers(1, 5))))
    return fixed, random


def _keys(n):
    return [f"{p}{l}" for l in range(1, n + 1) for p in ("W", "b")]


@never_raises
def check_add_identity_layers(add_identity_layers, *, seed=None):
    """Check ``add_identity_layers(params, k)`` for ReLU networks of :mod:`gradcourse.mlp`.

    It must return a new parameter dict with k more layers that computes the same function
    as ``params`` on every input, and leave ``params`` unchanged. Checked on 4 fixed and 4
    random networks (``seed`` repeats a set).

    Examples
    --------
    >>> check_add_identity_layers(lambda params, k: params)  # doctest: +ELLIPSIS
    Not yet: network [3, 5, 2] with k=1: expected 3 layers, got 2 (keys W1, b1, W2, b2). Tolerance: ...
    """
    rng, seed, refusal = start("check_add_identity_layers", add_identity_layers, "add_identity_layers(params, k)",
                               TOLERANCE, seed)
    if refusal is not None:
        return refusal
    name = name_of(add_identity_layers, "add_identity_layers")
    fixed, random = _cases(rng, seed)
    for label, params, k, X in fixed + random:
        L = mlp.n_layers(params)
        sizes = [params["W1"].shape[1]] + [params[f"W{l}"].shape[0] for l in range(1, L + 1)]
        where = f"network {sizes} with k={k}" + (f", {label}" if label else "")

        def fail(text):
            return Feedback(False, f"Not yet: {where}: {text} Tolerance: {TOLERANCE}.")

        original = {key: value.copy() for key, value in params.items()}
        call = _GUARD.call(add_identity_layers, (params, k))
        if call.error:
            return fail(f"{call.error}.")
        if set(params) != set(original) or any(not np.array_equal(params[key], original[key]) for key in original):
            return fail("the input params were modified; build a new dict (copy the arrays).")
        new = call.value
        expected = f"a dict of parameters W1, b1, ..., W{L + k}, b{L + k}"
        if new is None:
            return fail(f"{name} returned None where {expected} was expected (is a `return` missing?).")
        if not isinstance(new, Mapping):
            return fail(f"{name} returned {describe(new)} where {expected} was expected.")
        try:
            keys = [str(key) for key in new]
        except Exception as err:  # noqa: BLE001  (a mapping that cannot list its keys)
            return fail(f"the returned mapping cannot list its keys ({type(err).__name__}: {safe_str(err)}).")
        if len(keys) % 2 or sorted(keys) != sorted(_keys(len(keys) // 2)):
            return fail(f"the returned keys {safe_str(sorted(keys))} are not W1, b1, ..., Wn, bn.")
        if len(keys) // 2 != L + k:
            return fail(f"expected {L + k} layers, got {len(keys) // 2} (keys {', '.join(_keys(len(keys) // 2))}).")
        try:
            y_new = mlp.forward(dict(new), X, activation="relu").a[-1]
        except Exception as err:  # noqa: BLE001  (shapes that do not chain, NaN, non-arrays...)
            return fail(f"the returned parameters are not a valid network: {type(err).__name__}: {safe_str(err)}.")
        y_old = mlp.forward(params, X, activation="relu").a[-1]
        if y_new.shape != y_old.shape:
            return fail(f"the output shape changed from {y_old.shape} to {y_new.shape}.")
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
            return fail(f"the outputs changed (largest difference {diff:.3g}).{hint}")
    return Feedback(True, f"Correct: {name} keeps the network's outputs on all {len(fixed) + len(random)} networks "
                          f"({len(fixed)} fixed, {len(random)} random).")


SHRINK_RTOL = 1e-9
SHRINK_TOLERANCE = "a relative error of 1e-09"
N_RANDOM_NORMS = 8


def _norms_from_factors(first, factors):
    """The norms of delta_1, ..., delta_n when going forward from layer l to l + 1 multiplies the
    norm by factors[l - 1]: going back, the signal shrinks by those factors."""
    return first * np.exp(np.concatenate([[0.0], np.cumsum(np.log(factors))]))


def _built(rng, n, shrink, spread):
    """Norms of n layers whose per-layer factors scatter by ``spread`` (in log) around a geometric
    mean of exactly ``shrink``: the noise is centred, so it cancels in the product."""
    noise = rng.normal(0.0, spread, size=n - 1)
    factors = np.exp(math.log(shrink) + noise - noise.mean())
    return _norms_from_factors(float(10 ** rng.uniform(-6, 2)), factors)


def _fixed_norms():
    """(description, norms, factor per layer)."""
    cases = [("norms [1, 4, 16, 64]", np.array([1.0, 4.0, 16.0, 64.0]), 4.0),
             ("two layers, norms [0.5, 2]", np.array([0.5, 2.0]), 4.0),
             ("norms [8, 4, 2, 1], growing going back", np.array([8.0, 4.0, 2.0, 1.0]), 0.5),
             ("norms [3, 3, 3], constant", np.array([3.0, 3.0, 3.0]), 1.0)]
    rng = np.random.default_rng(5)
    cases.append(("15 hidden layers with noisy factors, like the chapter's", _built(rng, 15, 4.4, 0.3), 4.4))
    cases.append(("200 layers, norms from 1e-120 to 1", _norms_from_factors(1e-120, np.full(199, 10 ** (120 / 199))),
                  10 ** (120 / 199)))
    return cases


def _random_norms(rng, seed):
    cases = []
    for i in range(1, N_RANDOM_NORMS + 1):
        n = int(rng.integers(3, 40))
        shrink = float(10 ** (rng.choice([-1, 1]) * rng.uniform(0.05, 0.8)))
        cases.append((f"random case {i} (seed {seed}): {n} layers", _built(rng, n, shrink, rng.uniform(0.05, 0.5)),
                      shrink))
    return cases


def _shrink_mistakes(backward, want):
    """What known mistakes give, from the factor the norms were built with."""
    n = len(backward)
    total = want ** (n - 1)
    steps = backward[1:] / backward[:-1]
    slope = np.polyfit(np.arange(n), np.log(backward), 1)[0] if n > 2 else math.log(want)
    return {
        "this is the factor by which the signal grows going back; it shrinks from the last hidden layer to the "
        "first, so divide the last norm by the first, backward[-1] / backward[0].": 1 / want,
        f"{n} norms are {n - 1} steps apart, not {n}: the power that spreads the shrinkage over the layers is "
        f"1/{n - 1}, not 1/{n}.": want ** ((n - 1) / n),
        f"this is the shrinkage over all {n - 1} steps together; one layer's factor is its power 1/{n - 1}.": total,
        "this is the natural logarithm of the factor, a rate per layer: the factor is its exponential.": math.log(want),
        "this is the base-10 logarithm of the factor: the factor is 10 to its power.": math.log10(want),
        "this is the arithmetic mean of the layer-to-layer factors; factors multiply, so average them geometrically "
        "(their product to the power 1 / their number).": steps.mean(),
        "this is the factor of the last step alone, backward[-1] / backward[-2]; average over every layer.": steps[-1],
        "this is the factor of the first step alone, backward[1] / backward[0]; average over every layer.": steps[0],
        "this is the slope of a least-squares line through the log norms, an estimate that weighs every layer; the "
        "geometric mean of the per-layer factors depends on the first and the last norm only.": math.exp(slope),
    }


@never_raises
def check_shrink_per_layer(shrink_per_layer, *, seed=None):
    """Check ``shrink_per_layer(backward)``: the factor by which the backward signal shrinks per layer.

    ``backward`` is a 1-D array of the norms of the backward signals delta_l of the hidden
    layers, from the first hidden layer to the last (at least two, all positive); the function
    must return the geometric mean of the factors by which the signal shrinks from one layer
    to the one before it (a factor below 1 means that it grows going back). It is checked on
    6 fixed and 8 random lists (``seed`` repeats a set), each built from per-layer factors of a
    known geometric mean, to a relative 1e-9.

    A bare number is not judged (see the module's description): the message says how to
    pass the computation instead.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> check_shrink_per_layer(4)  # doctest: +ELLIPSIS
    Not checked: a bare number is not judged, ...
    """
    rng, seed, refusal = start("check_shrink_per_layer", shrink_per_layer, "shrink_per_layer(backward)",
                               SHRINK_TOLERANCE, seed,
                               bare_number=("since it is the computation that is asked for. Pass it as a function of "
                                            "the norms: check_shrink_per_layer(shrink_per_layer), where "
                                            "shrink_per_layer(backward) takes the norms of delta_l from the first "
                                            "hidden layer to the last and returns the factor by which the signal "
                                            "shrinks per layer going back. It is checked on fixed and random lists of "
                                            "norms."))
    if refusal is not None:
        return refusal
    fixed = _fixed_norms()
    cases = fixed + _random_norms(rng, seed)
    problems, answers = [], []
    for where, backward, shrink in cases:
        want = np.array(shrink)
        call = _GUARD.call(shrink_per_layer, (backward.copy(),))
        got, problem = answer(call, where, ())
        if problem:
            problems.append(problem)
            continue
        if np.isfinite(got):
            answers.append(float(got))
        problem = verdict(got, want, _shrink_mistakes(backward, shrink), where, rtol=SHRINK_RTOL, atol=0,
                          mistake_rtol=1e-6)
        if problem:
            problems.append(problem)
    if problems and len(answers) == len(cases) and len(set(answers)) == 1:
        problems[0] = Diagnosis(f"it returned {answers[0]:g} for every list of norms: compute the factor from "
                                "them, do not return a fixed number.")
    return report("shrink_per_layer", problems, len(fixed), N_RANDOM_NORMS,
                  witness="the geometric mean of the factors the norms were built from", tolerance=SHRINK_TOLERANCE)
