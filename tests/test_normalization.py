"""Layer normalization: forward against a second computation, backward and Jacobian against finite
differences and the closed form, the scale property, the deep net and the RNN built on it."""

import math

import numpy as np
import pytest

from gradcourse import NonFiniteError, gradcheck, losses, mlp, rnn
from gradcourse import normalization as norm


def _by_rows(a, gamma, beta, eps):
    """LN row by row with exact sums (math.fsum): a second computation of the forward pass."""
    out = np.empty_like(a)
    for index in np.ndindex(a.shape[:-1]):
        row = [float(v) for v in a[index]]
        n = len(row)
        mu = math.fsum(row) / n
        var = math.fsum((v - mu) ** 2 for v in row) / n
        out[index] = [g * (v - mu) / math.sqrt(var + eps) + b for v, g, b in zip(row, gamma, beta)]
    return out


@pytest.mark.parametrize("shape", [(2,), (5, 3), (4, 2, 7), (1, 64)])
@pytest.mark.parametrize("eps", [0.0, 1e-5, 1.0])
def test_forward_matches_a_row_by_row_computation(shape, eps):
    rng = np.random.default_rng(0)
    a = 3 * rng.normal(size=shape) + 1
    gamma, beta = rng.normal(size=shape[-1]), rng.normal(size=shape[-1])
    y = norm.layer_norm(a, gamma=gamma, beta=beta, eps=eps)
    np.testing.assert_allclose(y, _by_rows(a, gamma, beta, eps), rtol=1e-12, atol=1e-12)


def test_normalized_units_have_mean_zero_and_variance_below_one():
    a = np.random.default_rng(1).normal(size=(10, 16)) * 0.01
    z = norm.forward(a, eps=1e-5).z
    np.testing.assert_allclose(z.mean(axis=-1), 0, atol=1e-12)
    var = a.var(axis=-1)
    np.testing.assert_allclose(z.var(axis=-1), var / (var + 1e-5), rtol=1e-12)  # exactly, with eps


def test_scale_invariance_and_the_jacobian_that_follows():
    """LN(c a) = LN(a) exactly for eps = 0; then J(c a) = J(a) / c."""
    rng = np.random.default_rng(2)
    a = rng.normal(size=(3, 8))
    for c in (1e-3, 0.5, 7.0, 1e4):
        np.testing.assert_allclose(norm.layer_norm(c * a, eps=0.0), norm.layer_norm(a, eps=0.0), atol=1e-12)
        np.testing.assert_allclose(c * norm.jacobian(c * a, eps=0.0), norm.jacobian(a, eps=0.0), atol=1e-10)


def test_jacobian_matches_central_differences():
    rng = np.random.default_rng(3)
    for n, eps, scale in [(2, 1e-5, 1.0), (3, 0.0, 1.0), (8, 1e-5, 0.01), (16, 0.1, 5.0)]:
        a = scale * rng.normal(size=n)
        gamma = rng.normal(size=n)
        h = 1e-6 * scale
        columns = [(norm.layer_norm(a + h * e, gamma=gamma, eps=eps) - norm.layer_norm(a - h * e, gamma=gamma, eps=eps))
                   / (2 * h) for e in np.eye(n)]
        J_fd = np.stack(columns, axis=1)
        J = norm.jacobian(a, gamma=gamma, eps=eps)
        assert np.abs(J - J_fd).max() < 1e-7 * np.abs(J).max() + 1e-9, n


def test_jacobian_is_a_scaled_projection_of_norm_one_over_sigma():
    """For eps = 0 and gain 1: (I - 11^T/n - zz^T/n) projects out 1 and z, so ||J|| = 1/sigma."""
    a = np.random.default_rng(4).normal(size=10) * 3
    J = norm.jacobian(a, eps=0.0)
    s = np.linalg.svd(J, compute_uv=False)
    sigma = a.std()
    np.testing.assert_allclose(s[:8], 1 / sigma, rtol=1e-12)
    np.testing.assert_allclose(s[8:], 0, atol=1e-12)


@pytest.mark.parametrize("shape", [(4,), (6, 5), (2, 3, 9)])
def test_backward_matches_finite_differences(shape):
    rng = np.random.default_rng(5)
    a = rng.normal(size=shape)
    params = {"a": a, "gamma": rng.normal(size=shape[-1]), "beta": rng.normal(size=shape[-1])}
    weights = rng.normal(size=shape)  # L = sum(weights * LN(a))

    def loss(p):
        return float(np.sum(weights * norm.layer_norm(p["a"], gamma=p["gamma"], beta=p["beta"])))

    fwd = norm.forward(a, gamma=params["gamma"], beta=params["beta"])
    grads = norm.backward(fwd, weights)
    numeric = gradcheck.numerical_gradient(loss, params)
    assert gradcheck.max_relative_error(grads, numeric) < 1e-7


