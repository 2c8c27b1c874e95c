"""Spectral norm and spectral radius: how much a matrix can stretch, and how its powers grow.

The spectral norm ||A|| = max_{x != 0} ||A x|| / ||x|| is the largest singular value
of A. The spectral radius rho(A) is the largest absolute value of an eigenvalue. Always rho(A) <= ||A||,
with equality for normal matrices (symmetric, orthogonal, ...); and
||A^k||^(1/k) -> rho(A) as k grows (Gelfand's formula), so rho decides whether powers
of A eventually vanish or explode, while ||A|| bounds how much they can grow on the way.

Examples
--------
>>> import numpy as np
>>> A = np.array([[0.5, 10.0], [0.0, 0.5]])
>>> round(spectral_norm(A), 4), spectral_radius(A)
(10.0249, 0.5)
"""

from typing import NamedTuple

import numpy as np

from . import _checks

__all__ = [
    "spectral_norm",
    "power_iteration",
    "PowerIterationResult",
    "spectral_radius",
    "scale_to_norm",
    "scale_to_radius",
    "power_norms",
]


def _matrix(name, A, square=False):
    A = _checks.as_array(name, A, ndim=2, nonempty=True)
    if square and A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} must be a square matrix (n, n), got shape {A.shape}")
    return A


def _normalized(A):
    """``(B, E)`` with A = B * 2**E exactly (but for subnormal entries of B) and max |B| in [1/2, 1).

    Every quantity below is homogeneous in A, so it is computed from B and multiplied
    back by a power of two: nothing overflows or underflows on the way.
    """
    E = int(np.frexp(np.max(np.abs(A)))[1])
    with np.errstate(under="ignore"):  # entries below 2**-1074 relative to the largest
        return np.ldexp(A, -E), E


def _ldexp(x, E):
    with np.errstate(over="ignore", under="ignore"):  # beyond float64's range: inf or 0
        return float(np.ldexp(x, E))


def spectral_norm(A):
    """Largest singular value of ``A``, from its singular value decomposition.

    Parameters
    ----------
    A : array_like, shape (m, n)
        Finite real entries of any size.

    Returns
    -------
    float

    Examples
    --------
    >>> spectral_norm(np.diag([3.0, -4.0]))
    4.0
    >>> spectral_norm(np.diag([3e200, -4e200]))
    4e+200
    """
    B, E = _normalized(_matrix("A", A))
    return _ldexp(np.linalg.svd(B, compute_uv=False)[0], E)


class PowerIterationResult(NamedTuple):
    """What :func:`power_iteration` returns with ``return_info=True``."""

    sigma: float
    """The estimate of the largest singular value."""
    u: np.ndarray
    """Unit vector with A v = sigma u."""
    v: np.ndarray
    """Unit vector that A stretches most."""
    iterations: int
    """Number of steps taken."""
    converged: bool
    """Whether sigma changed by at most ``tol`` (relative) in the last step."""


def power_iteration(A, *, rng, n_iter=1000, tol=1e-12, return_info=False):
    """Largest singular value of ``A`` and its singular vectors, by power iteration.

    Repeats v <- A^T A v / ||A^T A v||: the component of v along the top right
    singular vector grows fastest, so v turns towards it, and ||A v|| tends to the
    largest singular value. Stops when that estimate changes by at most ``tol``
    (relative) or after ``n_iter`` steps. Convergence is slow when the two largest
    singular values are close. The iteration runs on A divided by a power of two near
    its largest entry, so any scale of A works, from subnormal to 1e308.

    Parameters
    ----------
    A : array_like, shape (m, n)
    rng : numpy.random.Generator
        For the random starting vector.
    n_iter : int, default 1000
        Largest number of steps, >= 1.
    tol : float, default 1e-12
        Relative change of the estimate at which to stop, > 0.
    return_info : bool, default False
        Also report the number of steps and whether the iteration converged.

    Returns
    -------
    sigma : float
        The largest singular value.
    u : numpy.ndarray, shape (m,)
        Unit vector with A v = sigma u.
    v : numpy.ndarray, shape (n,)
        Unit vector that A stretches most.

    With ``return_info=True``, a :class:`PowerIterationResult`
    ``(sigma, u, v, iterations, converged)`` instead.

    Examples
    --------
    >>> A = np.array([[2.0, 1.0], [1.0, 2.0]])
    >>> sigma, u, v = power_iteration(A, rng=np.random.default_rng(0))
    >>> round(sigma, 10), bool(np.allclose(A @ v, sigma * u))
    (3.0, True)
    >>> info = power_iteration(1e-170 * A, rng=np.random.default_rng(0),
    ...                        n_iter=3, return_info=True)
    >>> info.iterations, info.converged, float(info.sigma / 1e-170) > 2.9
    (3, False, True)
    """
    A = _matrix("A", A)
    rng = _checks.generator("rng", rng)
    n_iter = _checks.positive_int("n_iter", n_iter)
    tol = _checks.positive_float("tol", tol)
    return_info = _checks.boolean("return_info", return_info)
    v = rng.normal(size=A.shape[1])
    v /= np.linalg.norm(v)
    if not A.any():
        result = PowerIterationResult(0.0, np.zeros(A.shape[0]), v, 0, True)
        return result if return_info else result[:3]
    B, E = _normalized(A)
    sigma, converged, k = 0.0, False, 0
    with np.errstate(under="ignore"):  # tiny components of B v are negligible
        for k in range(1, n_iter + 1):
            w = B.T @ (B @ v)
            norm_w = np.linalg.norm(w)
            if norm_w == 0:  # v exactly in the null space of a nonzero A: no estimate
                break
            v = w / norm_w
            new_sigma = float(np.linalg.norm(B @ v))
            converged = abs(new_sigma - sigma) <= tol * new_sigma
            sigma = new_sigma
            if converged:
                break
        Bv = B @ v
    norm_Bv = np.linalg.norm(Bv)
    u = Bv / norm_Bv if norm_Bv > 0 else np.zeros(A.shape[0])
    result = PowerIterationResult(_ldexp(sigma, E), u, v, k, bool(converged))
    return result if return_info else result[:3]


