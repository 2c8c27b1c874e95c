import numpy as np
import pytest

from gradcourse import gradcheck


def test_numerical_gradient_of_quadratic_form_matches_closed_form():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(4, 4))
    x = rng.normal(size=4)
    numeric = gradcheck.numerical_gradient(lambda p: float(p["x"] @ A @ p["x"]), {"x": x})
    np.testing.assert_allclose(numeric["x"], (A + A.T) @ x, rtol=1e-8)


def test_numerical_gradient_leaves_params_unchanged():
    params = {"w": np.array([[1.0, 2.0], [3.0, 4.0]])}
    before = params["w"].copy()
    gradcheck.numerical_gradient(lambda p: float(np.sum(np.sin(p["w"]))), params)
    assert np.array_equal(params["w"], before)


def test_relative_error_is_symmetric_and_scale_free():
    a, b = np.array([1.0, 2.0]), np.array([1.1, 2.0])
    assert gradcheck.relative_error(a, b) == gradcheck.relative_error(b, a)
    assert gradcheck.relative_error(1e6 * a, 1e6 * b) == pytest.approx(gradcheck.relative_error(a, b))


def test_relative_error_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"b must have shape \(2\)"):
        gradcheck.relative_error(np.zeros(2), np.zeros(3))


def test_max_relative_error_rejects_mismatched_keys():
    with pytest.raises(ValueError, match="grads_b must have the keys"):
        gradcheck.max_relative_error({"a": np.zeros(1)}, {"b": np.zeros(1)})


def test_bad_eps_is_a_clear_error():
    with pytest.raises(ValueError, match="eps must be a finite number > 0"):
        gradcheck.numerical_gradient(lambda p: 0.0, {"w": np.zeros(1)}, eps=0)
