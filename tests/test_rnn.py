from decimal import Decimal

import numpy as np
import pytest

from gradcourse import NonFiniteError, gradcheck, losses, rnn

SHAPES = [(1, 1, 1, 1), (3, 5, 2, 4), (2, 8, 3, 1)]  # (n_x, n_h, n_y, batch)


def make_problem(n_x, n_h, n_y, batch, T, seed=0, recurrent_scale=1.0):
    rng = np.random.default_rng(seed)
    params = rnn.init_params(n_x, n_h, n_y, rng=rng, recurrent_scale=recurrent_scale)
    params["b_h"] = 0.1 * rng.normal(size=n_h)  # nonzero biases, so their gradients are tested too
    params["b_y"] = 0.1 * rng.normal(size=n_y)
    x = rng.normal(size=(T, batch, n_x))
    y_target = rng.normal(size=(T, batch, n_y))
    h0 = 0.5 * rng.normal(size=(batch, n_h))
    return params, x, y_target, h0


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("T", [1, 50])
def test_bptt_matches_finite_differences(activation, shape, T):
    params, x, y_target, h0 = make_problem(*shape, T=T)

    def loss(p):
        return rnn.loss_and_grads(p, x, y_target, h0=h0, activation=activation)[0]

    _, grads = rnn.loss_and_grads(params, x, y_target, h0=h0, activation=activation)
    numeric = gradcheck.numerical_gradient(loss, params)
    assert gradcheck.max_relative_error(grads, numeric) < 1e-6


def test_forward_follows_the_recurrence_one_step_at_a_time():
    params, x, _, h0 = make_problem(3, 5, 2, 4, T=6)
    out = rnn.forward(params, x, h0=h0, activation="sigmoid")
    h = h0
    for t in range(6):
        a = params["W_hh"] @ h.T + params["W_xh"] @ x[t].T + params["b_h"][:, None]
        h = 1 / (1 + np.exp(-a.T))
        np.testing.assert_allclose(out.h[t], h, rtol=1e-13)
    np.testing.assert_allclose(out.y, out.h @ params["W_hy"].T + params["b_y"], rtol=1e-13)


def test_mse_is_half_mean_square_over_batch_summed_over_time():
    y = np.arange(12.0).reshape(3, 2, 2)
    target = np.zeros_like(y)
    loss, dy = losses.mse(y, target)
    assert loss == pytest.approx(sum(v**2 for v in range(12)) / 4)
    np.testing.assert_array_equal(dy, y / 2)


def test_init_is_reproducible_and_scaled():
    a = rnn.init_params(2, 400, 1, rng=np.random.default_rng(5), recurrent_scale=0.7)
    b = rnn.init_params(2, 400, 1, rng=np.random.default_rng(5), recurrent_scale=0.7)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    radius = np.abs(np.linalg.eigvals(a["W_hh"])).max()
    assert radius == pytest.approx(0.7, rel=0.1)  # circular law, n = 400


def test_backward_does_not_modify_its_inputs():
    params, x, y_target, h0 = make_problem(3, 5, 2, 4, T=5)
    copies = {k: v.copy() for k, v in params.items()}
    rnn.loss_and_grads(params, x, y_target, h0=h0)
    assert all(np.array_equal(params[k], copies[k]) for k in params)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda p, x: (p, x[0]), r"x must have shape \(any, any, 3\), got shape \(4, 3\)"),
        (lambda p, x: (p, x[..., :2]), r"x must have shape \(any, any, 3\)"),
        (lambda p, x: ({**p, "W_hh": p["W_hh"][:, :4]}, x), r"params\['W_hh'\] must have shape \(5, 5\)"),
        (lambda p, x: ({**p, "b_h": np.zeros(4)}, x), r"params\['b_h'\] must have shape \(5\)"),
        (lambda p, x: ({**p, "W_hh": p["W_hh"] * np.nan}, x), r"params\['W_hh'\] must be finite"),
        (lambda p, x: ({k: v for k, v in p.items() if k != "b_y"}, x), "params must be a dict with keys"),
        (lambda p, x: (p, x * np.inf), "x must be finite"),
    ],
)
def test_bad_input_is_a_clear_error(change, message):
    params, x, _, _ = make_problem(3, 5, 2, 4, T=5)
    params, x = change(params, x)
    with pytest.raises(ValueError, match=message):
        rnn.forward(params, x)


def test_bad_h0_activation_and_targets_are_clear_errors():
    params, x, y_target, _ = make_problem(3, 5, 2, 4, T=5)
    with pytest.raises(ValueError, match=r"h0 must have shape \(4, 5\)"):
        rnn.forward(params, x, h0=np.zeros(5))
    with pytest.raises(ValueError, match="activation must be one of"):
        rnn.forward(params, x, activation="softplus")
    with pytest.raises(ValueError, match=r"y_target must have shape \(5, 4, 2\)"):
        rnn.loss_and_grads(params, x, y_target[:, :2])
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        rnn.init_params(1, 2, 1, rng=0)
    with pytest.raises(ValueError, match="n_h must be a positive integer"):
        rnn.init_params(1, 0, 1, rng=np.random.default_rng(0))


