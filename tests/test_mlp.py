import numpy as np
import pytest

from gradcourse import NonFiniteError, gradcheck, mlp, train


def problem(sizes, seed=0, scheme="glorot", batch=6):
    rng = np.random.default_rng(seed)
    params = mlp.init_params(sizes, rng=rng, scheme=scheme)
    for k in params:
        if k.startswith("b"):
            params[k] = 0.1 * rng.normal(size=params[k].shape)  # nonzero biases: their gradients count
    X = rng.normal(size=(batch, sizes[0]))
    Y = rng.normal(size=(batch, sizes[-1]))
    return params, X, Y


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu"])
@pytest.mark.parametrize("sizes", [[3, 1], [3, 5, 2], [2, 6, 6, 6, 6, 1], [4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2]])
@pytest.mark.parametrize("residual", [False, True])
def test_backprop_matches_finite_differences(activation, sizes, residual):
    params, X, Y = problem(sizes)

    def loss(p):
        return mlp.loss_and_grads(p, X, Y, activation=activation, residual=residual)[0]

    _, grads = mlp.loss_and_grads(params, X, Y, activation=activation, residual=residual)
    numeric = gradcheck.numerical_gradient(loss, params)
    for k in params:
        # Deep sigmoid nets have vanishing gradients (1e-7 in the first layer), where the
        # central difference's round-off, about 1e-16 / eps = 1e-10, dominates: there the
        # check is absolute. Elsewhere it is relative.
        error = np.abs(grads[k] - numeric[k]).max()
        assert gradcheck.relative_error(grads[k], numeric[k]) < 1e-6 or error < 1e-9, (k, error)


def test_residual_layers_add_their_input():
    params, X, _ = problem([3, 4, 4, 2])
    plain = mlp.forward(params, X, activation="tanh")
    skip = mlp.forward(params, X, activation="tanh", residual=True)
    np.testing.assert_allclose(skip.h[0], plain.h[0])  # 3 -> 4: widths differ, no skip
    np.testing.assert_allclose(skip.h[1], skip.h[0] + np.tanh(skip.a[1]))


@pytest.mark.parametrize("scheme, want", [("glorot", lambda i, o: np.sqrt(2 / (i + o))), ("he", lambda i, o: np.sqrt(2 / i))])
def test_init_schemes_have_the_stated_spread(scheme, want):
    params = mlp.init_params([300, 200, 100], rng=np.random.default_rng(0), scheme=scheme)
    assert params["W1"].std() == pytest.approx(want(300, 200), rel=0.02)
    assert params["W2"].std() == pytest.approx(want(200, 100), rel=0.02)
    assert np.all(params["b1"] == 0)


def test_dead_fraction_counts_units_off_on_every_input():
    params = mlp.init_params([2, 4, 1], rng=np.random.default_rng(0))
    params["b1"] = np.array([-1e3, -1e3, 0.0, 1e3])  # two units off for any input of moderate size
    X = np.random.default_rng(1).normal(size=(50, 2))
    assert mlp.dead_fraction(params, X).tolist() == [0.5]
    _, grads = mlp.loss_and_grads(params, X, np.zeros((50, 1)), activation="relu")
    assert np.all(grads["W1"][:2] == 0)  # dead units get no gradient


def test_train_reduces_the_loss_and_leaves_its_input_alone():
    params, X, _ = problem([3, 8, 1], batch=40)
    Y = np.sin(X[:, :1]) + 0.5 * X[:, 1:2]
    before = {k: v.copy() for k, v in params.items()}
    result = train.train(mlp, params, (X, Y), lr=0.1, steps=300, activation="tanh")
    assert result.stopped == "" and len(result.losses) == 300
    assert result.losses[-1] < 0.5 * result.losses[0]
    assert all(np.array_equal(params[k], before[k]) for k in params)


def test_train_stops_with_a_message_when_the_loss_explodes():
    params, X, Y = problem([3, 8, 1], batch=40)
    result = train.train(mlp, params, (100 * X, Y), lr=10.0, steps=500, activation="relu")
    assert result.stopped.startswith("stopped at step") and "not finite" in result.stopped or "inf" in result.stopped
    assert np.all(np.isfinite(result.losses)) and len(result.losses) < 500