def test_backward_is_the_jacobian_transposed():
    rng = np.random.default_rng(6)
    a, gamma, dy = rng.normal(size=(4, 6)), rng.normal(size=6), rng.normal(size=(4, 6))
    da = norm.backward(norm.forward(a, gamma=gamma), dy)["a"]
    J = norm.jacobian(a, gamma=gamma)
    np.testing.assert_allclose(da, np.einsum("bi,bij->bj", dy, J), rtol=1e-10, atol=1e-12)


def test_batch_norm_normalizes_each_unit_over_the_batch():
    rng = np.random.default_rng(7)
    a = rng.normal(size=(8, 3)) * [1.0, 10.0, 0.1] + [0.0, 5.0, -2.0]
    y = norm.batch_norm(a, eps=0.0)
    np.testing.assert_allclose(y, _by_rows(a.T, np.ones(8), np.zeros(8), 0.0).T, atol=1e-12)
    # the same example in another batch gets another output; layer norm does not care
    other = np.vstack([a[:1], rng.normal(size=(7, 3))])
    assert not np.allclose(norm.batch_norm(other)[0], norm.batch_norm(a)[0])
    np.testing.assert_array_equal(norm.layer_norm(other)[0], norm.layer_norm(a)[0])


def _deep_problem(sizes, seed=0, batch=5):
    rng = np.random.default_rng(seed)
    params = mlp.init_params(sizes, rng=rng)
    for k in params:
        if k.startswith("b"):
            params[k] = 0.1 * rng.normal(size=params[k].shape)
    return params, rng.normal(size=(batch, sizes[0])), rng.normal(size=(batch, sizes[-1]))


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("sizes", [[3, 4, 2], [2, 5, 5, 5, 1]])
def test_deep_backward_matches_finite_differences(activation, sizes):
    params, X, Y = _deep_problem(sizes)

    def loss(p):
        return losses.mse(norm.mlp_forward(p, X, activation=activation).y, Y)[0]

    fwd = norm.mlp_forward(params, X, activation=activation)
    _, dy = losses.mse(fwd.y, Y)
    grads, dh = norm.mlp_backward(params, fwd, dy)
    numeric = gradcheck.numerical_gradient(loss, params)
    for k in params:
        error = np.abs(grads[k] - numeric[k]).max()
        assert gradcheck.relative_error(grads[k], numeric[k]) < 1e-6 or error < 1e-9, (k, error)
    # dL/dx by finite differences too
    X_numeric = gradcheck.numerical_gradient(lambda p: losses.mse(norm.mlp_forward(params, p["x"],
                                                                                   activation=activation).y, Y)[0],
                                             {"x": X})["x"]
    np.testing.assert_allclose(dh[0], X_numeric, rtol=1e-6, atol=1e-9)


def test_deep_net_forward_signal_does_not_depend_on_the_weights_scale():
    sizes = [4, 16, 16, 16, 1]
    X = np.random.default_rng(8).normal(size=(20, 4))
    h = {}
    for std in (0.05, 1.0, 20.0):
        p = mlp.init_params(sizes, rng=np.random.default_rng(9), scheme="normal", std=std)
        h[std] = norm.mlp_forward(p, X, eps=0.0).h
    for layer in range(3):
        np.testing.assert_allclose(h[0.05][layer], h[20.0][layer], atol=1e-10)
        np.testing.assert_allclose(h[1.0][layer], h[20.0][layer], atol=1e-10)


def test_deep_net_takes_model_axes():
    from gradcourse import stacking
    sizes = [3, 6, 6, 1]
    X = np.random.default_rng(1).normal(size=(7, 3))
    stacked = stacking.stack([mlp.init_params(sizes, rng=np.random.default_rng(s)) for s in range(3)])
    fwd = norm.mlp_forward(stacked, X)
    for s in range(3):
        one = norm.mlp_forward(mlp.init_params(sizes, rng=np.random.default_rng(s)), X)
        np.testing.assert_allclose(fwd.y[s], one.y, rtol=1e-12)
    grads, dh = norm.mlp_backward(stacked, fwd, np.ones_like(fwd.y))
    assert grads["W1"].shape == (3, 6, 3) and dh[0].shape == (3, 7, 3)


