"""Checkers for chapter 2, the scalar case.

Examples
--------
>>> check_steps_to_shrink(132)
Correct: 0.9^132 = 9.12e-07 is the first power of 0.9 below 1e-06.
>>> import numpy as np
>>> check_unstable_half_width(lambda w: 2 * np.arccosh(np.sqrt(abs(w)) / 2) if abs(w) > 4 else 0.0)
Correct: unstable_half_width matches bisection on all 7 cases.
"""

import numbers

import numpy as np

from ..activations import sigmoid_prime
from ._feedback import Feedback, report, run, verdict

__all__ = ["check_steps_to_shrink", "check_unstable_half_width"]


def check_steps_to_shrink(answer, factor=0.9, threshold=1e-6):
    """Check the number of steps after which ``factor``^k first drops below ``threshold``.

    The reference is found by multiplying, step by step, until the product is below
    the threshold: no logarithms, so it is independent of the closed form.

    Examples
    --------
    >>> check_steps_to_shrink(131)
    Not yet: after 131 steps the product is 1.01e-06, still above 1e-06. One more step.
    """
    k, product = 0, 1.0
    while product >= threshold:
        product *= factor
        k += 1
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real) or not np.isfinite(answer):
        return Feedback(False, f"Not yet: the answer must be a number of steps, got {answer!r}.")
    if answer != int(answer):
        return Feedback(
            False,
            f"Not yet: {answer} is not a whole number of steps. The product shrinks one factor at a time; "
            "round your estimate to the first whole step that is below the threshold.",
        )
    answer = int(answer)
    if answer == k:
        return Feedback(True, f"Correct: {factor}^{k} = {product:.3g} is the first power of {factor} below {threshold:g}.")
    if answer < k:
        at = factor**answer
        return Feedback(
            False,
            f"Not yet: after {answer} steps the product is {at:.3g}, still above {threshold:g}."
            + (" One more step." if answer == k - 1 else ""),
        )
    return Feedback(
        False,
        f"Not yet: {answer} steps is more than needed; already after {answer - 1} steps the product "
        f"{factor ** (answer - 1):.3g} is below {threshold:g}.",
    )


def _half_width_by_bisection(w):
    """The a* > 0 with |w| sigma'(a*) = 1, by bisection on sigma' (0 if |w| <= 4)."""
    if abs(w) <= 4:
        return 0.0
    lo, hi = 0.0, 1.0
    while abs(w) * sigmoid_prime(hi) > 1:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if abs(w) * sigmoid_prime(mid) > 1 else (lo, mid)
    return (lo + hi) / 2


def check_unstable_half_width(unstable_half_width):
    """Check a function ``unstable_half_width(w)`` returning the a* of a sigmoid unit.

    A sigmoid unit with recurrent weight w multiplies a gradient by ``abs(w * sigma'(a))``,
    which is above 1 exactly when ``abs(a) < a*``. The function must return a* (a float),
    and 0.0 when no such a exists (``abs(w) <= 4``).

    Examples
    --------
    >>> check_unstable_half_width(lambda w: 2 * np.arccosh(np.sqrt(w) / 2) if w > 4 else 0.0)
    Not yet: unstable_half_width fails 1 of 7 cases. First: w=-6: got 0, expected 1.31696. A negative weight stretches as much as a positive one: the factor is |w| sigma'(a).
    """
    problems = []
    weights = (5.0, 8.0, 100.0, -6.0, 4.0, 2.0, -0.5)
    for w in weights:
        want = np.array(_half_width_by_bisection(w))
        got, error = run(unstable_half_width, (w,))
        where = f"w={w:g}"
        if error:
            problems.append(f"{where}: {error}")
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
        if abs(w) <= 4 and got.shape == () and not np.isfinite(got):
            problems.append(f"{where}: the result is {float(got)}. For |w| <= 4 there is no band: return 0.0.")
            continue
        problem = verdict(got, want, mistakes, where, rtol=1e-8, atol=1e-10)
        if problem:
            problems.append(problem)
    return report("unstable_half_width", problems, len(weights), witness="bisection")
