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


# --- leaky ReLU's alpha, overflow to inf, one-sequence shortcuts, signals_by_lag ----------


def test_step_jacobians_use_the_leaky_relu_slope_of_the_forward_pass():
    params, x, y_target, h0 = make_problem(2, 3, 1, 2, T=4, seed=3)
    fwd = rnn.forward(params, x, h0=h0, activation="leaky_relu", alpha=0.3)
    J = jacobians.step_jacobians(params, fwd)
    # f'(a) is 1 for a > 0 and alpha = 0.3 below: J_t = diag(f'(a_t)) W_hh, entry by entry
    slope = np.where(fwd.a > 0, 1.0, 0.3)
    assert np.any(fwd.a < 0) and np.any(fwd.a > 0)
    np.testing.assert_allclose(J, slope[..., :, None] * params["W_hh"], rtol=1e-15)


def test_state_jacobian_norms_mark_overflowed_products_as_inf_without_warnings():
    # ReLU units 1 and 2 stay at h = 1, in the null space of their block lam u u^T
    # (u = (1, -1)/sqrt(2)); unit 3 is off (a = -1, f' = 0) but feeds unit 1 with weight lam.
    # So J = [[lam P, (lam, 0)^T], [0, 0]] at every step, P = u u^T, of norm lam sqrt(1 + 1/sqrt(2)),
    # and for d >= 2, J^d = lam^d [[P, P e_1], [0, 0]]: rank one, of norm lam^d sqrt(6) / 2,
    # which overflows from d = 4 on.
    # Past that, the zero row of J meets inf (inf * 0): NaN, to be reported as inf as well.
    import warnings

    lam = 1e100
    W_hh = np.zeros((3, 3))
    W_hh[:2, :2] = lam / 2 * np.array([[1.0, -1.0], [-1.0, 1.0]])
    W_hh[0, 2] = lam
    params = {"W_xh": np.array([[1.0], [1.0], [-1.0]]), "W_hh": W_hh,
              "b_h": np.zeros(3), "W_hy": np.ones((1, 3)), "b_y": np.zeros(1)}
    fwd = rnn.forward(params, np.ones((7, 1, 1)), activation="relu")
    np.testing.assert_array_equal(fwd.h[:, 0], [[1.0, 1.0, 0.0]] * 7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        N = jacobians.state_jacobian_norms(params, fwd)
    for t in range(7):
        for k in range(t + 1):
            d = t - k
            if d < 2:
                want = [1.0, np.sqrt(1 + np.sqrt(0.5)) * lam][d]
            else:
                want = np.inf if 100 * d > 308 else np.sqrt(6) / 2 * 10.0 ** (100 * d)
            assert N[t, k] == pytest.approx(want, rel=1e-12), (t, k)
    assert np.all(N[np.triu_indices(7, k=1)] == 0)


@pytest.mark.parametrize("n_h, batch", [(1, 1), (1, 2), (1, 3), (3, 2)])
def test_map_is_the_norm_of_each_contribution_for_one_unit_or_two_sequences(n_h, batch):
    params, x, y_target, h0 = make_problem(2, n_h, 1, batch, T=5, seed=2)
    fwd = rnn.forward(params, x, h0=h0)
    _, dy = losses.mse(fwd.y, y_target)
    for wrt in ("W_hh", "W_xh"):
        C = jacobians.contributions(params, fwd, dy, wrt=wrt)
        M = jacobians.contribution_map(params, fwd, dy, wrt=wrt)
        np.testing.assert_allclose(M, np.linalg.norm(C.reshape(5, 5, -1), axis=2), rtol=1e-10, atol=1e-15)


def test_signals_by_lag_are_step_jacobian_products_applied_to_the_output_signal():
    params, x, fwd, dy = problem("tanh", T=5, shape=(2, 3, 2, 2))
    J = jacobians.step_jacobians(params, fwd)  # J[i]: the Jacobian of step i + 1 (0-based step i)
    lags = list(jacobians.signals_by_lag(params, fwd, dy))
    assert [d for d, _ in lags] == list(range(5))
    for d, e in lags:
        assert e.shape == (5 - d, 2, 3)
        for k in range(5 - d):
            t = k + d
            for b in range(2):
                # dL_t/dh_k = (J_t ... J_{k+1})^T W_hy^T dy_t, with 0-based steps k < i <= t
                want = params["W_hy"].T @ dy[t, b]
                for i in range(t, k, -1):
                    want = J[i, b].T @ want
                np.testing.assert_allclose(e[k, b], want, rtol=1e-12, atol=1e-15)


def test_signals_by_lag_checks_its_arguments_at_once():
    params, x, fwd, dy = problem("tanh")
    with pytest.raises(ValueError, match=r"dy must have shape \(6, 3, 2\)"):
        jacobians.signals_by_lag(params, fwd, dy[:, :1])
    with pytest.raises(ValueError, match="dy must be finite"):
        jacobians.signals_by_lag(params, fwd, np.full_like(dy, np.nan))
    with pytest.raises(ValueError, match="dy must be finite"):
        jacobians.contribution_map(params, fwd, np.full_like(dy, np.nan))


def test_contributions_default_to_w_hh():
    params, x, fwd, dy = problem("sigmoid")
    C = jacobians.contributions(params, fwd, dy)
    np.testing.assert_allclose(C.sum(axis=(0, 1)), rnn.backward(params, fwd, dy)["W_hh"], rtol=1e-10, atol=1e-14)


def test_jacobians_take_one_rnn_model_and_its_own_record():
    from gradcourse import lstm, stacking

    params, x, fwd, dy = problem("tanh")
    stacked = stacking.stack([params, params])
    with pytest.raises(ValueError, match=r"one model's \(no model axes\), got model axes \(2,\)"):
        jacobians.step_jacobians(stacked, rnn.forward(stacked, x))
    other = lstm.forward(lstm.init_params(3, 4, 2, rng=np.random.default_rng(0)), x)
    with pytest.raises(TypeError, match=r"fwd must be the record returned by rnn\.forward"):
        jacobians.step_jacobians(params, other)


def test_product_norms_of_a_known_product():
    rng = np.random.default_rng(12)
    J = rng.normal(size=(5, 3, 3))
    N = jacobians.product_norms(J)
    expected = np.linalg.norm(J[4] @ J[3] @ J[2] @ J[1], 2)  # dh_5/dh_1
    assert N[4, 0] == pytest.approx(expected, rel=1e-12)
    np.testing.assert_array_equal(np.diag(N), 1.0)
    assert np.all(np.triu(N, 1) == 0)


def test_product_norms_agree_with_products_multiplied_out_and_report_overflow_as_inf():
    rng = np.random.default_rng(13)
    J = rng.normal(size=(12, 4, 4)) * np.array([0.1, 1.0, 3.0] * 4)[:, None, None]
    N = jacobians.product_norms(J)
    for t in range(12):
        for k in range(t):
            P = np.eye(4)
            for i in range(k + 1, t + 1):
                P = J[i] @ P
            assert N[t, k] == pytest.approx(np.linalg.norm(P, 2), rel=1e-10)
    huge = jacobians.product_norms(np.stack([1e200 * np.eye(2)] * 3))
    assert huge[1, 0] == pytest.approx(1e200) and np.isinf(huge[2, 0])  # 1e400
    with pytest.raises(ValueError, match="square matrices"):
        jacobians.product_norms(np.ones((2, 2, 3)))
