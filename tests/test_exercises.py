"""The exercise checkers: they accept correct answers in several forms, reject known mistakes
with the right message, refuse library shortcuts, never raise, and leak no solution.

The worked solutions live here, as fixtures (the "correct submission" each checker must
accept), and nowhere in the package: a test below reads the package's source and help text
and looks for every one of their lines.
"""

import inspect
import math
import pydoc
import re
import sys
from functools import reduce
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradcourse.exercises
from gradcourse import activations, clipping, jacobians, rnn, scalar, spectral, updates
from gradcourse import measures
from gradcourse import exercises
from gradcourse.activations import sigmoid, sigmoid_prime

ROOT = Path(__file__).parents[1]
SEEDS = [0, 1, 2, 12345, None]


# ---------------------------------------------------------------------------------------------
# The worked solutions (fixtures): what each checker must accept.
# ---------------------------------------------------------------------------------------------


def step_jacobian_reference(W_hh, a_t, f_prime):
    """J_t = diag(f'(a_t)) W_hh: row i of W_hh scaled by f'(a_t[i])."""
    return f_prime(a_t)[:, None] * W_hh


def state_jacobian_reference(W_hh, a, f_prime):
    product = np.eye(len(W_hh))
    for a_i in a:
        product = step_jacobian_reference(W_hh, a_i, f_prime) @ product
    return product


def steps_to_shrink_reference(factor, threshold):
    """First k with factor**k < threshold: k > log(threshold) / log(factor)."""
    return int(np.floor(np.log(threshold) / np.log(factor))) + 1


def unstable_half_width_reference(w):
    """sigma'(a) = 1 / (4 cosh^2(a / 2)), so |w| sigma'(a) > 1  <=>  cosh(a / 2) < sqrt(|w|) / 2."""
    if abs(w) <= 4:
        return 0.0
    return 2 * np.arccosh(np.sqrt(abs(w)) / 2)


def memory_factor_reference(w):
    """w (1 - h*^2) at the largest fixed point h* = tanh(w h*), found by Newton's method from h = 1."""
    if w <= 1:
        return float(w)
    h = 1.0
    for _ in range(100):
        t = np.tanh(w * h)
        h -= (t - h) / (w * (1 - t * t) - 1)
    return float(w * (1 - h * h))


def largest_singular_value_reference(A, n_iter=500, seed=0):
    """||A|| by power iteration on A^T A, from a random start."""
    v = np.random.default_rng(seed).normal(size=A.shape[1])
    for _ in range(n_iter):
        v = A.T @ (A @ v)
        v /= np.linalg.norm(v)
    return np.linalg.norm(A @ v)


def most_stretched_direction_reference(A, n_iter=500, seed=0):
    """The unit vector that power iteration on A^T A turns towards: v_1."""
    v = np.random.default_rng(seed).normal(size=A.shape[1])
    for _ in range(n_iter):
        v = A.T @ (A @ v)
        v /= np.linalg.norm(v)
    return v


def stable_sigmoid_reference(a):
    a = np.asarray(a, dtype=float)
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


def add_identity_layers_reference(params, k):
    L = len(params) // 2
    n = params[f"W{L}"].shape[1]  # width of the last hidden layer
    new = {key: value.copy() for key, value in params.items() if key not in (f"W{L}", f"b{L}")}
    for j in range(k):
        new[f"W{L + j}"], new[f"b{L + j}"] = np.eye(n), np.zeros(n)
    new[f"W{L + k}"], new[f"b{L + k}"] = params[f"W{L}"].copy(), params[f"b{L}"].copy()
    return new


def clip_by_global_norm_reference(grads, max_norm):
    largest = max(np.abs(g).max() for g in grads.values())  # divide by it before squaring
    if largest == 0:
        return {k: g.copy() for k, g in grads.items()}  # a zero gradient stays zero
    norm = largest * np.sqrt(sum(np.sum((g / largest) ** 2) for g in grads.values()))
    scale = min(1.0, max_norm / norm)
    return {k: g * scale for k, g in grads.items()}


def orthogonal_reference(n, rng):
    Q, R = np.linalg.qr(rng.normal(size=(n, n)))
    return Q * np.sign(np.diag(R))


def first_distance_below_reference(row, fraction):
    """The first distance d with row[d] < fraction * row[0], or None if there is none."""
    below = np.flatnonzero(np.asarray(row) < fraction * row[0])
    return int(below[0]) if below.size else None


def layers_below_reference(a, threshold):
    """The first whole L with sigma'(a)**L < threshold, that is L > log(threshold) / log(sigma'(a))."""
    return int(np.floor(np.log(threshold) / np.log(sigmoid_prime(a)))) + 1


def leaky_rms_gain_reference(g, alpha):
    """a ~ N(0, g^2): half the time f(a)^2 = a^2, half the time alpha^2 a^2, so E f(a)^2 = g^2 (1 + alpha^2) / 2."""
    return g * np.sqrt((1 + alpha**2) / 2)


def steps_to_target_reference(losses, target):
    """The first step at or below the target, told apart from runs that never get there (argmax gives 0)."""
    reached = np.asarray(losses) <= target  # NaN <= target is False
    first = np.argmax(reached, axis=0).astype(float)
    return np.where(reached.any(axis=0), first, np.inf)


def shrink_per_layer_reference(backward):
    """Geometric mean of backward[l + 1] / backward[l]: the products telescope to last / first."""
    return (backward[-1] / backward[0]) ** (1 / (len(backward) - 1))


def cosine_after_value_clip_reference(a, c, eps, n):
    """cos = g . v / (||g|| ||v||) with g = (a, eps, ..., eps) and its clip v = (c, eps, ..., eps)."""
    small = (n - 1) * eps**2  # what the n - 1 small components add to each dot product
    return (a * c + small) / (np.sqrt(a**2 + small) * np.sqrt(c**2 + small))


def steps_to_forget_reference(bias, threshold):
    """The first whole k with f**k < threshold for f = sigma(bias): k > log(threshold) / log(f)."""
    return int(np.floor(np.log(threshold) / np.log(sigmoid(bias)))) + 1


FIXTURES = [
    step_jacobian_reference, state_jacobian_reference, steps_to_shrink_reference, unstable_half_width_reference,
    largest_singular_value_reference, most_stretched_direction_reference, stable_sigmoid_reference,
    add_identity_layers_reference, clip_by_global_norm_reference, orthogonal_reference,
    first_distance_below_reference, layers_below_reference, shrink_per_layer_reference,
    cosine_after_value_clip_reference, steps_to_forget_reference, memory_factor_reference,
]

# Alternative correct forms.


def step_jacobian_by_diag(W_hh, a_t, f_prime):
    return np.diag(f_prime(a_t)) @ W_hh


def state_jacobian_by_reduce(W_hh, a, f_prime):
    return reduce(lambda P, a_i: step_jacobian_by_diag(W_hh, a_i, f_prime) @ P, a, np.eye(len(W_hh)))


def steps_by_ceil(factor, threshold):
    return math.ceil(math.log(threshold) / math.log(factor))


def steps_by_multiplying(factor, threshold):
    k, product = 0, 1.0
    while product >= threshold:
        product, k = product * factor, k + 1
    return k


def half_width_by_log(w):
    s = np.sqrt(abs(w)) / 2
    return float(2 * np.log(s + np.sqrt(s * s - 1))) if abs(w) > 4 else 0


def memory_factor_by_iteration(w):
    """Iterate h <- tanh(w h) from 1 until it stops changing; the slope as w sech^2(w h*)."""
    h = 1.0 if w > 1 else 0.0
    while (new := math.tanh(w * h)) != h:
        h = new
    return w / math.cosh(w * h) ** 2


def largest_singular_value_by_rayleigh(A):
    v = most_stretched_direction_reference(A, n_iter=300, seed=1)
    return math.sqrt(v @ (A.T @ (A @ v)))


def product_log_norms_reference(layers, v):
    """Renormalise after every layer and add up the logarithms of the stretches."""
    u = np.asarray(v, dtype=float)
    logs = [np.log(np.linalg.norm(u))]
    u = u / np.linalg.norm(u)
    for layer in layers:
        u = layer @ u
        stretch = np.linalg.norm(u)
        logs.append(logs[-1] + np.log(stretch))
        u = u / stretch
    return np.array(logs)


def product_log_norms_by_halves(layers, v):
    """Half the log of the squared length, one layer at a time (the identity first)."""
    u, total, out = np.array(v, dtype=float), 0.0, []
    for step in [np.eye(len(u))] + list(layers):
        u = step @ u
        half_log = 0.5 * np.log(u @ u)
        total += half_log
        out.append(total)
        u = u * np.exp(-half_log)
    return np.array(out)


def signal_ratio_reference(W_hh, f_prime_a, e, d):
    """Step every signal back d times at once: e_{k-1} = (e_k * f'(a_k)) @ W_hh."""
    T = len(e)
    signals = e[d:]
    for lag in range(d):
        signals = (signals * f_prime_a[d - lag : T - lag]) @ W_hh
    return np.linalg.norm(signals, axis=1) / np.linalg.norm(e[d:], axis=1)


def signal_ratio_one_loss_at_a_time(W_hh, f_prime_a, e, d):
    out = []
    for t in range(d, len(e)):
        g = e[t]
        for k in range(t, t - d, -1):
            g = W_hh.T @ (f_prime_a[k] * g)
        out.append(np.linalg.norm(g) / np.linalg.norm(e[t]))
    return out


FIXTURES += [product_log_norms_reference, signal_ratio_reference]


def tanh_sigmoid(a):
    return 0.5 * (1 + np.tanh(a / 2))


def logaddexp_sigmoid(a):
    return np.exp(-np.logaddexp(0.0, -a))


def orthogonal_without_sign_fix(n, rng):
    return np.linalg.qr(rng.normal(size=(n, n)))[0]


def orthogonal_by_gram_schmidt(n, rng):
    W = rng.normal(size=(n, n))
    Q = np.zeros_like(W)
    for j in range(n):
        v = W[:, j] - Q[:, :j] @ (Q[:, :j].T @ W[:, j])
        v -= Q[:, :j] @ (Q[:, :j].T @ v)  # twice is enough
        Q[:, j] = v / np.linalg.norm(v)
    return Q


def first_distance_by_loop(row, fraction):
    for d, value in enumerate(row):
        if value < fraction * row[0]:
            return d
    return None


def first_distance_by_list(row, fraction):
    """Plain lists and Python floats, no numpy."""
    hits = [d for d in range(len(row)) if float(row[d]) < fraction * float(row[0])]
    return hits[0] if hits else None


def own_sigmoid(x):
    return 1 / (1 + math.exp(-x))


def layers_by_multiplying(a, threshold):
    slope = own_sigmoid(a) * (1 - own_sigmoid(a))
    layers, signal = 0, 1.0
    while not signal < threshold:
        layers, signal = layers + 1, signal * slope
    return layers


def layers_by_ceil(a, threshold):
    """Right wherever sigma'(a)**L never equals the threshold exactly, as on every case checked."""
    return math.ceil(math.log(threshold) / math.log(1 / (4 * math.cosh(a / 2) ** 2)))


def leaky_gain_by_halves(g, alpha):
    """The two halves of the mean square added, in plain Python."""
    positive_half = g * g / 2
    negative_half = (alpha * g) ** 2 / 2
    return math.sqrt(positive_half + negative_half)


def leaky_gain_by_integration(g, alpha):
    """E f(a)^2 by Gauss-Hermite quadrature, exact for this polynomial on each half-line."""
    z, w = np.polynomial.hermite_e.hermegauss(80)
    a = g * z
    mean_square = np.sum(w * np.where(a > 0, a, alpha * a) ** 2) / np.sqrt(2 * np.pi)
    return float(np.sqrt(mean_square))


