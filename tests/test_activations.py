import warnings

import numpy as np
import pytest

from gradcourse import activations

NAMES = activations.NAMES
# Points away from 0, where ReLU and leaky ReLU have their kink.
POINTS = np.concatenate([np.linspace(-8, -0.01, 200), np.linspace(0.01, 8, 200)])


@pytest.mark.parametrize("name", NAMES)
def test_derivative_matches_central_difference(name):
    f, f_prime = activations.get(name)
    eps = 1e-6
    numeric = (f(POINTS + eps) - f(POINTS - eps)) / (2 * eps)
    np.testing.assert_allclose(f_prime(POINTS), numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_no_warning_and_finite_at_extremes(name):
    f, f_prime = activations.get(name)
    x = np.array([-1000.0, -745.0, 0.0, 745.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.all(np.isfinite(f(x)))
        assert np.all(np.isfinite(f_prime(x)))


def test_sigmoid_exact_limits_and_symmetry():
    s = activations.sigmoid(np.array([-1000.0, 1000.0]))
    assert s[0] == 0.0 and s[1] == 1.0
    x = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(activations.sigmoid(x) + activations.sigmoid(-x), 1.0, rtol=0, atol=1e-15)


def test_sigmoid_matches_naive_formula_where_naive_is_safe():
    x = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(activations.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-14)


def test_sigmoid_prime_maximum_is_quarter_at_zero():
    x = np.linspace(-5, 5, 10001)
    d = activations.sigmoid_prime(x)
    assert d.max() == 0.25 and x[np.argmax(d)] == 0.0


def test_tanh_is_rescaled_sigmoid():
    x = np.linspace(-20, 20, 4001)
    np.testing.assert_allclose(activations.tanh(x), 2 * activations.sigmoid(2 * x) - 1, atol=1e-15)


def test_tanh_prime_is_sech_squared():
    x = np.linspace(-20, 20, 4001)
    np.testing.assert_allclose(activations.tanh_prime(x), 1 / np.cosh(x) ** 2, rtol=1e-12, atol=1e-300)


def test_relu_derivative_is_zero_or_one():
    x = np.array([-3.0, -1e-12, 0.0, 1e-12, 3.0])
    assert activations.relu_prime(x).tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]


def test_leaky_relu_slope_is_alpha():
    f, f_prime = activations.get("leaky_relu", alpha=0.1)
    assert f(np.array([-2.0]))[0] == pytest.approx(-0.2)
    assert f_prime(np.array([-2.0]))[0] == 0.1


def test_unknown_name_is_a_clear_error():
    with pytest.raises(ValueError, match="activation must be one of .*got 'swish'"):
        activations.get("swish")


@pytest.mark.parametrize("alpha", [-0.1, 1.0, np.nan, "0.1"])
def test_bad_alpha_is_a_clear_error(alpha):
    with pytest.raises(ValueError, match="alpha"):
        activations.leaky_relu(np.zeros(2), alpha=alpha)
