"""Checkers for chapter 1, backpropagation through time.

:func:`check_step_jacobian` and :func:`check_state_jacobian` call the reader's function on
fixed and on random recurrent networks (tanh, sigmoid, ReLU and leaky ReLU; random sizes,
weights and numbers of steps, drawn afresh at every call) and compare what it returns with
Jacobians measured by central finite differences of the forward recurrence, never with the
formula the reader is asked to write. The result must match to a relative 1e-6 of its largest
entry plus an absolute 1e-9. The functions of :mod:`gradcourse.jacobians` are disabled while
the reader's function runs: the exercise asks for the Jacobian to be written, not looked up.

A failing check names the first failing case and, where a common mistake explains it (the
factors in the wrong order, a transpose, a missing f', a missing step), the mistake.

:func:`check_first_distance_below` checks how the reader reads a row of the contribution map:
it takes the reader's *function* ``first_distance_below(row, fraction)`` and runs it on fixed
rows and on random ones drawn afresh at every call. Each row is built around its answer (the
entries before it above ``fraction * row[0]``, the one at it below), and walking along the
row confirms it. The distances must match exactly. A bare number is not judged: trying
numbers in a loop until the checker says yes would find it without reading the map.

Examples
--------
Deliberately wrong stubs, to show the messages:

>>> check_step_jacobian(lambda W_hh, a_t, f_prime: None)  # doctest: +ELLIPSIS
Not yet: step_jacobian fails 16 of 16 cases (6 fixed, 10 random). First: tanh, n=1: returned None where an array of shape (1, 1) was expected (is a `return` missing?). Tolerance: ...
>>> check_first_distance_below(lambda row, fraction: len(row) - 1)  # doctest: +ELLIPSIS
Not yet: first_distance_below fails ... of 18 cases (8 fixed, 10 random). First: row [8, 3, 1, 2, 0.5, 4, 0.25, 0.5, 0.125], fraction 0.125: got 8, the last distance with an entry below fraction * row[0] = 1; ...
"""


import numpy as np

from .. import activations
from ._feedback import (Diagnosis, Feedback, as_float_array, forbidden, never_raises, report, safe_str, start,
                        verdict)
from ._forbid import Guard, ModuleRule

__all__ = ["check_step_jacobian", "check_state_jacobian", "check_first_distance_below"]

RTOL, ATOL = 1e-6, 1e-9
TOLERANCE = "a relative error of 1e-06 (of the largest entry of the Jacobian) plus an absolute error of 1e-09"
N_RANDOM = 10
_GUARD = Guard([ModuleRule("gradcourse.jacobians")])
_KINKED = ("relu", "leaky_relu")  # finite differences must not straddle a = 0


def _fd_jacobian(fn, h, eps=1e-6):
    """Central-difference Jacobian of a vector map ``fn`` at ``h`` (rows: outputs)."""
    cols = []
    for j in range(h.size):
        e = np.zeros_like(h)
        e[j] = eps
        cols.append((fn(h + e) - fn(h - e)) / (2 * eps))
    return np.stack(cols, axis=1).reshape(h.size, h.size)


def _fixed_cases(n_steps_options):
    """Reference RNN pieces: (activation, W_hh, drives c_i, h_k), seeded and fixed."""
    rng = np.random.default_rng(2024)
    cases = []
    for name, n in (("tanh", 1), ("tanh", 3), ("sigmoid", 4), ("relu", 5), ("leaky_relu", 2), ("sigmoid", 3)):
        L = n_steps_options[len(cases) % len(n_steps_options)]
        W_hh = rng.normal(size=(n, n)) * 1.5 / np.sqrt(n)
        drives = rng.normal(size=(L, n))
        h_k = rng.normal(size=n)
        cases.append((f"{name}, n={n}", name, W_hh, drives, h_k))
    return cases


def _pre_activations(name, W_hh, drives, h_k):
    f, _ = activations.get(name)
    a, h = [], h_k
    for c in drives:
        a.append(W_hh @ h + c)
        h = f(a[-1])
    return np.array(a).reshape(len(drives), len(h_k))


