"""Checkers for chapter 9, normalization.

:func:`check_layer_norm` calls the reader's ``layer_norm(a, gamma, beta, eps)`` on fixed and on
random batches ``a`` of shape (B, n) (random sizes, scales, offsets, gains, biases and eps, drawn
afresh at every call) and compares the result with layer normalization computed row by row in
plain Python, with exactly rounded sums (``math.fsum``). The result must match to a relative
1e-9 of its largest entry plus an absolute 1e-12.

:func:`check_layer_norm_backward` calls the reader's ``layer_norm_backward(a, gamma, eps, dy)``,
which must return dL/da for a loss whose gradient with respect to LN(a) is ``dy``, and compares
it with finite differences taken in the imaginary direction (the complex step): the forward pass
is evaluated at a + i h e_j, and the imaginary part of sum(dy * LN(.)) / h is the derivative
with respect to a_j, free of the cancellation that limits ordinary differences. The result must
match to a relative 1e-9 of its largest entry plus an absolute 1e-12.

While the reader's function runs, :mod:`gradcourse.normalization` is disabled (it holds the
answers), and so are :mod:`gradcourse.gradcheck` (finite differences are the checker's method,
not an answer), ``scipy.stats.zscore`` and PyTorch's ``layer_norm``.

A failing check names the first failing case and, where a common mistake explains it, the
mistake: normalizing over the batch instead of the units, the unbiased variance, eps outside
the square root, gain and bias swapped; in the backward pass, the mean or the standard deviation
treated as constants, a sign, the gain applied on the wrong side.

Examples
--------
Deliberately wrong stubs, to show the messages:

>>> check_layer_norm(lambda a, gamma, beta, eps: None)  # doctest: +ELLIPSIS
Not yet: layer_norm fails 14 of 14 cases (6 fixed, 8 random). First: a of shape (1, 4), eps=0: returned None where an array of shape (1, 4) was expected (is a `return` missing?). Tolerance: ...
>>> check_layer_norm_backward(lambda a, gamma, eps, dy: dy)  # doctest: +ELLIPSIS
Not yet: layer_norm_backward fails ... of 14 cases (6 fixed, 8 random). ...
"""

import math

import numpy as np

from ._feedback import as_float_array, forbidden, never_raises, report, start, verdict
from ._forbid import Guard, ModuleRule, Rule

__all__ = ["check_layer_norm", "check_layer_norm_backward"]

RTOL, ATOL = 1e-9, 1e-12
TOLERANCE = "a relative error of 1e-09 (of the largest entry) plus an absolute error of 1e-12"
N_RANDOM = 8
_RULES = [ModuleRule("gradcourse.normalization"), ModuleRule("gradcourse.gradcheck"),
          ModuleRule("gradcourse.exercises.normalization"),
          Rule("scipy.stats", "zscore", "scipy.stats.zscore"), Rule("scipy.stats", "zmap", "scipy.stats.zmap"),
          Rule("torch.nn.functional", "layer_norm", "torch.nn.functional.layer_norm")]
_GUARD = Guard(_RULES)


def _statistics(row, eps, ddof=0):
    """Mean and sqrt(variance + eps) of one row, with exactly rounded sums."""
    n = len(row)
    mu = math.fsum(row) / n
    var = math.fsum((v - mu) ** 2 for v in row) / (n - ddof)
    return mu, var, math.sqrt(var + eps)


def _by_rows(a, gamma, beta, eps, *, ddof=0, eps_outside=False):
    """Layer normalization row by row in plain Python (and two known mistakes, by keyword)."""
    out = np.empty_like(a)
    for b, values in enumerate(a):
        row = [float(v) for v in values]
        mu, var, sigma = _statistics(row, eps, ddof)
        if eps_outside:
            sigma = math.sqrt(var) + eps
        out[b] = [g * (v - mu) / sigma + c for v, g, c in zip(row, gamma, beta)]
    return out


def _case(rng, B, n, scale, offset, eps, where):
    a = offset + scale * rng.normal(size=(B, n))
    gamma = 1 + 0.5 * rng.normal(size=n)
    beta = rng.normal(size=n)
    dy = rng.normal(size=(B, n))  # dL/dLN(a), for the backward pass
    return where, a, gamma, beta, eps, dy


def _fixed_cases():
    rng = np.random.default_rng(909)
    first = ("a of shape (1, 4), eps=0", np.array([[1.0, 2.0, 3.0, 6.0]]), np.ones(4), np.zeros(4), 0.0,
             np.array([[1.0, -2.0, 0.5, 3.0]]))
    return [first,
            _case(rng, 3, 5, 1.0, 0.0, 1e-5, "a of shape (3, 5), eps=1e-5"),
            _case(rng, 4, 8, 1e-3, 0.0, 1e-5, "a of shape (4, 8) with entries near 1e-3, where eps=1e-5 counts"),
            _case(rng, 2, 6, 2.0, 10.0, 1e-5, "a of shape (2, 6) around 10"),
            _case(rng, 5, 2, 1.0, 0.0, 0.1, "two units, eps=0.1"),
            _case(rng, 2, 64, 3.0, -1.0, 1e-5, "a of shape (2, 64)")]


