import warnings
from decimal import Decimal, localcontext

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
    x = np.array([-1e308, -1000.0, -745.0, 0.0, 745.0, 1000.0, 1e308])
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.all(np.isfinite(f_prime(x)))
        if name in ("sigmoid", "tanh"):
            assert np.all(np.isfinite(f(x)))


# A second method: the closed forms in 60-digit decimal arithmetic, whose exponent range
# has room for exp(+-1000), rounded once to float64 at the end.
def _exp(a):
    return Decimal(a).exp()


REFERENCE = {
    "sigmoid": lambda a: 1 / (1 + _exp(-a)),
    "sigmoid_prime": lambda a: 1 / ((1 + _exp(-a)) * (1 + _exp(a))),  # sigma(a) sigma(-a)
    "tanh": lambda a: (_exp(a) - _exp(-a)) / (_exp(a) + _exp(-a)),
    "tanh_prime": lambda a: 4 / (_exp(a) + _exp(-a)) ** 2,  # 1 / cosh(a)^2
}
# Beyond |a| = 2000 every value is its limit in float64 (exp(-2000) is far below 5e-324).
LIMITS = {
    "sigmoid": (0.0, 1.0),
    "sigmoid_prime": (0.0, 0.0),
    "tanh": (-1.0, 1.0),
    "tanh_prime": (0.0, 0.0),
}
EXTREME = np.concatenate(
    [
        [-np.inf, -1e308, -1e5, -1000.0, -800.0, -746.0, -745.0, -744.0, -710.0, -709.0, -400.0, -37.0],
        np.linspace(-30, 30, 61),
        [37.0, 400.0, 709.0, 710.0, 744.0, 745.0, 746.0, 800.0, 1000.0, 1e5, 1e308, np.inf],
        [-1e-320, 1e-320, -1e-300, 1e-300],
    ]
)


def _reference(name, a):
    if abs(a) > 2000:
        return LIMITS[name][int(a > 0)]
    if name == "tanh" and abs(a) < 1e-5:  # the exponentials cancel: Taylor series instead
        return float(Decimal(a) - Decimal(a) ** 3 / 3)
    with localcontext() as ctx:
        ctx.prec = 60
        return float(REFERENCE[name](a))


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_smooth_activations_are_correctly_rounded_at_extreme_arguments(name):
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        got = getattr(activations, name)(EXTREME)
    want = np.array([_reference(name, a) for a in EXTREME])
    # Within 4 units in the last place, also where the value is subnormal.
    assert np.all(np.abs(got - want) <= 4 * np.spacing(np.abs(want)))


@pytest.mark.parametrize("alpha", [0.0, 0.01, 0.3])
def test_piecewise_linear_activations_at_infinity_and_subnormals(alpha):
    a = np.array([-np.inf, -1e308, -1e-320, 0.0, 1e-320, 1e308, np.inf])
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        relu, relu_p = activations.relu(a), activations.relu_prime(a)
        leaky, leaky_p = activations.leaky_relu(a, alpha), activations.leaky_relu_prime(a, alpha)
    np.testing.assert_array_equal(relu, [0, 0, 0, 0, 1e-320, 1e308, np.inf])
    np.testing.assert_array_equal(relu_p, [0, 0, 0, 0, 1, 1, 1])
    # alpha * a, with alpha 0 giving 0 (not 0 * inf = NaN) and alpha 1e-320 rounding to 0.
    negative = [0.0, 0.0, 0.0] if alpha == 0 else [-np.inf, -alpha * 1e308, float(-alpha * 1e-320)]
    np.testing.assert_array_equal(leaky, [*negative, 0, 1e-320, 1e308, np.inf])
    np.testing.assert_array_equal(leaky_p, [alpha] * 4 + [1, 1, 1])


@pytest.mark.parametrize("name", NAMES)
def test_nan_stays_nan(name):
    f, f_prime = activations.get(name)
    with np.errstate(all="raise"):
        assert np.isnan(f(np.array([np.nan]))[0]) and np.isnan(f_prime(np.array([np.nan]))[0])


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