def steps_by_walking(losses, target):
    losses = np.asarray(losses, dtype=float)
    counts = np.full(losses.shape[1:], np.inf)
    for run in np.ndindex(losses.shape[1:]):
        column = losses[(slice(None),) + run]
        hits = [s for s, value in enumerate(column) if value <= target]
        if hits:
            counts[run] = hits[0]
    return counts


def steps_by_counting_misses(losses, target):
    """Steps before the first hit = how many steps are still all misses (a cumulative product)."""
    missed = ~(np.asarray(losses) <= target)
    still_missing = np.cumprod(missed, axis=0)
    return np.where(still_missing[-1] == 1, np.inf, still_missing.sum(axis=0))


FIXTURES += [leaky_rms_gain_reference, steps_to_target_reference]


def shrink_by_mean_log_ratio(backward):
    ratios = np.asarray(backward[1:]) / np.asarray(backward[:-1])
    return float(np.exp(np.mean(np.log(ratios))))


def shrink_by_product_of_ratios(backward):
    product = 1.0
    for before, after in zip(backward[:-1], backward[1:]):
        product *= after / before
    return product ** (1 / (len(backward) - 1))


def cosine_by_building_the_vectors(a, c, eps, n):
    g = np.full(n, float(eps))
    g[0] = a
    v = np.minimum(g, c)
    return g @ v / np.sqrt((g @ g) * (v @ v))


def cosine_by_the_chapters_clip(a, c, eps, n):
    g = np.full(n, float(eps))
    g[0] = a
    v = clipping.clip_by_value({"g": g}, c)["g"]
    return float(np.dot(g, v) / (np.linalg.norm(g) * np.linalg.norm(v)))


def steps_to_forget_by_multiplying(bias, threshold):
    f = own_sigmoid(bias)
    k, kept = 0, 1.0
    while kept >= threshold:
        k, kept = k + 1, kept * f
    return k


def steps_to_forget_by_ceil(bias, threshold):
    return math.ceil(math.log(threshold) / math.log(0.5 * (1 + math.tanh(bias / 2))))


def chapter_clip(grads, max_norm):
    """The chapter's solution before the extreme cases: it squares the entries unscaled."""
    norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return {k: g * scale for k, g in grads.items()}


def layer_norm_reference(a, gamma, beta, eps):
    mu = a.mean(axis=-1, keepdims=True)
    var = ((a - mu) ** 2).mean(axis=-1, keepdims=True)
    return gamma * (a - mu) / np.sqrt(var + eps) + beta


def layer_norm_backward_reference(a, gamma, eps, dy):
    """(g - mean(g) - z mean(g z)) / sigma with g = dy * gamma: the Jacobian's transpose applied to dy."""
    mu = a.mean(axis=-1, keepdims=True)
    sigma = np.sqrt(((a - mu) ** 2).mean(axis=-1, keepdims=True) + eps)
    z = (a - mu) / sigma
    g = dy * gamma
    g_mean = g.mean(axis=-1, keepdims=True)
    gz_mean = (g * z).mean(axis=-1, keepdims=True)
    return (g - g_mean - z * gz_mean) / sigma


def layer_norm_row_by_row(a, gamma, beta, eps):
    """Plain Python lists, one row at a time."""
    rows = []
    for row in a.tolist():
        mean = sum(row) / len(row)
        spread = math.sqrt(sum((v - mean) ** 2 for v in row) / len(row) + eps)
        rows.append([g * (v - mean) / spread + b for v, g, b in zip(row, gamma, beta)])
    return rows


def layer_norm_by_var(a, gamma, beta, eps):
    centred = a - a.mean(axis=1)[:, None]
    return gamma * centred / np.sqrt(a.var(axis=1)[:, None] + eps) + beta


def layer_norm_backward_by_jacobian(a, gamma, eps, dy):
    """dy J row by row, with J = diag(gamma) (I - 11^T/n - zz^T/n) / sigma built in full."""
    n = a.shape[1]
    out = []
    for row, d in zip(a, dy):
        s = np.sqrt(row.var() + eps)
        u = (row - row.mean()) / s
        out.append(d @ (gamma[:, None] * (np.eye(n) - 1 / n - np.outer(u, u) / n) / s))
    return np.array(out)


def layer_norm_backward_by_chain(a, gamma, eps, dy):
    """Through the variance and the mean, one after the other."""
    n = a.shape[1]
    xc = a - a.mean(axis=1, keepdims=True)
    inv = 1 / np.sqrt((xc**2).mean(axis=1, keepdims=True) + eps)
    dxhat = dy * gamma
    dvar = np.sum(dxhat * xc, axis=1, keepdims=True) * -0.5 * inv**3
    dmu = -np.sum(dxhat * inv, axis=1, keepdims=True) - 2 * dvar * xc.mean(axis=1, keepdims=True)
    return dxhat * inv + dvar * 2 * xc / n + dmu / n


FIXTURES += [layer_norm_reference, layer_norm_backward_reference]


def truncated_da_reference(W_hh, f_prime_a, e, K):
    """Chapter 8: all loss steps' signals move back together, one lag at a time."""
    T = len(e)
    da = np.zeros_like(e)
    signal = e.copy()  # lag 0: row k holds e_{k,k}
    reach = min(K, T)  # the lags d = 0..reach-1 are kept
    for d in range(reach):
        delta = signal * f_prime_a[: T - d]  # row k: dL_{k+d}/da_k
        da[: T - d] += delta
        if d + 1 < reach:  # move back only if the next lag is kept
            signal = delta[1:] @ W_hh  # e_{t,k-1} = W_hh^T (f'(a_k) * e_{t,k})
    return da


def truncated_da_loss_by_loss(W_hh, f_prime_a, e, K):
    """Each loss step sends its own signal back K - 1 steps."""
    out = np.zeros(e.shape)
    for t in range(len(e)):
        back = e[t]
        for k in range(t, max(t - K, -1), -1):
            out[k] += f_prime_a[k] * back
            back = W_hh.T @ (f_prime_a[k] * back)
    return out


def kept_by_chunks_reference(T, K):
    """K(K+1)/2 per full chunk, and the last, shorter one."""
    full, rest = divmod(T, K)
    return full * K * (K + 1) // 2 + rest * (rest + 1) // 2


def kept_by_chunks_by_windows(T, K):
    """The loss at step t keeps (t - 1) mod K + 1 contributions."""
    return int(np.sum(np.arange(T) % K + 1))


FIXTURES += [truncated_da_reference, kept_by_chunks_reference]


CHECKERS = {
    "step_jacobian": (exercises.check_step_jacobian, [step_jacobian_reference, step_jacobian_by_diag]),
    "state_jacobian": (exercises.check_state_jacobian, [state_jacobian_reference, state_jacobian_by_reduce]),
    "steps_to_shrink": (exercises.check_steps_to_shrink, [steps_to_shrink_reference, steps_by_ceil, steps_by_multiplying]),
    "unstable_half_width": (exercises.check_unstable_half_width, [unstable_half_width_reference, half_width_by_log]),
    "memory_factor": (exercises.check_memory_factor, [memory_factor_reference, memory_factor_by_iteration]),
    "largest_singular_value": (exercises.check_largest_singular_value,
                               [largest_singular_value_reference, largest_singular_value_by_rayleigh]),
    "most_stretched_direction": (exercises.check_most_stretched_direction,
                                 [most_stretched_direction_reference, lambda A: -np.linalg.svd(A)[2][0]]),
    "product_log_norms": (exercises.check_product_log_norms,
                          [product_log_norms_reference, product_log_norms_by_halves]),
    "signal_ratio": (exercises.check_signal_ratio, [signal_ratio_reference, signal_ratio_one_loss_at_a_time]),
    "stable_sigmoid": (exercises.check_stable_sigmoid, [stable_sigmoid_reference, tanh_sigmoid, logaddexp_sigmoid]),
    "add_identity_layers": (exercises.check_add_identity_layers, [add_identity_layers_reference]),
    "clip_by_global_norm": (exercises.check_clip_by_global_norm, [clip_by_global_norm_reference]),
    "orthogonal": (exercises.check_orthogonal,
                   [orthogonal_reference, orthogonal_without_sign_fix, orthogonal_by_gram_schmidt]),
    "first_distance_below": (exercises.check_first_distance_below,
                             [first_distance_below_reference, first_distance_by_loop, first_distance_by_list]),
    "layers_below": (exercises.check_layers_below, [layers_below_reference, layers_by_multiplying, layers_by_ceil]),
    "leaky_rms_gain": (exercises.check_leaky_rms_gain,
                       [leaky_rms_gain_reference, leaky_gain_by_halves, leaky_gain_by_integration]),
    "steps_to_target": (exercises.check_steps_to_target,
                        [steps_to_target_reference, steps_by_walking, steps_by_counting_misses]),
    "shrink_per_layer": (exercises.check_shrink_per_layer,
                         [shrink_per_layer_reference, shrink_by_mean_log_ratio, shrink_by_product_of_ratios]),
    "cosine_after_value_clip": (exercises.check_cosine_after_value_clip,
                                [cosine_after_value_clip_reference, cosine_by_building_the_vectors,
                                 cosine_by_the_chapters_clip]),
    "steps_to_forget": (exercises.check_steps_to_forget,
                        [steps_to_forget_reference, steps_to_forget_by_multiplying, steps_to_forget_by_ceil]),
    "truncated_da": (exercises.check_truncated_da, [truncated_da_reference, truncated_da_loss_by_loss]),
    "kept_by_chunks": (exercises.check_kept_by_chunks, [kept_by_chunks_reference, kept_by_chunks_by_windows]),
    "layer_norm": (exercises.check_layer_norm, [layer_norm_reference, layer_norm_row_by_row, layer_norm_by_var]),
    "layer_norm_backward": (exercises.check_layer_norm_backward,
                            [layer_norm_backward_reference, layer_norm_backward_by_jacobian,
                             layer_norm_backward_by_chain]),
}
ALL_CHECKERS = [check for check, _ in CHECKERS.values()]
CHECKER_IDS = list(CHECKERS)


def test_every_checker_of_the_package_is_covered():
    names = {name for name in exercises.__all__ if name.startswith("check_")}
    assert names == {check.__name__ for check in ALL_CHECKERS}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    "check, solution",
    [(check, solution) for check, solutions in CHECKERS.values() for solution in solutions],
    ids=[f"{name}-{i}" for name, (_, solutions) in CHECKERS.items() for i in range(len(solutions))],
)
def test_checkers_accept_correct_solutions_in_several_forms(check, solution, seed):
    feedback = check(solution, seed=seed)
    assert feedback.passed and bool(feedback) and feedback.message.startswith("Correct"), feedback.message
    assert "random" in feedback.message  # the random cases ran


def test_success_messages_are_the_same_for_every_seed():
    """The book prints them: they must not depend on the random cases."""
    for check, solutions in CHECKERS.values():
        assert len({check(solutions[0], seed=s).message for s in (0, 1, 2)}) == 1


def test_a_seed_repeats_the_random_cases():
    wrong = lambda W, a, fp: step_jacobian_reference(W, a, fp) * (1 + (len(W) == 4))  # noqa: E731
    a, b = exercises.check_step_jacobian(wrong, seed=5), exercises.check_step_jacobian(wrong, seed=5)
    assert a.message == b.message and not a


def test_the_random_cases_differ_between_calls():
    """Without a seed, each call draws new cases: a set of memorised answers cannot pass."""
    seen = []
    original = exercises.scalar._steps_by_multiplying

    def spy(factor, threshold):
        seen.append((factor, threshold))
        return original(factor, threshold)

    exercises.scalar._steps_by_multiplying = spy
    try:
        exercises.check_steps_to_shrink(steps_to_shrink_reference)
        first = set(seen)
        seen.clear()
        exercises.check_steps_to_shrink(steps_to_shrink_reference)
    finally:
        exercises.scalar._steps_by_multiplying = original
    assert first - {(0.9, 1e-6)} and not (first - {(0.9, 1e-6)}) & set(seen)


