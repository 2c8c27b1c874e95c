"""Checkers for chapter 8, truncated backpropagation through time.

:func:`check_truncated_da` calls the reader's ``truncated_da(W_hh, f_prime_a, e, K)`` on fixed
and on random recurrent networks of one sequence (tanh, sigmoid, ReLU and leaky ReLU; random
sizes, lengths, windows and weights, drawn afresh at every call) and compares the result with
the contributions of :func:`gradcourse.jacobians.contributions`, taken with respect to b_h and
summed over the band 0 <= t - k < K, never with a backward sweep like the one the reader is asked
to write. The result must match to a relative 1e-8 of its largest entry plus an absolute 1e-12.
:mod:`gradcourse.truncation`, :mod:`gradcourse.jacobians` and :func:`gradcourse.rnn.backward` are
disabled while the reader's function runs. A failing check names the first failing case and,
where a common mistake explains it (a window one step too long or too short, no truncation at
all, W_hh not transposed, f'(a_k) left out), the mistake.

:func:`check_kept_by_chunks` checks how the reader counts the contributions that truncation in
chunks keeps: it takes the reader's *function* ``kept_by_chunks(T, K)`` and runs it on fixed and
random sequence lengths and chunk lengths; the reference walks over the pairs (t, k) and asks
whether both steps lie in the same chunk. The counts must match exactly. A bare number is not
judged: trying numbers in a loop until the checker says yes would find it without any counting.

Examples
--------
Deliberately wrong stubs, to show the messages:

>>> check_truncated_da(lambda W_hh, f_prime_a, e, K: None)  # doctest: +ELLIPSIS
Not yet: truncated_da fails 14 of 14 cases (6 fixed, 8 random). First: tanh, n=1, T=1, K=1: returned None where an array of shape (1, 1) was expected (is a `return` missing?). Tolerance: ...
>>> check_kept_by_chunks(lambda T, K: T * K)  # doctest: +ELLIPSIS
Not yet: kept_by_chunks fails ... of 15 cases (7 fixed, 8 random). ...
"""

from collections import Counter

import numpy as np

from .. import activations, jacobians, rnn
from ._feedback import Diagnosis, Feedback, as_float_array, forbidden, never_raises, report, start, verdict
from ._forbid import Guard, ModuleRule, Rule

__all__ = ["check_truncated_da", "check_kept_by_chunks"]

RTOL, ATOL = 1e-8, 1e-12
TOLERANCE = "a relative error of 1e-08 (of the largest entry of dL/da) plus an absolute error of 1e-12"
N_RANDOM = 8
_GUARD = Guard([ModuleRule("gradcourse.truncation"), ModuleRule("gradcourse.jacobians"),
                Rule("gradcourse.rnn", "backward", "gradcourse.rnn.backward")])


def _network(name, n, T, scale, rng):
    """One sequence through a random network: its parameters (W_hy = I), forward record and f'(a)."""
    p = rnn.init_params(1, n, n, rng=rng, recurrent_scale=scale)
    p["W_hy"] = np.eye(n)
    p["b_h"] = rng.normal(size=n) * 0.3
    fwd = rnn.forward(p, rng.normal(size=(T, 1, 1)), activation=name)
    _, f_prime = activations.get(name)
    return p, fwd, f_prime(fwd.a[:, 0])


def _band(T, K):
    lag = np.subtract.outer(np.arange(T), np.arange(T))
    return (lag >= 0) & (lag < K)


def _reference(p, fwd, e, K):
    """dL/da_k summed over the band: the b_h contributions C[t, k] = f'(a_k) * e_{t,k}, row k."""
    C = jacobians.contributions(p, fwd, e[:, None, :], wrt="b_h")  # (T, T, n)
    T = len(e)
    return np.einsum("tk,tkn->kn", _band(T, K).astype(float), C)


def _without_derivative(p, fwd, e, K):
    """The mistake of leaving out f'(a_k): the signals e_{t,k} summed over the band."""
    C = jacobians.contributions(p, fwd, e[:, None, :], wrt="h")[:, :, 0]
    return np.einsum("tk,tkn->kn", _band(len(e), K).astype(float), C)


def _untransposed(W_hh, f_prime_a, e, K):
    """The mistake of moving signals back with W_hh instead of its transpose."""
    wrong = np.zeros(e.shape)
    for t in range(len(e)):
        back = e[t]
        for k in range(t, max(t - K, -1), -1):
            wrong[k] += f_prime_a[k] * back
            back = W_hh @ (f_prime_a[k] * back)
    return wrong


def _fixed_cases():
    cases, rng = [], np.random.default_rng(808)
    for name, n, T, K in (("tanh", 1, 1, 1), ("tanh", 3, 6, 2), ("sigmoid", 4, 8, 3), ("relu", 5, 7, 7),
                          ("tanh", 2, 5, 9), ("leaky_relu", 3, 9, 4)):
        cases.append((f"{name}, n={n}, T={T}, K={K}", name, n, T, K, 1.5, rng))
    return cases


