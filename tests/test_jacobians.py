import numpy as np
import pytest

from gradcourse import losses, jacobians, rnn
from test_rnn import make_problem

ACTIVATIONS = ["tanh", "sigmoid", "relu"]


def problem(activation, T=6, shape=(3, 4, 2, 3), seed=1):
    params, x, y_target, h0 = make_problem(*shape, T=T, seed=seed)
    fwd = rnn.forward(params, x, h0=h0, activation=activation)
    _, dy = losses.mse(fwd.y, y_target)
    return params, x, fwd, dy


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_step_jacobians_match_finite_differences(activation):
    params, x, fwd, _ = problem(activation)
    J = jacobians.step_jacobians(params, fwd)
    t, b, eps = 3, 1, 1e-6

    def step(h_prev):
        x_t = x[t, b]
        return rnn.forward(params, x_t[None, None], h0=h_prev[None], activation=activation).h[0, 0]

    h_prev = fwd.h[t - 1, b]
    numeric = np.stack(
        [(step(h_prev + eps * e) - step(h_prev - eps * e)) / (2 * eps) for e in np.eye(len(h_prev))], axis=1
    )
    np.testing.assert_allclose(J[t, b], numeric, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("wrt", ["W_hh", "W_xh", "b_h"])
def test_contributions_sum_to_per_step_and_total_gradients(activation, wrt):
    params, x, fwd, dy = problem(activation)
    C = jacobians.contributions(params, fwd, dy, wrt=wrt)
    T = len(x)
    assert np.all(C[np.triu_indices(T, k=1)] == 0)  # no contribution from the future
    for t in range(T):
        dy_t = np.zeros_like(dy)
        dy_t[t] = dy[t]  # the gradient of L_t alone
        per_step = rnn.backward(params, fwd, dy_t)[wrt]
        np.testing.assert_allclose(C[t].sum(axis=0), per_step, rtol=1e-10, atol=1e-14)
    total = rnn.backward(params, fwd, dy)[wrt]
    np.testing.assert_allclose(C.sum(axis=(0, 1)), total, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_error_signal_is_dLt_dhk_by_finite_differences(activation):
    params, x, fwd, dy = problem(activation, T=5, shape=(2, 3, 2, 1))
    g = jacobians.contributions(params, fwd, dy, wrt="h")
    y_target = fwd.y - dy  # mse's dy is (y - target) / B with B = 1
    t, k, eps = 4, 1, 1e-6

    def loss_t(h_k):  # restart the recurrence from a perturbed h_k
        out = rnn.forward(params, x[k + 1 :], h0=h_k, activation=activation)
        return 0.5 * np.sum((out.y[t - k - 1] - y_target[t]) ** 2)

    h_k = fwd.h[k]
    numeric = np.array(
        [(loss_t(h_k + eps * e.reshape(h_k.shape)) - loss_t(h_k - eps * e.reshape(h_k.shape))) / (2 * eps)
         for e in np.eye(h_k.size)]
    ).reshape(h_k.shape)
    np.testing.assert_allclose(g[t, k], numeric, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("wrt", jacobians.WRT)
@pytest.mark.parametrize("batch", [1, 4])
def test_map_is_the_norm_of_each_contribution(wrt, batch):
    params, x, fwd, dy = problem("tanh", T=7, shape=(3, 4, 2, batch))
    C = jacobians.contributions(params, fwd, dy, wrt=wrt)
    M = jacobians.contribution_map(params, fwd, dy, wrt=wrt)
    np.testing.assert_allclose(M, np.linalg.norm(C.reshape(7, 7, -1), axis=2), rtol=1e-10, atol=1e-15)


def test_map_decays_geometrically_for_a_linear_scalar_rnn():
    # f = identity is not offered, so use ReLU with positive states: f' = 1, J = w.
    w = 0.8
    params = {"W_xh": np.ones((1, 1)), "W_hh": np.array([[w]]), "b_h": np.array([1.0]),
              "W_hy": np.ones((1, 1)), "b_y": np.zeros(1)}
    x = np.ones((10, 1, 1))
    fwd = rnn.forward(params, x, activation="relu")
    dy = np.ones_like(fwd.y)
    M = jacobians.contribution_map(params, fwd, dy, wrt="h")
    t = 9
    np.testing.assert_allclose(M[t, : t + 1], w ** (t - np.arange(t + 1)), rtol=1e-12)


def test_unknown_wrt_is_a_clear_error():
    params, x, fwd, dy = problem("tanh")
    with pytest.raises(ValueError, match="wrt must be one of"):
        jacobians.contribution_map(params, fwd, dy, wrt="W_hy")
    with pytest.raises(ValueError, match=r"dy must have shape \(6, 3, 2\)"):
        jacobians.contribution_map(params, fwd, dy[:, :1])


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_state_jacobian_norms_match_finite_differences_of_the_recurrence(activation):
    params, x, fwd, _ = problem(activation, T=7, shape=(2, 4, 1, 2))
    N = jacobians.state_jacobian_norms(params, fwd, batch=1)
    eps = 1e-6
    for t, k in [(6, 0), (6, 3), (4, 2), (3, 3)]:  # 0-based steps
        def h_t(h_k):  # restart the recurrence at step k from a perturbed state
            return rnn.forward(params, x[k + 1 : t + 1, 1:2], h0=h_k[None], activation=activation).h[-1, 0] if t > k else h_k

        h_k = fwd.h[k, 1]
        numeric = np.stack([(h_t(h_k + eps * e) - h_t(h_k - eps * e)) / (2 * eps) for e in np.eye(4)], axis=1)
        assert N[t, k] == pytest.approx(np.linalg.norm(numeric, 2), rel=1e-6, abs=1e-9)  # FD round-off ~1e-10
    assert np.all(N[np.triu_indices(7, k=1)] == 0)
    np.testing.assert_allclose(np.diag(N), 1.0)


def test_state_jacobian_norms_of_a_zero_input_rnn_are_norms_of_matrix_powers():
    params, _, _, _ = make_problem(1, 3, 1, 1, T=1)
    params["b_h"] = np.zeros(3)
    fwd = rnn.forward(params, np.zeros((12, 1, 1)))  # a_t = 0, tanh'(0) = 1: J_t = W_hh
    N = jacobians.state_jacobian_norms(params, fwd)
    want = [np.linalg.norm(np.linalg.matrix_power(params["W_hh"], d), 2) for d in range(12)]
    np.testing.assert_allclose(N[11, ::-1], want, rtol=1e-12)


def test_state_jacobian_norms_rejects_a_bad_batch_index():
    params, x, fwd, _ = problem("tanh")
    with pytest.raises(ValueError, match=r"batch must be an integer in \[0, 3\)"):
        jacobians.state_jacobian_norms(params, fwd, batch=3)


def test_contributions_that_cancel_over_the_batch_give_a_zero_map():
    """Two copies of one sequence with opposite errors: every C_{t,k} is 0. Summing the outer
    products leaves only rounding, about 1e-16 of one copy's contribution; a norm taken through
    Gram matrices of the batch would leave the square root of that rounding, about 1e-8."""
    params, x, y_target, _ = make_problem(2, 6, 1, 1, T=12, seed=3)
    fwd_one = rnn.forward(params, x)
    _, dy_one = losses.mse(fwd_one.y, y_target)
    fwd = rnn.forward(params, np.concatenate([x, x], axis=1))
    dy = np.concatenate([dy_one, -dy_one], axis=1)
    for wrt in ("W_hh", "W_xh", "b_h"):
        one = jacobians.contribution_map(params, fwd_one, dy_one, wrt=wrt).max()
        assert jacobians.contribution_map(params, fwd, dy, wrt=wrt).max() < 1e-14 * one, wrt


def test_one_sequence_map_is_the_product_of_two_norms():
    """For B = 1 each C_{t,k} is the outer product of dL_t/da_k and h_(k-1): its norm is the
    product of their norms, whatever their sizes."""
    params, x, y_target, _ = make_problem(2, 5, 1, 1, T=9, seed=4)
    fwd = rnn.forward(params, x)
    _, dy = losses.mse(fwd.y, y_target)
    C = jacobians.contributions(params, fwd, dy)
    np.testing.assert_allclose(jacobians.contribution_map(params, fwd, dy), np.linalg.norm(C, axis=(2, 3)), rtol=1e-13)
    assert np.all(np.linalg.matrix_rank(C.reshape(-1, 5, 5)[np.abs(C.reshape(-1, 25)).sum(1) > 0]) == 1)
