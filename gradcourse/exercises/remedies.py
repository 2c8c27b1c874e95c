"""Checkers for chapter 7, beyond clipping.

:func:`check_orthogonal` calls the reader's ``orthogonal(n, rng)`` for fixed sizes
(2, 5, 16, 64) and random ones (2 to 40, drawn afresh at every call), each with generators
of known seeds, and checks that

- the result is an n x n array of finite numbers with Q^T Q = I to 1e-10 in every entry,
- it is drawn from ``rng``: two generators with the same seed give the same matrix, and two
  with different seeds give different ones.

:func:`gradcourse.rnn.init_params` (which can draw an orthogonal W_hh) and scipy's
``ortho_group`` are disabled while the reader's function runs: the exercise asks for the
matrix to be built, not fetched.

:func:`check_steps_to_forget` checks how the reader computes the memory of a forget gate: it
takes the reader's *function* ``steps_to_forget(bias, threshold)`` and runs it on fixed biases
and thresholds and on random ones drawn afresh at every call; the reference multiplies the gate
f = sigma(bias) one step at a time, without a logarithm, until the product is below the
threshold. The numbers of steps must match exactly. A bare number is not judged: trying numbers
in a loop until the checker says yes would find it without any understanding.

Examples
--------
Deliberately wrong stubs, to show the messages:

>>> check_orthogonal(lambda n, rng: None)  # doctest: +ELLIPSIS
Not yet: for n = 2: the function returned None where an array of shape (2, 2) was expected (is a `return` missing?). Tolerance: ...
>>> check_steps_to_forget(lambda bias, threshold: "long")  # doctest: +ELLIPSIS
Not yet: steps_to_forget fails 13 of 13 cases (5 fixed, 8 random). First: bias=0, threshold=0.001: returned a str where a single number was expected. Tolerance: ...
"""

import math

import numpy as np

from ._feedback import Feedback, as_float_array, forbidden, name_of, never_raises, report, start
from ._forbid import Guard, Rule
from .activations import (best_explanations, clear_count, count_by_multiplying, judge_count, mistaken_count,
                          mixed_bases, same_number_everywhere)

__all__ = ["check_orthogonal", "check_steps_to_forget"]

N_RANDOM = 3
TOLERANCE = "every entry of Q^T Q - I within 1e-10 of 0"
_GUARD = Guard([Rule("gradcourse.rnn", "init_params", "gradcourse.rnn.init_params"),
                Rule("scipy.stats", "ortho_group", "scipy.stats.ortho_group")])


@never_raises
def check_orthogonal(orthogonal, *, seed=None):
    """Check ``orthogonal(n, rng)``: a random n x n matrix Q with Q^T Q = I, drawn from ``rng``.

    Checked for 4 fixed and 3 random sizes (``seed`` repeats a set).

    Examples
    --------
    >>> check_orthogonal(lambda n, rng: np.eye(n))  # doctest: +ELLIPSIS
    Not yet: for n = 2: two different generators gave the same matrix; draw it from rng. Tolerance: ...
    """
    rng, seed, refusal = start("check_orthogonal", orthogonal, "orthogonal(n, rng)", TOLERANCE, seed)
    if refusal is not None:
        return refusal
    name = name_of(orthogonal, "the function")
    fixed = [(n, n, n + 1000, f"n = {n}") for n in (2, 5, 16, 64)]
    random = []
    for i in range(1, N_RANDOM + 1):
        n, s1, s2 = (int(x) for x in (rng.integers(2, 41), rng.integers(2**31), rng.integers(2**31)))
        random.append((n, s1, s2 + (s2 == s1), f"n = {n}, random case {i} (seed {seed})"))
    for n, s1, s2, where in fixed + random:
        def fail(text):
            return Feedback(False, f"Not yet: for {where}: {text} Tolerance: {TOLERANCE}.")

        results = []
        for s in (s1, s1, s2):
            call = _GUARD.call(orthogonal, (n, np.random.default_rng(s)))
            if call.forbidden:
                return forbidden(name, call.forbidden, TOLERANCE)
            if call.error:
                return fail(f"{name} {call.error}.")
            Q, problem = as_float_array(call.value, (n, n))
            if problem:
                return fail(f"{name} {problem}")
            results.append(Q)
        Q, Q_same, Q_other = results
        if not np.all(np.isfinite(Q)):
            return fail("the matrix contains NaN or inf.")
        error = np.abs(Q.T @ Q - np.eye(n)).max()
        if error > 1e-10:
            lengths = np.linalg.norm(Q, axis=0)
            s = np.linalg.svd(Q, compute_uv=False)
            hint = (
                " the columns have length 1 but are not perpendicular to each other. Orthogonalise them, "
                "e.g. with a QR decomposition."
                if np.allclose(lengths, 1)
                else f" its singular values range from {s.min():.3g} to {s.max():.3g}, where an orthogonal matrix has "
                "all of them equal to 1."
            )
            return fail(f"Q^T Q differs from the identity by up to {error:.3g}:{hint}")
        if not np.array_equal(Q, Q_same):
            return fail("two generators with the same seed gave different matrices: draw every random number from "
                        "rng (not from np.random or a generator of your own).")
        if np.allclose(Q, Q_other):
            return fail("two different generators gave the same matrix; draw it from rng.")
    return Feedback(True, f"Correct: {name} returns orthogonal matrices (all singular values 1), drawn from rng, on all "
                          f"{len(fixed) + len(random)} sizes ({len(fixed)} fixed, {len(random)} random).")


