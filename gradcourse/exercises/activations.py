"""Checkers for chapter 4, activation functions.

:func:`check_stable_sigmoid` calls the reader's sigmoid on fixed arrays (moderate inputs,
the far left, the extremes +-1000 and +-inf, a 2-D array) and on random ones drawn afresh
at every call (moderate inputs, magnitudes from 1e-300 to 1e308 of either sign, a 3-D
array), with overflow, division by zero and invalid operations set to warn. It passes when

- not a single warning is raised,
- the result has the input's shape and no NaN or inf,
- every value agrees with sigma(a) to ``4 eps |sigma(a)| + 1e-15`` (eps = 2.2e-16: a few ulp
  where the value is not tiny, 1e-15 absolute near 0), and is exactly 0 or 1 where
  ``|a| >= 746``, where float64's sigma(a) is exactly 0 or 1.

The reference values come from 1 / (1 + exp(-a)) where that cannot overflow and from exp(a)
far to the left. The course's own :func:`gradcourse.activations.sigmoid` (and scipy's
``expit``) are disabled while the reader's function runs: the exercise asks for one written
from scratch.

:func:`check_layers_below` checks how the reader counts saturated layers: it takes the
reader's *function* ``layers_below(a, threshold)`` and runs it on fixed pre-activations and
thresholds and on random ones drawn afresh at every call; the reference multiplies the slope
sigma'(a) one layer at a time, without a logarithm, until the product is below the threshold.
The numbers of layers must match exactly. A bare number is not judged: trying numbers in a loop
until the checker says yes would find it without any understanding.

:func:`check_leaky_rms_gain` checks the reader's *function* ``leaky_rms_gain(g, alpha)``, the
factor by which one leaky ReLU layer with Gaussian weights of scale g scales the RMS of its
input, on fixed and random pairs, against the trapezoid rule applied to the mean square
E[f(a)^2]; a relative error of 1e-6 is allowed, and a bare number is not judged.

:func:`check_steps_to_target` checks ``steps_to_target(losses, target)``, the number of steps
each of a stack of training runs took to bring its loss to a target (inf for a run that never
does), on fixed runs and random stacks with stopped (NaN) tails, against a walk along every run;
the counts must match exactly. :func:`gradcourse.measures.steps_to_target` is disabled while
the reader's function runs.

Examples
--------
Deliberately wrong stubs, to show the messages:

>>> import numpy as np
>>> check_stable_sigmoid(lambda a: None)  # doctest: +ELLIPSIS
Not yet: on moderate inputs in [-30, 30], the function returned None where an array of shape (601,) was expected (is a `return` missing?). Tolerance: ...
>>> check_stable_sigmoid(lambda a: np.zeros(3))  # doctest: +ELLIPSIS
Not yet: on moderate inputs in [-30, 30], the function returned an array of shape (3,) where an array of shape (601,) was expected. Tolerance: ...
>>> check_layers_below(lambda a, threshold: 1)  # doctest: +ELLIPSIS
Not yet: layers_below fails ... of 13 cases (5 fixed, 8 random). First: it returned 1 for every pre-activation and threshold: ...
"""

import math
from collections import Counter

import numpy as np

from ..activations import sigmoid_prime
from ._feedback import (Diagnosis, Feedback, answer, as_float_array, forbidden, name_of, never_raises, report,
                        start)
from ._forbid import Guard, Rule

__all__ = ["check_stable_sigmoid", "check_layers_below", "check_leaky_rms_gain", "check_steps_to_target"]

EPS = np.finfo(float).eps
RTOL, ATOL = 4 * EPS, 1e-15
EXACT_BEYOND = 746.0  # |a| >= 746: float64's sigma(a) is exactly 0 or 1 (sigma(-745.1) is still 5e-324)
TOLERANCE = ("|got - sigma(a)| <= 4 eps |sigma(a)| + 1e-15 (eps = 2.2e-16), and exactly 0 or 1 where |a| >= 746, "
             "without a single warning")
_GUARD = Guard([
    Rule("gradcourse.activations", "sigmoid", "gradcourse.activations.sigmoid"),
    Rule("scipy.special", "expit", "scipy.special.expit"),
    Rule("scipy.special", "log_expit", "scipy.special.log_expit"),
])
N_RANDOM = 3