def _random_cases(rng, seed, n_steps):
    """Random networks, away from ReLU's kink and with Jacobians not vanishingly small."""
    cases = []
    while len(cases) < N_RANDOM:
        name = str(rng.choice(activations.NAMES))
        n = int(rng.integers(1, 7))
        L = int(n_steps(rng))
        W_hh = rng.normal(size=(n, n)) * rng.uniform(0.5, 2.0) / np.sqrt(n)
        drives = rng.normal(size=(L, n))
        h_k = rng.normal(size=n)
        a = _pre_activations(name, W_hh, drives, h_k)
        if name in _KINKED and a.size and np.abs(a).min() < 1e-3:
            continue
        cases.append((f"random case {len(cases) + 1} (seed {seed}): {name}, n={n}", name, W_hh, drives, h_k))
    return cases


def _step_maps(name, W_hh, drives):
    """The maps h_{i-1} -> h_i of each step."""
    f, _ = activations.get(name)
    return [lambda h, c=c: f(W_hh @ h + c) for c in drives]


def _product(Js, n):
    """J_last ... J_first for Jacobians given in time order (each new one on the left); I if none."""
    P = np.eye(n)
    for J in Js:
        P = J @ P
    return P


def _changed(originals, given):
    for name, before, after in zip(("W_hh", "a", "f_prime"), originals, given):
        if isinstance(before, np.ndarray) and not np.array_equal(before, after):
            return name
    return None


def _one_case(fn, fn_name, where, W_hh, a, f_prime, want, mistakes):
    """The problem with one case (or None); the second value is a forbidden call's label."""
    given = (W_hh.copy(), a.copy(), f_prime)
    call = _GUARD.call(fn, given)
    if call.forbidden:
        return None, call.forbidden
    if call.error:
        return f"{where}: {call.error}.", None
    changed = _changed((W_hh, a), given)
    if changed:
        return f"{where}: {fn_name} changed its input {changed} in place; work on a copy.", None
    got, problem = as_float_array(call.value, want.shape)
    if problem:
        return f"{where}: {problem}", None
    return verdict(got, want, mistakes, where, rtol=RTOL, atol=ATOL), None


@never_raises
def check_step_jacobian(step_jacobian, *, seed=None):
    """Check a function ``step_jacobian(W_hh, a_t, f_prime)`` returning dh_t/dh_{t-1}.

    The reader's function gets the recurrent matrix ``W_hh`` (n, n), the
    pre-activation ``a_t`` (n,) of one sequence, and the derivative ``f_prime`` of
    the nonlinearity, and must return the (n, n) Jacobian with entry [i, j] =
    dh_t[i]/dh_{t-1}[j]. It is checked on 6 fixed and 10 random cases (``seed`` repeats
    a set of random cases) against finite differences of one step of the recurrence.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> check_step_jacobian(lambda W_hh, a_t, f_prime: 1 / 0)  # doctest: +ELLIPSIS
    Not yet: step_jacobian fails 16 of 16 cases (6 fixed, 10 random). First: tanh, n=1: raised ZeroDivisionError: division by zero. Tolerance: ...
    """
    rng, seed, refusal = start("check_step_jacobian", step_jacobian, "step_jacobian(W_hh, a_t, f_prime)",
                               TOLERANCE, seed)
    if refusal is not None:
        return refusal
    fn_name = "step_jacobian"
    cases = _fixed_cases([1]) + _random_cases(rng, seed, lambda r: 1)
    problems = []
    for where, name, W_hh, drives, h_prev in cases:
        _, f_prime = activations.get(name)
        a_t = W_hh @ h_prev + drives[0]
        step = _step_maps(name, W_hh, drives)[0]
        want = _fd_jacobian(step, h_prev)
        mistakes = {
            "the factors are in the wrong order: W_hh diag(f'(a_t)) scales columns, "
            "but dh_t[i]/dh_{t-1}[j] = f'(a_t[i]) W_hh[i, j] scales row i.": W_hh * f_prime(a_t)[None, :],
            "this is the transpose: row i must belong to unit i of h_t.": want.T,
            "f'(a_t) is missing: the chain rule passes through the nonlinearity first.": W_hh,
        }
        problem, shortcut = _one_case(step_jacobian, fn_name, where, W_hh, a_t, f_prime, want, mistakes)
        if shortcut:
            return forbidden(fn_name, shortcut, TOLERANCE)
        if problem:
            problems.append(problem)
    return report(fn_name, problems, 6, N_RANDOM, witness="finite differences", tolerance=TOLERANCE)