def test_random_cases_do_not_use_or_disturb_the_global_generator():
    np.random.seed(3)
    expected = np.random.random()
    np.random.seed(3)
    exercises.check_orthogonal(orthogonal_reference)
    assert np.random.random() == expected


# ---------------------------------------------------------------------------------------------
# Library shortcuts: "this exercise asks you to write it yourself".
# ---------------------------------------------------------------------------------------------

from numpy.linalg import svd as svd_bound_before_the_check  # noqa: E402  (a name bound before any check)
from gradcourse.activations import sigmoid as sigmoid_bound_before  # noqa: E402
from gradcourse.clipping import clip_by_global_norm as clip_bound_before  # noqa: E402


def _swallowing(A):
    """Catches the stub's error and falls back to a name bound before the check."""
    try:
        return np.linalg.svd(A, compute_uv=False)[0]
    except Exception:  # noqa: BLE001
        return svd_bound_before_the_check(A, compute_uv=False)[0]


from gradcourse import truncation  # noqa: E402

SHORTCUTS = [
    (exercises.check_step_jacobian, lambda W, a, fp: jacobians.step_jacobians(W, a), "gradcourse.jacobians.step_jacobians"),
    (exercises.check_state_jacobian, lambda W, a, fp: jacobians.state_jacobian_norms(W, a), "gradcourse.jacobians"),
    (exercises.check_largest_singular_value, lambda A: np.linalg.norm(A, 2), "np.linalg.norm(A, 2)"),
    (exercises.check_largest_singular_value, lambda A: np.linalg.norm(A, ord=2), "np.linalg.norm(A, 2)"),
    (exercises.check_largest_singular_value, lambda A: np.linalg.svd(A)[1][0], "np.linalg.svd"),
    (exercises.check_largest_singular_value, lambda A: np.linalg.svd(A, compute_uv=False).max(), "np.linalg.svd"),
    (exercises.check_largest_singular_value, lambda A: np.linalg.svdvals(A)[0], "np.linalg.svdvals"),
    (exercises.check_largest_singular_value, lambda A: np.sqrt(np.linalg.eigvalsh(A.T @ A)[-1]), "np.linalg.eigvalsh"),
    (exercises.check_largest_singular_value, lambda A: np.sqrt(np.linalg.eigvals(A.T @ A).real.max()), "np.linalg.eigvals"),
    (exercises.check_largest_singular_value, lambda A: np.linalg.matrix_norm(A, ord=2), "np.linalg.matrix_norm"),
    (exercises.check_largest_singular_value, lambda A: svd_bound_before_the_check(A)[1][0], "np.linalg.svd"),
    (exercises.check_largest_singular_value, _swallowing, "np.linalg.svd"),
    (exercises.check_largest_singular_value, lambda A: np.linalg.norm(A, 2, axis=(0, 1)), "np.linalg.norm(A, 2)"),
    (exercises.check_largest_singular_value, lambda A: spectral.spectral_norm(A), "gradcourse.spectral.spectral_norm"),
    (exercises.check_largest_singular_value, lambda A: spectral.power_iteration(A, rng=np.random.default_rng(0))[0],
     "gradcourse.spectral.power_iteration"),
    (exercises.check_largest_singular_value, lambda A: np.linalg.cond(A) * 0 + 1, "np.linalg.cond"),
    (exercises.check_largest_singular_value, lambda A: np.linalg.lstsq(A, np.zeros(len(A)), rcond=None)[3][0],
     "np.linalg.lstsq"),
    (exercises.check_largest_singular_value, lambda A: __import__("numpy.linalg._umath_linalg").linalg._umath_linalg.svd_n(A)[0]
     if hasattr(np.linalg._umath_linalg, "svd_n") else np.linalg._umath_linalg.svd(A)[0], "numpy's LAPACK routines"),
    (exercises.check_most_stretched_direction, lambda A: spectral.power_iteration(A, rng=np.random.default_rng(0))[2],
     "gradcourse.spectral.power_iteration"),
    (exercises.check_stable_sigmoid, activations.sigmoid, "gradcourse.activations.sigmoid"),
    (exercises.check_stable_sigmoid, lambda a: activations.get("sigmoid")[0](a), "gradcourse.activations.sigmoid"),
    (exercises.check_stable_sigmoid, lambda a: sigmoid_bound_before(a), "gradcourse.activations.sigmoid"),
    (exercises.check_clip_by_global_norm, lambda g, h: clipping.clip_by_global_norm(g, h)[0],
     "gradcourse.clipping.clip_by_global_norm"),
    (exercises.check_clip_by_global_norm, lambda g, h: clip_bound_before(g, h)[0], "gradcourse.clipping.clip_by_global_norm"),
    (exercises.check_clip_by_global_norm, lambda g, h: {k: v * min(1, h / clipping.global_norm(g)) for k, v in g.items()},
     "gradcourse.clipping.global_norm"),
    (exercises.check_clip_by_global_norm, lambda g, h: updates.clip_by_global_norm(h).direction(g, 0),
     "gradcourse.updates.clip_by_global_norm"),
    (exercises.check_orthogonal, lambda n, rng: rnn.init_params(1, n, 1, rng=rng, recurrent_init="orthogonal")["W_hh"],
     "gradcourse.rnn.init_params"),
    (exercises.check_steps_to_target, lambda losses, target: measures.steps_to_target(losses, target),
     "gradcourse.measures.steps_to_target"),
    (exercises.check_memory_factor, lambda w: float(scalar.tanh_fixed_point_slope(w)),
     "gradcourse.scalar.tanh_fixed_point_slope"),
    (exercises.check_memory_factor, lambda w: w * (1 - float(scalar.tanh_fixed_point(w)) ** 2),
     "gradcourse.scalar.tanh_fixed_point"),
    (exercises.check_layer_norm, lambda a, g, b, e: normalization.layer_norm(a, gamma=g, beta=b, eps=e),
     "gradcourse.normalization.layer_norm"),
    (exercises.check_layer_norm_backward,
     lambda a, g, e, dy: normalization.backward(normalization.forward(a, gamma=g, eps=e), dy)["a"],
     "gradcourse.normalization.forward"),
    (exercises.check_layer_norm_backward,
     lambda a, g, e, dy: gradcheck.numerical_gradient(
         lambda p: float(np.sum(dy * layer_norm_reference(p["a"], g, 0.0, e))), {"a": a})["a"],
     "gradcourse.gradcheck.numerical_gradient"),
    (exercises.check_truncated_da, lambda W, f, e, K: truncation.kept_mask(len(e), K) @ e,
     "gradcourse.truncation.kept_mask"),
    (exercises.check_truncated_da,
     lambda W, f, e, K: jacobians.contributions(W, f, e, wrt="b_h").sum(axis=0), "gradcourse.jacobians"),
    (exercises.check_kept_by_chunks,
     lambda T, K: int(truncation.kept_mask(T, truncation.chunk_windows(T, K)).sum()), "gradcourse.truncation"),
]


@pytest.mark.parametrize("check, shortcut, label", SHORTCUTS, ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(SHORTCUTS)])
def test_checkers_refuse_the_library_function_the_exercise_asks_for(check, shortcut, label):
    feedback = check(shortcut)
    assert not feedback
    assert "this exercise asks you to write it yourself: do not call" in feedback.message
    assert label in feedback.message


ORIGINALS = {
    (np.linalg, name): getattr(np.linalg, name)
    for name in ("svd", "svdvals", "eig", "eigh", "eigvals", "eigvalsh", "norm", "matrix_norm")
} | {(activations, "sigmoid"): activations.sigmoid, (clipping, "clip_by_global_norm"): clipping.clip_by_global_norm,
     (clipping, "global_norm"): clipping.global_norm, (updates, "clip_by_global_norm"): updates.clip_by_global_norm,
     (rnn, "init_params"): rnn.init_params, (spectral, "spectral_norm"): spectral.spectral_norm,
     (jacobians, "step_jacobians"): jacobians.step_jacobians}


@pytest.mark.parametrize("check, shortcut, label", SHORTCUTS[:1] + SHORTCUTS[2:3] + SHORTCUTS[17:18] + SHORTCUTS[20:21])
def test_everything_is_put_back_after_a_check(check, shortcut, label):
    def explodes(*args):
        shortcut(*args)
        raise SystemExit("the reader's code exits")

    for fn in (shortcut, explodes):
        check(fn)
        assert sys.getprofile() is None
        for (module, name), original in ORIGINALS.items():
            assert getattr(module, name) is original, name
    assert np.linalg.norm(np.array([[3.0, 0.0], [0.0, 4.0]]), 2) == 4.0  # the real one again


def test_vector_norms_stay_allowed_in_the_power_iteration_exercise():
    def with_every_vector_norm(A):
        v = most_stretched_direction_reference(A, n_iter=200)
        return np.linalg.norm(A @ v, 2) + 0 * np.linalg.norm(v, ord=np.inf) + 0 * np.linalg.norm(A, "fro")

    assert exercises.check_largest_singular_value(with_every_vector_norm)


def test_the_chapters_svd_solution_of_the_direction_exercise_is_allowed():
    """The exercise does not ask for the direction without an SVD; only gradcourse.spectral is off."""
    assert exercises.check_most_stretched_direction(lambda A: np.linalg.svd(A)[2][0])


# ---------------------------------------------------------------------------------------------
# Misattributed messages: None, shapes, types, exceptions, NaN.
# ---------------------------------------------------------------------------------------------

NONE_RESULTS = [
    (exercises.check_step_jacobian, lambda W, a, fp: None),
    (exercises.check_state_jacobian, lambda W, a, fp: None),
    (exercises.check_steps_to_shrink, lambda f, t: None),
    (exercises.check_unstable_half_width, lambda w: None),
    (exercises.check_memory_factor, lambda w: None),
    (exercises.check_largest_singular_value, lambda A: None),
    (exercises.check_most_stretched_direction, lambda A: None),
    (exercises.check_product_log_norms, lambda layers, v: None),
    (exercises.check_signal_ratio, lambda W, f_prime_a, e, d: None),
    (exercises.check_stable_sigmoid, lambda a: None),
    (exercises.check_add_identity_layers, lambda p, k: None),
    (exercises.check_clip_by_global_norm, lambda g, h: None),
    (exercises.check_orthogonal, lambda n, rng: None),
    (exercises.check_first_distance_below, lambda row, fraction: None),
    (exercises.check_layers_below, lambda a, t: None),
    (exercises.check_leaky_rms_gain, lambda g, alpha: None),
    (exercises.check_steps_to_target, lambda losses, target: None),
    (exercises.check_shrink_per_layer, lambda backward: None),
    (exercises.check_cosine_after_value_clip, lambda a, c, eps, n: None),
    (exercises.check_steps_to_forget, lambda bias, t: None),
    (exercises.check_truncated_da, lambda W_hh, f_prime_a, e, K: None),
    (exercises.check_kept_by_chunks, lambda T, K: None),
    (exercises.check_layer_norm, lambda a, gamma, beta, eps: None),
    (exercises.check_layer_norm_backward, lambda a, gamma, eps, dy: None),
]


@pytest.mark.parametrize("check, fn", NONE_RESULTS, ids=CHECKER_IDS)
def test_returning_none_is_reported_as_such(check, fn):
    feedback = check(fn)
    assert not feedback and "returned None" in feedback.message
    assert "raised" not in feedback.message and "NaN" not in feedback.message


@pytest.mark.parametrize("check", ALL_CHECKERS, ids=CHECKER_IDS)
def test_an_exception_inside_the_function_is_reported_with_its_message(check):
    def divides_by_zero(*args):
        return 1 / 0

    feedback = check(divides_by_zero)
    assert not feedback and "raised ZeroDivisionError: division by zero" in feedback.message