def _random_cases(rng, seed):
    cases = []
    for i in range(1, N_RANDOM + 1):
        name = str(rng.choice(activations.NAMES))
        n, T = int(rng.integers(1, 7)), int(rng.integers(2, 13))
        K = int(rng.integers(1, T + 3))
        cases.append((f"random case {i} (seed {seed}): {name}, n={n}, T={T}, K={K}", name, n, T, K,
                      float(rng.uniform(0.5, 2.0)), rng))
    return cases


@never_raises
def check_truncated_da(truncated_da, *, seed=None):
    """Check ``truncated_da(W_hh, f_prime_a, e, K)``: dL/da_k of truncated BPTT for one sequence.

    The reader's function gets the recurrent matrix ``W_hh`` (n, n), ``f_prime_a`` (T, n) with
    f'(a_1), ..., f'(a_T), ``e`` (T, n) with the direct signals e_{t,t} = dL_t/dh_t, and the
    window ``K``; it must return the (T, n) array whose row k - 1 is
    sum over t = k, ..., min(T, k + K - 1) of f'(a_k) * e_{t,k}, with
    e_{t,k-1} = W_hh^T (f'(a_k) * e_{t,k}). It is checked on 6 fixed and 8 random cases
    (``seed`` repeats a set) against the contribution map's entries summed over the band.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> check_truncated_da(lambda W_hh, f_prime_a, e, K: 1 / 0)  # doctest: +ELLIPSIS
    Not yet: truncated_da fails 14 of 14 cases (6 fixed, 8 random). First: tanh, n=1, T=1, K=1: raised ZeroDivisionError: division by zero. Tolerance: ...
    """
    rng, seed, refusal = start("check_truncated_da", truncated_da, "truncated_da(W_hh, f_prime_a, e, K)",
                               TOLERANCE, seed)
    if refusal is not None:
        return refusal
    fn_name = "truncated_da"
    problems = []
    for where, name, n, T, K, scale, case_rng in _fixed_cases() + _random_cases(rng, seed):
        p, fwd, f_prime_a = _network(name, n, T, scale, case_rng)
        e = case_rng.normal(size=(T, n))
        want = _reference(p, fwd, e, K)
        W_hh = p["W_hh"]
        mistakes = {}
        if K < T:
            mistakes["this keeps K + 1 steps (t - k <= K); the window K keeps the steps k with t - k < K, the "
                     "loss step itself included."] = _reference(p, fwd, e, K + 1)
            mistakes["this is full BPTT: nothing is cut; keep only the steps k with t - k < K."] = \
                _reference(p, fwd, e, T)
        if K > 1:
            mistakes["this keeps K - 1 steps (t - k < K - 1); the window K keeps K steps, the loss step itself "
                     "included."] = _reference(p, fwd, e, K - 1)
        if n > 1:
            mistakes["the signal moves back with W_hh where it needs its transpose: "
                     "e_{t,k-1} = W_hh^T (f'(a_k) * e_{t,k})."] = _untransposed(W_hh, f_prime_a, e, K)
        mistakes["f'(a_k) is missing: these are the signals e_{t,k} summed, not dL/da_k = f'(a_k) * e_{t,k}."] = \
            _without_derivative(p, fwd, e, K)
        given = (W_hh.copy(), f_prime_a.copy(), e.copy(), K)
        call = _GUARD.call(truncated_da, given)
        if call.forbidden:
            return forbidden(fn_name, call.forbidden, TOLERANCE)
        if call.error:
            problems.append(f"{where}: {call.error}.")
            continue
        changed = [label for label, before, after in zip(("W_hh", "f_prime_a", "e"), (W_hh, f_prime_a, e), given)
                   if not np.array_equal(before, after)]
        if changed:
            problems.append(f"{where}: {fn_name} changed its input {changed[0]} in place; work on a copy.")
            continue
        got, problem = as_float_array(call.value, want.shape)
        if problem:
            problems.append(f"{where}: {problem}")
            continue
        problem = verdict(got, want, mistakes, where, rtol=RTOL, atol=ATOL)
        if problem:
            problems.append(problem)
    return report(fn_name, problems, 6, N_RANDOM, witness="the contributions summed over the band",
                  tolerance=TOLERANCE)


COUNT_TOLERANCE = "the count must match exactly"
N_RANDOM_COUNTS = 8
_COUNT_GUARD = Guard([ModuleRule("gradcourse.truncation")])


