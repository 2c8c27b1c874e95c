"""Checkers for chapter 1, backpropagation through time.

Each checker calls the reader's function on reference cases whose answers come
from finite differences of the forward recurrence, not from the formula the
reader is asked to implement, and returns a :class:`Feedback`: truthy when every
case passes, and a message that names the first failing case and, where a
common mistake explains it, the mistake.

Examples
--------
>>> import numpy as np
>>> def step_jacobian(W_hh, a_t, f_prime):
...     return f_prime(a_t)[:, None] * W_hh
>>> check_step_jacobian(step_jacobian)
Correct: step_jacobian matches finite differences on all 6 cases.
>>> def wrong(W_hh, a_t, f_prime):
...     return W_hh * f_prime(a_t)[None, :]
>>> feedback = check_step_jacobian(wrong)
>>> bool(feedback)
False
"""

import numpy as np

from .. import activations
from ._feedback import report, run, verdict

__all__ = ["check_step_jacobian", "check_state_jacobian"]

def _fd_jacobian(fn, h, eps=1e-6):
    """Central-difference Jacobian of a vector map ``fn`` at ``h`` (rows: outputs)."""
    cols = []
    for j in range(h.size):
        e = np.zeros_like(h)
        e[j] = eps
        cols.append((fn(h + e) - fn(h - e)) / (2 * eps))
    return np.stack(cols, axis=1)


def _cases(n_steps_options):
    """Reference RNN pieces: (activation, W_hh, drives c_i, h_k), seeded and fixed."""
    rng = np.random.default_rng(2024)
    cases = []
    for name, n in (("tanh", 1), ("tanh", 3), ("sigmoid", 4), ("relu", 5), ("leaky_relu", 2), ("sigmoid", 3)):
        L = n_steps_options[len(cases) % len(n_steps_options)]
        W_hh = rng.normal(size=(n, n)) * 1.5 / np.sqrt(n)
        drives = rng.normal(size=(L, n))
        h_k = rng.normal(size=n)
        cases.append((name, W_hh, drives, h_k))
    return cases


def _product(Js, n):
    """J_last ... J_first for Jacobians given in time order (each new one on the left); I if none."""
    P = np.eye(n)
    for J in Js:
        P = J @ P
    return P


def check_step_jacobian(step_jacobian):
    """Check a function ``step_jacobian(W_hh, a_t, f_prime)`` returning dh_t/dh_{t-1}.

    The reader's function gets the recurrent matrix ``W_hh`` (n, n), the
    pre-activation ``a_t`` (n,) of one sequence, and the derivative ``f_prime`` of
    the nonlinearity, and must return the (n, n) Jacobian with entry [i, j] =
    dh_t[i]/dh_{t-1}[j].

    Returns
    -------
    Feedback

    Examples
    --------
    >>> check_step_jacobian(lambda W_hh, a_t, f_prime: W_hh)
    Not yet: step_jacobian fails 5 of 6 cases. First: tanh, n=1: f'(a_t) is missing: the chain rule passes through the nonlinearity first.
    """
    problems = []
    cases = _cases([1])
    for name, W_hh, drives, h_prev in cases:
        f, f_prime = activations.get(name)
        c = drives[0]
        a_t = W_hh @ h_prev + c
        want = _fd_jacobian(lambda h: f(W_hh @ h + c), h_prev)
        got, error = run(step_jacobian, (W_hh.copy(), a_t.copy(), f_prime))
        where = f"{name}, n={len(a_t)}"
        if error:
            problems.append(f"{where}: {error}")
            continue
        d = f_prime(a_t)
        mistakes = {
            "the factors are in the wrong order: W_hh diag(f'(a_t)) scales columns, "
            "but dh_t[i]/dh_{t-1}[j] = f'(a_t[i]) W_hh[i, j] scales row i.": W_hh * d[None, :],
            "this is the transpose: row i must belong to unit i of h_t.": (d[:, None] * W_hh).T,
            "f'(a_t) is missing: the chain rule passes through the nonlinearity first.": W_hh,
        }
        problem = verdict(got, want, mistakes, where)
        if problem:
            problems.append(problem)
    return report("step_jacobian", problems, len(cases))


def check_state_jacobian(state_jacobian):
    """Check a function ``state_jacobian(W_hh, a, f_prime)`` returning dh_t/dh_k.

    The reader's function gets ``W_hh`` (n, n), the pre-activations
    ``a`` (L, n) of steps k+1, ..., t (so L = t - k, and ``a[-1]`` is a_t), and
    ``f_prime``; it must return the (n, n) product J_t J_{t-1} ... J_{k+1} with
    J_i = diag(f'(a_i)) W_hh. With L = 0 the answer is the identity.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> def state_jacobian(W_hh, a, f_prime):
    ...     P = np.eye(len(W_hh))
    ...     for a_i in a:
    ...         P = (f_prime(a_i)[:, None] * W_hh) @ P
    ...     return P
    >>> check_state_jacobian(state_jacobian)
    Correct: state_jacobian matches finite differences on all 7 cases.
    """
    problems = []
    cases = _cases([4, 1, 7]) + [("tanh", np.array([[0.5, -1.0], [2.0, 0.3]]), np.zeros((0, 2)), np.ones(2))]
    for name, W_hh, drives, h_k in cases:
        f, f_prime = activations.get(name)

        def run_from(h, W_hh=W_hh, drives=drives, f=f):
            for c in drives:
                h = f(W_hh @ h + c)
            return h

        a, h = [], h_k
        for c in drives:
            a.append(W_hh @ h + c)
            h = f(a[-1])
        a = np.array(a).reshape(len(drives), len(h_k))
        want = _fd_jacobian(run_from, h_k) if len(drives) else np.eye(len(h_k))
        got, error = run(state_jacobian, (W_hh.copy(), a.copy(), f_prime))
        where = f"{name}, n={len(h_k)}, t-k={len(a)}"
        if error:
            empty = " With t - k = 0 there is nothing to multiply: start the product from the identity." if len(a) == 0 else ""
            problems.append(f"{where}: {error}.{empty}")
            continue
        steps = [f_prime(a_i)[:, None] * W_hh for a_i in a]
        n = len(h_k)
        mistakes = {
            "the product is in the wrong order: the latest step's Jacobian J_t must stand on the left.": _product(steps[::-1], n),
            "one Jacobian too few: J_t, the Jacobian of the last step (built from a[-1]), is missing.": _product(steps[:-1], n),
            "one Jacobian too few: J_{k+1}, the Jacobian of the first step (built from a[0]), is missing.": _product(steps[1:], n),
            "this is the transpose of dh_t/dh_k: row i must belong to unit i of h_t.": want.T,
        }
        problem = verdict(got, want, mistakes, where)
        if problem:
            problems.append(problem)
    return report("state_jacobian", problems, len(cases))
