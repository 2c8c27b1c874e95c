"""Checkers for chapter 2, the scalar case.

:func:`check_steps_to_shrink` checks how the reader computes the number of steps after which
a factor's powers first drop below a threshold: it takes the reader's *function*
``steps_to_shrink(factor, threshold)`` and runs it on the chapter's factor and threshold and
on random pairs drawn afresh at every call; the reference multiplies step by step, without a
logarithm. A bare number is not judged: trying numbers in a loop until the checker says yes
would find it without any understanding, so the checker asks for the computation instead.

:func:`check_unstable_half_width` checks ``unstable_half_width(w)`` on fixed and random
weights against bisection on sigma', to a relative 1e-8 plus an absolute 1e-10.

:func:`check_memory_factor` checks ``memory_factor(w)``, the factor w (1 - h*^2) of a tanh
unit holding its stored value h* = tanh(w h*), against h* found by bisection and the slope of
the map there by complex-step differentiation, to a relative 1e-8 plus an absolute 1e-10;
``gradcourse.scalar``'s fixed-point functions are disabled while it runs.

Examples
--------
Deliberately wrong stubs, to show the messages:

>>> check_steps_to_shrink(lambda factor, threshold: 1)  # doctest: +ELLIPSIS
Not yet: steps_to_shrink fails 9 of 9 cases (1 fixed, 8 random). First: it returned 1 for every factor and threshold: compute the number of steps from them, do not return a fixed number. Tolerance: ...
>>> check_unstable_half_width(lambda w: "wide")  # doctest: +ELLIPSIS
Not yet: unstable_half_width fails 15 of 15 cases (7 fixed, 8 random). First: w=5: returned a str where a single number was expected. Tolerance: ...
"""

import math
import numbers

import numpy as np

from ..activations import sigmoid_prime
from ._feedback import (Diagnosis, Feedback, answer, as_float_array, forbidden, never_raises, report, safe_str,
                        start, verdict)
from ._forbid import Guard, Rule

__all__ = ["check_steps_to_shrink", "check_unstable_half_width", "check_memory_factor"]

N_RANDOM_STEPS = 8
N_RANDOM_WEIGHTS = 8
_GUARD = Guard()
STEPS_TOLERANCE = "the number of steps must match exactly"
WIDTH_TOLERANCE = "a relative error of 1e-08 plus an absolute error of 1e-10"
MEMORY_TOLERANCE = WIDTH_TOLERANCE
_MEMORY_GUARD = Guard([Rule("gradcourse.scalar", name, f"gradcourse.scalar.{name}")
                       for name in ("tanh_fixed_point", "tanh_fixed_point_slope", "tanh_unit_memory")])


def _steps_by_multiplying(factor, threshold):
    """The first k with factor**k < threshold, by multiplying one factor at a time."""
    k, product = 0, 1.0
    while product >= threshold:
        product *= factor
        k += 1
    return k


def _random_pairs(rng):
    """(factor, threshold) pairs whose answer is clearly defined: log(threshold) / log(factor)
    stays away from a whole number, so that rounding in any sound method cannot tip it."""
    pairs = []
    while len(pairs) < N_RANDOM_STEPS:
        factor = float(1 - 10 ** rng.uniform(-3, np.log10(0.5)))
        threshold = float(10 ** rng.uniform(-12, -1))
        ratio = math.log(threshold) / math.log(factor)
        if abs(ratio - round(ratio)) > 1e-3 and _steps_by_multiplying(factor, threshold) == math.floor(ratio) + 1:
            pairs.append((factor, threshold))
    return pairs


def _valid_pair(factor, threshold):
    ok = all(isinstance(x, numbers.Real) and not isinstance(x, bool) and np.isfinite(x) for x in (factor, threshold))
    return ok and 0 < factor < 1 and 0 < threshold < 1


