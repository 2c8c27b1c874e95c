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
