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

import numpy as np

from . import _checks

__all__ = ["spectral_norm", "power_iteration", "spectral_radius", "scale_to_norm", "scale_to_radius", "power_norms"]


def _matrix(name, A, square=False):
    A = _checks.as_array(name, A, ndim=2)
    if square and A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} must be a square matrix (n, n), got shape {A.shape}")
    return A


def spectral_norm(A):
    """Largest singular value of ``A``, from its singular value decomposition.

    Parameters
    ----------
    A : array_like, shape (m, n)

    Returns
    -------
    float

    Examples
    --------
    >>> spectral_norm(np.diag([3.0, -4.0]))
    4.0
    """
    return float(np.linalg.svd(_matrix("A", A), compute_uv=False)[0])


def power_iteration(A, *, rng, n_iter=1000, tol=1e-12):
    """Largest singular value of ``A`` and its singular vectors, by power iteration.

    Repeats v <- A^T A v / ||A^T A v||: the component of v along the top right
    singular vector grows fastest, so v turns towards it, and ||A v|| tends to the
    largest singular value. Stops when that estimate changes by less than ``tol``
    (relative) or after ``n_iter`` steps. Convergence is slow when the two largest
    singular values are close.

    Parameters
    ----------
    A : array_like, shape (m, n)
    rng : numpy.random.Generator
        For the random starting vector.
    n_iter : int, default 1000
    tol : float, default 1e-12

    Returns
    -------
    sigma : float
        The largest singular value.
    u : numpy.ndarray, shape (m,)
        Unit vector with A v = sigma u.
    v : numpy.ndarray, shape (n,)
        Unit vector that A stretches most.

    Examples
    --------
    >>> A = np.array([[2.0, 1.0], [1.0, 2.0]])
    >>> sigma, u, v = power_iteration(A, rng=np.random.default_rng(0))
    >>> round(sigma, 10), bool(np.allclose(A @ v, sigma * u))
    (3.0, True)
    """
    A = _matrix("A", A)
    rng = _checks.generator("rng", rng)
    n_iter = _checks.positive_int("n_iter", n_iter)
    v = rng.normal(size=A.shape[1])
    v /= np.linalg.norm(v)
    sigma = 0.0
    for _ in range(n_iter):
        w = A.T @ (A @ v)
        norm_w = np.linalg.norm(w)
        if norm_w == 0:  # A v = 0: A is zero (or v is exactly in its null space)
            return 0.0, np.zeros(A.shape[0]), v
        v = w / norm_w
        new_sigma = float(np.linalg.norm(A @ v))
        if abs(new_sigma - sigma) <= tol * new_sigma:
            sigma = new_sigma
            break
        sigma = new_sigma
    Av = A @ v
    return sigma, Av / np.linalg.norm(Av), v


def spectral_radius(A):
    """Largest absolute value of the eigenvalues of a square matrix ``A``.

    Examples
    --------
    >>> round(spectral_radius(np.array([[0.0, -2.0], [2.0, 0.0]])), 12)   # eigenvalues +-2i
    2.0
    """
    return float(np.abs(np.linalg.eigvals(_matrix("A", A, square=True))).max())


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
    """``A * target / size(A)``, after checking that ``size(A)`` can be scaled to ``target``."""
    target = _checks.positive_float("target", target)
    current = size(A)
    if current == 0:
        raise ValueError(f"{requirement}: its {size.__name__.replace('_', ' ')} is 0 and cannot be scaled to {target:g}")
    return A * (target / current)


def power_norms(A, k_max):
    """Spectral norms ||A^k|| for k = 0, 1, ..., k_max.

    Parameters
    ----------
    A : array_like, shape (n, n)
    k_max : int

    Returns
    -------
    numpy.ndarray, shape (k_max + 1,)
        ``inf`` from the first power whose entries overflow float64.

    Examples
    --------
    >>> power_norms(np.array([[0.5, 10.0], [0.0, 0.5]]), 3).round(3)
    array([ 1.   , 10.025, 10.006,  7.502])
    """
    A = _matrix("A", A, square=True)
    k_max = _checks.positive_int("k_max", k_max)
    powers = np.empty((k_max + 1,) + A.shape)
    powers[0] = np.eye(len(A))
    with np.errstate(over="ignore", invalid="ignore"):  # an overflowed power is reported as inf
        for k in range(1, k_max + 1):
            powers[k] = powers[k - 1] @ A
    finite = np.isfinite(powers).all(axis=(1, 2))
    norms = np.full(k_max + 1, np.inf)
    norms[finite] = np.linalg.norm(powers[finite], ord=2, axis=(1, 2))
    return norms
