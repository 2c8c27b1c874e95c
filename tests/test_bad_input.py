"""Bad input is never silent: every public function of activations, clipping, gradcheck,
scalar, spectral and tasks raises ``ValueError`` naming the argument, for every class of
bad value, before computing anything from it.

The table below lists, per function, a valid call and the kind of each argument; the
bad values are generated per kind, so a new function needs one row, not one test.
"""

import numpy as np
import pytest

from gradcourse import activations, clipping, gradcheck, scalar, spectral, tasks

RAGGED = [[1.0, 2.0], [3.0]]


def _with_first(good, value):
    bad = np.array(good, dtype=float, copy=True)
    bad.flat[0] = value
    return bad


def _empty(good):
    good = np.asarray(good)
    return np.zeros((0,) + good.shape[1:]) if good.ndim else np.zeros(0)


def _dtype_cases(good):
    """Values of the wrong dtype, shaped like ``good``: none may be quietly converted to float."""
    good = np.asarray(good, dtype=float)
    return {
        "complex": good + 1j,
        "bool": good > 0,
        "object": np.array([None] + [1.0] * (good.size - 1), dtype=object).reshape(good.shape) if good.ndim else None,
        "string": good.astype(str) if good.ndim else "1.0",
        "ragged": RAGGED,
    }


# Kinds of argument -> classes of bad value, each built from a valid value.
def _elementwise(good):  # any real array; NaN, inf and empty arrays are meaningful
    return _dtype_cases(good)


def _finite_array(good):
    return {**_dtype_cases(good), "nan": _with_first(good, np.nan), "inf": _with_first(good, np.inf), "empty": _empty(good)}


def _fixed_ndim(good):  # a finite array of a fixed number of axes
    return {**_finite_array(good), "shape": np.asarray(good)[None]}


def _matrix(good):
    return {**_fixed_ndim(good), "shape": np.ones(3), "shape3d": np.ones((2, 2, 2))}


def _nonfinite_ok_1d(good):
    return {**_dtype_cases(good), "empty": _empty(good), "shape": np.asarray(good)[None]}


def _grad_dict(good, finite=False):
    (key, value), = good.items()
    cases = {"not_dict": [value], "empty_dict": {}, "empty": {key: _empty(value)}}
    cases.update({cls: {key: bad} for cls, bad in _dtype_cases(value).items()})
    if finite:
        cases.update({"nan": {key: _with_first(value, np.nan)}, "inf": {key: _with_first(value, np.inf)}})
    return cases


def _params_dict(good):
    return _grad_dict(good, finite=True)


def _positive_float(good):
    return {"negative": -1.0, "zero": 0.0, "nan": np.nan, "inf": np.inf, "string": "1.0",
            "bool": True, "complex": 1 + 1j, "none": None, "array": np.ones(2)}


def _max_norm(good):  # like a positive float, but np.inf is allowed: no clipping
    return {k: v for k, v in _positive_float(good).items() if k != "inf"}


def _positive_int(good):
    return {"negative": -1, "zero": 0, "fraction": 2.5, "nan": np.nan, "string": "3", "bool": True, "none": None}


def _real(good):
    return {"nan": np.nan, "inf": np.inf, "string": "0.5", "bool": True, "complex": 1j, "none": None}


def _alpha(good):
    return {**_real(good), "negative": -0.1, "one": 1.0}


def _flag(good):
    return {"string": "yes", "int": 1, "none": None}


def _name(good):
    return {"unknown": "relux", "int": 3, "none": None, "list": ["relu"]}


def _rng(good):
    return {"int": 0, "none": None, "legacy": np.random.RandomState(0)}


def _callable(good):
    return {"none": None, "number": 3.0}


def _model_ndim(good):
    return {"negative": -1, "fraction": 0.5, "string": "1", "bool": True, "too_large": 3}


RNG = np.random.default_rng(0)
GRADS = {"W": np.array([[1.0, -2.0], [3.0, 0.5]])}
A = np.array([[2.0, 1.0], [0.5, 3.0]])