def _random_cases(rng, seed):
    cases = []
    for i in range(1, N_RANDOM + 1):
        B, n = int(rng.integers(1, 7)), int(rng.integers(2, 41))
        scale = float(10 ** rng.uniform(-2.5, 2))
        offset = float(rng.normal() * 3 * scale)
        eps = float(rng.choice([0.0, 1e-5, 1e-3, 0.1]))
        cases.append(_case(rng, B, n, scale, offset, eps, f"random case {i} (seed {seed}): a of shape ({B}, {n}), "
                                                          f"eps={eps:g}"))
    return cases


def _changed(names, originals, given):
    for name, before, after in zip(names, originals, given):
        if isinstance(before, np.ndarray) and not np.array_equal(before, after):
            return name
    return None


def _run(fn, fn_name, where, names, args, want, mistakes):
    """(problem or None, forbidden label or None) for one case; ``names`` are the arguments' names."""
    given = tuple(np.array(x, copy=True) if isinstance(x, np.ndarray) else x for x in args)
    call = _GUARD.call(fn, given)
    if call.forbidden:
        return None, call.forbidden
    if call.error:
        return f"{where}: {call.error}.", None
    changed = _changed(names, args, given)
    if changed:
        return f"{where}: {fn_name} changed its input {changed} in place; work on a copy.", None
    got, problem = as_float_array(call.value, want.shape)
    if problem:
        return f"{where}: {problem}", None
    return verdict(got, want, mistakes, where, rtol=RTOL, atol=ATOL), None


def _forward_mistakes(a, gamma, beta, eps):
    B, n = a.shape
    z = _by_rows(a, np.ones(n), np.zeros(n), eps)
    mistakes = {
        "this is the unbiased variance (divided by n - 1); layer normalization divides by n, the number of "
        "units.": _by_rows(a, gamma, beta, eps, ddof=1),
        "eps is added to the standard deviation; it belongs under the square root, sqrt(var + eps).":
            _by_rows(a, gamma, beta, eps, eps_outside=True),
        "gamma and beta are swapped: the gain multiplies, the bias is added.": beta * z + gamma,
        "gamma and beta are missing: LN(a) = gamma * z + beta.": z,
        "the variance is missing its square root: divide by sqrt(var + eps).":
            gamma * (a - a.mean(axis=1, keepdims=True)) / (a.var(axis=1, keepdims=True) + eps) + beta,
    }
    if eps > 0:
        mistakes["eps is missing: divide by sqrt(var + eps)."] = _by_rows(a, gamma, beta, 0.0)
    if B > 1:
        by_batch = _by_rows(a.T, np.ones(B), np.zeros(B), eps).T
        mistakes = {"this normalizes each unit over the batch (axis 0), which is batch normalization; layer "
                    "normalization takes the statistics over the units of one example, the last axis.":
                    gamma * by_batch + beta, **mistakes}
    return mistakes


@never_raises
def check_layer_norm(layer_norm, *, seed=None):
    """Check ``layer_norm(a, gamma, beta, eps)``: gamma * (a - mean) / sqrt(var + eps) + beta, per row.

    ``a`` has shape (B, n), one example per row; ``gamma`` and ``beta`` have shape (n,); the mean
    and the (biased) variance are taken over the n units of each row. Checked on 6 fixed and 8
    random cases (``seed`` repeats a set) against a row-by-row computation with exactly rounded
    sums.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> check_layer_norm(lambda a, gamma, beta, eps: a)  # doctest: +ELLIPSIS
    Not yet: layer_norm fails 14 of 14 cases (6 fixed, 8 random). First: a of shape (1, 4), eps=0: entry [0, 3] got 6, expected 1.60357. Tolerance: ...
    """
    rng, seed, refusal = start("check_layer_norm", layer_norm, "layer_norm(a, gamma, beta, eps)", TOLERANCE, seed)
    if refusal is not None:
        return refusal
    fn_name = "layer_norm"
    fixed = _fixed_cases()
    problems = []
    for where, a, gamma, beta, eps, _ in fixed + _random_cases(rng, seed):
        want = _by_rows(a, gamma, beta, eps)
        problem, shortcut = _run(layer_norm, fn_name, where, ("a", "gamma", "beta", "eps"),
                                 (a, gamma, beta, eps), want, _forward_mistakes(a, gamma, beta, eps))
        if shortcut:
            return forbidden(fn_name, shortcut, TOLERANCE)
        if problem:
            problems.append(problem)
    return report(fn_name, problems, len(fixed), N_RANDOM, witness="a row-by-row computation with exact sums",
                  tolerance=TOLERANCE)