def _reference(a):
    """sigma(a) from formulas that are safe where they are used (no stable formula needed)."""
    with np.errstate(over="ignore", under="ignore"):
        moderate = 1 / (1 + np.exp(-np.maximum(a, -700.0)))  # exp(700) ~ 1e304: no overflow
        return np.where(a > -700.0, moderate, np.exp(a))  # sigma(a) = e^a (1 - e^a + ...) = e^a here


def _cases(rng, seed):
    """(description, inputs); the reference values follow from the inputs."""
    moderate = np.linspace(-30, 30, 601)
    fixed = [
        ("moderate inputs in [-30, 30]", moderate),
        ("far left, a <= -40", np.array([-40.0, -100.0, -700.0, -744.0])),
        ("extremes -1000, 1000, -inf and inf", np.array([-1000.0, 1000.0, -np.inf, np.inf])),
        ("a 2-D array", moderate[:600].reshape(3, 200)),
    ]
    magnitudes = 10 ** rng.uniform(-300, 308, size=1000) * rng.choice([-1.0, 1.0], size=1000)
    random = [
        (f"random inputs in [-60, 60] (seed {seed})", rng.uniform(-60, 60, size=1000)),
        (f"random inputs of magnitude 1e-300 to 1e308 (seed {seed})", magnitudes),
        (f"a random 3-D array in [-800, 800] (seed {seed})", rng.uniform(-800, 800, size=(2, 3, 50))),
    ]
    return fixed, random


def _is_typo(sigmoid):
    """Whether ``sigmoid`` computes 1 / (1 - e^-a), the formula with the wrong sign."""
    call = _GUARD.call(sigmoid, (np.array([0.5]),))
    got, problem = as_float_array(call.value, (1,)) if call.error is None else (None, "error")
    return problem is None and abs(float(got[0]) - 1 / (1 - np.exp(-0.5))) < 1e-9


@never_raises
def check_stable_sigmoid(sigmoid, *, seed=None):
    """Check a sigmoid for arrays: correct values, exact limits, and not a single warning.

    Checked on 4 fixed and 3 random arrays (``seed`` repeats a set) to the tolerance stated
    in the module's description.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> check_stable_sigmoid(lambda a: 1 / (1 + np.exp(-a)))  # doctest: +ELLIPSIS
    Not yet: on far left, a <= -40, the function warned: overflow encountered in exp. Compute exp only of -|a|, which never exceeds 0. Tolerance: ...
    """
    rng, seed, refusal = start("check_stable_sigmoid", sigmoid, "my_sigmoid(a)", TOLERANCE, seed)
    if refusal is not None:
        return refusal
    name = name_of(sigmoid, "the function")
    fixed, random = _cases(rng, seed)
    for where, a in fixed + random:
        want = _reference(a)
        given = a.copy()
        call = _GUARD.call(sigmoid, (given,), record_warnings=True)
        if call.forbidden:
            return forbidden(name, call.forbidden, TOLERANCE)

        def fail(text, hint=""):
            return Feedback(False, f"Not yet: on {where}, {name} {text}{hint} Tolerance: {TOLERANCE}.")

        if call.error:
            return fail(f"{call.error}.")
        typo = _is_typo(sigmoid)
        hint = (
            " Check the sign: the sigmoid is 1 / (1 + e^-a); 1 / (1 - e^-a) has a pole at 0 and is negative for a < 0."
            if typo
            else " Compute exp only of -|a|, which never exceeds 0."
        )
        if call.warnings:
            return fail(f"warned: {call.warnings[0]}.", hint)
        if not np.array_equal(given, a, equal_nan=True):
            return fail("changed its input a in place; work on a copy.")
        got, problem = as_float_array(call.value, a.shape, scalar_ok_size1=False)
        if problem:
            return fail(problem)
        if not np.all(np.isfinite(got)):
            i = int(np.flatnonzero(~np.isfinite(got.ravel()))[0])
            return fail(f"returned {got.ravel()[i]} for a = {a.ravel()[i]:g}: the result contains NaN or inf.", hint)
        exact = np.abs(a) >= EXACT_BEYOND
        bad = np.where(exact, got != want, np.abs(got - want) > RTOL * np.abs(want) + ATOL)
        if np.any(bad):
            i = int(np.flatnonzero(bad.ravel())[0])
            limit = " (exactly, as |a| >= 746)" if exact.ravel()[i] else ""
            return fail(f"gives sigma({a.ravel()[i]:g}) = {got.ravel()[i]:.17g}, expected {want.ravel()[i]:.17g}{limit}.",
                        hint if typo else "")
    return Feedback(True, f"Correct: {name} matches the reference values on all {len(fixed) + len(random)} arrays "
                          f"({len(fixed)} fixed, {len(random)} random), without a warning.")


