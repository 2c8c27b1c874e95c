"""Truncated BPTT: against the contribution map, finite differences and counts of the algorithms."""

import math

import numpy as np
import pytest

from gradcourse import gradcheck, jacobians, losses, rnn, stacking, tasks, train
from gradcourse import truncation as tr
from gradcourse.errors import NonFiniteError


def _problem(seed=0, T=9, B=3, n_x=2, n_h=5, n_y=2, activation="tanh", scale=1.0):
    rng = np.random.default_rng(seed)
    p = rnn.init_params(n_x, n_h, n_y, rng=rng, recurrent_scale=scale)
    x = rng.normal(size=(T, B, n_x))
    y_target = rng.normal(size=(T, B, n_y))
    fwd = rnn.forward(p, x, activation=activation)
    _, dy = losses.mse(fwd.y, y_target)
    return p, x, y_target, fwd, dy


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "leaky_relu"])
@pytest.mark.parametrize("wrt", ["W_hh", "W_xh", "b_h"])
def test_the_truncated_gradient_is_the_map_summed_over_the_kept_entries(activation, wrt):
    p, _, _, fwd, dy = _problem(activation=activation)
    T = len(fwd.a)
    C = jacobians.contributions(p, fwd, dy, wrt=wrt)
    rng = np.random.default_rng(3)
    windows = [1, 2, 4, T, T + 5, tr.chunk_windows(T, 4), rng.integers(1, T + 1, size=T)]
    for window in windows:
        kept = tr.kept_mask(T, window)
        got = tr.backward(p, fwd, dy, window=window)[wrt]
        np.testing.assert_allclose(got, C[kept].sum(axis=0), rtol=1e-12, atol=1e-14)


def test_lag_weights_multiply_each_kept_contribution_by_its_lag():
    p, _, _, fwd, dy = _problem()
    T = len(fwd.a)
    C = jacobians.contributions(p, fwd, dy)
    window = np.random.default_rng(1).integers(1, T + 1, size=T)
    weights = np.random.default_rng(2).uniform(0, 3, size=T)
    lag = np.subtract.outer(np.arange(T), np.arange(T))
    factor = np.where(tr.kept_mask(T, window), weights[np.clip(lag, 0, None)], 0.0)
    want = np.einsum("tk,tkij->ij", factor, C)
    np.testing.assert_allclose(tr.backward(p, fwd, dy, window=window, weights=weights)["W_hh"], want,
                               rtol=1e-12, atol=1e-14)


def test_a_window_of_T_or_more_gives_full_bptt_and_the_readout_is_never_cut():
    p, _, _, fwd, dy = _problem(activation="sigmoid")
    full = rnn.backward(p, fwd, dy)
    for K in (len(fwd.a), 50):
        got = tr.backward(p, fwd, dy, window=K)
        for key in full:
            np.testing.assert_allclose(got[key], full[key], rtol=1e-12, atol=1e-14)
    one = tr.backward(p, fwd, dy, window=1)
    np.testing.assert_array_equal(one["W_hy"], full["W_hy"])
    np.testing.assert_array_equal(one["b_y"], full["b_y"])
    assert not np.allclose(one["W_hh"], full["W_hh"])


def _held_loss(q, x, y_target, starts, held):
    """sum_t L_t, each L_t computed from the state h_{s_t} of the unperturbed forward pass, held fixed.

    starts[t] is s_t (0-based count of steps before the window), ``held`` the states h_0..h_T of the
    unperturbed parameters, ``q`` the perturbed parameters."""
    total = 0.0
    for t, s in enumerate(starts):
        fwd = rnn.forward(q, x[s : t + 1], h0=held[s])
        total += losses.mse(fwd.y[-1:], y_target[t : t + 1])[0]
    return total