def _complex_step(a, gamma, eps, dy):
    """d/da of sum(dy * LN(a)) by the complex step: Im(sum(dy * LN(a + i h e_j))) / h for every j."""
    B, n = a.shape
    h = 1e-30 * max(1.0, float(np.abs(a).max()))
    shifted = a[:, None, :] + 1j * h * np.eye(n)[None, :, :]  # (B, j, n): unit j pushed along i
    centred = shifted - shifted.mean(axis=-1, keepdims=True)
    variance = np.mean(centred * centred, axis=-1, keepdims=True)  # no conjugate: analytic in a
    y = gamma * centred / np.sqrt(variance + eps)
    return np.sum(dy[:, None, :] * y, axis=-1).imag / h


def _backward_mistakes(a, gamma, eps, dy):
    mu = a.mean(axis=1, keepdims=True)
    centred = a - mu
    sigma = np.sqrt(a.var(axis=1, keepdims=True) + eps)
    z = centred / sigma
    dz = dy * gamma

    def mean(v):
        return v.mean(axis=1, keepdims=True)

    mistakes = {
        "the mean and the standard deviation are treated as constants; both depend on every a_j, which adds "
        "two terms.": dz / sigma,
        "only the mean's dependence on a is there; the standard deviation depends on a too, which adds a term "
        "along z.": (dz - mean(dz)) / sigma,
        "only the standard deviation's dependence on a is there; the mean depends on a too, which subtracts "
        "the mean of dy * gamma.": (dz - z * mean(dz * z)) / sigma,
        "the term along z has the wrong sign: a larger sigma makes every |z_i| smaller.":
            (dz - mean(dz) + z * mean(dz * z)) / sigma,
        "gamma is missing: the gradient reaching z is dy * gamma.": (dy - mean(dy) - z * mean(dy * z)) / sigma,
        "gamma is applied on the wrong side: this is J dy, and dL/da = J^T dy with J = diag(gamma) P / sigma; "
        "multiply dy by gamma first, then project.": gamma * (dy - mean(dy) - z * mean(dy * z)) / sigma,
    }
    if eps > 0:
        sigma0 = np.sqrt(a.var(axis=1, keepdims=True))
        z0 = centred / sigma0
        mistakes["eps is missing from sigma: sigma = sqrt(var + eps)."] = (dz - mean(dz) - z0 * mean(dz * z0)) / sigma0
    return mistakes


@never_raises
def check_layer_norm_backward(layer_norm_backward, *, seed=None):
    """Check ``layer_norm_backward(a, gamma, eps, dy)``: dL/da given dL/dLN(a) = ``dy``.

    ``a`` and ``dy`` have shape (B, n), ``gamma`` shape (n,); LN normalizes each row over its n
    units, LN(a) = gamma * (a - mean) / sqrt(var + eps) + beta (beta does not change dL/da).
    Checked on 6 fixed and 8 random cases (``seed`` repeats a set) against complex-step finite
    differences of the forward pass.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> check_layer_norm_backward(lambda a, gamma, eps, dy: np.zeros((2, 2)))  # doctest: +ELLIPSIS
    Not yet: layer_norm_backward fails 14 of 14 cases (6 fixed, 8 random). First: a of shape (1, 4), eps=0: returned an array of shape (2, 2) where an array of shape (1, 4) was expected. Tolerance: ...
    """
    rng, seed, refusal = start("check_layer_norm_backward", layer_norm_backward,
                               "layer_norm_backward(a, gamma, eps, dy)", TOLERANCE, seed)
    if refusal is not None:
        return refusal
    fn_name = "layer_norm_backward"
    fixed = _fixed_cases()
    fixed[0] = fixed[0][:2] + (np.array([1.0, 2.0, 0.5, -1.0]),) + fixed[0][3:]  # a gain that is not 1
    problems = []
    for where, a, gamma, _, eps, dy in fixed + _random_cases(rng, seed):
        want = _complex_step(a, gamma, eps, dy)
        problem, shortcut = _run(layer_norm_backward, fn_name, where, ("a", "gamma", "eps", "dy"),
                                 (a, gamma, eps, dy), want, _backward_mistakes(a, gamma, eps, dy))
        if shortcut:
            return forbidden(fn_name, shortcut, TOLERANCE)
        if problem:
            problems.append(problem)
    return report(fn_name, problems, len(fixed), N_RANDOM, witness="complex-step finite differences",
                  tolerance=TOLERANCE)