def test_rnn_step_jacobian_matches_central_differences():
    rng = np.random.default_rng(10)
    p = rnn.init_params(2, 6, 1, rng=rng, recurrent_scale=3.0)
    x = rng.normal(size=(8, 1, 2))
    fwd = norm.rnn_forward(p, x)
    J = norm.step_jacobians(p, fwd)
    t, h = 5, 1e-6

    def one_step(h_prev):
        return norm.rnn_forward(p, x[t : t + 1], h0=h_prev[None]).h[0, 0]

    h_prev = fwd.h[t - 1, 0]
    J_fd = np.stack([(one_step(h_prev + h * e) - one_step(h_prev - h * e)) / (2 * h) for e in np.eye(6)], axis=1)
    assert np.abs(J[t, 0] - J_fd).max() < 1e-8 * np.abs(J[t, 0]).max()


def test_rnn_state_does_not_depend_on_the_recurrent_scale_without_input():
    """With zero input and bias, a_t = W_hh h_{t-1}, and LN removes any scale of W_hh."""
    rng = np.random.default_rng(11)
    p = rnn.init_params(1, 8, 1, rng=rng)
    h0 = rng.normal(size=(1, 8))
    x = np.zeros((6, 1, 1))
    states = []
    for g in (0.1, 1.0, 10.0):
        q = dict(p, W_hh=g * p["W_hh"])
        states.append(norm.rnn_forward(q, x, h0=h0, eps=0.0).h)
    np.testing.assert_allclose(states[0], states[2], atol=1e-12)
    np.testing.assert_allclose(states[1], states[2], atol=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda: norm.layer_norm(np.ones(3), eps=0.0), "all equal"),
    (lambda: norm.layer_norm(np.array([1.0])), "at least 2 units"),
    (lambda: norm.layer_norm(np.array([1.0, np.nan])), "must be finite"),
    (lambda: norm.layer_norm(np.array([1.0, 2.0]), eps=-1.0), "eps must be"),
    (lambda: norm.layer_norm(np.array([1.0, 2.0]), gamma=np.ones(3)), "gamma must have shape (2)"),
    (lambda: norm.layer_norm(np.array([1 + 1j, 2.0])), "real numeric"),
    (lambda: norm.layer_norm("abc"), "a must be a real numeric array"),
    (lambda: norm.backward(np.ones(3), np.ones(3)), "fwd must be the record"),
    (lambda: norm.backward(norm.forward(np.arange(3.0)), np.ones(4)), "dy must have shape (3)"),
    (lambda: norm.batch_norm(np.ones(3)), "at least 2 axes"),
    (lambda: norm.batch_norm(np.ones((1, 3)), eps=0.0), "batch of one example"),
    (lambda: norm.mlp_forward(mlp.init_params([2, 3, 1], rng=np.random.default_rng(0)), np.ones((4, 3))),
     "x must have 2 inputs"),
    (lambda: norm.rnn_forward(rnn.init_params(1, 3, 1, rng=np.random.default_rng(0)), np.ones((4, 1, 1)),
                              activation="softsign"), "activation must be one of"),
])
def test_bad_input_raises_a_clear_error(call, message):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert message in str(info.value)


def test_records_from_other_parameters_are_refused():
    p = rnn.init_params(1, 3, 1, rng=np.random.default_rng(0))
    fwd = norm.rnn_forward(p, np.ones((4, 1, 1)))
    q = rnn.init_params(1, 3, 1, rng=np.random.default_rng(1))
    with pytest.raises(ValueError, match="other parameters"):
        norm.step_jacobians(q, fwd)
    with pytest.raises(TypeError, match="record"):
        norm.step_jacobians(p, rnn.forward(p, np.ones((4, 1, 1))))
    d = mlp.init_params([2, 3, 1], rng=np.random.default_rng(0))
    out = norm.mlp_forward(d, np.ones((2, 2)) * [1.0, 2.0])
    with pytest.raises(ValueError, match="other parameters"):
        norm.mlp_backward(mlp.init_params([2, 3, 1], rng=np.random.default_rng(5)), out, np.ones((2, 1)))


def test_an_overflowing_deep_net_is_reported():
    p = mlp.init_params([2, 2, 1], rng=np.random.default_rng(0))
    p["W2"] = np.array([[1.5e308, -1.5e308]])  # LN of two units gives -1 and 1: |y| = 3e308 tanh(1)
    with pytest.raises(NonFiniteError):
        norm.mlp_forward(p, np.array([[1.0, -1.0]]))