@pytest.mark.parametrize("scheme", ["band", "chunks"])
@pytest.mark.parametrize("K", [1, 3])
def test_truncated_gradient_is_the_gradient_with_states_held_fixed_finite_differences(scheme, K):
    """With K_t, the truncated gradient is the gradient of sum_t L_t when h_{t-K_t} does not move."""
    p, x, y_target, fwd, dy = _problem(T=7, B=2, n_h=3)
    T = len(x)
    held = np.concatenate([fwd.h0[None], fwd.h])  # h_0 .. h_T, of the unperturbed parameters
    window = np.full(T, K) if scheme == "band" else tr.chunk_windows(T, K)
    starts = [max(t + 1 - int(window[t]), 0) for t in range(T)]
    numeric = gradcheck.numerical_gradient(lambda q: _held_loss(q, x, y_target, starts, held), p)
    got = tr.backward(p, fwd, dy, window=window)
    assert gradcheck.max_relative_error(got, numeric) < 1e-7


def test_model_axes_give_each_model_its_own_window():
    models = [rnn.init_params(2, 4, 1, rng=np.random.default_rng(s)) for s in range(3)]
    stacked = stacking.stack(models)
    rng = np.random.default_rng(9)
    x, y_target = rng.normal(size=(6, 2, 2)), rng.normal(size=(6, 2, 1))
    Ks = np.array([1, 3, 6])
    _, grads = tr.loss_and_grads(stacked, x, y_target, window=Ks[:, None])
    for m, K in enumerate(Ks):
        _, alone = tr.loss_and_grads(models[m], x, y_target, window=int(K))
        for key in alone:
            np.testing.assert_allclose(grads[key][m], alone[key], rtol=1e-12, atol=1e-14)


def test_the_module_trains_as_a_model_of_the_training_loop():
    params = rnn.init_params(2, 6, 1, rng=np.random.default_rng(0))
    task = lambda rng: tasks.adding_problem(T=6, batch=8, rng=rng)  # noqa: E731
    full = train.train(rnn, params, task, steps=5, lr=0.1, rng=np.random.default_rng(1), loss_at="last_step")
    same = train.train(tr, params, task, steps=5, lr=0.1, rng=np.random.default_rng(1), loss_at="last_step",
                       window=6)
    np.testing.assert_allclose(same.losses, full.losses, rtol=1e-12)
    cut = train.train(tr, params, task, steps=5, lr=0.1, rng=np.random.default_rng(1), loss_at="last_step",
                      window=2)
    assert cut.losses[0] == full.losses[0] and not np.allclose(cut.losses[1:], full.losses[1:])


def test_geometric_windows_are_kept_with_probability_one_over_their_weight():
    T, mean = 6, 3.0
    windows, weights = tr.geometric_windows(T, mean, rng=np.random.default_rng(0), size=(200000,))
    assert windows.shape == (200000, T) and windows.min() >= 1
    q = 1 - 1 / mean
    np.testing.assert_allclose(weights, q ** -np.arange(T), rtol=1e-14)
    survival = np.array([np.mean(windows > d) for d in range(T)])
    np.testing.assert_allclose(survival, q ** np.arange(T), atol=4e-3)  # binomial error about 1e-3
    np.testing.assert_allclose(windows.mean(), mean, rtol=0.01)


def test_randomized_truncation_is_unbiased_over_many_draws():
    p, _, _, fwd, dy = _problem(T=6, scale=1.5)
    full = rnn.backward(p, fwd, dy)["W_hh"]
    rng = np.random.default_rng(4)
    draws = []
    for _ in range(3000):
        windows, weights = tr.geometric_windows(6, 2.0, rng=rng)
        draws.append(tr.backward(p, fwd, dy, window=windows, weights=weights)["W_hh"])
    draws = np.array(draws)
    standard_error = draws.std(axis=0) / np.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(axis=0) - full) < 5 * standard_error + 1e-12)
    regular = tr.backward(p, fwd, dy, window=2)["W_hh"]
    assert np.abs(regular - full).max() > 10 * standard_error.max()  # the regular cut is biased


