"""One convention for the three models (rnn, lstm, mlp): self-describing forward records,
many models at once, and clear errors for bad input."""

import numpy as np
import pytest

from gradcourse import gradcheck, lstm, mlp, rnn, stacking


def rnn_case(seed, activation="tanh"):
    rng = np.random.default_rng(seed)
    params = rnn.init_params(2, 5, 1, rng=rng)
    params["b_h"] = 0.1 * rng.normal(size=5)
    return params, dict(activation=activation)


def lstm_case(seed, activation=None):
    rng = np.random.default_rng(seed)
    params = lstm.init_params(2, 5, 1, rng=rng)
    params["b"] = params["b"] + 0.1 * rng.normal(size=20)
    return params, {}


def mlp_case(seed, activation="tanh"):
    rng = np.random.default_rng(seed)
    params = mlp.init_params([2, 5, 5, 1], rng=rng)
    params["b1"] = 0.1 * rng.normal(size=5)
    return params, dict(activation=activation, residual=True)


CASES = {"rnn": (rnn, rnn_case), "lstm": (lstm, lstm_case), "mlp": (mlp, mlp_case)}


def data(name, model_shape=(), seed=10):
    rng = np.random.default_rng(seed)
    lead = (7, 3) if name != "mlp" else (3,)  # (T, B) or (B,)
    return rng.normal(size=model_shape + lead + (2,)), rng.normal(size=model_shape + lead + (1,))


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("per_model_data", [False, True])
def test_stacked_models_compute_what_each_computes_alone(name, per_model_data):
    model, case = CASES[name]
    alone = [case(s) for s in range(4)]
    params = {k: v.reshape(2, 2, *v.shape[1:]) for k, v in stacking.stack([p for p, _ in alone]).items()}
    x, y = data(name, (2, 2) if per_model_data else ())
    loss, grads = model.loss_and_grads(params, x, y, **alone[0][1])
    assert np.shape(loss) == (2, 2)
    for s, (p, kw) in enumerate(alone):
        i, j = divmod(s, 2)
        xs, ys = (x[i, j], y[i, j]) if per_model_data else (x, y)
        loss_s, grads_s = model.loss_and_grads(p, xs, ys, **kw)
        assert loss[i, j] == pytest.approx(loss_s, rel=1e-13)
        for k in p:
            np.testing.assert_allclose(grads[k][i, j], grads_s[k], rtol=1e-11, atol=1e-15)


@pytest.mark.parametrize("name", CASES)
def test_stacked_gradients_match_finite_differences(name):
    model, case = CASES[name]
    params = stacking.stack([case(s)[0] for s in range(2)])
    kw = case(0)[1]
    x, y = data(name)
    _, grads = model.loss_and_grads(params, x, y, **kw)
    numeric = gradcheck.numerical_gradient(lambda p: float(np.sum(model.loss_and_grads(p, x, y, **kw)[0])), params)
    assert gradcheck.max_relative_error(grads, numeric) < 1e-6


@pytest.mark.parametrize("name", CASES)
def test_backward_refuses_a_record_of_other_parameters(name):
    model, case = CASES[name]
    params, kw = case(0)
    other, _ = case(1)
    x, y = data(name)
    fwd = model.forward(other, x, **kw)
    with pytest.raises(ValueError, match="fwd was computed with other parameters"):
        model.backward(params, fwd, np.ones_like(fwd.y))
    changed = {k: v.copy() for k, v in other.items()}
    next(iter(changed.values()))[..., 0] += 1e-12  # the smallest change still counts
    with pytest.raises(ValueError, match="fwd was computed with other parameters"):
        model.backward(changed, fwd, np.ones_like(fwd.y))
    with pytest.raises(ValueError, match="dy must have shape"):
        model.backward(other, fwd, np.ones(fwd.y.shape[:-1] + (3,)))


def test_backward_refuses_another_models_record():
    params, _ = rnn_case(0)
    fwd = lstm.forward(lstm_case(0)[0], data("rnn")[0])
    with pytest.raises(TypeError, match="fwd must be the record returned by rnn.forward"):
        rnn.backward(params, fwd, np.ones_like(fwd.y))


