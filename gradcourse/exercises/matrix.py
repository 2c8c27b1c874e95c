"""Checkers for chapter 3, the matrix case.

Both checkers call the reader's function on fixed matrices (one non-normal, one not square,
one whose other eigenvector is the all-ones vector) and on random ones drawn afresh at every
call (random shapes from 1 x 1 to 7 x 7 and scales, with a clear gap between the two largest
singular values, so that an iterative method converges in a few hundred steps). Reference
answers come from numpy's singular value decomposition, computed by the checker before the
reader's function runs.

- :func:`check_largest_singular_value` wants ||A|| to a relative 1e-6. The exercise asks for
  it from matrix-vector products, so while the reader's function runs, numpy's ``svd``,
  ``svdvals``, ``eig``, ``eigh``, ``eigvals``, ``eigvalsh``, the matrix 2-norm
  (``norm(A, 2)``, ``matrix_norm(A, ord=2)``), scipy's counterparts and everything in
  :mod:`gradcourse.spectral` are disabled. Vector norms stay allowed.
- :func:`check_most_stretched_direction` wants a unit vector (length within 1e-6) that
  matches the top right singular vector up to its sign, to a relative 1e-5 plus 1e-6.
  :mod:`gradcourse.spectral`, whose ``power_iteration`` returns that vector, is disabled.

Two more checkers follow the chapter's comparison of one shared matrix with independent
layers, and its count of vanished and exploded signals:

- :func:`check_product_log_norms` calls ``product_log_norms(layers, v)`` on fixed and random
  stacks of layers (one matrix repeated, independent Gaussian ones, and scaled orthogonal ones
  whose products leave float64's range) and wants ln ||M_j ... M_1 v|| for j = 0..k to an
  absolute 1e-8 plus a relative 1e-10 of the largest entry. The references are the products
  of the matrices themselves, kept scaled by powers of two, or the closed form
  sum_j ln c_j + ln ||v|| of layers c_j Q_j with orthogonal Q_j. :mod:`gradcourse.products`
  is disabled.
- :func:`check_signal_ratio` calls ``signal_ratio(W_hh, f_prime_a, e, d)`` on runs of tanh and
  sigmoid recurrences (random sizes, lengths, distances, scales and inputs) and wants every
  ratio ||dL_t/dh_{t-d}|| / ||dL_t/dh_t|| to a relative 1e-8 of itself. The reference forms
  each step Jacobian and multiplies them for every t. :mod:`gradcourse.jacobians` and
  :mod:`gradcourse.products` are disabled.

Examples
--------
Deliberately wrong stubs, to show the messages:

>>> import numpy as np
>>> check_largest_singular_value(lambda A: np.linalg.svd(A, compute_uv=False)[0])
Not yet: largest_singular_value called np.linalg.svd, but this exercise asks you to write it yourself: do not call np.linalg.svd. Tolerance: a relative error of 1e-06.
>>> check_most_stretched_direction(lambda A: A)  # doctest: +ELLIPSIS
Not yet: most_stretched_direction fails ... First: 2 x 2 matrix: returned an array of shape (2, 2) where an array of shape (2,) was expected. Tolerance: ...
"""

import numpy as np

from .. import activations
from ._feedback import Diagnosis, as_float_array, forbidden, never_raises, report, start, verdict
from ._forbid import SINGULAR_VALUES, Guard, ModuleRule

__all__ = ["check_largest_singular_value", "check_most_stretched_direction", "check_product_log_norms",
           "check_signal_ratio"]

N_RANDOM = 6
_SPECTRAL = ModuleRule("gradcourse.spectral")
_VALUE_GUARD = Guard(SINGULAR_VALUES + (_SPECTRAL,))
_DIRECTION_GUARD = Guard([_SPECTRAL])
VALUE_TOLERANCE = "a relative error of 1e-06"
DIRECTION_TOLERANCE = ("length 1 to within 1e-06, and each entry equal to the top right singular vector's (either "
                       "sign) to a relative error of 1e-05 (of its largest entry) plus an absolute error of 1e-06")


