"""Checkers for chapter 6, gradient clipping.

:func:`check_clip_by_global_norm` calls the reader's ``clip_by_global_norm(grads, max_norm)``
on fixed gradients (large and small ones, one array much larger than the others, a zero
gradient, mixed signs, entries near 1e300 and near 1e-300) and on random ones drawn afresh at
every call, and checks, case by case, that

- the input dict and its arrays are left unchanged,
- the result is a dict with the same keys and shapes, finite,
- it is a positive multiple of the input: every entry has the sign of the input's entry and
  equals one common factor times it (to a relative 1e-9 of the largest entry); a zero
  gradient stays exactly zero,
- its global norm is min(norm, max_norm), to a relative 1e-9,
- clipping the result once more leaves it unchanged (to a relative 1e-9).

The functions of :mod:`gradcourse.clipping` and :func:`gradcourse.updates.clip_by_global_norm`
are disabled while the reader's function runs: the exercise asks for the clipping to be
written.

:func:`check_cosine_after_value_clip` checks ``cosine_after_value_clip(a, c, eps, n)``, the
cosine between a gradient with one component a > c and n - 1 components eps (0 < eps < c) and
its clip by value at c. The reference builds the vector, clips it and measures the cosine; the
cases run from n = 1 to n = 10**6, on fixed values and on random ones drawn afresh at every
call. The result must match to a relative 1e-9 plus an absolute 1e-12. A bare number is not
judged: it is the computation that is asked for.

Examples
--------
Deliberately wrong stubs, to show the messages:

>>> check_clip_by_global_norm(lambda grads, max_norm: None)  # doctest: +ELLIPSIS
Not yet: on a large gradient in three arrays: the function returned None where a dict of arrays with the keys ['W_hh', 'W_hy', 'b_h'] was expected (is a `return` missing?). Tolerance: ...
>>> check_cosine_after_value_clip(lambda a, c, eps, n: None)  # doctest: +ELLIPSIS
Not yet: cosine_after_value_clip fails 16 of 16 cases (8 fixed, 8 random). First: a=100, c=1, eps=0.5, n=2: returned None where a single number was expected (is a `return` missing?). Tolerance: ...
"""

import math
from collections.abc import Mapping

import numpy as np

from ._feedback import (Diagnosis, Feedback, answer, as_float_array, describe, forbidden, name_of, never_raises,
                        report, safe_str, start, verdict)
from ._forbid import Guard, ModuleRule, Rule

__all__ = ["check_clip_by_global_norm", "check_cosine_after_value_clip"]

RTOL = 1e-9
N_RANDOM = 6
TOLERANCE = ("the result must be a positive multiple of the input (each entry one common factor times the input's, "
             "to a relative 1e-09 of the largest entry, with the same sign), with global norm min(norm, max_norm) to "
             "a relative 1e-09; a zero gradient must stay exactly zero")
_GUARD = Guard([ModuleRule("gradcourse.clipping"),
                Rule("gradcourse.updates", "clip_by_global_norm", "gradcourse.updates.clip_by_global_norm")])


def _fixed_cases():
    rng = np.random.default_rng(6)
    big = {"W_hh": rng.normal(size=(4, 4)) * 10, "b_h": rng.normal(size=4), "W_hy": rng.normal(size=(1, 4))}
    return [
        ("a large gradient in three arrays", big, 1.0),
        ("a gradient below the threshold", {k: v / 1000 for k, v in big.items()}, 1.0),
        ("one array much larger than the others", {"a": np.full(3, 100.0), "b": np.full(2, 0.1)}, 5.0),
        ("a zero gradient", {"a": np.zeros((2, 2)), "b": np.zeros(3)}, 1.0),
        ("a single array", {"g": np.array([3.0, 4.0])}, 2.5),
        ("a gradient with mixed signs and a zero entry", {"a": np.array([-3.0, 4.0]), "b": np.array([[0.0, -12.0]])}, 6.5),
        ("entries near 1e300", {k: v * 1e300 for k, v in big.items()}, 1.0),
        ("entries near 1e-300, below the threshold", {k: v * 1e-300 for k, v in big.items()}, 1.0),
        ("entries near 1e-300, above a threshold of 1e-301", {k: v * 1e-300 for k, v in big.items()}, 1e-301),
    ]


