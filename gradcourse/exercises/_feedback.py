"""What every checker shares: the verdict, reading the reader's result, the messages.

Nothing here ever raises on what the reader's function returns: every helper turns a
surprise into a message that says what came back and what was expected instead.
"""

import functools
import numbers
import secrets
import textwrap
from dataclasses import dataclass

import numpy as np


#: The longest line of a printed verdict: it fits a code cell's output in the book, even inside a
#: folded solution.
LINE = 72

#: The verdicts a checker gives, as the grading table names them.
STATUSES = ("passed", "failed", "not attempted")


@dataclass(frozen=True)
class Feedback:
    """The verdict of a checker: ``bool(feedback)`` is whether all cases passed.

    ``status`` is "passed", "failed" or "not attempted" (the function still raises the
    stub's NotImplementedError); it defaults to "passed" or "failed" as ``passed`` says.

    Examples
    --------
    >>> Feedback(True, "Correct: all 3 cases.")
    Correct: all 3 cases.
    >>> Feedback(False, "Not attempted: the stub is still in place.", "not attempted").status
    'not attempted'
    """

    passed: bool
    message: str
    status: str = None

    def __post_init__(self):
        if self.status is None:
            object.__setattr__(self, "status", "passed" if self.passed else "failed")
        if self.status not in STATUSES or (self.status == "passed") != bool(self.passed):
            raise ValueError(f"status must be one of {STATUSES} and agree with passed, got {self.status!r}")

    def __bool__(self):
        return self.passed

    def __repr__(self):
        """The message, wrapped to lines of at most :data:`LINE` characters (what a notebook shows)."""
        return textwrap.fill(self.message, LINE, break_long_words=False, break_on_hyphens=False)


def safe_str(obj, limit=200):
    """``str(obj)``, shortened, and never an exception (a reader's object may break str)."""
    try:
        text = str(obj)
    except Exception:  # noqa: BLE001  (any object can fail to print)
        text = f"<{type(obj).__name__} that cannot be printed>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def name_of(fn, default):
    """The reader's name for ``fn`` (``default`` for a lambda or a nameless object)."""
    try:
        name = fn.__name__
    except Exception:  # noqa: BLE001
        return default
    return name if isinstance(name, str) and name.isidentifier() else default


class Described:
    """Stands for a value that cannot travel between processes (the grading command sends
    numbers and arrays only): it carries the words :func:`describe` gave for the value."""

    def __init__(self, description):
        self.description = str(description)

    def __repr__(self):
        return f"<{self.description}>"


def describe(value):
    """A few words naming what ``value`` is: ``None``, ``a str``, ``a tuple of 2 items``..."""
    if value is None:
        return "None"
    if isinstance(value, Described):
        return value.description
    if isinstance(value, (bool, np.bool_)):
        return f"{value} (a bool)"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (tuple, list, dict)):
        try:
            return f"a {type(value).__name__} of {len(value)} item{'s' if len(value) != 1 else ''}"
        except Exception:  # noqa: BLE001
            pass
    return f"a {type(value).__name__}"


def shape_words(shape):
    """``a single number`` for shape (), else ``an array of shape (n, n)``."""
    return "a single number" if shape == () else f"an array of shape {shape}"


def as_float_array(value, shape, *, scalar_ok_size1=True):
    """``(array, None)`` if ``value`` reads as real numbers of ``shape``, else ``(None, problem)``.

    ``problem`` starts with "returned ..." and names what came back and what was expected.
    For a scalar answer (``shape == ()``), an array holding exactly one number is accepted.
    """
    expected = shape_words(shape)
    if value is None:
        return None, f"returned None where {expected} was expected (is a `return` missing?)."
    if isinstance(value, (bool, np.bool_, str, bytes, dict, set, frozenset, Described)) or callable(value):
        return None, f"returned {describe(value)} where {expected} was expected."
    try:
        arr = np.asarray(value)
    except Exception as err:  # noqa: BLE001  (ragged lists, objects whose __array__ fails, ...)
        return None, (f"returned {describe(value)} that is not a rectangular array of numbers "
                      f"({type(err).__name__}: {safe_str(err)}), where {expected} was expected.")
    kind = arr.dtype.kind
    if kind == "c":
        return None, f"returned complex numbers where {expected} of real numbers was expected."
    if kind == "b":
        return None, f"returned booleans where {expected} of numbers was expected."
    if kind not in "iuf":
        return None, f"returned {describe(value)} holding {arr.dtype} values, where {expected} of numbers was expected."
    try:
        with np.errstate(all="ignore"):
            arr = arr.astype(float)
    except Exception as err:  # noqa: BLE001
        return None, f"returned values that are not float64 numbers ({type(err).__name__}: {safe_str(err)})."
    if shape == () and scalar_ok_size1 and arr.size == 1:
        arr = arr.reshape(())
    if arr.shape != shape:
        return None, f"returned an array of shape {arr.shape} where {expected} was expected."
    return arr, None