# (function, valid keyword arguments, {argument: kind, name expected in the message}).
TABLE = [
    (activations.sigmoid, {"a": [0.5, -1.0]}, {"a": _elementwise}),
    (activations.sigmoid_prime, {"a": [0.5, -1.0]}, {"a": _elementwise}),
    (activations.tanh, {"a": [0.5, -1.0]}, {"a": _elementwise}),
    (activations.tanh_prime, {"a": [0.5, -1.0]}, {"a": _elementwise}),
    (activations.relu, {"a": [0.5, -1.0]}, {"a": _elementwise}),
    (activations.relu_prime, {"a": [0.5, -1.0]}, {"a": _elementwise}),
    (activations.leaky_relu, {"a": [0.5, -1.0], "alpha": 0.1}, {"a": _elementwise, "alpha": _alpha}),
    (activations.leaky_relu_prime, {"a": [0.5, -1.0], "alpha": 0.1}, {"a": _elementwise, "alpha": _alpha}),
    (activations.get, {"name": "leaky_relu", "alpha": 0.1}, {"name": _name, "alpha": _alpha}),
    (clipping.global_norm, {"grads": GRADS}, {"grads": _grad_dict}),
    (clipping.global_norm, {"grads": GRADS, "model_ndim": 1}, {"model_ndim": _model_ndim}),
    (clipping.clip_by_value, {"grads": GRADS, "clip_value": 1.0},
     {"grads": _grad_dict, "clip_value": _positive_float, "error_if_nonfinite": _flag}),
    (clipping.clip_by_global_norm, {"grads": GRADS, "max_norm": 1.0},
     {"grads": _grad_dict, "max_norm": _max_norm, "model_ndim": _model_ndim, "error_if_nonfinite": _flag}),
    (clipping.sign, {"grads": GRADS}, {"grads": _grad_dict, "error_if_nonfinite": _flag}),
    (gradcheck.numerical_gradient, {"loss_fn": lambda p: float(np.sum(p["w"] ** 2)), "params": {"w": np.ones(2)}},
     {"loss_fn": _callable, "params": _params_dict, "eps": _positive_float}),
    (gradcheck.relative_error, {"a": [1.0, 2.0], "b": [1.0, 2.5]}, {"a": _finite_array, "b": _fixed_ndim}),
    (gradcheck.max_relative_error, {"grads_a": {"w": np.ones(2)}, "grads_b": {"w": np.ones(2)}},
     {"grads_a": _params_dict, "grads_b": _params_dict}),
    (scalar.running_products, {"factors": [0.5, 2.0]}, {"factors": _fixed_ndim}),
    (scalar.first_zero_or_nonfinite, {"products": [0.5, 0.25]}, {"products": _nonfinite_ok_1d}),
    (scalar.one_unit_trajectory, {"w": 2.0, "b": -1.0, "x0": 0.5, "T": 5},
     {"w": _finite_array, "b": _finite_array, "x0": _real, "T": _positive_int}),
    (scalar.pascanu_loss_and_grad, {"w": [2.0, 3.0], "b": -1.0, "T": 5, "target": 0.7},
     {"w": _finite_array, "b": _finite_array, "T": _positive_int, "target": _real}),
    (scalar.tanh_fixed_point, {"w": [0.5, 2.0]}, {"w": _finite_array}),
    (scalar.tanh_fixed_point_slope, {"w": [0.5, 2.0]}, {"w": _finite_array}),
    (scalar.tanh_unit_memory, {"w": 2.0, "x": np.zeros((3, 2)), "u": 0.5, "h0": 1.0},
     {"w": _finite_array, "x": _finite_array, "u": _finite_array, "h0": _finite_array}),
    (spectral.spectral_norm, {"A": A}, {"A": _matrix}),
    (spectral.spectral_radius, {"A": A}, {"A": _matrix}),
    (spectral.power_iteration, {"A": A, "rng": RNG, "n_iter": 10, "tol": 1e-8},
     {"A": _matrix, "rng": _rng, "n_iter": _positive_int, "tol": _positive_float, "return_info": _flag}),
    (spectral.scale_to_norm, {"A": A, "target": 1.0}, {"A": _matrix, "target": _positive_float}),
    (spectral.scale_to_radius, {"A": A, "target": 1.0}, {"A": _matrix, "target": _positive_float}),
    (spectral.power_norms, {"A": A, "k_max": 3}, {"A": _matrix, "k_max": _positive_int}),
    (tasks.adding_problem, {"T": 4, "batch": 2, "rng": RNG}, {"T": _positive_int, "batch": _positive_int, "rng": _rng}),
]