LAYERS_TOLERANCE = "the number of layers must match exactly"
N_RANDOM_LAYERS = 8
_LAYERS_GUARD = Guard()


def count_by_multiplying(factor, threshold, *, limit=None):
    """The first whole k with factor**k < threshold (0 < factor < 1), one factor at a time.

    With ``limit``, None when the count would exceed it (or when factor is not in (0, 1)):
    the counts of known mistakes need no more.
    """
    if limit is not None and not 0 < factor < 1:
        return None
    count, signal = 0, 1.0
    while signal >= threshold:
        if limit is not None and count >= limit:
            return None
        signal *= factor
        count += 1
    return count


def mistaken_count(factor, threshold):
    """The count a mistake gives with the wrong factor (None: none within 10**5 steps)."""
    return count_by_multiplying(factor, threshold, limit=10**5)


def clear_count(factor, threshold):
    """Whether the count is clearly defined: log(threshold) / log(factor) stays away from a whole
    number, so that rounding in any sound method (or in the factor) cannot tip it."""
    ratio = math.log(threshold) / math.log(factor)
    return abs(ratio - round(ratio)) > 1e-3


def mixed_bases(factor, threshold):
    """The counts that a logarithm of base 10 on one side of the fraction and a natural one on
    the other give: as if the factor were factor**ln(10), or factor**(1 / ln(10))."""
    return mistaken_count(factor ** math.log(10), threshold), mistaken_count(factor ** (1 / math.log(10)), threshold)


def judge_count(got, want, where, *, noun, signal, threshold, mistakes=()):
    """Judge one answer ``got`` (any object) to "the first whole count whose product is below
    the threshold": ``(problem, explanations)``, with ``problem`` None if it is right.

    ``explanations`` maps each known mistake that gives ``got`` (one too few, one too many,
    and the wrong counts listed in ``mistakes``, pairs of count and message) to a message
    naming it; :func:`best_explanations` chooses among them over all cases. ``signal(k)`` is
    the product after k steps, for the messages.
    """
    arr, problem = as_float_array(got, ())
    if problem:
        return f"{where}: {problem}", {}
    value = float(arr)
    if not np.isfinite(value):
        return f"{where}: the result is {value}, not a number of {noun}s.", {}
    if value != int(value):
        return Diagnosis(f"{where}: got {value:g}, which is not a whole number of {noun}s. The signal shrinks one "
                         f"{noun} at a time; round up to the first whole {noun} at which it is below the "
                         "threshold."), {}
    k = int(value)
    if k == want:
        return None, {}
    if k <= 0:
        return f"{where}: got {k}; a number of {noun}s is at least 1, as the signal starts at 1, above the threshold.", {}
    after = f"after {k} {noun}{'s' if k != 1 else ''} the signal {signal(k):.3g} is still above {threshold:g}"
    before = f"already after {k - 1} {noun}s the signal {signal(k - 1):.3g} is below {threshold:g}"
    explanations = {}
    if k == want - 1:
        explanations["one too few"] = (f"{where}: got {k}, but {after}. One more {noun}: the product may equal the "
                                       "threshold only at a whole count, so round up, not to the nearest.")
    if k == want + 1:
        explanations["one too many"] = f"{where}: got {k}, one {noun} more than needed: {before}."
    for wrong, label in mistakes:
        if wrong is not None and k == wrong:
            explanations.setdefault(label, f"{where}: got {k}. {label}")
    if k < want:
        return f"{where}: got {k}, but {after}.", explanations
    return f"{where}: got {k}, more {noun}s than needed: {before}.", explanations


def best_explanations(judged):
    """The problems of ``judged``, pairs ``(problem, explanations)`` from :func:`judge_count`,
    with the messages of the known mistake that explains the most cases (on a tie, the first
    found) in place of theirs, as :class:`Diagnosis`: a function makes one mistake throughout,
    while a single case can match several by chance."""
    counts = Counter(label for _, explanations in judged for label in explanations)
    best = max(counts, key=counts.get) if counts else None
    return [Diagnosis(explanations[best]) if best in explanations else problem for problem, explanations in judged]