STEPS_TOLERANCE = "the number of steps must match exactly"
N_RANDOM_STEPS = 8
_FORGET_GUARD = Guard()


def _gate(bias):
    """f = sigma(bias), from exp of a number that is never positive."""
    e = math.exp(-abs(bias))
    return 1 / (1 + e) if bias >= 0 else e / (1 + e)


def _random_biases(rng):
    pairs = []
    while len(pairs) < N_RANDOM_STEPS:
        bias, threshold = float(rng.uniform(-4, 8)), float(10 ** rng.uniform(-12, -1))
        if clear_count(_gate(bias), threshold):
            pairs.append((bias, threshold))
    return pairs


def _forget_mistakes(f, threshold):
    ten_over_e, e_over_ten = mixed_bases(f, threshold)
    return [
        (mistaken_count(1 - f, threshold),
         "This is the count for the factor 1 - f; the gate keeps the share f = sigma(bias) of the signal at each "
         "step."),
        (mistaken_count(f * (1 - f), threshold),
         "This is the count for the factor sigma'(bias); along the cell the signal is multiplied by the gate value "
         "f = sigma(bias) itself."),
        (ten_over_e, "The two logarithms are in different bases (log10 of the threshold, the natural log of f): "
                     "take both in the same base."),
        (e_over_ten, "The two logarithms are in different bases (the natural log of the threshold, log10 of f): "
                     "take both in the same base."),
    ]


@never_raises
def check_steps_to_forget(steps_to_forget, *, seed=None):
    """Check ``steps_to_forget(bias, threshold)``: the first k with ``sigma(bias)**k < threshold``.

    Forget gates held at f = sigma(bias) multiply the error signal along the cell by f at
    every step; the function must return the first whole number of steps after which the
    signal is below ``threshold`` (0 < threshold < 1). It is checked on 5 fixed and 8 random
    pairs (-4 < bias < 8, 1e-12 < threshold < 0.1; ``seed`` repeats a set); the reference
    multiplies f one step at a time. The answers must match exactly.

    A bare number is not judged (see the module's description): the message says how to
    pass the computation instead.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> check_steps_to_forget(40)  # doctest: +ELLIPSIS
    Not checked: a bare number is not judged, ...
    """
    rng, seed, refusal = start("check_steps_to_forget", steps_to_forget, "steps_to_forget(bias, threshold)",
                               STEPS_TOLERANCE, seed,
                               bare_number=("since trying numbers in a loop would find it without the logarithm. Pass "
                                            "your computation instead, as a function of the bias and the threshold: "
                                            "check_steps_to_forget(steps_to_forget), where steps_to_forget(bias, "
                                            "threshold) returns the first number of steps k with sigma(bias)**k < "
                                            "threshold. It is checked on fixed and random pairs."))
    if refusal is not None:
        return refusal
    fixed = [(0.0, 1e-3), (1.0, 1e-3), (3.0, 1e-3), (-4.0, 0.1), (5.0, 1e-6)]
    pairs = [(b, t, f"bias={b:g}, threshold={t:g}") for b, t in fixed]
    pairs += [(b, t, f"random case {i} (seed {seed}): bias={b:.6g}, threshold={t:.3g}")
              for i, (b, t) in enumerate(_random_biases(rng), start=1)]
    judged, answers = [], []
    for bias, threshold, where in pairs:
        f = _gate(bias)
        want = count_by_multiplying(f, threshold)
        call = _FORGET_GUARD.call(steps_to_forget, (bias, threshold))
        if call.error:
            judged.append((f"{where}: {call.error}.", {}))
            continue
        number, _ = as_float_array(call.value, ())
        if number is not None and np.isfinite(number):
            answers.append(float(number))
        problem, explanations = judge_count(call.value, want, where, noun="step", signal=lambda k, f=f: f**k,
                                            threshold=threshold, mistakes=_forget_mistakes(f, threshold))
        if problem:
            judged.append((problem, explanations))
    problems = best_explanations(judged)
    same_number_everywhere(problems, answers, len(pairs), "bias and threshold")
    if problems:
        return report("steps_to_forget", problems, len(fixed), N_RANDOM_STEPS, witness="", tolerance=STEPS_TOLERANCE)
    return Feedback(True, f"Correct: steps_to_forget gives the first step at which the signal is below the threshold "
                          f"on all {len(pairs)} cases ({len(fixed)} fixed, {N_RANDOM_STEPS} random).")