@pytest.mark.parametrize("name", ["rnn", "mlp"])
@pytest.mark.parametrize("activation, kwargs", [("relu", {}), ("sigmoid", {}), ("leaky_relu", {"alpha": 0.2})])
def test_backward_uses_the_activation_of_the_forward_pass(name, activation, kwargs):
    """backward takes no activation argument: it reads it, with its parameters, from the record."""
    model, case = CASES[name]
    params, kw = case(0, activation)
    x, y = data(name)
    fwd = model.forward(params, x, **kw, **kwargs)
    assert fwd.activation == activation and fwd.activation_kwargs == kwargs
    from gradcourse import losses

    _, dy = losses.mse(fwd.y, y)
    grads = model.backward(params, fwd, dy)
    numeric = gradcheck.numerical_gradient(lambda p: model.loss_and_grads(p, x, y, **kw, **kwargs)[0], params)
    assert gradcheck.max_relative_error(grads, numeric) < 1e-6
    with pytest.raises(TypeError):
        model.backward(params, fwd, dy, activation="tanh")


BAD_X = [
    ("complex", lambda x: x + 1j, (TypeError, ValueError), "x"),
    ("bool", lambda x: x > 0, (TypeError, ValueError), "x"),
    ("object", lambda x: x.astype(object), (TypeError, ValueError), "x"),
    ("string", lambda x: "x", (TypeError, ValueError), "x"),
    ("ragged", lambda x: [list(r) for r in x.reshape(-1, 2)[:3]] + [[1.0]], (TypeError, ValueError), "x"),
    ("nan", lambda x: np.where(x > 0, np.nan, x), ValueError, "x must be finite"),
    ("inf", lambda x: np.where(x > 0, np.inf, x), ValueError, "x must be finite"),
    ("no steps or examples", lambda x: x[:0], ValueError, "x"),
    ("empty batch", lambda x: x[..., :0, :], ValueError, "x"),
    ("wrong width", lambda x: x[..., :1], ValueError, "x must have shape"),
    ("wrong rank", lambda x: x[0, 0], ValueError, "x must have shape"),
]


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("label, change, error, message", BAD_X, ids=[b[0] for b in BAD_X])
def test_bad_inputs_are_clear_errors(name, label, change, error, message):
    model, case = CASES[name]
    params, kw = case(0)
    x, y = data(name)
    with pytest.raises(error, match=message):
        model.forward(params, change(x), **kw)


BAD_PARAMS = [
    ("missing key", lambda p: dict(list(p.items())[1:]), "params must be a"),
    ("not a dict", lambda p: list(p.values()), "params must be a"),
    ("nan", lambda p: {**p, next(iter(p)): p[next(iter(p))] * np.nan}, "must be finite"),
    ("complex", lambda p: {**p, next(iter(p)): p[next(iter(p))] + 0j}, "params"),
    ("model axes differ", lambda p: {**p, next(iter(p)): np.stack([p[next(iter(p))]] * 2)}, "model axes"),
    ("too few axes", lambda p: {**p, next(iter(p)): np.float64(1.0)}, "params"),
]


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("label, change, message", BAD_PARAMS, ids=[b[0] for b in BAD_PARAMS])
def test_bad_parameters_are_clear_errors(name, label, change, message):
    model, case = CASES[name]
    params, kw = case(0)
    x, y = data(name)
    with pytest.raises((TypeError, ValueError), match=message):
        model.loss_and_grads(change(params), x, y, **kw)


@pytest.mark.parametrize("name", ["rnn", "lstm"])
def test_recurrent_keywords_are_checked(name):
    model, case = CASES[name]
    params, kw = case(0)
    x, y = data(name)
    with pytest.raises(ValueError, match="loss_at must be one of"):
        model.loss_and_grads(params, x, y, loss_at="end", **kw)
    with pytest.raises(ValueError, match=r"h0 must have shape \(3, 5\)"):
        model.forward(params, x, h0=np.zeros((2, 5)), **kw)
    with pytest.raises(ValueError, match="y_target must have shape"):
        model.loss_and_grads(params, x, y[:, :2], **kw)
    with pytest.raises(ValueError, match="y_target must have shape"):
        model.loss_and_grads(params, x, y, loss_at="last_step", **kw)  # wants (B, n_y)