def spectral_radius(A):
    """Largest absolute value of the eigenvalues of a square matrix ``A``.

    Examples
    --------
    >>> # eigenvalues +-2i
    >>> round(spectral_radius(np.array([[0.0, -2.0], [2.0, 0.0]])), 12)
    2.0
    """
    B, E = _normalized(_matrix("A", A, square=True))
    return _ldexp(np.abs(np.linalg.eigvals(B)).max(), E)


def scale_to_norm(A, target):
    """``A`` rescaled so that its spectral norm equals ``target`` (> 0).

    Examples
    --------
    >>> B = scale_to_norm(np.array([[1.0, 2.0], [3.0, 4.0]]), 1.0)
    >>> round(spectral_norm(B), 12)
    1.0
    """
    return _rescale(_matrix("A", A), target, spectral_norm, "A must not be the zero matrix")


def scale_to_radius(A, target):
    """Square ``A`` rescaled so that its spectral radius equals ``target`` (> 0).

    Examples
    --------
    >>> B = scale_to_radius(np.array([[1.0, 2.0], [3.0, 4.0]]), 0.9)
    >>> round(spectral_radius(B), 12)
    0.9
    """
    return _rescale(_matrix("A", A, square=True), target, spectral_radius, "A must have a nonzero eigenvalue (not be nilpotent)")


def _rescale(A, target, size, requirement):
    """``A * target / size(A)``, after checking that ``size(A)`` can be scaled to ``target``.

    The factor target / size(A) is applied as a mantissa and a power of two, so it
    may itself lie outside float64's range when the result does not.
    """
    target = _checks.positive_float("target", target)
    current = size(A)
    if current == 0:
        raise ValueError(f"{requirement}: its {size.__name__.replace('_', ' ')} is 0 and cannot be scaled to {target:g}")
    (t_m, t_e), (c_m, c_e) = np.frexp(target), np.frexp(current)
    A_m, A_e = np.frexp(A)
    with np.errstate(over="ignore", under="ignore"):
        scaled = np.ldexp(A_m * (t_m / c_m), A_e + (t_e - c_e))
    if not np.all(np.isfinite(scaled)):
        raise ValueError(
            f"target={target:g} is too large for A: A * target / {current:g} overflows float64"
        )
    return scaled


def power_norms(A, k_max):
    """Spectral norms ||A^k|| for k = 0, 1, ..., k_max.

    Each power is kept divided by a power of two near its largest entry, which is exact,
    so a norm is inf only where ||A^k|| itself exceeds the largest float64, and 0 only
    where it is below the smallest.

    Parameters
    ----------
    A : array_like, shape (n, n)
    k_max : int
        Largest power, >= 1.

    Returns
    -------
    numpy.ndarray, shape (k_max + 1,)

    Examples
    --------
    >>> power_norms(np.array([[0.5, 10.0], [0.0, 0.5]]), 3).round(3)
    array([ 1.   , 10.025, 10.006,  7.502])
    >>> power_norms(np.array([[1e100]]), 4)
    array([1.e+000, 1.e+100, 1.e+200, 1.e+300,     inf])
    """
    B, E = _normalized(_matrix("A", A, square=True))
    k_max = _checks.positive_int("k_max", k_max)
    norms = np.zeros(k_max + 1)
    norms[0] = 1.0
    P, s = np.eye(len(B)), 0  # A^k = P 2^s
    for k in range(1, k_max + 1):
        with np.errstate(under="ignore"):  # entries negligible next to the largest
            P = P @ B
            biggest = np.max(np.abs(P))
            if biggest == 0:  # nilpotent: every later power is 0 too
                break
            e = int(np.frexp(biggest)[1])
            P, s = np.ldexp(P, -e), s + E + e
        norms[k] = _ldexp(np.linalg.norm(P, 2), s)
    return norms