@never_raises
def check_state_jacobian(state_jacobian, *, seed=None):
    """Check a function ``state_jacobian(W_hh, a, f_prime)`` returning dh_t/dh_k.

    The reader's function gets ``W_hh`` (n, n), the pre-activations ``a`` (L, n) of
    steps k+1, ..., t (so L = t - k, and ``a[-1]`` is a_t), and ``f_prime``; it must
    return the (n, n) product J_t J_{t-1} ... J_{k+1} of the step Jacobians. With L = 0
    the answer is the identity. It is checked on 7 fixed and 10 random cases (``seed``
    repeats a set of random cases) against finite differences of the whole recurrence.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> check_state_jacobian(lambda W_hh, a, f_prime: "the identity")  # doctest: +ELLIPSIS
    Not yet: state_jacobian fails 17 of 17 cases (7 fixed, 10 random). First: tanh, n=1, t-k=4: returned a str where an array of shape (1, 1) was expected. Tolerance: ...
    """
    rng, seed, refusal = start("check_state_jacobian", state_jacobian, "state_jacobian(W_hh, a, f_prime)",
                               TOLERANCE, seed)
    if refusal is not None:
        return refusal
    fn_name = "state_jacobian"
    fixed = _fixed_cases([4, 1, 7]) + [("tanh, n=2", "tanh", np.array([[0.5, -1.0], [2.0, 0.3]]), np.zeros((0, 2)), np.ones(2))]
    cases = fixed + _random_cases(rng, seed, lambda r: r.integers(0, 9))
    problems = []
    for where, name, W_hh, drives, h_k in cases:
        _, f_prime = activations.get(name)
        a = _pre_activations(name, W_hh, drives, h_k)
        n, where = len(h_k), f"{where}, t-k={len(drives)}"
        states = [h_k]
        for step in _step_maps(name, W_hh, drives):
            states.append(step(states[-1]))
        steps = [_fd_jacobian(step, h) for step, h in zip(_step_maps(name, W_hh, drives), states)]
        want = _product(steps, n)
        if len(steps) > 1:  # the whole recurrence at once, as the witness
            def run_from(h, maps=_step_maps(name, W_hh, drives)):
                for step in maps:
                    h = step(h)
                return h

            want = _fd_jacobian(run_from, h_k)
        mistakes = {
            "the product is in the wrong order: the latest step's Jacobian J_t must stand on the left.": _product(steps[::-1], n),
            "one Jacobian too few: J_t, the Jacobian of the last step (built from a[-1]), is missing.": _product(steps[:-1], n),
            "one Jacobian too few: J_{k+1}, the Jacobian of the first step (built from a[0]), is missing.": _product(steps[1:], n),
            "this is the transpose of dh_t/dh_k: row i must belong to unit i of h_t.": want.T,
        }
        if not steps:
            mistakes = {}
        problem, shortcut = _one_case(state_jacobian, fn_name, where, W_hh, a, f_prime, want, mistakes)
        if shortcut:
            return forbidden(fn_name, shortcut, TOLERANCE)
        if problem and not steps:
            problem += " With t - k = 0 there is nothing to multiply: start the product from the identity."
        if problem:
            problems.append(problem)
    return report(fn_name, problems, len(fixed), N_RANDOM, witness="finite differences", tolerance=TOLERANCE)


DISTANCE_TOLERANCE = "the distance must match exactly, and be None where no entry is below"
N_RANDOM_ROWS = 10
_DISTANCE_GUARD = Guard()


def _walk(row, fraction):
    """The second method: step along the row until an entry is below fraction * row[0] (None: none is)."""
    limit, distance = fraction * row[0], 0
    while distance < len(row) and not row[distance] < limit:
        distance += 1
    return distance if distance < len(row) else None