def answer(call, where, shape):
    """``(array, None)`` for what a guarded ``call`` returned, read as real numbers of ``shape``;
    else ``(None, problem)``, the problem prefixed by ``where``: the call raised, or returned
    something else (see :func:`as_float_array`)."""
    if call.error:
        return None, f"{where}: {call.error}."
    got, problem = as_float_array(call.value, shape)
    return (None, f"{where}: {problem}") if problem else (got, None)


def tolerance_words(rtol, atol, *, of="the largest expected entry"):
    """How close a value must be, in words."""
    parts = []
    if rtol:
        parts.append(f"a relative error of {rtol:g} (of {of})")
    if atol:
        parts.append(f"an absolute error of {atol:g}")
    return " plus ".join(parts) if parts else "exact equality"


def close(got, want, *, rtol=1e-6, atol=1e-9):
    """Whether ``got`` matches ``want`` up to ``rtol`` of its largest entry plus ``atol``."""
    with np.errstate(all="ignore"):
        scale = np.abs(want).max() if want.size else 0.0
        return bool(want.size == 0 or np.abs(got - want).max() <= rtol * scale + atol)


class NotAttempted(Exception):
    """Raised out of a checker when the reader's function raises NotImplementedError, as the
    student edition's stubs do: the exercise has not been attempted yet."""


class CheckerCalled(Exception):
    """Raised out of a checker when the reader's function calls the checker's own code."""


class Diagnosis(str):
    """A failure message that names a known mistake; :func:`report` shows these first."""


def verdict(got, want, mistakes, where, *, rtol, atol, mistake_rtol=None):
    """Message for one case whose result ``got`` already has the right shape, or None if it passed.

    ``mistakes`` maps a message to the wrong answer a known mistake would give; when
    ``got`` matches one of them (within ``mistake_rtol``, if given, as a mistake may be
    computed less accurately than the right answer), that message explains the failure.
    """
    if not np.all(np.isfinite(got)):
        bad = np.unravel_index(np.argmax(~np.isfinite(got)), got.shape) if got.ndim else ()
        at = f" (entry [{', '.join(str(int(i)) for i in bad)}] is {got[bad]})" if got.ndim else f" ({float(got)})"
        return f"{where}: the result contains NaN or inf{at}."
    if close(got, want, rtol=rtol, atol=atol):
        return None
    near = {"rtol": rtol, "atol": atol} if mistake_rtol is None else {"rtol": mistake_rtol, "atol": 0}
    for label, wrong in mistakes.items():
        if np.shape(wrong) == want.shape and close(got, np.asarray(wrong, dtype=float), **near):
            return Diagnosis(f"{where}: {label}")
    worst = np.unravel_index(np.argmax(np.abs(got - want)), want.shape) if want.ndim else ()
    at = f" entry [{', '.join(str(int(i)) for i in worst)}]" if want.ndim else ""
    return f"{where}:{at} got {got[worst]:.6g}, expected {want[worst]:.6g}."


def cases_words(n_fixed, n_random):
    """``16 cases (6 fixed, 10 random)``."""
    return f"{n_fixed + n_random} cases ({n_fixed} fixed, {n_random} random)"