def _judge_steps(got, factor, threshold, want, where):
    """Problem with one answer ``got`` (any object), or None."""
    arr, problem = as_float_array(got, ())
    if problem:
        return f"{where}: {problem}"
    value = float(arr)
    if not np.isfinite(value):
        return f"{where}: the result is {value}, not a number of steps."
    if value != int(value):
        return Diagnosis(f"{where}: got {value:g}, which is not a whole number of steps. The product shrinks one factor "
                         "at a time; round up to the first whole step at which it is below the threshold.")
    k = int(value)
    if k == want:
        return None
    if k <= 0:
        return f"{where}: got {k}; a number of steps is at least 1, as factor**0 = 1 is above the threshold."
    at = factor**k
    if k < want:
        more = " One more step: factor**k may equal the threshold only at a whole k, so round up, not to the nearest." \
            if k == want - 1 else ""
        cls = Diagnosis if k == want - 1 else str
        return cls(f"{where}: got {k}, but after {k} step{'s' if k != 1 else ''} the product {at:.3g} is still above "
                   f"{threshold:g}.{more}")
    cls = Diagnosis if k == want + 1 else str
    return cls(f"{where}: got {k}, more steps than needed: already after {k - 1} steps the product "
               f"{factor ** (k - 1):.3g} is below {threshold:g}.")


@never_raises
def check_steps_to_shrink(steps_to_shrink, factor=0.9, threshold=1e-6, *, seed=None):
    """Check ``steps_to_shrink(factor, threshold)``: the first k with ``factor**k < threshold``.

    The reader's function is called with the chapter's ``factor`` and ``threshold`` and with
    8 random pairs (0.5 <= factor < 0.999, 1e-12 < threshold < 0.1; ``seed`` repeats a set);
    the reference multiplies step by step until the product is below the threshold: no
    logarithms, so it is independent of the closed form. The answers must match exactly.

    A bare number is not judged (see the module's description): the message says how to
    pass the computation instead.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> check_steps_to_shrink(100)  # doctest: +ELLIPSIS
    Not checked: a bare number is not judged, ...
    """
    if not _valid_pair(factor, threshold):
        return Feedback(False, f"Not yet: check_steps_to_shrink needs 0 < factor < 1 and 0 < threshold < 1, got "
                               f"factor={safe_str(factor)}, threshold={safe_str(threshold)}. "
                               f"Tolerance: {STEPS_TOLERANCE}.")
    factor, threshold = float(factor), float(threshold)
    rng, seed, refusal = start("check_steps_to_shrink", steps_to_shrink, "steps_to_shrink(factor, threshold)",
                               STEPS_TOLERANCE, seed,
                               bare_number=("since trying numbers in a loop would find it without the logarithm. "
                                            "Pass your computation instead, as a function of the factor and the "
                                            "threshold: check_steps_to_shrink(steps_to_shrink), where "
                                            "steps_to_shrink(factor, threshold) returns the first k with "
                                            f"factor**k < threshold. It is checked on factor={factor:g}, "
                                            f"threshold={threshold:g} and on random pairs."))
    if refusal is not None:
        return refusal
    pairs = [(factor, threshold, f"factor={factor:g}, threshold={threshold:g}")]
    pairs += [(f, t, f"random case {i} (seed {seed}): factor={f:.6g}, threshold={t:.3g}")
              for i, (f, t) in enumerate(_random_pairs(rng), start=1)]
    problems, answers = [], []
    for f, t, where in pairs:
        want = _steps_by_multiplying(f, t)
        call = _GUARD.call(steps_to_shrink, (f, t))
        if call.error:
            problems.append(f"{where}: {call.error}.")
            continue
        number, _ = as_float_array(call.value, ())
        if number is not None and np.isfinite(number):
            answers.append(float(number))
        problem = _judge_steps(call.value, f, t, want, where)
        if problem:
            problems.append(problem)
    same = len(answers) == len(pairs) and len(set(answers)) == 1
    if problems and same:  # the first failure explained by the most likely cause
        problems[0] = Diagnosis(f"it returned {answers[0]:g} for every factor and threshold: compute the "
                                "number of steps from them, do not return a fixed number.")
    if problems:
        return report("steps_to_shrink", problems, 1, N_RANDOM_STEPS, witness="", tolerance=STEPS_TOLERANCE)
    return Feedback(True, f"Correct: steps_to_shrink gives the first step below the threshold on all {len(pairs)} cases "
                          f"(1 fixed, {N_RANDOM_STEPS} random); for factor {factor:g} and threshold {threshold:g} that "
                          f"is {_steps_by_multiplying(factor, threshold)} steps.")