WRONG_SHAPES = [
    (exercises.check_step_jacobian, lambda W, a, fp: fp(a), "returned an array of shape (1,) where an array of shape (1, 1)"),
    (exercises.check_state_jacobian, lambda W, a, fp: np.eye(len(W) + 1), "returned an array of shape (2, 2) where an array"),
    (exercises.check_unstable_half_width, lambda w: np.array([1.0, 2.0]), "returned an array of shape (2,) where a single"),
    (exercises.check_largest_singular_value, lambda A: np.ones(A.shape[1]) * 10, "where a single number was expected"),
    (exercises.check_most_stretched_direction, lambda A: np.ones((A.shape[1], 1)), "where an array of shape (2,) was"),
    (exercises.check_stable_sigmoid, lambda a: stable_sigmoid_reference(a)[:-1], "where an array of shape (601,)"),
    (exercises.check_stable_sigmoid, lambda a: float(stable_sigmoid_reference(a)[0]), "returned an array of shape ()"),
    (exercises.check_clip_by_global_norm, lambda g, h: {k: v.ravel() for k, v in clip_by_global_norm_reference(g, h).items()},
     "returned an array of shape (16,) where an array of shape (4, 4)"),
    (exercises.check_orthogonal, lambda n, rng: orthogonal_reference(n + 1, rng), "returned an array of shape (3, 3) where"),
    (exercises.check_steps_to_shrink, lambda f, t: [1, 2], "returned an array of shape (2,) where a single number"),
    (exercises.check_first_distance_below, lambda row, f: np.flatnonzero(row < f * row[0]),
     "returned an array of shape (4,) where a single number"),
    (exercises.check_layers_below, lambda a, t: [1, 2], "returned an array of shape (2,) where a single number"),
    (exercises.check_shrink_per_layer, lambda backward: backward[1:] / backward[:-1],
     "returned an array of shape (3,) where a single number"),
    (exercises.check_cosine_after_value_clip, lambda a, c, eps, n: np.full(n, eps),
     "returned an array of shape (2,) where a single number"),
    (exercises.check_steps_to_forget, lambda b, t: np.ones((2, 2)), "returned an array of shape (2, 2) where a single"),
    (exercises.check_truncated_da, lambda W, f, e, K: truncated_da_reference(W, f, e, K)[:, 0],
     "returned an array of shape (1,) where an array of shape (1, 1)"),
    (exercises.check_kept_by_chunks, lambda T, K: [T, K], "returned an array of shape (2,) where a single number"),
    (exercises.check_layer_norm, lambda a, g, b, e: layer_norm_reference(a, g, b, e).T,
     "returned an array of shape (4, 1) where an array of shape (1, 4)"),
    (exercises.check_layer_norm_backward, lambda a, g, e, dy: layer_norm_backward_reference(a, g, e, dy)[0],
     "returned an array of shape (4,) where an array of shape (1, 4)"),
]


@pytest.mark.parametrize("check, fn, hint", WRONG_SHAPES, ids=[c.__name__ for c, _, _ in WRONG_SHAPES])
def test_a_wrong_shape_is_reported_with_both_shapes(check, fn, hint):
    feedback = check(fn)
    assert not feedback and hint in feedback.message, feedback.message


WRONG_TYPES = [
    (exercises.check_step_jacobian, lambda W, a, fp: "J", "returned a str where an array of shape"),
    (exercises.check_largest_singular_value, lambda A: 1 + 2j, "complex numbers"),
    (exercises.check_unstable_half_width, lambda w: True, "returned True (a bool)"),
    (exercises.check_most_stretched_direction, lambda A: [1.0, [2.0, 3.0]], "not a rectangular array of numbers"),
    (exercises.check_stable_sigmoid, lambda a: a > 0, "returned booleans"),
    (exercises.check_add_identity_layers, lambda p, k: list(p.values()), "returned a list of"),
    (exercises.check_add_identity_layers, lambda p, k: {**p, "extra": 1}, "are not W1, b1, ..., Wn, bn"),
    (exercises.check_add_identity_layers, lambda p, k: {f"W{i}": "x" for i in range(1, 3)} | {f"b{i}": "y" for i in range(1, 3)},
     "expected 3 layers, got 2"),
    (exercises.check_add_identity_layers,
     lambda p, k: {key: np.full_like(v, np.nan) for key, v in add_identity_layers_reference(p, k).items()},
     "not a valid network"),
    (exercises.check_clip_by_global_norm, lambda g, h: (clip_by_global_norm_reference(g, h), 1.0), "returned a tuple of 2 items"),
    (exercises.check_clip_by_global_norm, lambda g, h: {**clip_by_global_norm_reference(g, h), "more": 1}, "keys"),
    (exercises.check_clip_by_global_norm, lambda g, h: {k: "big" for k in g}, "for the key"),
    (exercises.check_orthogonal, lambda n, rng: np.full((n, n), np.nan), "NaN or inf"),
    (exercises.check_steps_to_shrink, lambda f, t: steps_to_shrink_reference(f, t) + 0.5, "not a whole number of steps"),
    (exercises.check_steps_to_shrink, lambda f, t: float("inf"), "not a number of steps"),
    (exercises.check_first_distance_below, lambda row, f: True, "returned True (a bool)"),
    (exercises.check_first_distance_below, lambda row, f: "4", "returned a str"),
    (exercises.check_first_distance_below, lambda row, f: float("nan"), "not a distance"),
    (exercises.check_layers_below, lambda a, t: layers_below_reference(a, t) + 0.5, "not a whole number of layers"),
    (exercises.check_layers_below, lambda a, t: {"layers": 4}, "returned a dict"),
    (exercises.check_shrink_per_layer, lambda backward: 4 + 0j, "complex numbers"),
    (exercises.check_cosine_after_value_clip, lambda a, c, eps, n: "cos", "returned a str"),
    (exercises.check_steps_to_forget, lambda b, t: float("inf"), "not a number of steps"),
    (exercises.check_steps_to_forget, lambda b, t: (10, 23), "returned an array of shape (2,)"),
    (exercises.check_truncated_da, lambda W, f, e, K: "da", "returned a str where an array of shape"),
    (exercises.check_kept_by_chunks, lambda T, K: kept_by_chunks_reference(T, K) + 0.5, "not a whole number"),
    (exercises.check_kept_by_chunks, lambda T, K: float("nan"), "not a count of contributions"),
]


@pytest.mark.parametrize("check, fn, hint", WRONG_TYPES, ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(WRONG_TYPES)])
def test_a_wrong_type_is_reported_as_such(check, fn, hint):
    feedback = check(fn)
    assert not feedback and hint in feedback.message, feedback.message


@pytest.mark.parametrize(
    "check, fn",
    [(exercises.check_step_jacobian, lambda W, a, fp: W * np.nan),
     (exercises.check_largest_singular_value, lambda A: np.inf),
     (exercises.check_unstable_half_width, lambda w: 2 * np.arccosh(np.sqrt(w) / 2) if w > 4 else np.nan),
     (exercises.check_shrink_per_layer, lambda backward: np.nan),
     (exercises.check_cosine_after_value_clip, lambda a, c, eps, n: np.inf)],
)
def test_nan_and_inf_are_reported_as_such(check, fn):
    feedback = check(fn)
    assert not feedback and ("NaN or inf" in feedback.message or "the result is nan" in feedback.message)


@pytest.mark.parametrize("check", ALL_CHECKERS, ids=CHECKER_IDS)
def test_every_failure_states_the_tolerance(check):
    for fn in (lambda *args: None, lambda *args: 1 / 0, "not a function", None):
        feedback = check(fn)
        assert not feedback and "Tolerance:" in feedback.message, feedback.message


# ---------------------------------------------------------------------------------------------
# Chapter 1: the Jacobians.
# ---------------------------------------------------------------------------------------------


def test_step_checker_names_the_wrong_order_a_missing_derivative_and_a_transpose():
    assert "wrong order" in exercises.check_step_jacobian(lambda W, a, fp: W @ np.diag(fp(a))).message
    assert "f'(a_t) is missing" in exercises.check_step_jacobian(lambda W, a, fp: W).message
    assert "transpose" in exercises.check_step_jacobian(lambda W, a, fp: step_jacobian_reference(W, a, fp).T).message


def test_step_checker_points_at_the_wrong_entry_otherwise():
    feedback = exercises.check_step_jacobian(lambda W, a, fp: 2 * step_jacobian_reference(W, a, fp))
    assert not feedback and "entry [0, 0] got" in feedback.message


def test_step_checker_rejects_changing_the_input_in_place():
    def in_place(W_hh, a_t, f_prime):
        W_hh *= f_prime(a_t)[:, None]
        return W_hh

    feedback = exercises.check_step_jacobian(in_place)
    assert not feedback and "changed its input W_hh in place" in feedback.message


def test_state_checker_names_the_reversed_product_and_a_missing_jacobian():
    def reversed_order(W_hh, a, f_prime):
        P = np.eye(len(W_hh))
        for a_i in a:
            P = P @ step_jacobian_reference(W_hh, a_i, f_prime)
        return P

    assert "wrong order" in exercises.check_state_jacobian(reversed_order).message
    last = exercises.check_state_jacobian(lambda W, a, fp: state_jacobian_reference(W, a[:-1], fp))
    assert "J_t, the Jacobian of the last step" in last.message
    first = exercises.check_state_jacobian(lambda W, a, fp: state_jacobian_reference(W, a[1:], fp))
    assert "J_{k+1}, the Jacobian of the first step" in first.message


def test_state_checker_wants_the_identity_for_no_steps():
    def forgets_empty(W_hh, a, f_prime):
        return state_jacobian_reference(W_hh, a, f_prime) if len(a) else np.zeros_like(W_hh)

    feedback = exercises.check_state_jacobian(forgets_empty)
    assert not feedback and "t-k=0" in feedback.message and "start the product from the identity" in feedback.message

    def by_reduce_without_start(W_hh, a, f_prime):
        return reduce(lambda P, a_i: step_jacobian_reference(W_hh, a_i, f_prime) @ P,
                      a[1:], step_jacobian_reference(W_hh, a[0], f_prime))

    feedback = exercises.check_state_jacobian(by_reduce_without_start)
    assert not feedback and "raised IndexError" in feedback.message and "from the identity" in feedback.message


def test_state_checker_rejects_the_bare_matrix_power():
    assert not exercises.check_state_jacobian(lambda W, a, fp: np.linalg.matrix_power(W, len(a)))


def test_a_solution_that_only_fits_the_fixed_cases_fails_on_random_ones():
    """Tabulating the fixed answers (here: right for n <= 5 only) does not pass."""
    memorised = lambda W, a, fp: step_jacobian_reference(W, a, fp) if len(W) <= 5 else np.eye(len(W))  # noqa: E731
    results = [exercises.check_step_jacobian(memorised, seed=s) for s in range(10)]
    assert not all(results) and all("random case" in r.message for r in results if not r)


# ---------------------------------------------------------------------------------------------
# Chapter 2: a number of steps, and the unstable band.
# ---------------------------------------------------------------------------------------------


def test_a_bare_number_is_not_judged_so_a_loop_finds_nothing():
    messages = set()
    for k in range(1, 400):
        feedback = exercises.check_steps_to_shrink(k)
        assert not feedback and feedback.message.startswith("Not checked")
        messages.add(feedback.message)
    assert len(messages) == 1  # the right number gets the same answer as every wrong one
    assert "132" not in messages.pop()
    assert exercises.check_steps_to_shrink(132.0).message.startswith("Not checked")


def test_a_fixed_answer_fails_on_random_factors():
    feedback = exercises.check_steps_to_shrink(lambda factor, threshold: 132)
    assert not feedback and "for every factor and threshold" in feedback.message


