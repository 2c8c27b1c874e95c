"""Checkers for chapter 6, gradient clipping.

Examples
--------
>>> import numpy as np
>>> def clip(grads, max_norm):
...     norm = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
...     scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
...     return {k: g * scale for k, g in grads.items()}
>>> check_clip_by_global_norm(clip)
Correct: clip keeps the direction and caps the global norm on all 5 cases.
"""

import numpy as np

from ._feedback import Feedback

__all__ = ["check_clip_by_global_norm"]


def _cases():
    rng = np.random.default_rng(6)
    big = {"W_hh": rng.normal(size=(4, 4)) * 10, "b_h": rng.normal(size=4), "W_hy": rng.normal(size=(1, 4))}
    return [
        ("a large gradient in three arrays", big, 1.0),
        ("a gradient below the threshold", {k: v / 1000 for k, v in big.items()}, 1.0),
        ("one array much larger than the others", {"a": np.full(3, 100.0), "b": np.full(2, 0.1)}, 5.0),
        ("a zero gradient", {"a": np.zeros((2, 2)), "b": np.zeros(3)}, 1.0),
        ("a single array", {"g": np.array([3.0, 4.0])}, 2.5),
    ]


def _norm(grads):
    return float(np.sqrt(sum(np.sum(np.asarray(g, dtype=float) ** 2) for g in grads.values())))


def check_clip_by_global_norm(clip_by_global_norm):
    """Check ``clip_by_global_norm(grads, max_norm)``, which returns a new dict of clipped arrays.

    Examples
    --------
    >>> def per_array(grads, max_norm):   # clips each array on its own
    ...     return {k: g * min(1.0, max_norm / np.linalg.norm(g)) for k, g in grads.items()}
    >>> check_clip_by_global_norm(per_array)
    Not yet: on a large gradient in three arrays the direction changed: the arrays were not all scaled by the same factor. Each array seems to have been clipped on its own; compute one norm over all arrays together and scale them all by it.
    """
    name = getattr(clip_by_global_norm, "__name__", "the function")
    name = "the function" if name == "<lambda>" else name
    cases = _cases()
    for where, grads, h in cases:
        original = {k: v.copy() for k, v in grads.items()}
        try:
            with np.errstate(all="ignore"):  # a NaN result is reported below
                out = clip_by_global_norm(grads, h)
        except Exception as err:  # the reader's code may fail in any way
            return Feedback(False, f"Not yet: on {where} it raised {type(err).__name__}: {err}")
        try:
            same = all(np.array_equal(grads[k], original[k]) for k in grads)
            out = {k: np.asarray(out[k], dtype=float) for k in grads}
        except (KeyError, TypeError, IndexError):
            return Feedback(False, f"Not yet: on {where} the result must be a dict with the keys {sorted(grads)}.")
        if not same:
            return Feedback(False, f"Not yet: on {where} the input gradients were modified; return new arrays.")
        if any(out[k].shape != grads[k].shape for k in grads):
            return Feedback(False, f"Not yet: on {where} an array changed shape.")
        if not all(np.all(np.isfinite(v)) for v in out.values()):
            hint = " Guard the division: a zero gradient has norm 0." if _norm(grads) == 0 else ""
            return Feedback(False, f"Not yet: on {where} the result contains NaN or inf.{hint}")
        norm = _norm(grads)
        want = min(norm, h)
        got = _norm(out)
        if norm > 0:
            scales = {k: np.sum(out[k] * grads[k]) / np.sum(grads[k] ** 2) for k in grads if np.any(grads[k])}
            common = next(iter(scales.values()))
            aligned = all(np.allclose(out[k], scales[k] * grads[k], rtol=1e-9, atol=1e-15) for k in scales)
            if not aligned or not all(np.isclose(s, common, rtol=1e-9) for s in scales.values()):
                per_array = all(np.linalg.norm(out[k]) <= h * (1 + 1e-9) for k in grads)
                hint = (
                    " Each array seems to have been clipped on its own; compute one norm over all arrays together "
                    "and scale them all by it." if per_array else ""
                )
                return Feedback(False, f"Not yet: on {where} the direction changed: the arrays were not all scaled "
                                       f"by the same factor.{hint}")
        if not np.isclose(got, want, rtol=1e-9, atol=1e-15):
            hint = (" A gradient already below the threshold must stay as it is." if norm < h
                    else f" Above the threshold the norm must become max_norm = {h:g}.")
            return Feedback(False, f"Not yet: on {where} the global norm is {got:.6g}, expected {want:.6g}.{hint}")
    return Feedback(True, f"Correct: {name} keeps the direction and caps the global norm on all {len(cases)} cases.")
