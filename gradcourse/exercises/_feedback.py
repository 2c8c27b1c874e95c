"""What every checker shares: the verdict, a safe call of the reader's code, the messages."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Feedback:
    """The verdict of a checker: ``bool(feedback)`` is whether all cases passed.

    Examples
    --------
    >>> Feedback(True, "Correct: all 3 cases.")
    Correct: all 3 cases.
    """

    passed: bool
    message: str

    def __bool__(self):
        return self.passed

    def __repr__(self):
        return self.message


def close(got, want, *, rtol=1e-6, atol=1e-9):
    """Whether ``got`` matches ``want`` up to ``rtol`` of its largest entry plus ``atol``."""
    return bool(np.abs(got - want).max() <= rtol * np.abs(want).max() + atol)


def run(fn, args):
    """Call the reader's function: ``(result as float array, None)`` or ``(None, message)``."""
    try:
        with np.errstate(all="ignore"):  # a NaN or inf result is reported by verdict instead
            return np.asarray(fn(*args), dtype=float), None
    except Exception as err:  # the reader's code may fail in any way
        return None, f"it raised {type(err).__name__}: {err}"


class Diagnosis(str):
    """A failure message that names a known mistake; :func:`report` shows these first."""


def verdict(got, want, mistakes, where, mistake_rtol=None, **tolerances):
    """Message for one case, or None if it passed.

    ``mistakes`` maps a message to the wrong answer a known mistake would give; when
    ``got`` matches one of them (within ``mistake_rtol``, if given, as a mistake may be
    computed less accurately than the right answer), that message explains the failure.
    """
    if got.shape != want.shape:
        return f"{where}: expected an array of shape {want.shape}, got shape {got.shape}."
    if not np.all(np.isfinite(got)):
        return f"{where}: the result contains NaN or inf."
    if close(got, want, **tolerances):
        return None
    near_mistake = tolerances if mistake_rtol is None else {"rtol": mistake_rtol, "atol": 0}
    for label, wrong in mistakes.items():
        if np.shape(wrong) == want.shape and close(got, wrong, **near_mistake):
            return Diagnosis(f"{where}: {label}")
    worst = np.unravel_index(np.argmax(np.abs(got - want)), want.shape)
    at = f" entry [{', '.join(str(int(i)) for i in worst)}]" if want.ndim else ""
    return f"{where}:{at} got {got[worst]:.6g}, expected {want[worst]:.6g}."


def report(fn_name, problems, n_cases, witness="finite differences"):
    """The final :class:`Feedback` from the list of failure messages.

    The message shows the first failure that names a known mistake, if there is one (it
    helps most), and otherwise the first failure.
    """
    if problems:
        shown = next((p for p in problems if isinstance(p, Diagnosis)), problems[0])
        label = "First" if shown is problems[0] else "For example"
        return Feedback(False, f"Not yet: {fn_name} fails {len(problems)} of {n_cases} cases. {label}: {shown}")
    return Feedback(True, f"Correct: {fn_name} matches {witness} on all {n_cases} cases.")