def _count_by_walking(T, K):
    """The pairs 1 <= k <= t <= T with t and k in the same chunk of K steps, one by one."""
    return sum(1 for t in range(T) for k in range(t + 1) if t // K == k // K)


def _count_mistakes(T, K):
    chunks, rest = T // K, T % K
    triangle = K * (K + 1) // 2
    band = sum(min(t, K) for t in range(1, T + 1))
    return [
        (chunks * triangle, "the last, shorter chunk is missing: when K does not divide T, the last "
                          f"T mod K = {rest} steps form a chunk of their own."),
        ((chunks + (rest > 0)) * triangle, "the last chunk is counted as a full one of K steps; it has only "
                                          "T mod K steps."),
        (band, "this is the band's count (every loss keeps its last K steps); a chunk's loss keeps only the "
               "steps back to the start of its chunk."),
        (T * K, "T K counts K contributions for every loss step; the loss at step t keeps only the steps back "
                "to the start of its chunk, from 1 to K of them."),
        (chunks * K * K + rest * rest, "a chunk of j steps keeps j (j + 1) / 2 contributions, not j^2: the "
                                       "loss at its i-th step keeps i of them."),
    ]


def _random_sizes(rng):
    sizes = []
    while len(sizes) < N_RANDOM_COUNTS:
        T, K = int(rng.integers(1, 400)), int(rng.integers(1, 60))
        if len(sizes) % 2 == 0 and T % K == 0:  # half of them with a shorter last chunk
            continue
        sizes.append((T, K))
    return sizes


def _judge(got, want, where, mistakes):
    """``(problem, explanations)`` for one answer: ``problem`` None if right; ``explanations`` maps
    each known mistake that gives the answer to its message."""
    arr, problem = as_float_array(got, ())
    if problem:
        return f"{where}: {problem}", {}
    value = float(arr)
    if not np.isfinite(value):
        return f"{where}: the result is {value}, not a count of contributions.", {}
    if value != int(value):
        return f"{where}: got {value:g}, which is not a whole number of contributions.", {}
    if int(value) == want:
        return None, {}
    explanations = {label: f"{where}: got {int(value)}: {label}" for wrong, label in mistakes if int(value) == wrong}
    return f"{where}: got {int(value)}, expected {want}.", explanations


@never_raises
def check_kept_by_chunks(kept_by_chunks, *, seed=None):
    """Check ``kept_by_chunks(T, K)``: how many contributions truncation in chunks of K keeps.

    A sequence of T steps is cut into chunks of K steps (the last one shorter when K does not
    divide T); the loss at step t keeps the contributions C_{t,k} of the steps k from the start of
    its chunk to t. The function must return how many pairs (t, k), 1 <= k <= t <= T, that keeps.
    It is checked on 7 fixed and 8 random pairs (T < 400, K < 60; ``seed`` repeats a set); the
    reference walks over all pairs. The counts must match exactly.

    A bare number is not judged (see the module's description): the message says how to pass the
    computation instead.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> check_kept_by_chunks(180)  # doctest: +ELLIPSIS
    Not checked: a bare number is not judged, ...
    """
    rng, seed, refusal = start("check_kept_by_chunks", kept_by_chunks, "kept_by_chunks(T, K)", COUNT_TOLERANCE,
                               seed,
                               bare_number=("since trying numbers in a loop would find it without counting. Pass "
                                            "your computation instead, as a function of the sequence length and "
                                            "the chunk length: check_kept_by_chunks(kept_by_chunks), where "
                                            "kept_by_chunks(T, K) returns the number of contributions C_{t,k} "
                                            "that chunks of K steps keep. It is checked on fixed and random "
                                            "pairs."))
    if refusal is not None:
        return refusal
    fixed = [(1, 1), (10, 1), (12, 4), (13, 4), (5, 8), (40, 8), (1000, 10)]
    pairs = [(T, K, f"T={T}, K={K}") for T, K in fixed]
    pairs += [(T, K, f"random case {i} (seed {seed}): T={T}, K={K}")
              for i, (T, K) in enumerate(_random_sizes(rng), start=1)]
    judged, answers = [], []
    for T, K, where in pairs:
        want = _count_by_walking(T, K)
        call = _COUNT_GUARD.call(kept_by_chunks, (T, K))
        if call.forbidden:
            return forbidden("kept_by_chunks", call.forbidden, COUNT_TOLERANCE)
        if call.error:
            judged.append((f"{where}: {call.error}.", {}))
            continue
        number, _ = as_float_array(call.value, ())
        if number is not None and np.isfinite(number):
            answers.append(float(number))
        problem, explanations = _judge(call.value, want, where, [m for m in _count_mistakes(T, K) if m[0] != want])
        if problem:
            judged.append((problem, explanations))
    # a function makes one mistake throughout: name the one that explains the most cases
    counts = Counter(label for _, explanations in judged for label in explanations)
    best = max(counts, key=counts.get) if counts else None
    problems = [Diagnosis(explanations[best]) if best in explanations else problem for problem, explanations in judged]
    if problems and len(answers) == len(pairs) and len(set(answers)) == 1:
        problems[0] = Diagnosis(f"it returned {answers[0]:g} for every T and K: compute the count from them, do "
                                "not return a fixed number.")
    if problems:
        return report("kept_by_chunks", problems, len(fixed), N_RANDOM_COUNTS, witness="",
                      tolerance=COUNT_TOLERANCE)
    return Feedback(True, f"Correct: kept_by_chunks counts the contributions that chunks keep on all "
                          f"{len(pairs)} cases ({len(fixed)} fixed, {N_RANDOM_COUNTS} random); for T = 40 and "
                          f"K = 8 that is {_count_by_walking(40, 8)}.")