def test_layer_grad_norms_are_per_weight_matrix():
    grads = {"W1": 3 * np.ones((2, 2)), "b1": np.ones(2), "W2": np.ones((1, 2)), "b2": np.ones(1)}
    np.testing.assert_allclose(mlp.layer_grad_norms(grads), [6.0, np.sqrt(2)])


def test_bad_input_is_a_clear_error():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="scheme must be one of"):
        mlp.init_params([2, 1], rng=rng, scheme="lecun")
    with pytest.raises(ValueError, match="std must be a finite number > 0"):
        mlp.init_params([2, 1], rng=rng, scheme="normal")
    with pytest.raises(ValueError, match="std is only used with scheme='normal'"):
        mlp.init_params([2, 1], rng=rng, scheme="he", std=1.0)
    with pytest.raises(ValueError, match="sizes must list at least"):
        mlp.init_params([2], rng=rng)
    params, X, Y = problem([3, 4, 2])
    with pytest.raises(ValueError, match=r"x must have shape \(any, 3\), got shape \(6, 2\)"):
        mlp.forward(params, X[:, :2])
    with pytest.raises(ValueError, match=r"params\['W2'\] must have shape \(any, 4\)"):
        mlp.forward({**params, "W2": np.zeros((2, 5))}, X)
    with pytest.raises(ValueError, match="params must be a dict with keys W1, b1"):
        mlp.forward({"W1": params["W1"]}, X)
    with pytest.raises(ValueError, match=r"Y must have shape|y_target must have shape"):
        mlp.loss_and_grads(params, X, Y[:, :1])
    with pytest.raises(ValueError, match="activation must be one of"):
        mlp.forward(params, X, activation="gelu")
    huge = {**params, "W1": np.full_like(params["W1"], 1e300)}
    with pytest.raises(NonFiniteError, match="pre-activation of layer 1 overflowed"):
        mlp.forward(huge, np.full_like(X, 1e10), activation="relu")


# --- defaults, check_finite, backward_signals, model axes of the summaries ---------------


def test_normal_init_draws_every_layer_with_the_given_std():
    params = mlp.init_params([200, 300, 300, 1], rng=np.random.default_rng(0), scheme="normal", std=0.05)
    assert sorted(params) == ["W1", "W2", "W3", "b1", "b2", "b3"] and mlp.n_layers(params) == 3
    for k in ("W1", "W2"):
        assert params[k].std() == pytest.approx(0.05, rel=0.02)
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        mlp.init_params([2, 1], rng=0)


def test_loss_and_grads_default_to_a_plain_tanh_network():
    params, X, Y = problem([3, 4, 4, 1])
    # y = W3 tanh(W2 tanh(W1 x + b1) + b2) + b3, no skips
    h1 = np.tanh(X @ params["W1"].T + params["b1"])
    h2 = np.tanh(h1 @ params["W2"].T + params["b2"])
    y = h2 @ params["W3"].T + params["b3"]
    loss, _ = mlp.loss_and_grads(params, X, Y)
    assert loss == pytest.approx(0.5 * np.sum((y - Y) ** 2) / len(X), rel=1e-13)


def overflowing_backward():
    """x = 0 and b1 = 0: h_1 = tanh(0) = 0, so y = b2 and the loss are finite, but
    dL/da_1 = dy W2 = 1e10 * 1e308 overflows, and dL/dW1 = dL/da_1^T x is inf * 0 = NaN."""
    params = {"W1": np.ones((1, 1)), "b1": np.zeros(1), "W2": np.full((1, 1), 1e308), "b2": np.zeros(1)}
    return params, np.zeros((1, 1)), np.full((1, 1), -1e10)


def test_an_overflowing_gradient_is_reported_unless_check_finite_is_false():
    params, x, y = overflowing_backward()
    with np.errstate(all="raise"):
        with pytest.raises(NonFiniteError, match="the gradient W1 overflowed to inf or NaN"):
            mlp.loss_and_grads(params, x, y)
        loss, grads = mlp.loss_and_grads(params, x, y, check_finite=False)
    assert loss == 5e19 and np.isnan(grads["W1"]).all() and np.isinf(grads["b1"]).all()
    huge = {"W1": np.full((1, 1), 1e300), "b1": np.zeros(1)}
    with pytest.raises(NonFiniteError, match="pre-activation of layer 1 overflowed"):
        mlp.loss_and_grads(huge, np.full((1, 1), 1e10), np.zeros((1, 1)))