def report(fn_name, problems, n_fixed, n_random, *, witness, tolerance):
    """The final :class:`Feedback` from the list of failure messages.

    The message shows the first failure that names a known mistake, if there is one (it
    helps most), and otherwise the first failure; then the tolerance the values are held to.
    """
    if problems:
        shown = next((p for p in problems if isinstance(p, Diagnosis)), problems[0])
        label = "First" if shown is problems[0] else "For example"
        return Feedback(False, f"Not yet: {fn_name} fails {len(problems)} of {cases_words(n_fixed, n_random)}. "
                               f"{label}: {shown} Tolerance: {tolerance}.")
    return Feedback(True, f"Correct: {fn_name} matches {witness} on all {cases_words(n_fixed, n_random)}.")


def not_yet(message, tolerance):
    """A failing :class:`Feedback` that ends with the tolerance."""
    return Feedback(False, f"Not yet: {message} Tolerance: {tolerance}.")


def forbidden(fn_name, label, tolerance):
    """The verdict on a call of a function the exercise asks the reader to write."""
    return Feedback(False, f"Not yet: {fn_name} called {label}, but this exercise asks you to write it "
                           f"yourself: do not call {label}. Tolerance: {tolerance}.")


def not_callable(checker, fn, expected, tolerance):
    """The message for something that is not a function where a function was expected."""
    return Feedback(False, f"Not yet: {checker} expects a function {expected}, got {describe(fn)}. "
                           f"Tolerance: {tolerance}.")


def make_rng(seed):
    """``(generator, seed)`` for the random cases of one call: a fresh seed unless one is given.

    The generator is the checker's own, never the reader's; the seed is shown in messages
    about random cases, so that ``check_...(fn, seed=...)`` repeats them.
    """
    if seed is None:
        seed = secrets.randbits(32)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral) or seed < 0:
        return None, seed
    seed = int(seed)
    return np.random.default_rng(seed), seed


def bad_seed(checker, seed, tolerance):
    """The message for a seed that is not one."""
    return Feedback(False, f"Not yet: {checker}'s seed must be None or a non-negative integer, got {safe_str(seed)}. "
                           f"Tolerance: {tolerance}.")


def start(checker, fn, expected, tolerance, seed, *, bare_number=None):
    """What every checker does first: ``(generator, seed, refusal)``.

    ``refusal`` is the :class:`Feedback` to return when ``fn`` is not a function or ``seed``
    is not a seed, else ``None``; the generator serves the call's random cases (see
    :func:`make_rng`). A checker whose question has a number for an answer passes
    ``bare_number``, the words that say why a bare number is not judged and how to pass the
    computation instead; a number given for ``fn`` is then refused with them.
    """
    if bare_number is not None and isinstance(fn, numbers.Real) and not isinstance(fn, bool):
        return None, seed, Feedback(False, f"Not checked: a bare number is not judged, {bare_number}")
    if not callable(fn):
        return None, seed, not_callable(checker, fn, expected, tolerance)
    rng, seed = make_rng(seed)
    if rng is None:
        return None, seed, bad_seed(checker, seed, tolerance)
    return rng, seed, None


def never_raises(checker):
    """Wrap a checker so that even a case it did not foresee comes back as a :class:`Feedback`.

    The tests make sure that no input they try reaches this net; it is there for the ones
    nobody thought of. A :class:`NotAttempted` from a stub becomes a "Not attempted"
    verdict. ``KeyboardInterrupt`` still stops a checker.
    """

    @functools.wraps(checker)
    def safe(*args, **kwargs):
        try:
            return checker(*args, **kwargs)
        except KeyboardInterrupt:
            raise
        except CheckerCalled as shortcut:
            return Feedback(False, f"Not yet: {shortcut}")
        except NotAttempted as stub:
            return Feedback(False, f"Not attempted: {stub} Write the function in its cell, run that cell, then run "
                                   "this check again.", "not attempted")
        except BaseException as err:  # noqa: BLE001  (a checker must never raise on the reader's input)
            return Feedback(False, f"Not yet: the checker could not read the function's result "
                                   f"({type(err).__name__}: {safe_str(err)}). Tolerance: see help({checker.__name__}).")

    return safe