def exploding_problem(T):
    """A ReLU RNN whose state grows tenfold per step (positive input, W_hh = 10 I)."""
    params, x, y_target, _ = make_problem(1, 2, 1, 1, T=T)
    params["W_hh"] = 10.0 * np.eye(2)
    params["W_xh"] = np.ones((2, 1))
    return params, np.abs(x) + 0.1, y_target


def test_exploded_state_is_reported_with_its_step():
    params, x, _ = exploding_problem(T=400)
    # The same recurrence in exact decimal arithmetic, which cannot overflow, tells
    # the first step whose state exceeds the largest float64.
    h, t_overflow = [Decimal(0), Decimal(0)], None
    for t in range(400):
        h = [max(Decimal(0), 10 * h_i + Decimal(float(params["W_xh"][i, 0] * x[t, 0, 0])) + Decimal(float(params["b_h"][i])))
             for i, h_i in enumerate(h)]
        if max(h) > Decimal(float(np.finfo(float).max)):
            t_overflow = t + 1
            break
    with pytest.raises(NonFiniteError, match=f"hidden state h_t overflowed to inf or NaN at step t={t_overflow} of 400"):
        rnn.forward(params, x, activation="relu")


def test_overflowing_loss_and_backward_signal_are_reported():
    params, x, y_target = exploding_problem(T=200)  # states near 1e200: finite, but their squares are not
    with pytest.raises(NonFiniteError, match="the loss overflowed to inf"):
        rnn.loss_and_grads(params, x, y_target, activation="relu")
    fwd = rnn.forward(params, x[:40], activation="relu")
    dy = np.full_like(fwd.y, 1e300)  # 1e300 * 10^k overflows within the first steps back
    with pytest.raises(NonFiniteError, match="backward signal dL/da_t overflowed"):
        rnn.backward(params, fwd, dy)


def test_orthogonal_and_identity_initializations():
    orth = rnn.init_params(2, 30, 1, rng=np.random.default_rng(0), recurrent_init="orthogonal", recurrent_scale=0.9)
    np.testing.assert_allclose(np.linalg.svd(orth["W_hh"], compute_uv=False), 0.9, rtol=1e-12)
    ident = rnn.init_params(2, 5, 1, rng=np.random.default_rng(0), recurrent_init="identity")
    np.testing.assert_array_equal(ident["W_hh"], np.eye(5))
    with pytest.raises(ValueError, match="recurrent_init must be one of"):
        rnn.init_params(2, 5, 1, rng=np.random.default_rng(0), recurrent_init="xavier")


# --- h0 in the loss, model axes of h0, check_finite switches, names in messages ----------


def test_loss_and_grads_start_from_h0():
    params, x, y_target, h0 = make_problem(2, 3, 1, 2, T=3, seed=4)
    loss, _ = rnn.loss_and_grads(params, x, y_target, h0=h0)
    # the recurrence written out: a_t = W_hh h_{t-1} + W_xh x_t + b_h, h_t = tanh(a_t)
    h, total = h0, 0.0
    for t in range(3):
        h = np.tanh(h @ params["W_hh"].T + x[t] @ params["W_xh"].T + params["b_h"])
        y = h @ params["W_hy"].T + params["b_y"]
        total += 0.5 * np.sum((y - y_target[t]) ** 2) / 2  # batch of 2
    assert loss == pytest.approx(total, rel=1e-13)
    assert loss != pytest.approx(rnn.loss_and_grads(params, x, y_target)[0], rel=1e-6)


@pytest.mark.parametrize("per_model", [False, True])
def test_stacked_models_take_a_shared_or_a_per_model_h0(per_model):
    from gradcourse import stacking

    seeds = [make_problem(2, 3, 1, 2, T=4, seed=s) for s in (5, 6)]
    x, y_target = seeds[0][1], seeds[0][2]
    h0s = [seeds[0][3], seeds[1][3] if per_model else seeds[0][3]]
    stacked = stacking.stack([seeds[0][0], seeds[1][0]])
    h0 = np.stack(h0s) if per_model else h0s[0]
    together = rnn.forward(stacked, x, h0=h0)
    for m in range(2):
        alone = rnn.forward(seeds[m][0], x, h0=h0s[m])
        np.testing.assert_allclose(together.h[m], alone.h, rtol=1e-14)