@pytest.mark.parametrize(
    "wrong, hint",
    [(lambda f, t: steps_to_shrink_reference(f, t) - 1, "One more step"),
     (lambda f, t: steps_to_shrink_reference(f, t) + 1, "more steps than needed"),
     (lambda f, t: round(math.log(t) / math.log(f)), "got"),
     (lambda f, t: math.log(t) / math.log(f), "not a whole number"),
     (lambda f, t: -steps_to_shrink_reference(f, t), "at least 1"),
     (lambda f, t: "132", "returned a str")],
)
def test_steps_to_shrink_names_the_mistake(wrong, hint):
    feedback = exercises.check_steps_to_shrink(wrong)
    assert not feedback and hint in feedback.message


def test_steps_to_shrink_takes_the_chapters_factor_and_threshold_as_before():
    feedback = exercises.check_steps_to_shrink(steps_to_shrink_reference, factor=0.5, threshold=1e-3)
    assert feedback and "that is 10 steps" in feedback.message
    assert "0 < factor < 1" in exercises.check_steps_to_shrink(steps_to_shrink_reference, factor=2).message
    assert "0 < factor < 1" in exercises.check_steps_to_shrink(steps_to_shrink_reference, threshold="small").message


def test_unstable_half_width_names_common_mistakes():
    full_width = exercises.check_unstable_half_width(lambda w: 2 * unstable_half_width_reference(w))
    assert not full_width and "full width" in full_width.message
    no_abs = exercises.check_unstable_half_width(lambda w: unstable_half_width_reference(w) if w > 0 else 0.0)
    assert not no_abs and "negative weight" in no_abs.message
    no_guard = exercises.check_unstable_half_width(lambda w: 2 * np.arccosh(np.sqrt(abs(w)) / 2))
    assert not no_guard and "return 0.0" in no_guard.message
    half = exercises.check_unstable_half_width(lambda w: unstable_half_width_reference(w) / 2)
    assert not half and "needs the factor 2" in half.message


def _stored(w, passes=None):
    """h* by iterating h <- tanh(w h) from 1, until it stops changing or for ``passes`` passes."""
    h = 1.0 if w > 1 else 0.0
    for _ in range(passes or 10**7):
        new = math.tanh(w * h)
        if new == h:
            break
        h = new
    return h


@pytest.mark.parametrize("wrong, hint", [
    (lambda w: w, "the slope at the fixed point 0"),
    (lambda w: 1 - _stored(w) ** 2, "f'(a*) alone"),
    (lambda w: w * (1 - _stored(w)), "enters squared"),
    (lambda w: w * (1 - _stored(w, passes=100) ** 2), "converges slowly"),
])
def test_memory_factor_names_the_mistake(wrong, hint):
    feedback = exercises.check_memory_factor(wrong)
    assert not feedback and hint in feedback.message, feedback.message


def test_memory_factor_checker_agrees_with_the_chapters_numbers():
    """w = 2: h* = 0.9575 and the factor 2 (1 - h*^2) = 0.166, by the checker's own bisection."""
    h_star = exercises.scalar._stored_value_by_bisection(2.0)
    assert round(h_star, 4) == 0.9575 and math.tanh(2 * h_star) == pytest.approx(h_star, abs=1e-15)
    assert round(exercises.scalar._memory_factor_by_complex_step(2.0), 3) == 0.166


# ---------------------------------------------------------------------------------------------
# Chapter 3: the largest singular value and its direction.
# ---------------------------------------------------------------------------------------------


def _power_iteration_with(A, step):
    v = np.random.default_rng(0).normal(size=A.shape[1])
    for _ in range(500):
        v = step(A, v)
        v /= np.linalg.norm(v)
    return v


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda A: np.linalg.norm(A @ _power_iteration_with(A, lambda A, v: A @ v)) if A.shape[0] == A.shape[1] else 0.0,
         "spectral radius"),
        (lambda A: np.sqrt(np.sum(A**2)), "Frobenius"),
        (lambda A: np.linalg.norm(A @ most_stretched_direction_reference(A)) ** 2, "square of the singular value"),
    ],
)
def test_largest_singular_value_names_the_mistake(wrong, hint):
    feedback = exercises.check_largest_singular_value(wrong)
    assert not feedback and hint in feedback.message


def test_largest_singular_value_rejects_changing_a_in_place():
    def normalises_in_place(A):
        A /= 2
        return 2 * largest_singular_value_reference(A)

    feedback = exercises.check_largest_singular_value(normalises_in_place)
    assert not feedback and "changed its input A in place" in feedback.message


def test_largest_singular_value_rejects_a_fixed_start_that_misses_v1():
    assert not exercises.check_largest_singular_value(
        lambda A: np.linalg.norm(A @ _power_iteration_with(A, lambda A, v: A.T @ (A @ v)) * 0 + A @ np.ones(A.shape[1])))


def test_most_stretched_direction_names_the_mistakes():
    left = exercises.check_most_stretched_direction(lambda A: np.linalg.svd(A)[0][:, 0])
    assert not left and ("top left singular vector" in left.message or "shape" in left.message)
    assert "top left singular vector" in exercises.check_most_stretched_direction(lambda A: np.linalg.svd(A)[0][:, 0],
                                                                                   seed=0).message
    unnormalised = exercises.check_most_stretched_direction(lambda A: 3 * most_stretched_direction_reference(A))
    assert not unnormalised and "return a unit vector" in unnormalised.message
    column = exercises.check_most_stretched_direction(lambda A: np.linalg.svd(A)[2][:, 0])
    assert not column and "first column of the SVD's Vt" in column.message
    assert not exercises.check_most_stretched_direction(lambda A: np.linalg.svd(A)[2][-1])


# Chapter 3: a shared matrix against independent layers; the signal d steps back.

from gradcourse import products  # noqa: E402


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda layers, v: product_log_norms_reference(layers, v) / np.log(10), "base-10 logarithms"),
        (lambda layers, v: 2 * product_log_norms_reference(layers, v), "squared norms"),
        (lambda layers, v: product_log_norms_reference(layers, v) - np.log(np.linalg.norm(v)), "relative to ||v||"),
        (lambda layers, v: product_log_norms_reference(layers, v)[1:], "entry 0, ln ||v|| before any layer, is missing"),
        (lambda layers, v: np.exp(product_log_norms_reference(layers, v)), "these are the norms"),
        (lambda layers, v: [np.log(np.linalg.norm(reduce(lambda P, M: P @ M, layers[:j], np.eye(len(v))) @ v))
                            for j in range(len(layers) + 1)], "wrong order"),
        (lambda layers, v: [np.log(np.linalg.norm(reduce(lambda P, M: M @ P, layers[:j], np.eye(len(v))) @ v))
                            for j in range(len(layers) + 1)], "overflow"),
    ],
)
def test_product_log_norms_names_the_mistake(wrong, hint):
    feedback = exercises.check_product_log_norms(wrong)
    assert not feedback and hint in feedback.message, feedback.message


def test_product_log_norms_refuses_the_package_and_changes_in_place():
    refused = exercises.check_product_log_norms(lambda layers, v: products.product_trace(layers, v).log_norms)
    assert not refused and "do not call gradcourse.products.product_trace" in refused.message

    def normalises_in_place(layers, v):
        v /= np.linalg.norm(v)
        return product_log_norms_reference(layers, v)

    assert "changed its input in place" in exercises.check_product_log_norms(normalises_in_place).message


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda W, fp, e, d: signal_ratio_reference(W.T, fp, e, d), "W_hh where its transpose belongs"),
        (lambda W, fp, e, d: signal_ratio_reference(W, np.vstack([np.ones((1, len(W))), fp[:-1]]), e, d),
         "slopes of the wrong steps"),
        (lambda W, fp, e, d: signal_ratio_reference(W, np.ones_like(fp), e, d), "slopes f'(a) are missing"),
        (lambda W, fp, e, d: signal_ratio_reference(W, fp, e, d) * np.linalg.norm(e[d:], axis=1), "not divided"),
        (lambda W, fp, e, d: 1 / signal_ratio_reference(W, fp, e, d), "upside down"),
        (lambda W, fp, e, d: signal_ratio_reference(W, fp, e, d)[::-1], "entry ["),
    ],
)
def test_signal_ratio_names_the_mistake(wrong, hint):
    feedback = exercises.check_signal_ratio(wrong)
    assert not feedback and hint in feedback.message, feedback.message


def test_signal_ratio_refuses_the_package_and_changes_in_place():
    for shortcut, label in ((lambda W, fp, e, d: products.signal_ratios(W, fp, e, d), "gradcourse.products"),
                            (lambda W, fp, e, d: jacobians.contribution_map(W, fp, e), "gradcourse.jacobians")):
        refused = exercises.check_signal_ratio(shortcut)
        assert not refused and f"do not call {label}" in refused.message

    def scales_in_place(W, fp, e, d):
        e *= 2
        return signal_ratio_reference(W, fp, e, d)

    assert "changed its input in place" in exercises.check_signal_ratio(scales_in_place).message


# ---------------------------------------------------------------------------------------------
# Chapter 4: the stable sigmoid.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda a: 1 / (1 + np.exp(-a)), "warned: overflow"),
        (lambda a: 1 / (1 - np.exp(-a)), "Check the sign"),
        (lambda a: 1 / (1 + np.exp(-np.clip(a, -500, 500))), "exactly, as |a| >= 746"),
        (lambda a: 1 / (1 + math.exp(-a)), "raised TypeError"),
        (lambda a: (1 / (1 + np.exp(-np.abs(a)))), "sigma(-30) = 0.99"),
        (lambda a: stable_sigmoid_reference(np.nan_to_num(a)) * np.where(np.isinf(a), np.nan, 1), "NaN or inf"),
    ],
)
def test_stable_sigmoid_rejects_wrong_versions(wrong, hint):
    feedback = exercises.check_stable_sigmoid(wrong)
    assert not feedback and hint in feedback.message, feedback.message


def test_stable_sigmoid_tolerance_is_a_few_ulp_or_1e_15():
    eps = np.finfo(float).eps
    assert exercises.check_stable_sigmoid(lambda a: stable_sigmoid_reference(a) * (1 + 2 * eps * (np.abs(a) < 746)))
    assert exercises.check_stable_sigmoid(lambda a: stable_sigmoid_reference(a) + 5e-16 * (np.abs(a) < 746))
    too_far = exercises.check_stable_sigmoid(lambda a: stable_sigmoid_reference(a) * (1 + 1e-13 * (np.abs(a) < 746)))
    assert not too_far and "4 eps |sigma(a)| + 1e-15" in too_far.message
    assert not exercises.check_stable_sigmoid(lambda a: stable_sigmoid_reference(a) + 3e-15 * (np.abs(a) < 746))


def test_stable_sigmoid_rejects_changing_the_input_in_place():
    def in_place(a):
        out = stable_sigmoid_reference(a)
        a *= 0
        return out

    feedback = exercises.check_stable_sigmoid(in_place)
    assert not feedback and "changed its input a in place" in feedback.message


# ---------------------------------------------------------------------------------------------
# Chapter 5: identity layers.
# ---------------------------------------------------------------------------------------------


def test_identity_layers_rejects_insertion_before_the_first_layer():
    def at_the_input(params, k):
        L = len(params) // 2
        n = params["W1"].shape[1]
        new = {f"W{j}": np.eye(n) for j in range(1, k + 1)} | {f"b{j}": np.zeros(n) for j in range(1, k + 1)}
        for l in range(1, L + 1):
            new[f"W{l + k}"], new[f"b{l + k}"] = params[f"W{l}"].copy(), params[f"b{l}"].copy()
        return new

    feedback = exercises.check_add_identity_layers(at_the_input)
    assert not feedback and "only on vectors with no negative entries" in feedback.message