def _random_cases(rng, seed):
    cases = []
    for i in range(1, N_RANDOM + 1):
        grads = {}
        for j in range(int(rng.integers(1, 5))):
            shape = tuple(int(n) for n in rng.integers(1, 5, size=int(rng.integers(1, 3))))
            grads[f"g{j}"] = rng.normal(size=shape) * 10 ** rng.uniform(-3, 3)
        h = float(_norm(_flat(grads, list(grads))) * 10 ** rng.uniform(-2, 0.7))
        cases.append((f"random case {i} (seed {seed}), {len(grads)} arrays and max_norm {h:.3g}", grads, h))
    return cases


def _flat(grads, keys):
    return np.concatenate([np.ravel(grads[k]) for k in keys]) if keys else np.zeros(0)


def _norm(x):
    """Euclidean norm without overflow or underflow: scaled by the largest entry first."""
    m = np.abs(x).max() if x.size else 0.0
    if m == 0 or not np.isfinite(m):
        return float(m)
    with np.errstate(under="ignore"):
        return float(m * np.sqrt(np.sum((x / m) ** 2)))


def _read_result(out, grads, name):
    """``(dict of float arrays, None)`` or ``(None, problem)``."""
    keys = sorted(grads)
    expected = f"a dict of arrays with the keys {keys}"
    if out is None:
        return None, f"{name} returned None where {expected} was expected (is a `return` missing?)."
    if not isinstance(out, Mapping):
        return None, f"{name} returned {describe(out)} where {expected} was expected."
    try:
        out_keys = list(out)
        values = {k: out[k] for k in out_keys}
    except Exception as err:  # noqa: BLE001  (a mapping that cannot be read)
        return None, f"the returned mapping cannot be read ({type(err).__name__}: {safe_str(err)})."
    if sorted(map(safe_str, out_keys)) != keys or len(out_keys) != len(keys):
        return None, f"the result's keys {safe_str(sorted(map(safe_str, out_keys)))} differ from the input's {keys}."
    arrays = {}
    for k in keys:
        arr, problem = as_float_array(values[k], grads[k].shape, scalar_ok_size1=False)
        if problem:
            return None, f"for the key {k!r}, {name} {problem}"
        arrays[k] = arr
    return arrays, None


def _direction_problem(out, grads, keys, h):
    """The result's direction against the input's (a nonzero gradient), or None."""
    g, o = _flat(grads, keys), _flat(out, keys)
    gmax, omax = np.abs(g).max(), np.abs(o).max()
    if omax == 0:
        overflow = (" Squaring entries this large overflows to inf, so the norm came out as inf and max_norm / inf = 0:"
                    " divide by the largest |entry| before squaring." if gmax > 1e150 else "")
        return f"the result is all zeros, but the gradient is not.{overflow}"
    with np.errstate(under="ignore"):
        G, O = g / gmax, o / omax
    nonzero = G != 0
    if np.any(O[~nonzero] != 0):
        return "an entry that is 0 in the input is not 0 in the result: clipping only rescales."
    flipped = np.sign(O[nonzero]) != np.sign(G[nonzero])
    if np.all(flipped):
        return ("the result has the wrong sign: it points the opposite way. Clipping multiplies by a positive factor, "
                "min(1, max_norm / norm), and never flips the sign.")
    if np.any(flipped):
        return ("the signs of some entries changed: clipping by global norm multiplies every entry by one positive "
                "factor, so every sign stays.")
    c = (O @ G) / (G @ G)
    if np.abs(O - c * G).max() > RTOL * np.abs(c * G).max():
        per_array = all(_norm(np.ravel(out[k])) <= h * (1 + 1e-9) for k in keys)
        hint = (" Each array seems to have been clipped on its own; compute one norm over all arrays together "
                "and scale them all by it." if per_array and len(keys) > 1 else "")
        return f"the direction changed: the arrays were not all scaled by the same factor.{hint}"
    return None