def _first_where(mask):
    """Index of the first True entry of a boolean array, or None."""
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def _row_around(rng, n, fraction, first):
    """A row of n norms whose first entry below fraction * row[0] sits at distance ``first``.

    Before ``first`` the entries fall, noisily, from row[0] towards the limit and stay above it
    by at least 2%; the entry at ``first`` is below it; after it they scatter on both sides of
    it, as on a noisy row of the map. With ``first=None`` every entry stays above.
    """
    row = np.empty(n)
    row[0] = 10 ** rng.uniform(-3, 3)
    limit = fraction * row[0]
    stop = n if first is None else first
    d = np.arange(1, stop)
    decades = -np.log10(fraction) * (1 - d / stop) * rng.uniform(0.5, 1, size=d.size)
    row[1:stop] = limit * 10 ** (decades + rng.uniform(0.01, 0.3, size=d.size))
    if first is not None:
        row[first] = limit * 10 ** -rng.uniform(0.01, 1)
        row[first + 1:] = limit * 10 ** rng.uniform(-2, 0.5, size=n - first - 1)
    return row


def _fixed_rows():
    """(description, row, fraction, answer), the answers read off by hand."""
    tie = np.array([8.0, 3.0, 1.0, 2.0, 0.5, 4.0, 0.25, 0.5, 0.125])  # row[2] equals the limit 1
    noisy = np.array([2.0, 1.5, 0.9, 1.2, 0.6, 0.2, 0.7, 1.5])
    tiny = np.array([3e-9, 1e-9, 5e-11, 2e-12, 1e-13])
    cases = [(tie, 0.125, 4), (noisy, 0.5, 2), (np.array([1.0, 0.9, 0.8, 0.7]), 0.5, None),
             (np.array([4.0, 3.0, 2.0]), 0.5, None), (np.array([3.0]), 0.1, None),
             (np.array([5.0, 1.0, 0.2, 0.0]), 0.01, 3), (tiny, 1e-3, 3)]
    fixed = [(f"row [{', '.join(f'{x:g}' for x in row)}], fraction {fraction:g}", row, fraction, want)
             for row, fraction, want in cases]
    long_row = _row_around(np.random.default_rng(1), 59, 1e-3, 12)
    fixed.append(("a row of 59 entries falling like the chapter's, fraction 0.001", long_row, 1e-3, 12))
    return fixed


def _random_rows(rng, seed):
    rows = []
    while len(rows) < N_RANDOM_ROWS:
        n = int(rng.integers(2, 80))
        fraction = float(10 ** rng.uniform(-8, -0.3))
        first = None if rng.random() < 0.2 else int(rng.integers(1, n))
        row = _row_around(rng, n, fraction, first)
        if _walk(row, fraction) == first:  # the construction, confirmed by the second method
            where = f"random case {len(rows) + 1} (seed {seed}): a row of {n} entries, fraction {fraction:.3g}"
            rows.append((where, row, fraction, first))
    return rows


def _judge_distance(got, row, fraction, want, where):
    """Problem with one answer ``got`` (any object), or None."""
    limit = fraction * row[0]
    if got is None:
        if want is None:
            return None
        return f"{where}: returned None, but row[{want}] = {row[want]:.3g} is below fraction * row[0] = {limit:.3g}."
    arr, problem = as_float_array(got, ())
    if problem:
        return f"{where}: {problem}"
    value = float(arr)
    if not np.isfinite(value):
        return f"{where}: the result is {value}, not a distance."
    if value != int(value):
        entry = " It is an entry of the row: return its distance d, not row[d]." if value in row else ""
        return Diagnosis(f"{where}: got {value:g}, which is not a whole distance.{entry}")
    k = int(value)
    if k == want:
        return None
    n = len(row)
    if want is None:
        smallest = int(np.argmin(row))
        none = (f"no entry is below fraction * row[0] = {limit:.3g} (the smallest, row[{smallest}], is "
                f"{row[smallest]:.3g}), so the answer is None")
        if k == _first_where(row <= limit):
            return Diagnosis(f"{where}: got {k}, but row[{k}] equals fraction * row[0] = {limit:.3g} exactly, and "
                             f"equal is not below: {none}. Compare with <, not <=.")
        if k == 0:
            return Diagnosis(f"{where}: got 0, but {none}. np.argmax of a mask with no True entry is 0: check "
                             "that some entry is below before taking the first.")
        if k in (-1, n):
            return Diagnosis(f"{where}: got {k}, but {none}: return None, not {k}.")
        return f"{where}: got {k}, but {none}."
    if not 0 <= k < n:
        return f"{where}: got {k}, which is not a distance along a row of {n} entries (0 to {n - 1})."
    below = row < limit
    if k == _first_where(row <= limit):
        return Diagnosis(f"{where}: got {k}, but row[{k}] equals fraction * row[0] = {limit:.3g} exactly, and equal "
                         "is not below: compare with <, not <=.")
    if k == _first_where(row < fraction):
        return Diagnosis(f"{where}: got {k}, the first distance with row[d] < fraction = {fraction:g}; the limit is "
                         f"relative to the immediate contribution: fraction * row[0] = {limit:.3g}.")
    if k == want + 1:
        return Diagnosis(f"{where}: got {k}, one past the first distance: row[{want}] = {row[want]:.3g} is already "
                         f"below {limit:.3g}. Distances count from 0: row[0] is the immediate contribution.")
    if k == want - 1:
        return Diagnosis(f"{where}: got {k}, one short: row[{k}] = {row[k]:.3g} is not below {limit:.3g} yet. "
                         "Distances count from 0 (row[0] is distance 0); an index into row[1:] is one less than "
                         "the distance.")
    if k == int(below.sum()):
        return Diagnosis(f"{where}: got {k}, the number of entries below fraction * row[0]; the question asks for "
                         "the distance of the first one.")
    if k == n - 1 - _first_where(below[::-1]):
        return Diagnosis(f"{where}: got {k}, the last distance with an entry below fraction * row[0] = {limit:.3g}; "
                         "the question asks for the first (a noisy row can come back above the limit).")
    if k < want:
        return f"{where}: got {k}, but row[{k}] = {row[k]:.3g} is not below fraction * row[0] = {limit:.3g}."
    return f"{where}: got {k}, but an entry at a smaller distance is already below fraction * row[0] = {limit:.3g}."