def test_identity_layers_rejects_layers_after_the_output():
    def after_output(params, k):
        L = len(params) // 2
        new = {key: value.copy() for key, value in params.items()}
        n = params[f"W{L}"].shape[0]
        for j in range(1, k + 1):
            new[f"W{L + j}"], new[f"b{L + j}"] = np.eye(n), np.zeros(n)
        return new

    feedback = exercises.check_add_identity_layers(after_output)
    assert not feedback and "negative values set to 0" in feedback.message


def test_identity_layers_rejects_modifying_the_input_and_wrong_counts():
    def in_place(params, k):
        new = add_identity_layers_reference(params, k)
        params["W1"] *= 1.0 + 1e-3
        return new

    assert "input params were modified" in exercises.check_add_identity_layers(in_place).message

    def returns_params_itself(params, k):
        params.update(add_identity_layers_reference(params, k))
        return params

    assert "input params were modified" in exercises.check_add_identity_layers(returns_params_itself).message
    too_few = exercises.check_add_identity_layers(lambda p, k: add_identity_layers_reference(p, k - 1))
    assert not too_few and "expected" in too_few.message and "layers" in too_few.message


# ---------------------------------------------------------------------------------------------
# Chapter 6: clipping by global norm.
# ---------------------------------------------------------------------------------------------


def global_norm(grads):
    return np.sqrt(sum(np.sum(v**2) for v in grads.values()))


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda g, h: {k: v * min(1.0, h / np.linalg.norm(v)) for k, v in g.items()}, "clipped on its own"),
        (lambda g, h: {k: v * h / global_norm(g) for k, v in g.items()}, "already below"),
        (lambda g, h: {k: np.clip(v, -h, h) for k, v in g.items()}, "direction changed"),
        (lambda g, h: {k: v / global_norm(g) * min(global_norm(g), h) for k, v in g.items()}, "Guard the division"),
        (lambda g, h: {k: -v for k, v in clip_by_global_norm_reference(g, h).items()}, "wrong sign"),
        (lambda g, h: {k: np.abs(v) for k, v in clip_by_global_norm_reference(g, h).items()}, "signs of some entries"),
        (lambda g, h: {k: v + (v == 0) * 1e-3 for k, v in clip_by_global_norm_reference(g, h).items()}, "zero"),
        (lambda g, h: {k: v * 2 for k, v in clip_by_global_norm_reference(g, h).items()}, "global norm is"),
        (lambda g, h: {k: v * 0.999 for k, v in clip_by_global_norm_reference(g, h).items()}, "global norm is"),
    ],
)
def test_clip_checker_names_the_mistake(wrong, hint):
    feedback = exercises.check_clip_by_global_norm(wrong)
    assert not feedback and hint in feedback.message, feedback.message


def test_clip_checker_rejects_the_sign_flip_of_the_issue():
    """[3, 4] with max_norm 2.5 returned as [-1.5, -2] used to be "Correct: keeps the direction"."""
    def flips(grads, max_norm):
        out = clip_by_global_norm_reference(grads, max_norm)
        return {k: -v if len(grads) == 1 else v for k, v in out.items()}

    feedback = exercises.check_clip_by_global_norm(flips)
    assert not feedback and "on a single array: the result has the wrong sign" in feedback.message


def test_clip_checker_rejects_in_place_modification():
    def in_place(grads, h):
        norm = global_norm(grads)
        for v in grads.values():
            v *= min(1.0, h / norm) if norm else 1.0
        return grads

    feedback = exercises.check_clip_by_global_norm(in_place)
    assert not feedback and "input gradients were modified" in feedback.message

    def pops(grads, h):
        out = clip_by_global_norm_reference(grads, h)
        grads.pop(next(iter(grads)))
        return out

    assert "input gradients were modified" in exercises.check_clip_by_global_norm(pops).message


def test_clip_checker_tests_extreme_scales():
    feedback = exercises.check_clip_by_global_norm(chapter_clip)
    assert not feedback and "on entries near 1e300" in feedback.message and "overflows" in feedback.message

    def underflows(grads, max_norm):
        if max(np.abs(v).max() for v in grads.values()) > 1e150:
            return clip_by_global_norm_reference(grads, max_norm)
        return chapter_clip(grads, max_norm)

    feedback = exercises.check_clip_by_global_norm(underflows)
    assert not feedback and "1e-301" in feedback.message and "underflows" in feedback.message


def test_clip_checker_wants_clipping_twice_to_change_nothing():
    def shrinks_at_the_threshold(grads, max_norm):
        out = clip_by_global_norm_reference(grads, max_norm)
        if abs(global_norm(grads) - max_norm) <= 1e-12 * max_norm:  # already clipped: shrinks once more
            return {k: v * (1 - 1e-6) for k, v in out.items()}
        return out

    feedback = exercises.check_clip_by_global_norm(shrinks_at_the_threshold)
    assert not feedback and "clipping the clipped gradient once more changed it" in feedback.message

    calls = []

    def breaks_on_the_second_call(grads, max_norm):
        calls.append(1)
        return clip_by_global_norm_reference(grads, max_norm) if len(calls) % 2 else None

    feedback = exercises.check_clip_by_global_norm(breaks_on_the_second_call)
    assert not feedback and "once more" in feedback.message and "returned None" in feedback.message


# ---------------------------------------------------------------------------------------------
# Chapter 7: the orthogonal initializer.
# ---------------------------------------------------------------------------------------------


def test_orthogonal_checker_rejects_lookalikes():
    unit_columns = exercises.check_orthogonal(
        lambda n, rng: (lambda W: W / np.linalg.norm(W, axis=0))(rng.normal(size=(n, n))))
    assert "not perpendicular" in unit_columns.message
    scaled = exercises.check_orthogonal(lambda n, rng: rng.normal(size=(n, n)) / np.sqrt(n))
    assert "singular values range" in scaled.message


def test_orthogonal_checker_wants_the_matrix_drawn_from_rng():
    assert "two different generators gave the same matrix" in exercises.check_orthogonal(lambda n, rng: np.eye(n)).message
    own = exercises.check_orthogonal(lambda n, rng: orthogonal_reference(n, np.random.default_rng(0)))
    assert "two different generators gave the same matrix" in own.message
    global_state = exercises.check_orthogonal(lambda n, rng: np.linalg.qr(np.random.normal(size=(n, n)))[0])
    assert "same seed gave different matrices" in global_state.message
    fresh = exercises.check_orthogonal(lambda n, rng: orthogonal_reference(n, np.random.default_rng()))
    assert "same seed gave different matrices" in fresh.message


# ---------------------------------------------------------------------------------------------
# The computations asked for in place of a number (chapters 1, 4, 5, 6 and 7).
# ---------------------------------------------------------------------------------------------

COMPUTATIONS = {  # checker, the chapter's answer as a fixed function, the words of its diagnosis
    "first_distance_below": (exercises.check_first_distance_below, lambda row, fraction: 11, "for every row"),
    "layers_below": (exercises.check_layers_below, lambda a, threshold: 4, "for every pre-activation and threshold"),
    "leaky_rms_gain": (exercises.check_leaky_rms_gain, lambda g, alpha: 1.41, "for every g and alpha"),
    "shrink_per_layer": (exercises.check_shrink_per_layer, lambda backward: 4.4, "for every list of norms"),
    "cosine_after_value_clip": (exercises.check_cosine_after_value_clip, lambda a, c, eps, n: 0.2182,
                                "for every a, c, eps and n"),
    "steps_to_forget": (exercises.check_steps_to_forget, lambda bias, threshold: 23, "for every bias and threshold"),
    "kept_by_chunks": (exercises.check_kept_by_chunks, lambda T, K: 180, "for every T and K"),
}


@pytest.mark.parametrize("name", COMPUTATIONS)
def test_a_bare_number_is_never_judged(name):
    check = COMPUTATIONS[name][0]
    messages = {check(x).message for x in [*range(0, 300), *np.linspace(0, 10, 101), np.float64(4.4), np.int64(11)]}
    assert len(messages) == 1  # the right number gets the same answer as every wrong one
    message = messages.pop()
    assert message.startswith("Not checked: a bare number is not judged") and f"check_{name}({name})" in message


@pytest.mark.parametrize("name", COMPUTATIONS)
def test_the_chapters_answer_as_a_fixed_function_fails(name):
    check, fixed, words = COMPUTATIONS[name]
    feedback = check(fixed)
    assert not feedback and words in feedback.message and "do not return a fixed number" in feedback.message


@pytest.mark.parametrize("name", COMPUTATIONS)
def test_each_call_draws_new_random_cases(name):
    check, solution = CHECKERS[name][0], CHECKERS[name][1][0]
    calls = []

    def recorder(*args):
        calls.append(tuple(np.asarray(x, dtype=float).tobytes() for x in args))
        return solution(*args)

    first = check(recorder)
    first_cases, calls[:] = set(calls), []
    second = check(recorder)
    n_fixed, n_random = (int(x) for x in re.search(r"\((\d+) fixed, (\d+) random\)", first.message).groups())
    assert first and second and first.message == second.message
    assert len(first_cases) == n_fixed + n_random and len(first_cases & set(calls)) == n_fixed


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_the_checkers_cases_have_the_answers_they_are_built_for(seed):
    """The references (rows and norms built around their answers, counts by multiplying, cosines
    of built vectors) agree with the closed forms of the fixtures."""
    from gradcourse.exercises import activations as a_mod, bptt, clipping as c_mod, deep, remedies

    rng = np.random.default_rng(seed)
    for _, row, fraction, want in bptt._fixed_rows() + bptt._random_rows(rng, seed):
        assert want == first_distance_below_reference(row, fraction) == first_distance_by_list(row, fraction)
    for _, backward, shrink in deep._fixed_norms() + deep._random_norms(rng, seed):
        assert shrink_by_mean_log_ratio(backward) == pytest.approx(shrink, rel=1e-12)
    for a, threshold in [(4.0, 1e-6), (0.0, 1e-6), (-4.0, 1e-6), *a_mod._random_slopes(rng)]:
        assert a_mod.count_by_multiplying(float(sigmoid_prime(a)), threshold) == layers_below_reference(a, threshold)
    for bias, threshold in [(0.0, 1e-3), (1.0, 1e-3), (3.0, 1e-3), *remedies._random_biases(rng)]:
        assert remedies._gate(bias) == pytest.approx(float(sigmoid(bias)), rel=1e-15)
        assert a_mod.count_by_multiplying(remedies._gate(bias), threshold) == steps_to_forget_reference(bias, threshold)
    for a, c, eps, n in [(100.0, 1.0, 0.5, 2), (100.0, 1.0, 0.5, 1), *c_mod._random_cosines(rng)]:
        assert c_mod._cosine_by_clipping(a, c, eps, n) == pytest.approx(cosine_after_value_clip_reference(a, c, eps, n),
                                                                        rel=1e-12)


def test_the_chapters_numbers_from_the_fixtures():
    """What the chapters glue: layers at a = 4 and a = 0, steps for biases 0, 1, 3, cosines of chapter 6."""
    assert [layers_below_reference(a, 1e-6) for a in (4.0, 0.0)] == [4, 10]
    assert [steps_to_forget_reference(b, 1e-3) for b in (0.0, 1.0, 3.0)] == [10, 23, 143]
    cosines = [cosine_after_value_clip_reference(100.0, 1.0, 0.5, n) for n in (2, 10, 1000)]
    assert np.round(cosines, 4).tolist() == [0.8967, 0.5671, 0.2182]