def _fixed_cases():
    """Matrices with a clear gap between the two largest singular values; one is non-normal,
    one is not square."""
    rng = np.random.default_rng(7)
    cases = [
        np.array([[0.5, 10.0], [0.0, 0.5]]),  # spectral radius 0.5, norm about 10
        np.array([[2.0, 1.0], [0.0, -1.0], [1.0, 1.0]]),  # 3 x 2
        np.array([[2.0, -1.0], [-1.0, 2.0]]),  # the all-ones vector is its other eigenvector
    ]
    for n in (3, 5, 8):
        U, _ = np.linalg.qr(rng.normal(size=(n, n)))
        V, _ = np.linalg.qr(rng.normal(size=(n, n)))
        s = np.geomspace(3.0, 0.1, n)
        cases.append(U @ np.diag(s) @ V.T)
    return [(f"{A.shape[0]} x {A.shape[1]} matrix", A) for A in cases]


def _random_cases(rng, seed):
    """Random shapes and scales; s_2 <= 0.7 s_1, so that power iteration converges fast."""
    cases = []
    for i in range(1, N_RANDOM + 1):
        m, n = (int(x) for x in rng.integers(1, 8, size=2))
        k = min(m, n)
        U, _ = np.linalg.qr(rng.normal(size=(m, m)))
        V, _ = np.linalg.qr(rng.normal(size=(n, n)))
        s = np.sort(rng.uniform(0.05, 0.7, size=k))[::-1]
        s[0] = 1.0
        A = 10 ** rng.uniform(-2, 2) * (U[:, :k] * s) @ V[:, :k].T
        cases.append((f"random case {i} (seed {seed}): {m} x {n} matrix", A))
    return cases


def _run(guard, fn, fn_name, A, where, shape):
    """``(result, problem, forbidden label)`` of one call on a copy of ``A``."""
    given = A.copy()
    call = guard.call(fn, (given,))
    if call.forbidden:
        return None, None, call.forbidden
    if call.error:
        return None, f"{where}: {call.error}.", None
    if not np.array_equal(given, A):
        return None, f"{where}: {fn_name} changed its input A in place; work on a copy.", None
    got, problem = as_float_array(call.value, shape)
    return got, (f"{where}: {problem}" if problem else None), None


@never_raises
def check_largest_singular_value(largest_singular_value, *, seed=None):
    """Check ``largest_singular_value(A)``, which must return ||A|| (a float) without an SVD.

    Checked on 6 fixed and 6 random matrices (``seed`` repeats a set) to a relative 1e-6;
    numpy's and scipy's SVD, eigenvalue functions and matrix 2-norms and
    :mod:`gradcourse.spectral` are disabled while the function runs.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> check_largest_singular_value(lambda A: A.shape)  # doctest: +ELLIPSIS
    Not yet: largest_singular_value fails 12 of 12 cases (6 fixed, 6 random). First: 2 x 2 matrix: returned an array of shape (2,) where a single number was expected. Tolerance: a relative error of 1e-06.
    """
    rng, seed, refusal = start("check_largest_singular_value", largest_singular_value, "largest_singular_value(A)",
                               VALUE_TOLERANCE, seed)
    if refusal is not None:
        return refusal
    fn_name = "largest_singular_value"
    fixed = _fixed_cases()
    problems = []
    for where, A in fixed + _random_cases(rng, seed):
        want = np.array(np.linalg.svd(A, compute_uv=False)[0])
        mistakes = {
            f"got {want**2:.6g}, expected {float(want):.6g}. That is the largest eigenvalue of A^T A, the "
            "square of the singular value: take the square root, or return ||A v||.": want**2,
        }
        frobenius = np.linalg.norm(A)
        if frobenius > 1.01 * want:  # only where the two are clearly apart
            mistakes[
                f"got {frobenius:.6g}, expected {float(want):.6g}. That is the Frobenius norm, the root of "
                "the sum of all squared singular values, not the largest one."
            ] = np.array(frobenius)
        if A.shape[0] == A.shape[1]:
            radius = np.abs(np.linalg.eigvals(A)).max()
            if abs(radius - want) > 1e-3 * want:
                mistakes[
                    f"got {radius:.6g}, expected {float(want):.6g}. That is the largest |eigenvalue| (the spectral "
                    "radius), not the largest singular value: iterate with A^T A, not A."
                ] = np.array(radius)
        got, problem, shortcut = _run(_VALUE_GUARD, largest_singular_value, fn_name, A, where, ())
        if shortcut:
            return forbidden(fn_name, shortcut, VALUE_TOLERANCE)
        problem = problem or verdict(got, want, mistakes, where, mistake_rtol=1e-2, rtol=1e-6, atol=0)
        if problem:
            problems.append(problem)
    return report(fn_name, problems, len(fixed), N_RANDOM, witness="the SVD", tolerance=VALUE_TOLERANCE)


