"""Checkers for chapter 7, beyond clipping.

Examples
--------
>>> import numpy as np
>>> def orthogonal(n, rng):
...     Q, R = np.linalg.qr(rng.normal(size=(n, n)))
...     return Q * np.sign(np.diag(R))
>>> check_orthogonal(orthogonal)
Correct: orthogonal returns orthogonal matrices (all singular values 1) on all 4 sizes.
"""

import numpy as np

from ._feedback import Feedback

__all__ = ["check_orthogonal"]


def check_orthogonal(orthogonal):
    """Check ``orthogonal(n, rng)``: a random n x n matrix Q with Q^T Q = I, drawn from ``rng``.

    Examples
    --------
    >>> def unit_columns(n, rng):   # unit-length columns are not enough
    ...     W = rng.normal(size=(n, n))
    ...     return W / np.linalg.norm(W, axis=0)
    >>> check_orthogonal(unit_columns)
    Not yet: for n = 2, Q^T Q differs from the identity by up to 0.802: the columns have length 1 but are not perpendicular to each other. Orthogonalise them, e.g. with a QR decomposition.
    """
    name = getattr(orthogonal, "__name__", "the function")
    name = "the function" if name == "<lambda>" else name
    sizes = (2, 5, 16, 64)
    for n in sizes:
        try:
            Q = np.asarray(orthogonal(n, np.random.default_rng(n)), dtype=float)
            Q_other = np.asarray(orthogonal(n, np.random.default_rng(n + 1000)), dtype=float)
        except Exception as err:  # the reader's code may fail in any way
            return Feedback(False, f"Not yet: for n = {n} it raised {type(err).__name__}: {err}")
        if Q.shape != (n, n):
            return Feedback(False, f"Not yet: for n = {n} expected shape ({n}, {n}), got {Q.shape}.")
        if not np.all(np.isfinite(Q)):
            return Feedback(False, f"Not yet: for n = {n} the matrix contains NaN or inf.")
        error = np.abs(Q.T @ Q - np.eye(n)).max()
        if error > 1e-10:
            lengths = np.linalg.norm(Q, axis=0)
            hint = (
                " the columns have length 1 but are not perpendicular to each other. Orthogonalise them, "
                "e.g. with a QR decomposition."
                if np.allclose(lengths, 1)
                else f" its singular values range from {np.linalg.svd(Q, compute_uv=False).min():.3g} to "
                f"{np.linalg.svd(Q, compute_uv=False).max():.3g}, where an orthogonal matrix has all of them equal to 1."
            )
            return Feedback(False, f"Not yet: for n = {n}, Q^T Q differs from the identity by up to {error:.3g}:{hint}")
        if n > 1 and np.allclose(Q, Q_other):
            return Feedback(False, f"Not yet: for n = {n} two different generators gave the same matrix; draw it from rng.")
    return Feedback(True, f"Correct: {name} returns orthogonal matrices (all singular values 1) on all {len(sizes)} sizes.")