def test_backward_checks_dy_by_default_and_names_it():
    params, X, Y = problem([3, 4, 2])
    fwd = mlp.forward(params, X)
    dy = np.full_like(fwd.y, np.inf)
    with pytest.raises(ValueError, match="dy must be finite"):
        mlp.backward(params, fwd, dy)
    assert np.isinf(mlp.backward(params, fwd, dy, check_finite=False)["b2"]).all()
    from gradcourse import rnn

    other = rnn.forward(rnn.init_params(3, 4, 2, rng=np.random.default_rng(0)), X[None])
    with pytest.raises(TypeError, match=r"fwd must be the record returned by mlp\.forward"):
        mlp.backward(params, other, dy)


def test_backward_signals_are_dL_da_of_each_layer_by_finite_differences():
    # with one example, dL/db_l = dL/da_l; the loss is the linear probe L = <dy, y>
    params, X, _ = problem([2, 3, 3, 2], batch=1)
    dy = np.array([[0.7, -1.3]])
    signals = mlp.backward_signals(params, mlp.forward(params, X), dy)
    assert [s.shape for s in signals] == [(1, 3), (1, 3), (1, 2)]
    eps = 1e-6
    for l in range(1, 4):
        numeric = []
        for i in range(params[f"b{l}"].size):
            e = np.zeros_like(params[f"b{l}"])
            e[i] = eps
            up = mlp.forward({**params, f"b{l}": params[f"b{l}"] + e}, X).y
            down = mlp.forward({**params, f"b{l}": params[f"b{l}"] - e}, X).y
            numeric.append(np.sum(dy * (up - down)) / (2 * eps))
        np.testing.assert_allclose(signals[l - 1][0], numeric, rtol=1e-6, atol=1e-10)


def test_layer_grad_norms_and_dead_fraction_keep_the_model_axes_in_front():
    from gradcourse import stacking

    one = {"W1": 3 * np.ones((2, 2)), "b1": np.ones(2), "W2": np.ones((1, 2)), "b2": np.ones(1)}
    two = {k: 2 * v for k, v in one.items()}
    np.testing.assert_allclose(mlp.layer_grad_norms(stacking.stack([one, two])),
                               [[6.0, np.sqrt(2)], [12.0, 2 * np.sqrt(2)]])
    params = mlp.init_params([2, 4, 4, 1], rng=np.random.default_rng(0))
    off = {**params, "b1": np.array([-1e3, -1e3, -1e3, 0.0])}  # three of four units off on any moderate input
    X = np.random.default_rng(1).normal(size=(50, 2))
    frac = mlp.dead_fraction(stacking.stack([params, off]), X)
    assert frac.shape == (2, 2) and frac[1, 0] == 0.75 and frac[0, 0] == mlp.dead_fraction(params, X)[0]


def test_dead_fraction_passes_alpha_and_needs_a_hidden_layer():
    params = mlp.init_params([1, 2, 1], rng=np.random.default_rng(0))
    params["b1"] = np.array([-100.0, 100.0])
    X = np.zeros((5, 1))
    assert mlp.dead_fraction(params, X, activation="leaky_relu", alpha=0.0).tolist() == [0.5]
    assert mlp.dead_fraction(params, X, activation="leaky_relu", alpha=0.1).tolist() == [0.0]
    with pytest.raises(ValueError, match="^dead_fraction needs a network with at least one hidden layer$"):
        mlp.dead_fraction(mlp.init_params([1, 1], rng=np.random.default_rng(0)), X)


@pytest.mark.parametrize("activation, residual", [("relu", True), ("sigmoid", False)])
def test_training_uses_the_activation_and_residual_it_is_given(activation, residual):
    # one full-batch step by hand, from gradients checked against finite differences
    params, X, Y = problem([3, 4, 4, 1], batch=8)
    history = train.train(mlp, params, (X, Y), steps=2, lr=0.1, activation=activation, residual=residual)

    def loss(p):
        return mlp.loss_and_grads(p, X, Y, activation=activation, residual=residual)[0]

    numeric = gradcheck.numerical_gradient(loss, params)
    stepped = {k: params[k] - 0.1 * numeric[k] for k in params}
    assert history.losses[0] == pytest.approx(loss(params), rel=1e-14)
    assert history.losses[1] == pytest.approx(loss(stepped), rel=1e-8)