def _aligned(v, reference):
    """``v`` or ``-v``, whichever points the same way as ``reference``."""
    return v if v @ reference >= 0 else -v


@never_raises
def check_most_stretched_direction(most_stretched_direction, *, seed=None):
    """Check ``most_stretched_direction(A)``: a unit vector v with ||A v|| = ||A|| (sign free).

    Checked on 6 fixed and 6 random matrices (``seed`` repeats a set) against the SVD's top
    right singular vector; :mod:`gradcourse.spectral` is disabled while the function runs.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> check_most_stretched_direction(lambda A: None)  # doctest: +ELLIPSIS
    Not yet: most_stretched_direction fails 12 of 12 cases (6 fixed, 6 random). First: 2 x 2 matrix: returned None where an array of shape (2,) was expected (is a `return` missing?). Tolerance: ...
    """
    rng, seed, refusal = start("check_most_stretched_direction", most_stretched_direction, "most_stretched_direction(A)",
                               DIRECTION_TOLERANCE, seed)
    if refusal is not None:
        return refusal
    fn_name = "most_stretched_direction"
    fixed = _fixed_cases()
    problems = []
    for where, A in fixed + _random_cases(rng, seed):
        U, s, Vt = np.linalg.svd(A)
        want, u = Vt[0], U[:, 0]
        mistakes = {}
        if A.shape[1] > 1:
            mistakes["this is the first column of the SVD's Vt; the right singular vectors are its rows, so v_1 is "
                     "Vt[0]."] = _aligned(Vt[:, 0], want)
        if u.shape == want.shape and A.shape[1] > 1:  # square A: the left singular vector is a tempting wrong answer
            mistakes[
                "this is the direction of the image, the top left singular vector u = A v / ||A v||; the "
                "question asks for the input direction v, a right singular vector."
            ] = _aligned(u, want)
        got, problem, shortcut = _run(_DIRECTION_GUARD, most_stretched_direction, fn_name, A, where, want.shape)
        if shortcut:
            return forbidden(fn_name, shortcut, DIRECTION_TOLERANCE)
        if problem is None and np.all(np.isfinite(got)):
            length = np.linalg.norm(got)
            if abs(length - 1) > 1e-6:
                problems.append(f"{where}: the vector has length {length:.6g}; return a unit vector.")
                continue
            got = _aligned(got, want)  # v and -v are stretched equally
        problem = problem or verdict(got, want, mistakes, where, rtol=1e-5, atol=1e-6)
        if problem:
            problems.append(problem)
    return report(fn_name, problems, len(fixed), N_RANDOM, witness="the SVD", tolerance=DIRECTION_TOLERANCE)


# ---------------------------------------------------------------------------------------------
# ln ||M_j ... M_1 v|| for a shared matrix or independent layers.
# ---------------------------------------------------------------------------------------------

N_RANDOM_PRODUCTS = 8
_PRODUCTS_GUARD = Guard([ModuleRule("gradcourse.products")])
LOG_NORMS_TOLERANCE = "an absolute error of 1e-08 plus a relative error of 1e-10 (of the largest expected entry)"