@never_raises
def check_clip_by_global_norm(clip_by_global_norm, *, seed=None):
    """Check ``clip_by_global_norm(grads, max_norm)``, which returns a new dict of clipped arrays.

    Checked on 9 fixed and 6 random gradients (``seed`` repeats a set) for the properties
    listed in the module's description.

    Examples
    --------
    >>> check_clip_by_global_norm(lambda grads, max_norm: grads)  # doctest: +ELLIPSIS
    Not yet: on a large gradient in three arrays: the global norm is 45.6063, expected 1. Above the threshold the norm must become max_norm = 1. Tolerance: ...
    """
    rng, seed, refusal = start("check_clip_by_global_norm", clip_by_global_norm, "clip_by_global_norm(grads, max_norm)",
                               TOLERANCE, seed)
    if refusal is not None:
        return refusal
    name = name_of(clip_by_global_norm, "the function")
    fixed, random = _fixed_cases(), _random_cases(rng, seed)
    for where, grads, h in fixed + random:
        def fail(text):
            return Feedback(False, f"Not yet: on {where}: {text} Tolerance: {TOLERANCE}.")

        keys = sorted(grads)
        original = {k: v.copy() for k, v in grads.items()}
        call = _GUARD.call(clip_by_global_norm, (grads, h))
        if call.forbidden:
            return forbidden(name, call.forbidden, TOLERANCE)
        if call.error:
            return fail(f"{name} {call.error}.")
        if set(grads) != set(original) or any(not np.array_equal(grads[k], original[k]) for k in original):
            return fail("the input gradients were modified; return new arrays.")
        out, problem = _read_result(call.value, grads, name)
        if problem:
            return fail(problem)
        norm = _norm(_flat(grads, keys))
        if not all(np.all(np.isfinite(v)) for v in out.values()):
            hint = (" Guard the division: a zero gradient has norm 0." if norm == 0 else
                    " Squaring entries this large overflows: divide by the largest |entry| before squaring."
                    if norm > 1e150 else "")
            return fail(f"the result contains NaN or inf.{hint}")
        if norm == 0:
            if any(np.any(v != 0) for v in out.values()):
                return fail("a zero gradient must stay zero.")
        else:
            problem = _direction_problem(out, grads, keys, h)
            if problem:
                return fail(problem)
        want, got = min(norm, h), _norm(_flat(out, keys))
        if abs(got - want) > RTOL * want:
            if norm < h:
                hint = " A gradient already below the threshold must stay as it is."
                if norm < 1e-150 and got == 0:
                    hint += " Squaring entries this small underflows to 0: divide by the largest |entry| first."
            else:
                hint = f" Above the threshold the norm must become max_norm = {h:g}."
                if norm < 1e-150:
                    hint += (" Squaring entries this small underflows to 0, so the norm came out as 0 and the gradient "
                             "was not clipped: divide by the largest |entry| before squaring.")
            return fail(f"the global norm is {got:.6g}, expected {want:.6g}.{hint}")
        again = _GUARD.call(clip_by_global_norm, ({k: v.copy() for k, v in out.items()}, h))
        if again.forbidden:
            return forbidden(name, again.forbidden, TOLERANCE)
        if again.error:
            return fail(f"clipping the clipped gradient once more, {name} {again.error}.")
        twice, problem = _read_result(again.value, grads, name)
        if problem:
            return fail(f"clipping the clipped gradient once more: {problem}")
        scale = np.abs(_flat(out, keys)).max() if norm else 0.0
        change = np.abs(_flat(twice, keys) - _flat(out, keys)).max()
        if not change <= RTOL * scale:
            return fail(f"clipping the clipped gradient once more changed it (by up to {change:.3g}): a gradient whose "
                        "norm is at most max_norm must come back as it is.")
    return Feedback(True, f"Correct: {name} keeps the direction and caps the global norm on all "
                          f"{len(fixed) + len(random)} cases ({len(fixed)} fixed, {len(random)} random).")


COSINE_RTOL, COSINE_ATOL = 1e-9, 1e-12
COSINE_TOLERANCE = "a relative error of 1e-09 plus an absolute error of 1e-12"
N_RANDOM_COSINES = 8
_COSINE_GUARD = Guard()


def _vectors(a, c, eps, n):
    """The gradient (a, eps, ..., eps) of n components and its clip by value at c, built."""
    g = np.full(n, eps)
    g[0] = a
    return g, np.clip(g, -c, c)


def _cosine_by_clipping(a, c, eps, n):
    """Build the gradient, clip every component into [-c, c], measure the cosine."""
    g, clipped = _vectors(a, c, eps, n)
    return float(g @ clipped / (np.linalg.norm(g) * np.linalg.norm(clipped)))


def _random_cosines(rng):
    cases = []
    for _ in range(N_RANDOM_COSINES):
        c = float(10 ** rng.uniform(-3, 3))
        a = c * float(10 ** rng.uniform(0.01, 4))
        eps = c * float(rng.uniform(0.01, 0.99))
        cases.append((a, c, eps, int(10 ** rng.uniform(np.log10(2), 5.5))))
    return cases