def _first(mask):
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda row, f: _first(row <= f * row[0]), "compare with <, not <="),
        (lambda row, f: int(np.argmax(row < f * row[0])), "np.argmax of a mask with no True entry is 0"),
        (lambda row, f: None if _first(row < f * row[0]) is None else _first(row < f * row[0]) + 1, "one past"),
        (lambda row, f: int(np.argmax(row[1:] < f * row[0])), "one short"),
        (lambda row, f: int(np.sum(row < f * row[0])), "the number of entries below"),
        (lambda row, f: None if _first(row < f * row[0]) is None else len(row) - 1 - _first(row[::-1] < f * row[0]),
         "the last distance"),
        (lambda row, f: _first(row < f), "relative to the immediate contribution"),
        (lambda row, f: None if _first(row < f * row[0]) is None else float(row[_first(row < f * row[0])]), "not row[d]"),
        (lambda row, f: -1 if _first(row < f * row[0]) is None else _first(row < f * row[0]), "return None, not -1"),
        (lambda row, f: None, "returned None, but row["),
    ],
)
def test_first_distance_below_names_the_mistake(wrong, hint):
    feedback = exercises.check_first_distance_below(wrong)
    assert not feedback and hint in feedback.message, feedback.message


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda a, t: layers_below_reference(a, t) - 1, "One more layer"),
        (lambda a, t: layers_below_reference(a, t) + 1, "one layer more than needed"),
        (lambda a, t: math.log(t) / math.log(sigmoid_prime(a)), "not a whole number of layers"),
        (lambda a, t: math.floor(math.log(t) / math.log(0.25)) + 1, "the sigmoid's steepest point"),
        (lambda a, t: math.floor(math.log(t) / math.log(own_sigmoid(a))) + 1, "the factor sigma(a)"),
        (lambda a, t: math.floor(math.log(t) / math.log(1 - math.tanh(a) ** 2)) + 1 if a else 99, "tanh's slope"),
        (lambda a, t: math.floor(math.log10(t) / math.log(sigmoid_prime(a))) + 1, "different bases"),
        (lambda a, t: -layers_below_reference(a, t), "at least 1"),
    ],
)
def test_layers_below_names_the_mistake(wrong, hint):
    feedback = exercises.check_layers_below(wrong)
    assert not feedback and hint in feedback.message, feedback.message


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda g, alpha: g * (1 + alpha) / 2, "mean slope"),
        (lambda g, alpha: g * math.sqrt((1 + alpha) / 2), "alpha needs squaring"),
        (lambda g, alpha: g * (1 + alpha**2) / 2, "its square root"),
        (lambda g, alpha: g, "half of the pre-activations are negative"),
        (lambda g, alpha: g / math.sqrt(2), "alpha is missing"),
        (lambda g, alpha: leaky_rms_gain_reference(g, alpha) * (1 + 1e-4), "expected"),
    ],
)
def test_leaky_rms_gain_names_the_mistake(wrong, hint):
    feedback = exercises.check_leaky_rms_gain(wrong)
    assert not feedback and hint in feedback.message, feedback.message


def test_leaky_rms_gain_tolerance_is_a_relative_1e_6():
    assert exercises.check_leaky_rms_gain(lambda g, alpha: leaky_rms_gain_reference(g, alpha) * (1 + 5e-7))
    assert not exercises.check_leaky_rms_gain(lambda g, alpha: leaky_rms_gain_reference(g, alpha) * (1 + 2e-6))


def _first_below(losses, target):
    """The first step strictly below the target: wrong where a loss equals it."""
    reached = np.asarray(losses) < target
    return np.where(reached.any(axis=0), np.argmax(reached, axis=0), np.inf)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda losses, target: np.argmax(np.asarray(losses) <= target, axis=0), "np.argmax of an all-False"),
        (lambda losses, target: steps_to_target_reference(losses, target) + 1, "one too large"),
        (lambda losses, target: np.where(np.isinf(r := steps_to_target_reference(losses, target)), len(losses), r),
         "the number of steps run"),
        (lambda losses, target: steps_to_target_reference(np.nan_to_num(losses, nan=-1.0), target), "NaN loss"),
        (_first_below, "<=, not <"),
        (lambda losses, target: len(losses) - 1 - steps_to_target_reference(np.asarray(losses)[::-1], target),
         "the last step"),
        (lambda losses, target: np.where(np.isinf(r := steps_to_target_reference(losses, target)), np.nan, r), "NaN"),
        (lambda losses, target: np.atleast_1d(steps_to_target_reference(losses, target))[None], "shape"),
    ],
)
def test_steps_to_target_names_the_mistake(wrong, hint):
    feedback = exercises.check_steps_to_target(wrong)
    assert not feedback and hint in feedback.message, feedback.message


def test_steps_to_target_rejects_changing_the_losses_in_place():
    def in_place(losses, target):
        out = steps_to_target_reference(losses, target)
        losses[...] = 0.0
        return out

    feedback = exercises.check_steps_to_target(in_place)
    assert not feedback and "in place" in feedback.message


def test_steps_to_target_reference_walk_agrees_with_the_package():
    from gradcourse.exercises import activations as a_mod

    rng = np.random.default_rng(0)
    fixed, random = a_mod._target_cases(rng, 0)
    for _, losses, target in fixed + random:
        np.testing.assert_array_equal(a_mod.walk_to_target(losses, target), measures.steps_to_target(losses, target))


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda b: (b[0] / b[-1]) ** (1 / (len(b) - 1)), "grows going back"),
        (lambda b: (b[-1] / b[0]) ** (1 / len(b)), "steps apart"),
        (lambda b: b[-1] / b[0], "over all"),
        (lambda b: math.log(shrink_per_layer_reference(b)), "natural logarithm"),
        (lambda b: math.log10(shrink_per_layer_reference(b)), "base-10 logarithm"),
        (lambda b: np.mean(b[1:] / b[:-1]), "arithmetic mean"),
        (lambda b: b[1] / b[0], "first step alone"),
        (lambda b: np.exp(np.polyfit(np.arange(len(b)), np.log(b), 1)[0]), "least-squares"),
    ],
)
def test_shrink_per_layer_names_the_mistake(wrong, hint):
    feedback = exercises.check_shrink_per_layer(wrong)
    assert not feedback and hint in feedback.message, feedback.message


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda a, c, eps, n: cosine_after_value_clip_reference(a, c, eps, n + 1), "not n: one component is a"),
        (lambda a, c, eps, n: cosine_after_value_clip_reference(a, c, eps, 2), "one small component only"),
        (lambda a, c, eps, n: math.acos(min(1.0, cosine_after_value_clip_reference(a, c, eps, n))), "radians"),
        (lambda a, c, eps, n: math.degrees(math.acos(min(1.0, cosine_after_value_clip_reference(a, c, eps, n)))),
         "degrees"),
        (lambda a, c, eps, n: cosine_after_value_clip_reference(a, c, eps, n) ** 2, "squared cosine"),
        (lambda a, c, eps, n: a * c + (n - 1) * eps**2, "dot product"),
        (lambda a, c, eps, n: 1.0, "clipping by norm"),
    ],
)
def test_cosine_after_value_clip_names_the_mistake(wrong, hint):
    feedback = exercises.check_cosine_after_value_clip(wrong)
    assert not feedback and hint in feedback.message, feedback.message


def test_cosine_after_value_clip_tries_one_dimension_and_a_million():
    def breaks_at_one(a, c, eps, n):
        return cosine_after_value_clip_reference(a, c, eps, n) if n > 1 else 0.0

    feedback = exercises.check_cosine_after_value_clip(breaks_at_one)
    assert not feedback and "n=1: got 0, expected 1" in feedback.message

    def only_small_n(a, c, eps, n):
        return cosine_after_value_clip_reference(a, c, eps, min(n, 10**5))

    # a fixed seed: a random case with n above 1e5 can fail first and be the one the message names
    feedback = exercises.check_cosine_after_value_clip(only_small_n, seed=0)
    assert not feedback and "n=1000000" in feedback.message


def test_a_table_of_the_chapters_cosines_fails_on_random_cases():
    table = {2: 0.8967, 10: 0.5671, 1000: 0.2182}
    feedback = exercises.check_cosine_after_value_clip(lambda a, c, eps, n: table.get(n, 1.0))
    assert not feedback


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda b, t: steps_to_forget_reference(b, t) - 1, "One more step"),
        (lambda b, t: steps_to_forget_reference(b, t) + 1, "one step more than needed"),
        (lambda b, t: math.ceil(math.log(t) / math.log(1 - own_sigmoid(b))), "the factor 1 - f"),
        (lambda b, t: math.ceil(math.log(t) / math.log(own_sigmoid(b) * (1 - own_sigmoid(b)))), "sigma'(bias)"),
        (lambda b, t: math.floor(math.log(t) / math.log10(own_sigmoid(b))) + 1, "different bases"),
        (lambda b, t: math.log(t) / math.log(own_sigmoid(b)), "not a whole number of steps"),
    ],
)
def test_steps_to_forget_names_the_mistake(wrong, hint):
    feedback = exercises.check_steps_to_forget(wrong)
    assert not feedback and hint in feedback.message, feedback.message


def test_counts_that_fit_only_the_chapters_cases_fail_on_random_ones():
    table = {(0.0, 1e-3): 10, (1.0, 1e-3): 23, (3.0, 1e-3): 143}
    assert not exercises.check_steps_to_forget(lambda b, t: table.get((b, t), 1))
    layers = {(4.0, 1e-6): 4, (0.0, 1e-6): 10}
    assert not exercises.check_layers_below(lambda a, t: layers.get((a, t), 1))


# ---------------------------------------------------------------------------------------------
# Chapter 9: layer normalization, forward and backward.
# ---------------------------------------------------------------------------------------------

from gradcourse import gradcheck, normalization  # noqa: E402


def _by_batch(a, gamma, beta, eps):
    """Batch normalization: each unit over the examples, axis 0."""
    return layer_norm_reference(a.T, 1.0, 0.0, eps).T * gamma + beta


def _sd(a):
    return a.std(axis=-1, keepdims=True)


def _centred(a):
    return a - a.mean(axis=-1, keepdims=True)


@pytest.mark.parametrize("wrong, hint", [
    (_by_batch, "batch normalization"),
    (lambda a, g, b, e: g * _centred(a) / np.sqrt(a.var(axis=-1, ddof=1, keepdims=True) + e) + b, "unbiased"),
    (lambda a, g, b, e: g * _centred(a) / (_sd(a) + e) + b, "under the square root"),
    (lambda a, g, b, e: layer_norm_reference(a, b, g, e), "swapped"),
    (lambda a, g, b, e: layer_norm_reference(a, 1.0, 0.0, e), "gamma and beta are missing"),
    (lambda a, g, b, e: layer_norm_reference(a, g, b, 0.0), "eps is missing"),
    (lambda a, g, b, e: layer_norm_reference(a, g, b, e) * (1 + 1e-6), "expected"),
])
def test_layer_norm_names_the_mistake(wrong, hint):
    feedback = exercises.check_layer_norm(wrong)
    assert not feedback and hint in feedback.message, feedback.message


def _z(a, e):
    return layer_norm_reference(a, 1.0, 0.0, e)


def _sigma(a, e):
    return np.sqrt(a.var(axis=-1, keepdims=True) + e)


def _mean(v):
    return v.mean(axis=-1, keepdims=True)


@pytest.mark.parametrize("wrong, hint", [
    (lambda a, g, e, dy: dy * g / _sigma(a, e), "treated as constants"),
    (lambda a, g, e, dy: (dy * g - _mean(dy * g)) / _sigma(a, e), "only the mean's dependence"),
    (lambda a, g, e, dy: (dy * g - _z(a, e) * _mean(dy * g * _z(a, e))) / _sigma(a, e), "only the standard deviation"),
    (lambda a, g, e, dy: (dy * g - _mean(dy * g) + _z(a, e) * _mean(dy * g * _z(a, e))) / _sigma(a, e), "wrong sign"),
    (lambda a, g, e, dy: layer_norm_backward_reference(a, np.ones_like(g), e, dy), "gamma is missing"),
    (lambda a, g, e, dy: g * layer_norm_backward_reference(a, np.ones_like(g), e, dy), "wrong side"),
    (lambda a, g, e, dy: layer_norm_backward_reference(a, g, 0.0, dy), "eps is missing"),
])
def test_layer_norm_backward_names_the_mistake(wrong, hint):
    feedback = exercises.check_layer_norm_backward(wrong)
    assert not feedback and hint in feedback.message, feedback.message