def _scaled_rotations(rng, n, log10_scales):
    """Layers 10^s Q_j with random orthogonal Q_j: ||M_j ... M_1 v|| = 10^(s_1 + ... + s_j) ||v|| exactly."""
    layers = [10.0**s * np.linalg.qr(rng.normal(size=(n, n)))[0] for s in log10_scales]
    return np.array(layers).reshape(len(log10_scales), n, n)


def _by_rotation_scales(log10_scales, v):
    """The closed form for :func:`_scaled_rotations`."""
    return np.log(np.linalg.norm(v)) + np.log(10) * np.concatenate([[0.0], np.cumsum(log10_scales)])


def _by_matrix_products(layers, v, *, new_on_the_left=True):
    """The second method: the matrix P_j = M_j P_{j-1}, kept as B 2^s with max |B| in [1/2, 1), then ln ||P_j v||.

    With ``new_on_the_left=False``, P_j = P_{j-1} M_j (the layers in the wrong order).
    """
    out = [np.log(np.linalg.norm(v))]
    P, s = np.eye(len(v)), 0
    for M in layers:
        E = int(np.frexp(np.max(np.abs(M)))[1])
        B = np.ldexp(M, -E)
        P = B @ P if new_on_the_left else P @ B
        e = int(np.frexp(np.max(np.abs(P)))[1])
        P, s = np.ldexp(P, -e), s + E + e
        out.append(np.log(np.linalg.norm(P @ v)) + s * np.log(2))
    return np.array(out)


def _fixed_products():
    """(description, layers (k, n, n), v, ln norms)."""
    rng = np.random.default_rng(31)
    cases = []
    D = np.diag([2.0, 0.5])
    cases.append(("diag(2, 0.5) used 3 times", np.array([D] * 3), np.array([1.0, 1.0])))
    ones = np.array([[[2.0]], [[-3.0]], [[0.5]], [[10.0]], [[-0.1]]])
    cases.append(("five 1 x 1 layers", ones, np.array([-2.0])))
    cases.append(("no layer at all (k = 0)", np.zeros((0, 3, 3)), np.array([3.0, 4.0, 0.0])))
    W_nn = np.array([[0.5, 10.0], [0.0, 0.5]])
    cases.append(("the non-normal [[0.5, 10], [0, 0.5]] used 40 times", np.array([W_nn] * 40), np.array([0.3, 1.0])))
    cases.append(("8 independent Gaussian 5 x 5 layers", rng.normal(size=(8, 5, 5)) / np.sqrt(5), rng.normal(size=5)))
    W = rng.normal(size=(32, 32)) / np.sqrt(32)
    cases.append(("one Gaussian 32 x 32 matrix used 60 times", np.array([W] * 60), rng.normal(size=32)))
    fixed = [(where, layers, v, _by_matrix_products(layers, v)) for where, layers, v in cases]
    for where, n, k, s in (("20 layers of norm 1e50 (the product overflows float64)", 4, 20, 50.0),
                           ("30 layers of norm 1e-20 (the product underflows)", 3, 30, -20.0)):
        scales = np.full(k, s)
        v = rng.normal(size=n)
        fixed.append((where, _scaled_rotations(rng, n, scales), v, _by_rotation_scales(scales, v)))
    return fixed


def _random_products(rng, seed):
    cases = []
    for i in range(1, N_RANDOM_PRODUCTS + 1):
        n, k = int(rng.integers(1, 7)), int(rng.integers(0, 41))
        v = rng.normal(size=n) * 10 ** rng.uniform(-2, 2)
        kind = ("shared", "independent", "rotations")[i % 3]
        where = f"random case {i} (seed {seed}): {k} {kind} layers of size {n} x {n}"
        if kind == "rotations":
            scales = rng.uniform(-60, 60, size=k)
            cases.append((where, _scaled_rotations(rng, n, scales), v, _by_rotation_scales(scales, v)))
            continue
        if kind == "shared":
            layers = np.array([rng.normal(size=(n, n)) * 10 ** rng.uniform(-3, 3)] * k).reshape(k, n, n)
        else:
            layers = rng.normal(size=(k, n, n)) * 10 ** rng.uniform(-3, 3, size=(k, 1, 1))
        cases.append((where, layers, v, _by_matrix_products(layers, v)))
    return cases