def _cases():
    for func, good, kinds in TABLE:
        for arg, kind in kinds.items():
            for cls, bad in kind(good.get(arg)).items():
                name = "activation" if func is activations.get and arg == "name" else arg
                yield pytest.param(func, {**good, arg: bad}, name, id=f"{func.__module__.split('.')[-1]}.{func.__name__}-{arg}-{cls}")


CASES = list(_cases())


@pytest.mark.parametrize("func, kwargs, name", CASES)
def test_bad_input_raises_value_error_naming_the_argument(func, kwargs, name):
    with pytest.raises(ValueError) as info:
        func(**kwargs)
    assert name in str(info.value), f"the message does not name {name!r}: {info.value}"


@pytest.mark.parametrize("func, good, kinds", [pytest.param(*row, id=f"{row[0].__module__.split('.')[-1]}.{row[0].__name__}") for row in TABLE])
def test_the_valid_call_of_each_row_works(func, good, kinds):
    """The rows' valid calls succeed, so each failure above is caused by its one bad value."""
    func(**good)


def test_every_public_function_has_a_row():
    covered = {f for f, _, _ in TABLE}
    for module in (activations, clipping, gradcheck, scalar, spectral, tasks):
        for name in module.__all__:
            obj = getattr(module, name)
            if callable(obj) and not isinstance(obj, type):
                assert obj in covered, f"{module.__name__}.{name} has no row in TABLE"


def test_complex_input_is_rejected_not_made_real():
    with pytest.raises(ValueError, match="a must be a real numeric array, got complex"):
        activations.sigmoid(np.array([1.0 + 1e-3j]))


def test_first_zero_on_a_matrix_is_rejected_not_a_flat_index():
    with pytest.raises(ValueError, match="products must have shape 1-D"):
        scalar.first_zero_or_nonfinite(np.array([[1.0, 1.0], [0.0, 1.0]]))


def test_broadcast_mismatch_names_w_and_b():
    with pytest.raises(ValueError, match=r"w and b must be broadcastable.*\(2,\) and \(3,\)"):
        scalar.one_unit_trajectory(np.ones(2), np.ones(3))


def test_model_shapes_must_agree():
    grads = {"W": np.ones((2, 3)), "b": np.ones((3, 3))}
    with pytest.raises(ValueError, match=r"grads\['b'\] has model shape \(3,\) but grads\['W'\] has \(2,\)"):
        clipping.global_norm(grads, model_ndim=1)
    with pytest.raises(ValueError, match="max_norm must be a number or an array broadcastable"):
        clipping.clip_by_global_norm({"W": np.ones((2, 3))}, np.ones(3), model_ndim=1)
    with pytest.raises(ValueError, match=r"max_norm must be > 0 \(np.inf: no clipping\) for every model"):
        clipping.clip_by_global_norm({"W": np.ones((2, 3))}, np.array([1.0, 0.0]), model_ndim=1)


def test_loss_fn_returning_an_array_or_nan_is_a_clear_error():
    params = {"w": np.ones(2)}
    with pytest.raises(ValueError, match=r"loss_fn must return one real number.*params\['w'\]\[0\]"):
        gradcheck.numerical_gradient(lambda p: p["w"] * 2, params)
    from gradcourse import NonFiniteError

    with pytest.raises(NonFiniteError, match=r"loss_fn returned nan with params\['w'\]\[0\]"):
        gradcheck.numerical_gradient(lambda p: float("nan"), params)


def test_unknown_keyword_for_an_activation_is_a_clear_error():
    with pytest.raises(ValueError, match="alpha is not a keyword of activation 'tanh'"):
        activations.get("tanh", alpha=0.1)