def _count_band(T, K):
    """Products when every loss step t sends its signal back on its own: one per kept (t, k), k < t."""
    kept = tr.kept_mask(T, K)
    return int(np.sum(np.tril(kept, -1)))


def _count_chunks(T, K):
    products = 0
    for start in range(0, T, K):
        steps = min(K, T - start)
        for _ in range(steps - 1):  # one sweep back through the chunk
            products += 1
    return products


@pytest.mark.parametrize("T, K", [(1, 1), (5, 1), (7, 3), (9, 3), (10, 4), (4, 9), (100, 10)])
def test_cost_matches_counts_of_the_algorithms(T, K):
    assert tr.cost(T, K, "full") == tr.Cost(T - 1, T)
    assert tr.cost(T, K, "band") == tr.Cost(_count_band(T, K), min(K, T))
    assert tr.cost(T, K, "chunks") == tr.Cost(_count_chunks(T, K), min(K, T))
    assert tr.cost(T, K, "chunks").products == T - math.ceil(T / K) if K <= T else T - 1


def test_chunk_windows_and_kept_mask():
    np.testing.assert_array_equal(tr.chunk_windows(5, 2), [1, 2, 1, 2, 1])
    mask = tr.kept_mask(5, tr.chunk_windows(5, 2))
    assert mask.sum() == 3 + 3 + 1  # two chunks of 2 (3 pairs each) and one of 1
    assert not np.any(np.triu(tr.kept_mask(6, 6), 1))


@pytest.mark.parametrize("window, error, words", [
    (0, ValueError, "window must be >= 1"),
    (True, TypeError, "window must be an integer"),
    (2.0, TypeError, "window must be an integer"),
    ("3", TypeError, "window must be an integer"),
    (np.array([1, 0, 2]), ValueError, "window must hold integers >= 1"),
    (np.ones(4, dtype=int), ValueError, "window of shape (4,) does not broadcast"),
])
def test_bad_windows_are_named(window, error, words):
    p, _, _, fwd, dy = _problem(T=3)
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        tr.backward(p, fwd, dy, window=window)


def test_bad_weights_and_arguments_are_named():
    p, x, y_target, fwd, dy = _problem(T=3)
    with pytest.raises(ValueError, match="weights must be >= 0"):
        tr.backward(p, fwd, dy, window=2, weights=[1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="weights must be finite"):
        tr.backward(p, fwd, dy, window=2, weights=[1.0, np.inf, 1.0])
    with pytest.raises(ValueError, match="weights of shape"):
        tr.backward(p, fwd, dy, window=2, weights=[1.0, 1.0])
    with pytest.raises(ValueError, match="mean must be > 1"):
        tr.geometric_windows(3, 1.0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng must be"):
        tr.geometric_windows(3, 2.0, rng=0)
    with pytest.raises(ValueError, match="scheme must be one of"):
        tr.cost(10, 2, "random")
    with pytest.raises(ValueError, match="K must be a positive integer"):
        tr.chunk_windows(10, 0)
    with pytest.raises(ValueError, match="window must be an integer or an array of shape"):
        tr.kept_mask(3, [1, 2])
    other = rnn.init_params(2, 5, 2, rng=np.random.default_rng(7))
    with pytest.raises(ValueError):
        tr.backward(other, fwd, dy, window=2)  # a record of other parameters
    with pytest.raises(ValueError, match="dy must have shape"):
        tr.backward(p, fwd, dy[:-1], window=2)
    with pytest.raises(TypeError, match="window must be an integer"):
        tr.loss_and_grads(p, x, y_target, window=1.5)


def test_an_overflowing_signal_is_reported():
    p, _, _, fwd, dy = _problem(T=4)
    huge = {**p, "W_hy": p["W_hy"] * 1e10}
    fwd_huge = rnn.forward(huge, fwd.x)
    with pytest.raises(NonFiniteError, match="dL/da_t"):
        tr.backward(huge, fwd_huge, dy * 1e300, window=4)