def _product_mistakes(layers, v, want):
    mistakes = {
        "these are base-10 logarithms; the exercise asks for natural ones (np.log).": want / np.log(10),
        "these are the logarithms of the squared norms; take ln ||M_j ... M_1 v||, half of that.": 2 * want,
        "entry j must be ln ||M_j ... M_1 v|| itself, and entry 0 ln ||v||; these are relative to ||v||.":
            want - want[0],
    }
    if len(layers) > 1:
        mistakes["the layers act in the wrong order: M_1 acts first, so each new layer multiplies from the left, "
                 "M_j (M_{j-1} ... M_1 v)."] = _by_matrix_products(layers, v, new_on_the_left=False)
    if np.all(np.abs(want) < 700):
        mistakes["these are the norms; return their natural logarithms, which stay finite where the norms "
                 "overflow."] = np.exp(want)
    return mistakes


def _shape(value):
    """``np.shape(value)``, or None where it fails (ragged lists and the like)."""
    try:
        return np.shape(value)
    except Exception:  # noqa: BLE001  (any object the reader returns)
        return None


@never_raises
def check_product_log_norms(product_log_norms, *, seed=None):
    """Check ``product_log_norms(layers, v)``: ln ||M_j ... M_1 v|| for j = 0, ..., k.

    ``layers`` is an array of shape (k, n, n) holding M_1, ..., M_k in the order in which
    they act, ``v`` a nonzero vector of length n; the function must return the k + 1 natural
    logarithms, entry 0 being ln ||v||. Checked on 8 fixed and 8 random cases (``seed``
    repeats a set), shared and independent layers, some whose products overflow or
    underflow float64, against a second method (the products of the matrices, kept scaled)
    or the closed form of scaled orthogonal layers; :mod:`gradcourse.products` is disabled.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> check_product_log_norms(lambda layers, v: None)  # doctest: +ELLIPSIS
    Not yet: product_log_norms fails 16 of 16 cases (8 fixed, 8 random). First: diag(2, 0.5) used 3 times: returned None where an array of shape (4,) was expected (is a `return` missing?). Tolerance: ...
    """
    rng, seed, refusal = start("check_product_log_norms", product_log_norms, "product_log_norms(layers, v)",
                               LOG_NORMS_TOLERANCE, seed)
    if refusal is not None:
        return refusal
    fn_name = "product_log_norms"
    fixed = _fixed_products()
    problems = []
    for where, layers, v, want in fixed + _random_products(rng, seed):
        given = (layers.copy(), v.copy())
        call = _PRODUCTS_GUARD.call(product_log_norms, given)
        if call.forbidden:
            return forbidden(fn_name, call.forbidden, LOG_NORMS_TOLERANCE)
        if call.error:
            problems.append(f"{where}: {call.error}.")
            continue
        if not (np.array_equal(given[0], layers) and np.array_equal(given[1], v)):
            problems.append(f"{where}: {fn_name} changed its input in place; work on a copy.")
            continue
        got, problem = as_float_array(call.value, want.shape)
        if problem and got is None and _shape(call.value) == (len(layers),):
            problem = Diagnosis(f"{where}: returned {len(layers)} values where {len(layers) + 1} were expected: "
                                "entry 0, ln ||v|| before any layer, is missing.")
            problems.append(problem)
            continue
        if problem:
            problems.append(f"{where}: {problem}")
            continue
        if not np.all(np.isfinite(got)):
            problems.append(Diagnosis(f"{where}: the result contains NaN or inf. Did the product overflow or "
                                      "underflow? Divide the vector by its norm after each layer and add up the "
                                      "logarithms of the norms."))
            continue
        problem = verdict(got, want, _product_mistakes(layers, v, want), where, rtol=1e-10, atol=1e-8,
                          mistake_rtol=1e-6)
        if problem:
            problems.append(problem)
    return report(fn_name, problems, len(fixed), N_RANDOM_PRODUCTS,
                  witness="the products of the matrices and the closed forms", tolerance=LOG_NORMS_TOLERANCE)


