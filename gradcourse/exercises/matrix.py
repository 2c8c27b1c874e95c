"""Checkers for chapter 3, the matrix case.

Reference answers come from numpy's singular value decomposition; the reader is
asked to compute the same things without it.

Examples
--------
>>> import numpy as np
>>> def largest_singular_value(A, n_iter=500):
...     v = np.random.default_rng(0).normal(size=A.shape[1])
...     for _ in range(n_iter):
...         v = A.T @ (A @ v)
...         v /= np.linalg.norm(v)
...     return np.linalg.norm(A @ v)
>>> check_largest_singular_value(largest_singular_value)
Correct: largest_singular_value matches the SVD on all 6 cases.
"""

import numpy as np

from ._feedback import report, run, verdict

__all__ = ["check_largest_singular_value", "check_most_stretched_direction"]


def _cases():
    """Matrices with a clear gap between the two largest singular values, so that power
    iteration converges in a few hundred steps; one is non-normal, one is not square."""
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
    return cases


def check_largest_singular_value(largest_singular_value):
    """Check ``largest_singular_value(A)``, which must return ||A|| (a float) without an SVD.

    Examples
    --------
    >>> import numpy as np
    >>> def radius(A, n_iter=500):   # iterating with A alone finds an eigenvalue
    ...     v = np.ones(A.shape[1])
    ...     for _ in range(n_iter):
    ...         v = A @ v
    ...         v /= np.linalg.norm(v)
    ...     return np.linalg.norm(A @ v)
    >>> check_largest_singular_value(radius)
    Not yet: largest_singular_value fails 6 of 6 cases. First: 2 x 2 matrix: got 0.5, expected 10.0249. That is the largest |eigenvalue| (the spectral radius), not the largest singular value: iterate with A^T A, not A.
    """
    problems = []
    cases = _cases()
    for A in cases:
        want = np.array(np.linalg.svd(A, compute_uv=False)[0])
        got, error = run(largest_singular_value, (A.copy(),))
        where = f"{A.shape[0]} x {A.shape[1]} matrix"
        if error:
            problems.append(f"{where}: {error}")
            continue
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
            mistakes[
                f"got {radius:.6g}, expected {float(want):.6g}. That is the largest |eigenvalue| (the spectral "
                "radius), not the largest singular value: iterate with A^T A, not A."
            ] = np.array(radius)
        got = got.reshape(()) if got.size == 1 else got
        problem = verdict(got, want, mistakes, where, mistake_rtol=1e-2, rtol=1e-6, atol=0)
        if problem:
            problems.append(problem)
    return report("largest_singular_value", problems, len(cases), witness="the SVD")


def _aligned(v, reference):
    """``v`` or ``-v``, whichever points the same way as ``reference``."""
    return v if v @ reference >= 0 else -v


def check_most_stretched_direction(most_stretched_direction):
    """Check ``most_stretched_direction(A)``: a unit vector v with ||A v|| = ||A|| (sign free).

    Examples
    --------
    >>> import numpy as np
    >>> check_most_stretched_direction(lambda A: np.linalg.svd(A)[0][:, 0])
    Not yet: most_stretched_direction fails 5 of 6 cases. First: 2 x 2 matrix: this is the direction of the image, the top left singular vector u = A v / ||A v||; the question asks for the input direction v, a right singular vector.
    """
    problems = []
    cases = _cases()
    for A in cases:
        U, s, Vt = np.linalg.svd(A)
        want, u = Vt[0], U[:, 0]
        got, error = run(most_stretched_direction, (A.copy(),))
        where = f"{A.shape[0]} x {A.shape[1]} matrix"
        if error:
            problems.append(f"{where}: {error}")
            continue
        if got.shape == want.shape and np.all(np.isfinite(got)):
            got = _aligned(got, want)  # v and -v are stretched equally
        mistakes = {
            "this is the first column of the SVD's Vt; the right singular vectors are its rows, so v_1 is Vt[0].":
                _aligned(Vt[:, 0], want),
        }
        if u.shape == want.shape:  # square A: the left singular vector is a tempting wrong answer
            mistakes[
                "this is the direction of the image, the top left singular vector u = A v / ||A v||; the "
                "question asks for the input direction v, a right singular vector."
            ] = _aligned(u, want)
        if got.shape == want.shape and np.all(np.isfinite(got)) and abs(np.linalg.norm(got) - 1) > 1e-6:
            problems.append(f"{where}: the vector has length {np.linalg.norm(got):.6g}; return a unit vector.")
            continue
        problem = verdict(got, want, mistakes, where, rtol=1e-5, atol=1e-6)
        if problem:
            problems.append(problem)
    return report("most_stretched_direction", problems, len(cases), witness="the SVD")