def test_unknown_activation_and_bad_residual_are_clear_errors():
    params, _ = mlp_case(0)
    x, _ = data("mlp")
    with pytest.raises(ValueError, match="activation must be one of"):
        mlp.forward(params, x, activation="gelu")
    with pytest.raises(TypeError, match="residual must be True or False"):
        mlp.forward(params, x, residual="yes")
    with pytest.raises(ValueError, match="activation must be one of"):
        rnn.forward(rnn_case(0)[0], data("rnn")[0], activation="softplus")


def test_stacking_round_trip_and_errors():
    seeds = [rnn_case(s)[0] for s in range(3)]
    for s, p in enumerate(stacking.unstack(stacking.stack(seeds))):
        assert all(np.array_equal(p[k], seeds[s][k]) for k in p)
    assert stacking.model_shape(stacking.repeat(stacking.stack(seeds), 4)) == (4, 3)
    with pytest.raises(ValueError, match=r"dicts\[1\]"):
        stacking.stack([seeds[0], {"W_hh": 1.0}])
    with pytest.raises(ValueError, match="non-empty list"):
        stacking.stack([])
    with pytest.raises(ValueError, match="n must be a positive integer"):
        stacking.repeat(seeds[0], 0)


# --- stacking: what each check refuses, and what it accepts ----------------------------


def test_stack_and_repeat_give_float_arrays_and_accept_one_dict_or_n_one():
    stacked = stacking.stack([{"w": [0, 1]}])
    assert stacked["w"].dtype == float and stacked["w"].tolist() == [[0.0, 1.0]]
    repeated = stacking.repeat({"w": [0, 1]}, 1)
    assert repeated["w"].dtype == float and repeated["w"].tolist() == [[0.0, 1.0]]
    assert stacking.repeat({"w": np.zeros(2)}, 3)["w"].shape == (3, 2)


def test_unstack_splits_any_key_along_the_first_axis():
    # a matrix under a key that does not start with W, and a vector under one that does
    parts = stacking.unstack({"M": np.arange(8.0).reshape(2, 2, 2), "W": np.arange(6.0).reshape(2, 3)})
    assert len(parts) == 2
    assert parts[1]["M"].tolist() == [[4.0, 5.0], [6.0, 7.0]] and parts[1]["W"].tolist() == [3.0, 4.0, 5.0]


def test_stacking_refuses_what_is_not_a_list_of_matching_dicts():
    w = {"w": np.zeros(2)}
    with pytest.raises(ValueError, match="non-empty list of parameter dicts, got dict"):
        stacking.stack(w)
    with pytest.raises(ValueError, match=r"dicts\[0\] must be a parameter dict"):
        stacking.stack([5])
    with pytest.raises(ValueError, match=r"dicts\[1\] must be a parameter dict with the keys of dicts\[0\], \['w'\]"):
        stacking.stack([w, {"v": np.zeros(2)}])
    with pytest.raises(ValueError, match=r"dicts\[1\]\['w'\] has shape \(3,\), dicts\[0\]\['w'\] \(2,\)"):
        stacking.stack([w, {"w": np.zeros(3)}])
    with pytest.raises(ValueError, match="^params must be a non-empty dict of arrays$"):
        stacking.model_shape([np.zeros(2)])
    with pytest.raises(ValueError, match="params' arrays carry different model axes"):
        stacking.model_shape({"W": np.zeros((2, 3, 3)), "b": np.zeros((3, 3))})
    with pytest.raises(ValueError, match="^params must be a non-empty dict of arrays$"):
        stacking.repeat([np.zeros(2)], 2)
    for n in (True, 2.5, 0):
        with pytest.raises(ValueError, match="n must be a positive integer"):
            stacking.repeat(w, n)