# ---------------------------------------------------------------------------------------------
# The share of an error signal that survives d steps back.
# ---------------------------------------------------------------------------------------------

N_RANDOM_SIGNALS = 10
_SIGNAL_GUARD = Guard([ModuleRule("gradcourse.jacobians"), ModuleRule("gradcourse.products")])
SIGNAL_TOLERANCE = "a relative error of 1e-08 in every entry"


def _recurrence(rng, activation, n, T, g, input_scale):
    """W_hh, f'(a_t) for t = 0..T-1 of a run of the recurrence, and random error signals e_t."""
    f, f_prime = activations.get(activation)
    W_hh = g * rng.normal(size=(n, n)) / np.sqrt(n)
    h = rng.normal(size=n)
    slopes = np.empty((T, n))
    for t in range(T):
        a = W_hh @ h + input_scale * rng.normal(size=n)
        slopes[t], h = f_prime(a), f(a)
    return W_hh, slopes, rng.normal(size=(T, n))


def _by_jacobian_products(W_hh, slopes, e, d):
    """The second method: dL_t/dh_{t-d} = (J_t ... J_{t-d+1})^T e_t with J_i = diag(f'(a_i)) W_hh, formed."""
    n, T = len(W_hh), len(e)
    J = slopes[:, :, None] * W_hh
    ratios = np.empty(T - d)
    for j in range(T - d):
        P = np.eye(n)
        for i in range(j + d, j, -1):
            P = P @ J[i]
        ratios[j] = np.linalg.norm(P.T @ e[j + d]) / np.linalg.norm(e[j + d])
    return ratios


def _signal_mistakes(W_hh, slopes, e, d):
    if d == 0:
        return {}
    n = len(W_hh)
    shifted = np.vstack([np.ones((1, n)), slopes[:-1]])  # f'(a_{i-1}) in place of f'(a_i)
    immediate = np.linalg.norm(e[d:], axis=1)
    want = _by_jacobian_products(W_hh, slopes, e, d)
    return {
        "W_hh where its transpose belongs: a signal goes back as e_{k-1} = W_hh^T (f'(a_k) * e_k), in rows "
        "(e_k * f'(a_k)) @ W_hh.": _by_jacobian_products(W_hh.T, slopes, e, d),
        "the slopes of the wrong steps: going back from h_k to h_{k-1} passes through f'(a_k), the slope of "
        "the later step, f_prime_a[k].": _by_jacobian_products(W_hh, shifted, e, d),
        "the slopes f'(a) are missing: each step back multiplies by J_k^T = W_hh^T diag(f'(a_k)).":
            _by_jacobian_products(W_hh, np.ones_like(slopes), e, d),
        "these are the norms ||dL_t/dh_{t-d}||, not divided by ||dL_t/dh_t|| = ||e[t]||.": want * immediate,
        "the ratio is upside down: ||dL_t/dh_{t-d}|| / ||dL_t/dh_t||, the signal that arrives over the one "
        "that left.": 1 / want,
    }


def _fixed_signals():
    rng = np.random.default_rng(47)
    specs = [("tanh", 1, 6, 3, 1.5, 1.0), ("tanh", 3, 8, 0, 1.0, 1.0), ("tanh", 4, 10, 9, 1.0, 1.0),
             ("sigmoid", 3, 12, 5, 2.0, 1.0), ("tanh", 5, 15, 7, 3.0, 1.0), ("tanh", 4, 12, 6, 3.0, 5.0)]
    cases = []
    for activation, n, T, d, g, input_scale in specs:
        W_hh, slopes, e = _recurrence(rng, activation, n, T, g, input_scale)
        where = f"{activation}, n={n}, T={T}, d={d}, g={g:g}" + (", large inputs" if input_scale > 1 else "")
        cases.append((where, W_hh, slopes, e, d))
    return cases