def _half_width_by_bisection(w):
    """The a* > 0 with |w| sigma'(a*) = 1, by bisection on sigma' (0 if |w| <= 4)."""
    if abs(w) * sigmoid_prime(0.0) <= 1:  # sigma' is largest at 0: nowhere above 1
        return 0.0
    lo, hi = 0.0, 1.0
    while abs(w) * sigmoid_prime(hi) > 1:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if abs(w) * sigmoid_prime(mid) > 1 else (lo, mid)
    return (lo + hi) / 2


def _random_weights(rng):
    wide = [float(rng.choice([-1, 1]) * 10 ** rng.uniform(np.log10(4.05), 3)) for _ in range(N_RANDOM_WEIGHTS - 2)]
    return wide + [float(rng.uniform(-4, 4)) for _ in range(2)]


@never_raises
def check_unstable_half_width(unstable_half_width, *, seed=None):
    """Check a function ``unstable_half_width(w)`` returning the a* of a sigmoid unit.

    A sigmoid unit with recurrent weight w multiplies a gradient by ``abs(w * sigma'(a))``,
    which is above 1 exactly when ``abs(a) < a*``. The function must return a* (a float),
    and 0.0 when no such a exists (``abs(w) <= 4``). It is checked on 7 fixed and 8 random
    weights (``seed`` repeats a set) against bisection on sigma', to a relative 1e-8 plus
    an absolute 1e-10.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> check_unstable_half_width(lambda w: None)  # doctest: +ELLIPSIS
    Not yet: unstable_half_width fails 15 of 15 cases (7 fixed, 8 random). First: w=5: returned None where a single number was expected (is a `return` missing?). Tolerance: ...
    """
    rng, seed, refusal = start("check_unstable_half_width", unstable_half_width, "unstable_half_width(w)",
                               WIDTH_TOLERANCE, seed)
    if refusal is not None:
        return refusal
    fixed = (5.0, 8.0, 100.0, -6.0, 4.0, 2.0, -0.5)
    weights = [(w, f"w={w:g}") for w in fixed]
    weights += [(w, f"random case {i} (seed {seed}): w={w:.6g}") for i, w in enumerate(_random_weights(rng), start=1)]
    problems = []
    for w, where in weights:
        want = np.array(_half_width_by_bisection(w))
        call = _GUARD.call(unstable_half_width, (w,))
        got, problem = answer(call, where, ())
        if problem:
            problems.append(problem)
            continue
        mistakes = {}
        if w < 0:
            mistakes[
                f"got 0, expected {float(want):.6g}. A negative weight stretches as much as a positive one: "
                "the factor is |w| sigma'(a)."
            ] = np.array(0.0)
        if abs(w) > 4:
            mistakes[
                f"got {float(want) / 2:.6g}, expected {float(want):.6g}. sigma'(a) = 1 / (4 cosh^2(a / 2)) depends "
                "on a / 2: solving for a needs the factor 2."
            ] = want / 2
            mistakes[
                f"got {2 * float(want):.6g}, expected {float(want):.6g}. This is the full width of the interval; "
                "the question asks for half of it, a*."
            ] = 2 * want
        if abs(w) <= 4 and not np.isfinite(got):
            problems.append(f"{where}: the result is {float(got)}. For |w| <= 4 there is no band: return 0.0.")
            continue
        problem = verdict(got, want, mistakes, where, rtol=1e-8, atol=1e-10)
        if problem:
            problems.append(problem)
    return report("unstable_half_width", problems, len(fixed), N_RANDOM_WEIGHTS, witness="bisection",
                  tolerance=WIDTH_TOLERANCE)



def _stored_value_by_bisection(w):
    """The largest h with h = tanh(w h), by bisection on [0, 1] (0 if w <= 1).

    For w > 1, tanh(w h) - h is positive on (0, h*) and negative on (h*, 1]."""
    if w <= 1:
        return 0.0
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if math.tanh(w * mid) > mid else (lo, mid)
    return (lo + hi) / 2


