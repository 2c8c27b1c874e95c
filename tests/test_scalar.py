import math

import numpy as np
import pytest

from gradcourse import NonFiniteError, scalar
from gradcourse.activations import sigmoid


@pytest.mark.parametrize("factor", [0.5, 0.25, 1.1, 2.0])
def test_first_zero_or_nonfinite_agrees_with_logarithms(factor):
    products = scalar.running_products(np.full(10000, factor))
    k = scalar.first_zero_or_nonfinite(products)
    # Independent estimate: the k where k log(factor) passes the log of the float64 limits.
    # Underflow to 0 happens once the product is below half the smallest subnormal.
    limit = math.log(np.finfo(float).max) if factor > 1 else math.log(np.nextafter(0, 1)) - math.log(2)
    assert abs(k - limit / math.log(factor)) <= 1.5
    assert np.all(np.isfinite(products[: k - 1])) and np.all(products[: k - 1] != 0)


def test_a_factor_of_0_9_freezes_in_the_subnormals_instead_of_reaching_zero():
    # With n units of the smallest subnormal s = 2^-1074, one more factor gives
    # round(0.9 n) units; the float 0.9 is slightly above 9/10, so 0.9 * 5 = 4.5 + tiny
    # rounds up to 5 again: the product sticks at 5 s for ever.
    products = scalar.running_products(np.full(20000, 0.9))
    s = np.nextafter(0, 1)
    assert scalar.first_zero_or_nonfinite(products) is None
    assert np.all(products[-10000:] == 5 * s)


def test_no_underflow_reports_none():
    assert scalar.first_zero_or_nonfinite(scalar.running_products(np.full(50, 0.9))) is None


def test_nan_counts_as_nonfinite():
    assert scalar.first_zero_or_nonfinite(np.array([1.0, np.nan, 2.0])) == 2


def test_trajectory_follows_the_recurrence():
    w, b = 3.0, -1.0
    x = 0.5
    for _ in range(7):
        x = w * sigmoid(x) + b
    assert scalar.one_unit_trajectory(w, b, T=7)[0] == pytest.approx(x, rel=1e-14)


@pytest.mark.parametrize("w, b", [(2.0, -1.0), (5.0, -2.0), (-3.0, 1.5), (8.0, -3.7)])
def test_forward_mode_derivatives_match_finite_differences(w, b):
    loss, dL_dw, dL_db = scalar.pascanu_loss_and_grad(w, b)
    eps = 1e-6
    fd_w = (scalar.pascanu_loss_and_grad(w + eps, b)[0] - scalar.pascanu_loss_and_grad(w - eps, b)[0]) / (2 * eps)
    fd_b = (scalar.pascanu_loss_and_grad(w, b + eps)[0] - scalar.pascanu_loss_and_grad(w, b - eps)[0]) / (2 * eps)
    assert dL_dw == pytest.approx(fd_w, rel=1e-6, abs=1e-9)
    assert dL_db == pytest.approx(fd_b, rel=1e-6, abs=1e-9)


def test_grid_evaluation_matches_pointwise():
    w = np.linspace(-2, 8, 5)[None, :]
    b = np.linspace(-4, 1, 3)[:, None]
    grid = scalar.pascanu_loss_and_grad(w, b)
    for i in range(3):
        for j in range(5):
            point = scalar.pascanu_loss_and_grad(w[0, j], b[i, 0])
            for g, p in zip(grid, point):
                assert g[i, j] == pytest.approx(float(p), rel=1e-13)


def test_saturated_network_is_exact_and_silent_under_seterr_raise():
    # w = 1000, b = 500: from step 2 on sigma(x) = 1 and sigma'(x) = 0 in float64, so
    # x_T = w + b and dx_T/dw = dx_T/db = 1 exactly; sigma'(1500) underflows harmlessly.
    with np.errstate(all="raise"):
        loss, dL_dw, dL_db = scalar.pascanu_loss_and_grad(np.array([1000.0]), 500.0, T=5)
    r = 1500.0 - 0.7
    assert loss[0] == r**2 and dL_dw[0] == 2 * r and dL_db[0] == 2 * r


def test_overflow_is_reported_not_returned():
    with pytest.raises(NonFiniteError, match="x_T overflowed"):
        scalar.one_unit_trajectory(1e308, 1e308, T=3)
    with pytest.raises(NonFiniteError, match="the loss L overflowed"):
        scalar.pascanu_loss_and_grad(1e200, 0.0, T=3)


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="factors must have shape 1-D"):
        scalar.running_products(np.ones((2, 2)))
    with pytest.raises(ValueError, match="w must be finite"):
        scalar.one_unit_trajectory(np.nan, 0.0)
    with pytest.raises(ValueError, match="T must be a positive integer"):
        scalar.one_unit_trajectory(1.0, 0.0, T=0)
    with pytest.raises(ValueError, match="x0 must be a finite number"):
        scalar.one_unit_trajectory(1.0, 0.0, x0=np.inf)
    with pytest.raises(ValueError, match="products must have shape 1-D"):  # not a flat index
        scalar.first_zero_or_nonfinite(np.ones((2, 2)))