def _random_signals(rng, seed):
    cases = []
    while len(cases) < N_RANDOM_SIGNALS:
        activation = ("tanh", "sigmoid")[int(rng.integers(2))]
        n, T = int(rng.integers(1, 7)), int(rng.integers(1, 17))
        d = int(rng.integers(0, T))
        g, input_scale = 10 ** rng.uniform(-0.5, 0.7), 10 ** rng.uniform(-1, 0.7)
        W_hh, slopes, e = _recurrence(rng, activation, n, T, g, input_scale)
        if slopes.min() < 1e-12:  # a unit so saturated that its slope is 0 in float64
            continue
        where = f"random case {len(cases) + 1} (seed {seed}): {activation}, n={n}, T={T}, d={d}"
        cases.append((where, W_hh, slopes, e, d))
    return cases


def _entrywise(got, want, mistakes, where, rtol):
    """:func:`verdict`, but every entry is held to a relative ``rtol`` of itself (the ratios span decades)."""
    if not np.all(np.isfinite(got)):
        return verdict(got, want, {}, where, rtol=rtol, atol=0)
    relative = np.abs(got - want) / np.abs(want)
    if relative.max() <= rtol:
        return None
    for label, wrong in mistakes.items():
        if np.all(np.abs(got - wrong) <= 1e-6 * np.abs(wrong)):
            return Diagnosis(f"{where}: {label}")
    j = int(np.argmax(relative))
    return f"{where}: entry [{j}] got {got[j]:.6g}, expected {want[j]:.6g}."


@never_raises
def check_signal_ratio(signal_ratio, *, seed=None):
    """Check ``signal_ratio(W_hh, f_prime_a, e, d)``: ||dL_t/dh_{t-d}|| / ||dL_t/dh_t|| for t >= d.

    ``W_hh`` is (n, n), ``f_prime_a`` (T, n) holds the slopes f'(a_t) of steps t = 0..T-1,
    ``e`` (T, n) the error signals e[t] = dL_t/dh_t, and ``0 <= d < T``; the function must
    return an array of shape (T - d,) whose entry j is ||dL_{j+d}/dh_j|| / ||e[j+d]||.
    Checked on 6 fixed and 10 random cases (``seed`` repeats a set) from runs of tanh and
    sigmoid recurrences, against products of the formed step Jacobians, every entry to a
    relative 1e-8; :mod:`gradcourse.jacobians` and :mod:`gradcourse.products` are disabled.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> check_signal_ratio(lambda W_hh, f_prime_a, e, d: d)  # doctest: +ELLIPSIS
    Not yet: signal_ratio fails 16 of 16 cases (6 fixed, 10 random). First: tanh, n=1, T=6, d=3, g=1.5: returned an array of shape () where an array of shape (3,) was expected. Tolerance: ...
    """
    rng, seed, refusal = start("check_signal_ratio", signal_ratio, "signal_ratio(W_hh, f_prime_a, e, d)",
                               SIGNAL_TOLERANCE, seed)
    if refusal is not None:
        return refusal
    fn_name = "signal_ratio"
    fixed = _fixed_signals()
    problems = []
    for where, W_hh, slopes, e, d in fixed + _random_signals(rng, seed):
        given = (W_hh.copy(), slopes.copy(), e.copy(), d)
        call = _SIGNAL_GUARD.call(signal_ratio, given)
        if call.forbidden:
            return forbidden(fn_name, call.forbidden, SIGNAL_TOLERANCE)
        if call.error:
            problems.append(f"{where}: {call.error}.")
            continue
        if not all(np.array_equal(a, b) for a, b in zip(given[:3], (W_hh, slopes, e))):
            problems.append(f"{where}: {fn_name} changed its input in place; work on a copy.")
            continue
        want = _by_jacobian_products(W_hh, slopes, e, d)
        got, problem = as_float_array(call.value, want.shape)
        if problem:
            problems.append(f"{where}: {problem}")
            continue
        problem = _entrywise(got, want, _signal_mistakes(W_hh, slopes, e, d), where, 1e-8)
        if problem:
            problems.append(problem)
    return report(fn_name, problems, len(fixed), N_RANDOM_SIGNALS, witness="products of the step Jacobians",
                  tolerance=SIGNAL_TOLERANCE)