def _memory_factor_by_complex_step(w):
    """The slope of h -> tanh(w h) at the stored value, by a complex step: Im f(h + i e) / e."""
    h_star, e = _stored_value_by_bisection(w), 1e-30
    return float(np.tanh(w * complex(h_star, e)).imag / e)


def _random_memory_weights(rng):
    near_one = [float(1 + 10 ** rng.uniform(-3, -1)) for _ in range(2)]
    stored = [float(rng.uniform(1.1, 8)) for _ in range(N_RANDOM_WEIGHTS - 4)]
    return near_one + stored + [float(rng.uniform(0, 1)) for _ in range(2)]


@never_raises
def check_memory_factor(memory_factor, *, seed=None):
    """Check a function ``memory_factor(w)`` returning the factor of a tanh unit's stored bit.

    A tanh unit with no input, h_t = tanh(w h_{t-1}), stores a value at its largest fixed
    point h* = tanh(w h*) (h* = 0 for w <= 1) and multiplies a gradient by the slope of the
    map there, w (1 - h*^2), per step. The function must return that slope (a float) for any
    w >= 0 (for w < -1 the unit holds its bit in a two-point cycle, with another factor, so
    negative weights are not tried). It is checked on 8 fixed and 8 random weights (``seed`` repeats a set), two of
    them just above 1, against h* by bisection and the slope by complex-step
    differentiation, to a relative 1e-8 plus an absolute 1e-10. The fixed-point functions of
    ``gradcourse.scalar`` are disabled while it runs.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> check_memory_factor(lambda w: w)  # doctest: +ELLIPSIS
    Not yet: memory_factor fails 11 of 16 cases (8 fixed, 8 random). First: w=2: got 2, the slope at the fixed point 0, ...
    """
    rng, seed, refusal = start("check_memory_factor", memory_factor, "memory_factor(w)", MEMORY_TOLERANCE, seed)
    if refusal is not None:
        return refusal
    fixed = (2.0, 1.5, 4.0, 10.0, 1.001, 1.0, 0.5, 0.0)
    weights = [(w, f"w={w:g}") for w in fixed]
    weights += [(w, f"random case {i} (seed {seed}): w={w:.6g}")
                for i, w in enumerate(_random_memory_weights(rng), start=1)]
    problems = []
    for w, where in weights:
        want = np.array(_memory_factor_by_complex_step(w))
        call = _MEMORY_GUARD.call(memory_factor, (w,))
        if call.forbidden:
            return forbidden("memory_factor", call.forbidden, MEMORY_TOLERANCE)
        got, problem = answer(call, where, ())
        if problem:
            problems.append(problem)
            continue
        mistakes = {}
        if w > 1:
            h_star = _stored_value_by_bisection(w)
            mistakes[f"got {w:g}, the slope at the fixed point 0, which is unstable for w > 1: the bit is "
                     "stored at the largest fixed point h* > 0."] = np.array(w)
            mistakes[f"got {1 - h_star**2:.6g}, expected {float(want):.6g}. That is f'(a*) alone; the factor is "
                     "w f'(a*)."] = np.array(1 - h_star**2)
            mistakes[f"got {w * (1 - h_star):.6g}, expected {float(want):.6g}. tanh'(a) = 1 - tanh(a)^2: the "
                     "stored value enters squared."] = np.array(w * (1 - h_star))
        problem = verdict(got, want, mistakes, where, rtol=1e-8, atol=1e-10)
        if problem and 1 < w < 1.1 and 0 < float(got) < float(want) and not isinstance(problem, Diagnosis):
            problem = Diagnosis(f"{problem} Near w = 1 plain iteration h <- tanh(w h) converges slowly: its error "
                                "shrinks by the factor itself, close to 1, at every pass. Iterate until h stops "
                                "changing, or use Newton's method.")
        if problem:
            problems.append(problem)
    return report("memory_factor", problems, len(fixed), N_RANDOM_WEIGHTS, witness="bisection",
                  tolerance=MEMORY_TOLERANCE)