def test_check_params_reports_the_output_size_and_checks_b_y():
    params, *_ = make_problem(3, 5, 2, 1, T=1)
    assert rnn.check_params(params) == rnn.Sizes(n_x=3, n_h=5, n_y=2, model_shape=())
    with pytest.raises(ValueError, match=r"params\['b_y'\] must have shape \(2\), got shape \(3,\)"):
        rnn.check_params({**params, "b_y": np.zeros(3)})


@pytest.mark.parametrize("key, shape", [("W_xh", (4, 3)), ("W_hy", (2, 4)), ("b_y", (3,))])
def test_a_wrong_shape_names_the_parameter(key, shape):
    params, *_ = make_problem(3, 5, 2, 1, T=1)
    with pytest.raises(ValueError, match=rf"params\['{key}'\] must have shape"):
        rnn.check_params({**params, key: np.zeros(shape)})
    with pytest.raises(ValueError, match=r"params must be a dict with keys \['W_xh', 'W_hh', 'b_h', 'W_hy', 'b_y'\]"):
        rnn.check_params({k: v for k, v in params.items() if k != key})


def null_space_problem(T=6, lam=1e100):
    """States stay at (1, 1), in the null space of W_hh = lam u u^T (u = (1, -1)/sqrt(2)), so the
    forward pass and the loss are finite, while the backward signal grows by lam per step back."""
    params = {"W_xh": np.ones((2, 1)), "W_hh": lam / 2 * np.array([[1.0, -1.0], [-1.0, 1.0]]),
              "b_h": np.zeros(2), "W_hy": np.array([[1.0, 0.0]]), "b_y": np.zeros(1)}
    return params, np.ones((T, 1, 1)), np.zeros((T, 1, 1))


def test_check_finite_switches_the_backward_check_of_loss_and_grads():
    params, x, y_target = null_space_problem()
    with np.errstate(all="raise"):  # overflow, and inf - inf on the way, are found and reported
        with pytest.raises(NonFiniteError, match="backward signal dL/da_t overflowed"):
            rnn.loss_and_grads(params, x, y_target, activation="relu")
        loss, grads = rnn.loss_and_grads(params, x, y_target, activation="relu", check_finite=False)
    assert loss == 3.0  # six steps of (1 - 0)^2 / 2
    assert not np.all(np.isfinite(grads["W_hh"]))


def test_check_finite_false_returns_an_exploded_forward_pass_silently():
    params, x, y_target = exploding_problem(T=400)
    with np.errstate(all="raise"):
        with pytest.raises(NonFiniteError, match="hidden state h_t overflowed"):
            rnn.loss_and_grads(params, x, y_target, activation="relu")
        loss, grads = rnn.loss_and_grads(params, x, y_target, activation="relu", check_finite=False)
    assert not np.isfinite(loss) and not np.all(np.isfinite(grads["W_hh"]))


def test_an_overflowing_output_is_named():
    params, x, _, _ = make_problem(1, 2, 1, 1, T=3)
    params["W_hy"] = np.full((1, 2), 1e308)
    params["b_h"] = np.array([5.0, 5.0])  # tanh states near 1: the output 2e308 overflows
    with pytest.raises(NonFiniteError, match="the output y_t overflowed to inf or NaN at step t=1 of 3"):
        rnn.forward(params, x)


def test_a_nonfinite_h0_or_dy_is_named_and_dy_is_only_checked_with_check_finite():
    params, x, y_target, h0 = make_problem(1, 2, 1, 1, T=3)
    with pytest.raises(ValueError, match="h0 must be finite"):
        rnn.forward(params, x, h0=np.full_like(h0, np.nan))
    fwd = rnn.forward(params, x, h0=h0)
    dy = np.full_like(fwd.y, np.inf)
    with pytest.raises(ValueError, match="dy must be finite"):
        rnn.backward(params, fwd, dy)
    grads = rnn.backward(params, fwd, dy, check_finite=False)
    assert np.all(np.isinf(grads["b_y"]))


def test_input_and_output_weights_are_scaled_by_fan_in():
    p = rnn.init_params(400, 100, 300, rng=np.random.default_rng(0))
    assert p["W_xh"].std() == pytest.approx(1 / np.sqrt(400), rel=0.02)  # fan-in n_x
    assert p["W_hy"].std() == pytest.approx(1 / np.sqrt(100), rel=0.02)  # fan-in n_h


@pytest.mark.parametrize("sizes, name", [((0, 2, 1), "n_x"), ((1, 2, 0), "n_y")])
def test_init_names_a_bad_size_or_scale(sizes, name):
    with pytest.raises(ValueError, match=f"{name} must be a positive integer"):
        rnn.init_params(*sizes, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="recurrent_scale must be a finite number > 0"):
        rnn.init_params(1, 2, 1, rng=np.random.default_rng(0), recurrent_scale=0.0)