def same_number_everywhere(problems, answers, n_cases, inputs):
    """Replace the first problem by the likeliest cause when every answer was the same number."""
    if problems and len(answers) == n_cases and len(set(answers)) == 1:
        problems[0] = Diagnosis(f"it returned {answers[0]:g} for every {inputs}: compute the answer from them, "
                                "do not return a fixed number.")


def _random_slopes(rng):
    pairs = []
    while len(pairs) < N_RANDOM_LAYERS:
        a, threshold = float(rng.uniform(-9, 9)), float(10 ** rng.uniform(-12, -1))
        if clear_count(float(sigmoid_prime(a)), threshold):
            pairs.append((a, threshold))
    return pairs


def _layer_mistakes(a, slope, threshold):
    sigma = 1 / (1 + math.exp(-a))
    tanh_slope = 1 - math.tanh(a) ** 2
    ten_over_e, e_over_ten = mixed_bases(slope, threshold)
    return [
        (mistaken_count(0.25, threshold) if a != 0 else None,
         "This is the count at the sigmoid's steepest point, slope 1/4; the units sit at a, where the slope is "
         "sigma'(a) = sigma(a) (1 - sigma(a)), smaller."),
        (mistaken_count(sigma, threshold),
         "This is the count for the factor sigma(a); a layer multiplies the backward signal by the slope sigma'(a)."),
        (mistaken_count(tanh_slope, threshold), "This is the count for tanh's slope 1 - tanh(a)^2, not the "
                                                      "sigmoid's."),
        (ten_over_e, "The two logarithms are in different bases (log10 of the threshold, the natural log of the "
                     "slope): take both in the same base."),
        (e_over_ten, "The two logarithms are in different bases (the natural log of the threshold, log10 of the "
                     "slope): take both in the same base."),
    ]


@never_raises
def check_layers_below(layers_below, *, seed=None):
    """Check ``layers_below(a, threshold)``: the first L with ``sigma'(a)**L < threshold``.

    A stack of sigmoid layers whose units all sit at pre-activation ``a`` multiplies the
    backward signal by the slope sigma'(a) at every layer (the weights ignored); the function
    must return the first whole number of layers after which the signal is below
    ``threshold`` (0 < threshold < 1). It is checked on 5 fixed and 8 random pairs
    (-9 < a < 9, 1e-12 < threshold < 0.1; ``seed`` repeats a set); the reference multiplies
    the slope one layer at a time. The answers must match exactly.

    A bare number is not judged (see the module's description): the message says how to
    pass the computation instead.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> check_layers_below(5)  # doctest: +ELLIPSIS
    Not checked: a bare number is not judged, ...
    """
    rng, seed, refusal = start("check_layers_below", layers_below, "layers_below(a, threshold)", LAYERS_TOLERANCE, seed,
                               bare_number=("since trying numbers in a loop would find it without the logarithm. Pass "
                                            "your computation instead, as a function of the pre-activation and the "
                                            "threshold: check_layers_below(layers_below), where layers_below(a, "
                                            "threshold) returns the first number of layers L with sigma'(a)**L < "
                                            "threshold. It is checked on fixed and random pairs."))
    if refusal is not None:
        return refusal
    fixed = [(4.0, 1e-6), (0.0, 1e-6), (-4.0, 1e-6), (10.0, 1e-3), (2.0, 1e-9)]
    pairs = [(a, t, f"a={a:g}, threshold={t:g}") for a, t in fixed]
    pairs += [(a, t, f"random case {i} (seed {seed}): a={a:.6g}, threshold={t:.3g}")
              for i, (a, t) in enumerate(_random_slopes(rng), start=1)]
    judged, answers = [], []
    for a, threshold, where in pairs:
        slope = float(sigmoid_prime(a))
        want = count_by_multiplying(slope, threshold)
        call = _LAYERS_GUARD.call(layers_below, (a, threshold))
        if call.error:
            judged.append((f"{where}: {call.error}.", {}))
            continue
        number, _ = as_float_array(call.value, ())
        if number is not None and np.isfinite(number):
            answers.append(float(number))
        problem, explanations = judge_count(call.value, want, where, noun="layer", signal=lambda k, s=slope: s**k,
                                            threshold=threshold, mistakes=_layer_mistakes(a, slope, threshold))
        if problem:
            judged.append((problem, explanations))
    problems = best_explanations(judged)
    same_number_everywhere(problems, answers, len(pairs), "pre-activation and threshold")
    if problems:
        return report("layers_below", problems, len(fixed), N_RANDOM_LAYERS, witness="", tolerance=LAYERS_TOLERANCE)
    return Feedback(True, f"Correct: layers_below gives the first layer at which the signal is below the threshold on "
                          f"all {len(pairs)} cases ({len(fixed)} fixed, {N_RANDOM_LAYERS} random).")


