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


@pytest.mark.parametrize("scale", [5e-324, 1e-300, 1e-200, 1.0, 1e200, 1e300])
def test_relative_error_matches_closed_form_at_any_scale(scale):
    # a = (3, 4) s, b = (0, 4) s: ||a - b|| = 3 s, max(||a||, ||b||) = 5 s, for every s > 0.
    # Before, s = 1e200 gave inf / inf = NaN and s = 1e-200 gave 0 (the squares underflowed).
    a, b = scale * np.array([3.0, 4.0]), scale * np.array([0.0, 4.0])
    with np.errstate(all="raise"):
        assert gradcheck.relative_error(a, b) == pytest.approx(0.6, rel=1e-15)
        assert gradcheck.relative_error(b, a) == pytest.approx(0.6, rel=1e-15)


def test_relative_error_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"b must have shape \(2\)"):
        gradcheck.relative_error(np.zeros(2), np.zeros(3))


def test_max_relative_error_rejects_mismatched_keys():
    with pytest.raises(ValueError, match="grads_b must have the keys"):
        gradcheck.max_relative_error({"a": np.zeros(1)}, {"b": np.zeros(1)})


def test_bad_eps_is_a_clear_error():
    with pytest.raises(ValueError, match="eps must be a finite number > 0"):
        gradcheck.numerical_gradient(lambda p: 0.0, {"w": np.zeros(1)}, eps=0)