def _cosine_mistakes(a, c, eps, n, want):
    """What known mistakes give, measured on built vectors too."""
    g, clipped = _vectors(a, c, eps, n)
    dot, gg, vv = float(g @ clipped), float(g @ g), float(clipped @ clipped)
    mistakes = {
        "there are n - 1 small components, not n: one component is a.": _cosine_by_clipping(a, c, eps, n + 1),
        "the cosine of the clipped vector with one small component only; each of the n - 1 small components adds "
        "eps^2 to the dot product and to both squared norms.": _cosine_by_clipping(a, c, eps, 2),
        "this is the squared cosine: take the square roots of the squared norms.": want**2,
        "this is the dot product g . v alone: divide it by both norms, ||g|| ||v||.": dot,
        "this divides by the squared norms, ||g||^2 ||v||^2: divide by the norms.": dot / (gg * vv),
    }
    if want < 1 - 1e-6:  # an angle clearly above 0
        mistakes["this is the angle in radians, arccos of the cosine; the question asks for the cosine."] = \
            math.acos(want)
        mistakes["this is the angle in degrees; the question asks for the cosine."] = math.degrees(math.acos(want))
        mistakes["1 is the cosine after clipping by norm, which keeps the direction; clipping by value changes "
                 "it."] = 1.0
    return {label: np.array(wrong) for label, wrong in mistakes.items()}


@never_raises
def check_cosine_after_value_clip(cosine_after_value_clip, *, seed=None):
    """Check ``cosine_after_value_clip(a, c, eps, n)``: the cosine between a gradient and its clip by value.

    The gradient has n components (n >= 1): the first equal to ``a > c``, the other n - 1
    equal to ``eps`` with ``0 < eps < c``; clipping by value at ``c`` puts every component
    into [-c, c]. The function must return the cosine of the angle between the gradient and
    its clip. It is checked on 8 fixed cases (n from 1 to 10**6) and 8 random ones (``seed``
    repeats a set) against the cosine measured on the built and clipped vectors, to a
    relative 1e-9 plus an absolute 1e-12.

    A bare number is not judged (see the module's description): the message says how to
    pass the computation instead.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> check_cosine_after_value_clip(0.5)  # doctest: +ELLIPSIS
    Not checked: a bare number is not judged, ...
    """
    rng, seed, refusal = start("check_cosine_after_value_clip", cosine_after_value_clip,
                               "cosine_after_value_clip(a, c, eps, n)", COSINE_TOLERANCE, seed,
                               bare_number=("since it is the computation that is asked for. Pass it as a function: "
                                            "check_cosine_after_value_clip(cosine_after_value_clip), where "
                                            "cosine_after_value_clip(a, c, eps, n) returns the cosine between the "
                                            "gradient (a, eps, ..., eps) of n components and its clip by value at c. It"
                                            " is checked on fixed and random values of a, c, eps and n."))
    if refusal is not None:
        return refusal
    fixed = [(100.0, 1.0, 0.5, 2), (100.0, 1.0, 0.5, 10), (100.0, 1.0, 0.5, 1000), (100.0, 1.0, 0.5, 10**6),
             (100.0, 1.0, 0.5, 1), (1.000001, 1.0, 0.5, 10), (100.0, 1.0, 0.999, 50), (3e5, 2e-3, 1e-5, 200)]
    cases = [(a, c, eps, n, f"a={a:g}, c={c:g}, eps={eps:g}, n={n}") for a, c, eps, n in fixed]
    cases += [(a, c, eps, n, f"random case {i} (seed {seed}): a={a:.6g}, c={c:.6g}, eps={eps:.6g}, n={n}")
              for i, (a, c, eps, n) in enumerate(_random_cosines(rng), start=1)]
    problems, answers = [], []
    for a, c, eps, n, where in cases:
        want = np.array(_cosine_by_clipping(a, c, eps, n))
        call = _COSINE_GUARD.call(cosine_after_value_clip, (a, c, eps, n))
        got, problem = answer(call, where, ())
        if problem:
            problems.append(problem)
            continue
        if np.isfinite(got):
            answers.append(float(got))
        problem = verdict(got, want, _cosine_mistakes(a, c, eps, n, float(want)), where, rtol=COSINE_RTOL,
                          atol=COSINE_ATOL, mistake_rtol=1e-6)
        if problem:
            problems.append(problem)
    if problems and len(answers) == len(cases) and len(set(answers)) == 1 and answers[0] != 1:
        problems[0] = Diagnosis(f"it returned {answers[0]:g} for every a, c, eps and n: compute the cosine from them, "
                                "do not return a fixed number.")
    return report("cosine_after_value_clip", problems, len(fixed), N_RANDOM_COSINES,
                  witness="the cosine measured on the built and clipped vectors", tolerance=COSINE_TOLERANCE)
