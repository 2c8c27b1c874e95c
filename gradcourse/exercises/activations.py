"""Checkers for chapter 4, activation functions.

Examples
--------
>>> import numpy as np
>>> def my_sigmoid(a):
...     e = np.exp(-np.abs(a))
...     return np.where(a >= 0, 1 / (1 + e), e / (1 + e))
>>> check_stable_sigmoid(my_sigmoid)
Correct: my_sigmoid matches the reference values on all 4 cases, without a warning.
"""

import warnings

import numpy as np

from ._feedback import Feedback

__all__ = ["check_stable_sigmoid"]


def _cases():
    """(description, inputs, reference values), references from formulas that are safe there."""
    moderate = np.linspace(-30, 30, 601)
    far_left = np.array([-40.0, -100.0, -700.0, -744.0])
    return [
        ("moderate inputs in [-30, 30]", moderate, 1 / (1 + np.exp(-moderate))),  # no overflow here
        ("far left, a <= -40", far_left, np.exp(far_left)),  # sigma(a) = e^a (1 - e^a + ...) = e^a in float64
        ("extremes -1000 and 1000", np.array([-1000.0, 1000.0]), np.array([0.0, 1.0])),
        ("a 2-D array", moderate[:600].reshape(3, 200), 1 / (1 + np.exp(-moderate[:600])).reshape(3, 200)),
    ]


def check_stable_sigmoid(sigmoid):
    """Check a sigmoid for arrays: correct values, exact limits, and not a single warning.

    Examples
    --------
    >>> check_stable_sigmoid(lambda a: 1 / (1 + np.exp(-a)))
    Not yet: on far left, a <= -40 the function warned: overflow encountered in exp. Compute exp only of -|a|, which never exceeds 0.
    >>> check_stable_sigmoid(lambda a: 1 / (1 - np.exp(-a)))
    Not yet: on moderate inputs in [-30, 30] the function warned: divide by zero encountered in divide. Check the sign: the sigmoid is 1 / (1 + e^-a); 1 / (1 - e^-a) has a pole at 0 and is negative for a < 0.
    """
    name = getattr(sigmoid, "__name__", "the function")
    name = "the function" if name == "<lambda>" else name
    cases = _cases()
    for where, a, want in cases:
        with warnings.catch_warnings(record=True) as caught, np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
            warnings.simplefilter("always")
            try:
                got = np.asarray(sigmoid(a.copy()), dtype=float)
            except Exception as err:  # the reader's code may fail in any way
                return Feedback(False, f"Not yet: on {where} it raised {type(err).__name__}: {err}")
        typo = 1 / (1 - np.exp(-0.5))
        with np.errstate(all="ignore"):
            is_typo = abs(np.asarray(sigmoid(np.array([0.5])), dtype=float)[0] - typo) < 1e-9
        hint = (
            " Check the sign: the sigmoid is 1 / (1 + e^-a); 1 / (1 - e^-a) has a pole at 0 and is negative for a < 0."
            if is_typo
            else " Compute exp only of -|a|, which never exceeds 0."
        )
        if caught:
            return Feedback(False, f"Not yet: on {where} the function warned: {caught[0].message}.{hint}")
        if got.shape != a.shape:
            return Feedback(False, f"Not yet: on {where} expected shape {a.shape}, got {got.shape}.")
        if not np.all(np.isfinite(got)):
            return Feedback(False, f"Not yet: on {where} the result contains NaN or inf.{hint}")
        bad = np.abs(got - want) > 1e-12 * np.abs(want) + (0 if where.startswith("extremes") else 1e-300)
        if np.any(bad):
            i = np.flatnonzero(bad.ravel())[0]
            return Feedback(
                False,
                f"Not yet: on {where}, sigma({a.ravel()[i]:g}) came out as {got.ravel()[i]:.6g}, "
                f"expected {want.ravel()[i]:.6g}.{hint if is_typo else ''}",
            )
    return Feedback(True, f"Correct: {name} matches the reference values on all {len(cases)} cases, without a warning.")