GAIN_RTOL = 1e-6
GAIN_TOLERANCE = "a relative error of 1e-06"
N_RANDOM_GAINS = 8
_GAIN_GUARD = Guard()


def _mean_square_by_quadrature(g, alpha, n=20_001):
    """E[f(a)^2] for a = g z, z ~ N(0, 1), f the leaky ReLU of slope alpha, by the trapezoid rule.

    The integrand is even in z apart from the slope, so the two half-lines are integrated apart
    on [0, 12] (the normal density beyond 12 is below 1e-31); no formula for the answer is used.
    """
    z = np.linspace(0.0, 12.0, n)
    density = np.exp(-z**2 / 2) / math.sqrt(2 * math.pi)
    right = np.trapezoid((g * z) ** 2 * density, z)  # a > 0: f(a) = a
    left = np.trapezoid((alpha * g * z) ** 2 * density, z)  # a < 0: f(a) = alpha a
    return right + left


def gain_by_quadrature(g, alpha):
    """The RMS gain sqrt(E[f(a)^2]) of one unit-variance input through weights of scale g."""
    return math.sqrt(_mean_square_by_quadrature(g, alpha))


def _gain_mistakes(g, alpha):
    """(wrong answer, message) for the mistakes the checker names."""
    return [
        (g * (1 + alpha) / 2, "This is g times the mean slope, (1 + alpha) / 2. The state's RMS is the square root of a "
                              "mean square: half of the squares keep their full size, half are multiplied by alpha^2."),
        (g * math.sqrt((1 + alpha) / 2), "alpha needs squaring: the negative half contributes (alpha a)^2 to the mean "
                                         "square."),
        (g * (1 + alpha**2) / 2, "This is the gain of the mean square; the RMS is its square root."),
        (g, "The units that are off (or scaled by alpha) do not keep their size: half of the pre-activations are "
            "negative."),
        (g / math.sqrt(2), "alpha is missing: the negative half still passes alpha a."),
    ]


def _random_gain_cases(rng):
    cases = []
    for _ in range(N_RANDOM_GAINS):
        g = float(rng.uniform(0.1, 5.0))
        alpha = 0.0 if rng.random() < 0.3 else float(rng.uniform(0.0, 0.99))  # plain ReLU in about a third
        cases.append((g, alpha))
    return cases


