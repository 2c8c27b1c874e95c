"""gradcourse.measures: the Jacobian's growth from the start, and steps to a loss target.

Expected values come from finite differences of the recurrence, closed forms (orthogonal
matrices, constant slopes) and a plain loop over the runs, never from the functions'
own formulas.
"""

import warnings

import numpy as np
import pytest

from gradcourse import activations, rnn
from gradcourse.measures import jacobian_norms_from_start, steps_to_target


def _fd_jacobian_from_h0(params, x, h0, t, activation, eps=1e-6):
    """d h_t / d h_0 by central differences of the forward pass (one sequence)."""
    n = h0.size
    cols = []
    for j in range(n):
        e = np.zeros(n)
        e[j] = eps
        up = rnn.forward(params, x[:t], h0=(h0 + e)[None], activation=activation).h[-1, 0]
        down = rnn.forward(params, x[:t], h0=(h0 - e)[None], activation=activation).h[-1, 0]
        cols.append((up - down) / (2 * eps))
    return np.stack(cols, axis=1)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_norms_match_finite_differences_of_the_recurrence(activation):
    rng = np.random.default_rng(3)
    params = rnn.init_params(2, 4, 1, rng=rng, recurrent_scale=1.5)
    x = rng.normal(size=(6, 1, 2))
    h0 = rng.normal(size=4)
    fwd = rnn.forward(params, x, h0=h0[None], activation=activation)
    _, f_prime = activations.get(activation)
    got = jacobian_norms_from_start(params["W_hh"], f_prime(fwd.a[:, 0]))
    want = [np.linalg.norm(_fd_jacobian_from_h0(params, x, h0, t, activation), 2) for t in range(1, 7)]
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-10)  # FD error ~1e-11


def test_orthogonal_weights_and_constant_slopes_give_a_power():
    Q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(5, 5)))
    got = jacobian_norms_from_start(1.5 * Q, np.full((30, 5), 0.8))
    np.testing.assert_allclose(got, 1.2 ** np.arange(1, 31), rtol=1e-12)


def test_a_product_beyond_float64_midway_still_comes_out_right():
    # 40 steps of growth by 1e10 (1e400 on the way), then 2 of shrinkage by 1e-100
    slopes = np.concatenate([np.full((40, 3), 1e10), np.full((2, 3), 1e-100)])
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        got = jacobian_norms_from_start(np.eye(3), slopes)
    np.testing.assert_allclose(got[[0, 29, 41]], [1e10, 1e300, 1e200], rtol=1e-12)
    assert np.isinf(got[30:40]).all()  # beyond float64's range at those steps: inf


def test_a_zero_slope_everywhere_gives_zero_without_warning():
    with np.errstate(all="raise"):
        got = jacobian_norms_from_start(np.eye(2), np.zeros((3, 2)))
    assert np.array_equal(got, np.zeros(3))


def test_model_axes_broadcast_and_match_one_model_at_a_time():
    rng = np.random.default_rng(1)
    W = rng.normal(size=(3, 4, 4))
    slopes = rng.uniform(0, 1, size=(2, 1, 7, 4))
    got = jacobian_norms_from_start(W, slopes)
    assert got.shape == (2, 3, 7)
    for i in range(2):
        for m in range(3):
            np.testing.assert_allclose(got[i, m], jacobian_norms_from_start(W[m], slopes[i, 0]), rtol=1e-12)


def test_relu_state_is_the_jacobian_times_the_initial_state():
    """relu(a) = relu'(a) a, so without input and bias h_t = (dh_t/dh_0) h_0."""
    rng = np.random.default_rng(2)
    params = rnn.init_params(1, 6, 1, rng=rng, recurrent_scale=2.0)
    h0 = rng.normal(size=6)
    fwd = rnn.forward(params, np.zeros((12, 1, 1)), h0=h0[None], activation="relu")
    norms = jacobian_norms_from_start(params["W_hh"], activations.relu_prime(fwd.a[:, 0]))
    assert np.all(np.linalg.norm(fwd.h[:, 0], axis=-1) <= norms * np.linalg.norm(h0) * (1 + 1e-12))


@pytest.mark.parametrize(
    "W_hh, slopes, name",
    [(np.ones((2, 3)), np.ones((4, 2)), "W_hh"), (np.ones(3), np.ones((4, 3)), "W_hh"),
     (np.eye(2), np.ones((4, 3)), "slopes"), (np.eye(2), np.ones((0, 2)), "slopes"),
     (np.eye(2), np.ones(2), "slopes"), (np.eye(2) * np.nan, np.ones((4, 2)), "W_hh"),
     (np.eye(2), np.full((4, 2), np.inf), "slopes"), (np.eye(2) + 1j, np.ones((4, 2)), "W_hh"),
     (np.ones((3, 2, 2)), np.ones((2, 4, 2)), "W_hh")],
)
def test_bad_input_to_the_norms_names_the_argument(W_hh, slopes, name):
    with pytest.raises(ValueError, match=name):
        jacobian_norms_from_start(W_hh, slopes)


def _by_walking(losses, target):
    """One run at a time, one step at a time."""
    losses = np.asarray(losses, dtype=float)
    out = np.full(losses.shape[1:], np.inf)
    for idx in np.ndindex(losses.shape[1:]):
        for s in range(losses.shape[0]):
            if losses[(s,) + idx] <= target:
                out[idx] = s
                break
    return out


def test_steps_to_target_on_hand_made_runs():
    losses = np.array([[2.0, 0.5, 3.0, 2.0], [1.0, 0.4, 2.0, np.nan], [0.9, 0.3, 1.5, np.nan]])
    np.testing.assert_array_equal(steps_to_target(losses, 1.0), [1.0, 0.0, np.inf, np.inf])


@pytest.mark.parametrize("seed", range(5))
def test_steps_to_target_matches_a_walk_over_every_run(seed):
    rng = np.random.default_rng(seed)
    losses = np.exp(-np.cumsum(rng.uniform(-0.2, 0.5, size=(40, 3, 4)), axis=0))
    losses[rng.integers(0, 40, size=5), rng.integers(0, 3, size=5), rng.integers(0, 4, size=5)] = np.nan
    target = float(rng.uniform(0.01, 0.5))
    np.testing.assert_array_equal(steps_to_target(losses, target), _by_walking(losses, target))


@pytest.mark.parametrize(
    "losses, target, name",
    [(np.array([1.0, np.inf]), 0.5, "losses"), (np.zeros(0), 0.5, "losses"), (np.array(1.0), 0.5, "losses"),
     (np.array([1.0 + 1j]), 0.5, "losses"), (np.array([1.0]), np.nan, "target"), (np.array([1.0]), "0.5", "target"),
     (np.array([1.0]), True, "target")],
)
def test_bad_input_to_steps_to_target_names_the_argument(losses, target, name):
    with pytest.raises(ValueError, match=name):
        steps_to_target(losses, target)