def test_layer_norm_checkers_reject_changing_the_input_in_place():
    def centres_in_place(a, gamma, beta, eps):
        a -= a.mean(axis=-1, keepdims=True)
        return layer_norm_reference(a, gamma, beta, eps)

    def scales_dy_in_place(a, gamma, eps, dy):
        dy *= gamma
        return layer_norm_backward_reference(a, np.ones_like(gamma), eps, dy)

    assert "changed its input a in place" in exercises.check_layer_norm(centres_in_place).message
    assert "changed its input dy in place" in exercises.check_layer_norm_backward(scales_dy_in_place).message


def test_layer_norm_backward_checker_is_tighter_than_central_differences():
    """A reader's own central differences (step 1e-6) do not pass for the formula; the complex step does."""
    def central(a, gamma, eps, dy):
        out = np.zeros_like(a)
        for index in np.ndindex(a.shape):
            step = np.zeros_like(a)
            step[index] = 1e-6 * max(1.0, abs(a[index]))
            up = np.sum(dy * layer_norm_reference(a + step, gamma, 0.0, eps))
            down = np.sum(dy * layer_norm_reference(a - step, gamma, 0.0, eps))
            out[index] = (up - down) / (2 * step[index])
        return out

    assert not exercises.check_layer_norm_backward(central)


def test_the_complex_step_reference_agrees_with_the_package():
    rng = np.random.default_rng(0)
    for _, a, gamma, _, eps, dy in exercises.normalization._fixed_cases():
        want = exercises.normalization._complex_step(a, gamma, eps, dy)
        got = normalization.backward(normalization.forward(a, gamma=gamma, eps=eps), dy)["a"]
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12 * np.abs(want).max())
    a = rng.normal(size=(3, 5))
    np.testing.assert_allclose(exercises.normalization._by_rows(a, np.ones(5), np.zeros(5), 1e-5),
                               normalization.layer_norm(a), rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# Never raises, whatever comes back.
# ---------------------------------------------------------------------------------------------


class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no")


class BadArray:
    def __array__(self, *args, **kwargs):
        raise ValueError("no array here")


class BadMapping(dict):
    def __getitem__(self, key):
        raise KeyError("gone")


class Exploding:
    def __getattr__(self, name):
        raise RuntimeError("no attributes")

    def __call__(self, *args):
        raise RuntimeError("nothing works")


GARBAGE_RESULTS = [
    None, 0, -1, 1.5, np.nan, np.inf, True, "1", b"1", 1j, [], [1, 2, 3], [[1, 2], [3]], [None], (1, 2), {}, {"a": 1},
    {1, 2}, object(), BadArray(), BadMapping(a=1), np.array([]), np.zeros((0, 0)), np.array(["a"]),
    np.array([1, None], dtype=object), np.ones((2, 2), dtype=complex), np.full((2, 2), np.nan), np.ones((3, 3, 3)),
    np.float32(1.0), np.bool_(True), 10**400, Exploding(), print, lambda: 0, (x for x in range(3)), Ellipsis,
]


def _raising(error):
    def fn(*args):
        raise error

    return fn


GARBAGE_FUNCTIONS = [lambda *args, value=value: value for value in GARBAGE_RESULTS] + [
    _raising(ValueError("bad")), _raising(Unprintable()), _raising(SystemExit(1)), _raising(GeneratorExit()),
    _raising(RecursionError()), _raising(MemoryError()), _raising(StopIteration()),
    lambda: 0, lambda a, b, c, d, e: 0, Exploding(),
]
NOT_FUNCTIONS = [None, 132, "132", [], {}, object(), np.array([1.0]), True]


def _assert_clean_failure(feedback):
    assert isinstance(feedback, exercises.Feedback)
    assert not feedback
    assert isinstance(feedback.message, str) and feedback.message.startswith(("Not yet", "Not checked"))
    assert "could not read the function's result" not in feedback.message  # the safety net was not needed


@pytest.mark.parametrize("check", ALL_CHECKERS, ids=CHECKER_IDS)
def test_checkers_never_raise_on_garbage(check):
    for fn in GARBAGE_FUNCTIONS:
        _assert_clean_failure(check(fn))
    for thing in NOT_FUNCTIONS:
        _assert_clean_failure(check(thing))
    for seed in (-1, 1.5, "seed", True, [1]):
        _assert_clean_failure(check(CHECKERS[check.__name__[len("check_"):]][1][0], seed=seed))


@pytest.mark.parametrize("check", ALL_CHECKERS, ids=CHECKER_IDS)
def test_a_keyboard_interrupt_still_stops_a_checker(check):
    with pytest.raises(KeyboardInterrupt):
        check(_raising(KeyboardInterrupt()))
    assert sys.getprofile() is None


_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                     st.complex_numbers(), st.text(max_size=5), st.binary(max_size=5))
_arrays = hnp.arrays(dtype=st.sampled_from([np.float64, np.float32, np.int64, np.bool_, np.complex128, np.dtype("U3")]),
                     shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
_values = st.recursive(_scalars | _arrays,
                       lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
                       | st.dictionaries(st.sampled_from(["W_hh", "b_h", "W_hy", "a", "b", "g", "W1", "b1", "x"]), inner,
                                         max_size=4),
                       max_leaves=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=_values, index=st.integers(0, len(ALL_CHECKERS) - 1))
def test_checkers_never_raise_on_any_returned_value(value, index):
    _assert_clean_failure(ALL_CHECKERS[index](lambda *args: value))


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_checkers_never_raise_on_a_function_of_the_inputs(data):
    """Results built from the inputs: right shapes, wrong values, odd dtypes."""
    transform = data.draw(st.sampled_from([lambda x: x * np.nan, lambda x: x.astype(np.float32), lambda x: -x,
                                           lambda x: x.T, lambda x: x[..., None], lambda x: x.astype(complex),
                                           lambda x: x.tolist(), lambda x: np.asarray(x, dtype=object)]))
    index = data.draw(st.integers(0, len(ALL_CHECKERS) - 1))
    check, solutions = list(CHECKERS.values())[index]

    def fn(*args):
        out = solutions[0](*args)
        if isinstance(out, dict):
            return {k: transform(np.asarray(v)) for k, v in out.items()}
        return transform(np.asarray(out, dtype=float))

    feedback = check(fn)
    assert isinstance(feedback, exercises.Feedback)
    assert "could not read the function's result" not in feedback.message


# ---------------------------------------------------------------------------------------------
# No solution in the package, its help text or the API page.
# ---------------------------------------------------------------------------------------------


def _normalise(text):
    return re.sub(r"\s+", " ", text).strip()


def _solution_lines():
    lines = set()
    for fixture in FIXTURES:
        body = inspect.getsource(fixture).split('"""')[-1]  # the code, without the docstring
        for line in body.splitlines():
            line = _normalise(line.split("  #")[0])
            if len(line) >= 12 and not line.startswith(("def ", "return new", "return product")):
                lines.add(line)
    return lines


def _package_texts():
    modules = [gradcourse.exercises] + [sys.modules[f"gradcourse.exercises.{name}"] for name in
                                        ("_feedback", "_forbid", "activations", "bptt", "clipping", "deep", "matrix",
                                         "remedies", "scalar", "normalization", "truncation")]
    for module in modules:
        yield f"source of {module.__name__}", inspect.getsource(module)
        yield f"help({module.__name__})", pydoc.render_doc(module, renderer=pydoc.plaintext)
    for name in exercises.__all__:
        yield f"help({name})", pydoc.render_doc(getattr(exercises, name), renderer=pydoc.plaintext)


def test_the_fixtures_hold_solution_lines_to_look_for():
    lines = _solution_lines()
    assert "return f_prime(a_t)[:, None] * W_hh" in lines
    assert "return np.where(a >= 0, 1 / (1 + e), e / (1 + e))" in lines
    assert "v = A.T @ (A @ v)" in lines and "return Q * np.sign(np.diag(R))" in lines
    assert len(lines) >= 25


@pytest.mark.parametrize("where, text", list(_package_texts()), ids=lambda x: x if isinstance(x, str) and len(x) < 80 else "")
def test_no_solution_in_the_package_source_or_help(where, text):
    text = _normalise(text)
    leaked = [line for line in _solution_lines() if line in text]
    assert not leaked, f"{where} holds solution lines {leaked}"
    assert not re.search(r"(?<![\d.])132(?![\d.])", text), f"{where} holds the answer 132"
    assert "1.7627" not in text and "1.76" not in text, f"{where} holds the band width for w = 8"


def test_the_api_page_does_not_document_the_exercises_internals():
    page = (ROOT / "book" / "api.md").read_text()
    assert "automodule:: gradcourse.exercises" not in page
    assert "autofunction:: gradcourse.exercises" not in page
    assert "literalinclude" not in page and "viewcode" not in page
    for check in ALL_CHECKERS:  # named, with a one-line purpose
        assert f"{check.__name__}(" in page


# ---------------------------------------------------------------------------------------------
# Chapter 8: truncated BPTT.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("wrong, hint", [
    (lambda W, f, e, K: truncated_da_reference(W, f, e, K + 1), "keeps K + 1 steps"),
    (lambda W, f, e, K: truncated_da_reference(W, f, e, max(K - 1, 1)), "keeps K - 1 steps"),
    (lambda W, f, e, K: truncated_da_reference(W, f, e, len(e)), "this is full BPTT"),
    (lambda W, f, e, K: truncated_da_reference(W.T, f, e, K), "needs its transpose"),
    (lambda W, f, e, K: truncated_da_loss_by_loss(W, np.ones_like(f), e, K) if len(e) == 1
     else truncated_da_reference(W, f, e, K) / np.where(f == 0, 1, f), "f'(a_k) is missing"),
])
def test_truncated_da_names_the_mistake(wrong, hint):
    feedback = exercises.check_truncated_da(wrong)
    assert not feedback and hint in feedback.message, feedback.message


def test_truncated_da_rejects_changing_the_input_in_place():
    def in_place(W_hh, f_prime_a, e, K):
        e *= 1.0
        e[0] += 1.0
        return truncated_da_reference(W_hh, f_prime_a, e - np.eye(*e.shape)[:1] * 0, K)

    feedback = exercises.check_truncated_da(in_place)
    assert not feedback and "changed its input e in place" in feedback.message


@pytest.mark.parametrize("wrong, hint", [
    (lambda T, K: (T // K) * K * (K + 1) // 2, "the last, shorter chunk is missing"),
    (lambda T, K: -(-T // K) * K * (K + 1) // 2, "the last chunk is counted as a full one"),
    (lambda T, K: sum(min(t, K) for t in range(1, T + 1)), "this is the band's count"),
    (lambda T, K: (T // K) * K * K + (T % K) ** 2, "not j^2"),
    (lambda T, K: T * K, "T K counts K contributions for every loss step"),
])
def test_kept_by_chunks_names_the_mistake(wrong, hint):
    feedback = exercises.check_kept_by_chunks(wrong)
    assert not feedback and hint in feedback.message, feedback.message


def test_kept_by_chunks_reference_counts_the_kept_mask():
    for T, K in [(1, 1), (13, 4), (40, 8), (5, 9)]:
        mask = truncation.kept_mask(T, truncation.chunk_windows(T, K))
        assert kept_by_chunks_reference(T, K) == np.count_nonzero(mask)