@never_raises
def check_first_distance_below(first_distance_below, *, seed=None):
    """Check ``first_distance_below(row, fraction)``: the first d with ``row[d] < fraction * row[0]``.

    ``row`` is a 1-D array of norms ordered by distance 0, 1, 2, ... (``row[0]`` is the
    immediate contribution) and ``0 < fraction < 1``; the function must return the first
    distance d (a whole number) with ``row[d] < fraction * row[0]``, or None when no entry is
    below. It is checked on 8 fixed and 10 random rows (``seed`` repeats a set), each built
    around its answer; the distances must match exactly.

    A bare number is not judged (see the module's description): the message says how to
    pass the computation instead.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> check_first_distance_below(7)  # doctest: +ELLIPSIS
    Not checked: a bare number is not judged, ...
    """
    rng, seed, refusal = start("check_first_distance_below", first_distance_below,
                               "first_distance_below(row, fraction)", DISTANCE_TOLERANCE, seed,
                               bare_number=("since trying numbers in a loop would find it without reading the map. Pass"
                                            " your computation instead, as a function of the row and the fraction: "
                                            "check_first_distance_below(first_distance_below), where "
                                            "first_distance_below(row, fraction) returns the first distance d with "
                                            "row[d] < fraction * row[0], or None when no entry is below. It is checked "
                                            "on fixed and random rows."))
    if refusal is not None:
        return refusal
    fixed = _fixed_rows()
    cases = fixed + _random_rows(rng, seed)
    problems, answers = [], []
    for where, row, fraction, want in cases:
        call = _DISTANCE_GUARD.call(first_distance_below, (row.copy(), fraction))
        if call.error:
            problems.append(f"{where}: {call.error}.")
            continue
        number, _ = as_float_array(call.value, ()) if call.value is not None else (None, None)
        answers.append(float(number) if number is not None and np.isfinite(number) else safe_str(call.value))
        problem = _judge_distance(call.value, row, fraction, want, where)
        if problem:
            problems.append(problem)
    if problems and len(answers) == len(cases) and len(set(answers)) == 1 and isinstance(answers[0], float):
        problems[0] = Diagnosis(f"it returned {answers[0]:g} for every row and fraction: compute the distance from "
                                "them, do not return a fixed number.")
    if problems:
        return report("first_distance_below", problems, len(fixed), N_RANDOM_ROWS, witness="",
                      tolerance=DISTANCE_TOLERANCE)
    return Feedback(True, f"Correct: first_distance_below finds the first distance below fraction * row[0], and None "
                          f"where there is none, on all {len(cases)} cases ({len(fixed)} fixed, {N_RANDOM_ROWS} "
                          "random).")