@never_raises
def check_leaky_rms_gain(leaky_rms_gain, *, seed=None):
    """Check ``leaky_rms_gain(g, alpha)``: the factor by which one leaky ReLU layer scales the state's RMS.

    The layer computes h_t = f(W h_{t-1}) with f the leaky ReLU of slope ``alpha`` (ReLU for
    alpha = 0) and weights drawn N(0, g^2 / n): each pre-activation is then N(0, g^2) times the
    RMS of h_{t-1}. The function must return the ratio of the RMS of h_t to that of h_{t-1},
    sqrt(E[f(a)^2]) for a ~ N(0, g^2). It is checked on 5 fixed and 8 random pairs
    (0.1 < g < 5, 0 <= alpha < 0.99; ``seed`` repeats a set) against the trapezoid rule, to a
    relative 1e-6.

    A bare number is not judged: the message says how to pass the computation instead.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> check_leaky_rms_gain(1.41)  # doctest: +ELLIPSIS
    Not checked: a bare number is not judged, ...
    """
    rng, seed, refusal = start("check_leaky_rms_gain", leaky_rms_gain, "leaky_rms_gain(g, alpha)", GAIN_TOLERANCE, seed,
                               bare_number=("since trying numbers in a loop would find it without the calculation. "
                                            "Pass your computation instead, as a function of the scale and the slope: "
                                            "check_leaky_rms_gain(leaky_rms_gain), where leaky_rms_gain(g, alpha) "
                                            "returns the factor by which one layer scales the RMS of the state. It is "
                                            "checked on fixed and random pairs."))
    if refusal is not None:
        return refusal
    fixed = [(1.2, 0.0), (2.0, 0.0), (0.5, 0.0), (1.0, 0.05), (1.5, 0.3)]
    pairs = [(g, alpha, f"g={g:g}, alpha={alpha:g}") for g, alpha in fixed]
    pairs += [(g, alpha, f"random case {i} (seed {seed}): g={g:.6g}, alpha={alpha:.6g}")
              for i, (g, alpha) in enumerate(_random_gain_cases(rng), start=1)]
    judged, answers = [], []
    for g, alpha, where in pairs:
        want = gain_by_quadrature(g, alpha)
        call = _GAIN_GUARD.call(leaky_rms_gain, (g, alpha))
        got, problem = answer(call, where, ())
        if problem:
            judged.append((problem, {}))
            continue
        value = float(got)
        answers.append(value)
        if not np.isfinite(value):
            judged.append((f"{where}: the result is {value}, not a gain.", {}))
            continue
        if abs(value - want) <= GAIN_RTOL * want:
            continue
        explanations = {message: Diagnosis(f"{where}: got {value:.6g}, expected {want:.6g}. {message}")
                        for wrong, message in _gain_mistakes(g, alpha)
                        if abs(value - wrong) <= GAIN_RTOL * abs(wrong) and abs(wrong - want) > GAIN_RTOL * want}
        judged.append((f"{where}: got {value:.6g}, expected {want:.6g}.", explanations))
    problems = best_explanations(judged)
    same_number_everywhere(problems, answers, len(pairs), "g and alpha")
    if problems:
        return report("leaky_rms_gain", problems, len(fixed), N_RANDOM_GAINS, witness="",
                      tolerance=GAIN_TOLERANCE)
    return Feedback(True, f"Correct: leaky_rms_gain matches the trapezoid rule on all {len(pairs)} cases "
                          f"({len(fixed)} fixed, {N_RANDOM_GAINS} random).")


TARGET_TOLERANCE = "every count must match exactly, with inf for a run that never reaches the target"
N_RANDOM_RUNS = 4
_TARGET_GUARD = Guard([Rule("gradcourse.measures", "steps_to_target", "gradcourse.measures.steps_to_target")])


def walk_to_target(losses, target):
    """Every run on its own, step by step: the first s with losses[s] <= target, or inf."""
    out = np.full(losses.shape[1:], np.inf)
    for run in np.ndindex(losses.shape[1:]):
        for s in range(losses.shape[0]):
            if losses[(s,) + run] <= target:  # NaN is never <= target
                out[run] = s
                break
    return out


def _target_mistakes(losses, target, want):
    """(wrong answer, message) for the mistakes the checker names."""
    never = np.isinf(want)
    nan_as_reached = walk_to_target(np.where(np.isnan(losses), -np.inf, losses), target)
    strict = walk_to_target(np.where(losses == target, np.inf, losses), target)
    last = np.full(want.shape, np.inf)
    for run in np.ndindex(want.shape):
        hits = [s for s in range(losses.shape[0]) if losses[(s,) + run] <= target]
        last[run] = hits[-1] if hits else np.inf
    return [
        (np.where(never, 0.0, want), "A run that never reaches the target got 0: np.argmax of an all-False column is 0. "
                                     "Tell those runs apart (with any) and give them inf."),
        (np.where(never, float(losses.shape[0]), want), "A run that never reaches the target got the number of steps "
                                                         "run, which would say it reached it at the end: give it inf."),
        (want + 1, "Every count is one too large: losses[s] is the loss after s updates, so a run whose first loss "
                   "meets the target took 0 steps."),
        (nan_as_reached, "A NaN loss (a run that stopped) was counted as reaching the target; a stopped run never "
                         "reaches it."),
        (strict, "A loss exactly equal to the target counts as reaching it (<=, not <)."),
        (last, "This is the last step at or below the target; the question asks for the first."),
    ]


def _target_cases(rng, seed):
    """(description, losses, target): fixed runs, then random stacks of runs with stopped tails."""
    fixed = [
        ("one run that reaches 0.5 at step 3", np.array([2.0, 1.0, 0.7, 0.45, 0.3, 0.2]), 0.5),
        ("one run that never reaches 0.1", np.array([2.0, 1.0, 0.7, 0.45, 0.3, 0.2]), 0.1),
        ("runs of which one starts below the target", np.array([[0.5, 3.0], [0.4, 2.0], [0.3, 0.9]]), 1.0),
        ("a run that stops (NaN) before the target, and one that dips below and rises again",
         np.array([[3.0, 2.0], [2.5, 0.9], [np.nan, 1.4], [np.nan, 0.8]]), 1.0),
        ("a (steps, rates, seeds) stack with a loss exactly at the target",
         np.array([[[1.0, 2.0], [3.0, 1.0]], [[0.5, 0.25], [2.0, 1.0]], [[0.25, 0.25], [0.75, 0.5]]]), 0.5),
    ]
    random = []
    for i in range(1, N_RANDOM_RUNS + 1):
        shape = tuple(int(n) for n in rng.integers(1, 5, size=int(rng.integers(0, 3))))
        steps = int(rng.integers(5, 60))
        losses = np.exp(-np.cumsum(rng.uniform(-0.3, 0.4, size=(steps,) + shape), axis=0))
        stops = rng.integers(1, 2 * steps, size=shape)  # a run stops (NaN from there) if this is < steps
        losses = np.where(np.arange(steps).reshape((steps,) + (1,) * len(shape)) >= stops, np.nan, losses)
        target = float(np.exp(-rng.uniform(0.5, 3.0)))
        random.append((f"random case {i} (seed {seed}): {steps} steps, runs of shape {shape}, target {target:.4g}",
                       losses, target))
    return fixed, random


@never_raises
def check_steps_to_target(steps_to_target, *, seed=None):
    """Check ``steps_to_target(losses, target)``: how many steps each run took to reach a loss.

    ``losses`` has shape (steps, M...): ``losses[s]`` is the loss of every run before update s,
    NaN once a run has stopped. The function must return an array of shape M (a single number
    for one run) holding, for every run, the first s with ``losses[s] <= target``, and inf for
    a run that never gets there. It is checked on 5 fixed cases and 4 random stacks of runs
    (``seed`` repeats a set) against a walk along every run; the counts must match exactly.
    :func:`gradcourse.measures.steps_to_target` is disabled while the function runs.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> check_steps_to_target(lambda losses, target: 1 / 0)  # doctest: +ELLIPSIS
    Not yet: steps_to_target fails 9 of 9 cases (5 fixed, 4 random). First: one run that reaches 0.5 at step 3: raised ZeroDivisionError: division by zero. Tolerance: ...
    """
    rng, seed, refusal = start("check_steps_to_target", steps_to_target, "steps_to_target(losses, target)",
                               TARGET_TOLERANCE, seed)
    if refusal is not None:
        return refusal
    fixed, random = _target_cases(rng, seed)
    problems = []
    for where, losses, target in fixed + random:
        want = walk_to_target(losses, target)
        given = losses.copy()
        call = _TARGET_GUARD.call(steps_to_target, (given, target))
        if call.forbidden:
            return forbidden("steps_to_target", call.forbidden, TARGET_TOLERANCE)
        if call.error:
            problems.append(f"{where}: {call.error}.")
            continue
        if not np.array_equal(given, losses, equal_nan=True):
            problems.append(f"{where}: steps_to_target changed its input losses in place; work on a copy.")
            continue
        got, problem = as_float_array(call.value, want.shape)
        if problem:
            problems.append(f"{where}: {problem}")
            continue
        if np.array_equal(got, want):
            continue
        if np.isnan(got).any():
            problems.append(f"{where}: the result contains NaN; a run that never reaches the target gets inf.")
            continue
        named = [message for wrong, message in _target_mistakes(losses, target, want)
                 if np.array_equal(got, wrong) and not np.array_equal(wrong, want)]
        bad = np.flatnonzero(got.ravel() != want.ravel())[0]
        run = f" run {tuple(int(i) for i in np.unravel_index(bad, want.shape))}" if want.ndim else ""
        text = f"{where}:{run} got {got.ravel()[bad]:g}, expected {want.ravel()[bad]:g}."
        problems.append(Diagnosis(f"{text} {named[0]}") if named else text)
    return report("steps_to_target", problems, len(fixed), N_RANDOM_RUNS, witness="a walk along every run",
                  tolerance=TARGET_TOLERANCE)
