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


def _central_differences(w, b, eps=1e-6, **kwargs):
    def loss(w_, b_):
        return float(scalar.pascanu_loss_and_grad(w_, b_, **kwargs)[0])

    return (loss(w + eps, b) - loss(w - eps, b)) / (2 * eps), (loss(w, b + eps) - loss(w, b - eps)) / (2 * eps)


@pytest.mark.parametrize("output", scalar.OUTPUTS)
@pytest.mark.parametrize("w, b", [(2.0, -1.0), (5.0, -2.0), (-3.0, 1.5), (8.0, -3.7), (-6.0, 4.0)])
def test_forward_mode_derivatives_match_finite_differences(w, b, output):
    loss, dL_dw, dL_db = scalar.pascanu_loss_and_grad(w, b, output=output)
    fd_w, fd_b = _central_differences(w, b, output=output)
    assert dL_dw == pytest.approx(fd_w, rel=1e-6, abs=1e-9)
    assert dL_db == pytest.approx(fd_b, rel=1e-6, abs=1e-9)


def test_the_default_is_the_papers_loss_through_the_sigmoid():
    w, b = 5.0, -2.0
    x_T = scalar.one_unit_trajectory(w, b)[0]
    assert scalar.pascanu_loss_and_grad(w, b)[0] == pytest.approx((sigmoid(x_T) - 0.7) ** 2, rel=1e-14)
    assert scalar.pascanu_loss_and_grad(w, b, output="state")[0] == pytest.approx((x_T - 0.7) ** 2, rel=1e-14)


@pytest.mark.parametrize("T", [1, 2, 7, 50])
@pytest.mark.parametrize("output", scalar.OUTPUTS)
def test_closed_form_with_no_recurrence(T, output):
    # w = 0: x_t = b for t >= 1, so dx_T/db = 1 and dx_T/dw = sigma(x_{T-1}), which is
    # sigma(x0) for T = 1 and sigma(b) after. At b = ln 3, sigma(b) = 3/4 and
    # sigma'(b) = 3/16, so every number below is a short fraction.
    b = math.log(3.0)
    s_prev = sigmoid(0.5) if T == 1 else 0.75
    if output == "sigmoid":
        loss, dL_dx = (0.75 - 0.7) ** 2, 2 * (0.75 - 0.7) * 3 / 16  # 0.0025 and 0.01875
    else:
        loss, dL_dx = (b - 0.7) ** 2, 2 * (b - 0.7)
    got = scalar.pascanu_loss_and_grad(0.0, b, T=T, output=output)
    assert got[0] == pytest.approx(loss, rel=1e-12)
    assert got[1] == pytest.approx(dL_dx * s_prev, rel=1e-12)
    assert got[2] == pytest.approx(dL_dx, rel=1e-12)


def test_closed_form_at_b_zero_by_hand():
    # w = 0, b = 0: sigma(x_T) = 1/2, sigma' = 1/4, L = 0.2^2, dL/db = -0.1, dL/dw = -0.1 / 2.
    loss, dL_dw, dL_db = scalar.pascanu_loss_and_grad(0.0, 0.0)
    assert (loss, dL_dw, dL_db) == pytest.approx((0.04, -0.05, -0.1), rel=1e-12)


@pytest.mark.parametrize("T", [1, 10, 50])
def test_on_the_wall_the_derivatives_are_geometric_sums(T):
    # On the wall w sigma(0.5) + b = 0.5 the state stays at 0.5, every factor is
    # F = w sigma'(0.5), and dx_T/db = 1 + F + ... + F^(T-1) = (F^T - 1) / (F - 1),
    # dx_T/dw = sigma(0.5) times the same sum.
    b = -3.0
    w = (0.5 - b) / sigmoid(0.5)
    F = w * sigmoid(0.5) * (1 - sigmoid(0.5))
    geometric = (F**T - 1) / (F - 1)
    x_T, dx_dw, dx_db = scalar.one_unit_trajectory(w, b, T=T)
    assert x_T == pytest.approx(0.5, abs=1e-8)
    assert dx_db == pytest.approx(geometric, rel=1e-8)
    assert dx_dw == pytest.approx(sigmoid(0.5) * geometric, rel=1e-8)
    loss, dL_dw, dL_db = scalar.pascanu_loss_and_grad(w, b, T=T)
    r = sigmoid(0.5) - 0.7
    assert loss == pytest.approx(r**2, rel=1e-8)
    assert dL_db == pytest.approx(2 * r * sigmoid(0.5) * (1 - sigmoid(0.5)) * geometric, rel=1e-8)


@pytest.mark.parametrize("b", [-3.0, 5.0])
def test_the_loss_steps_across_both_walls(b):
    # Positive w (b = -3): two stable fixed points; negative w (b = 5): a two-point cycle.
    # Either way x_50 lands in different places on the two sides of the wall.
    w_wall = (0.5 - b) / sigmoid(0.5)
    below = float(scalar.pascanu_loss_and_grad(w_wall - 1e-3, b)[0])
    above = float(scalar.pascanu_loss_and_grad(w_wall + 1e-3, b)[0])
    assert abs(below - above) > 0.25
    assert max(below, above) < 0.49  # the sigmoid output keeps the loss below 0.7^2


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
        loss, dL_dw, dL_db = scalar.pascanu_loss_and_grad(np.array([1000.0]), 500.0, T=5, output="state")
        sig_loss, sig_dw, sig_db = scalar.pascanu_loss_and_grad(np.array([1000.0]), 500.0, T=5)
    r = 1500.0 - 0.7
    assert loss[0] == r**2 and dL_dw[0] == 2 * r and dL_db[0] == 2 * r
    # Through the sigmoid the output is exactly 1 and its slope exactly 0.
    assert sig_loss[0] == (1.0 - 0.7) ** 2 and sig_dw[0] == 0.0 and sig_db[0] == 0.0


def test_overflow_is_reported_not_returned():
    with pytest.raises(NonFiniteError, match="x_T overflowed"):
        scalar.one_unit_trajectory(1e308, 1e308, T=3)
    with pytest.raises(NonFiniteError, match="the loss L overflowed"):
        scalar.pascanu_loss_and_grad(1e200, 0.0, T=3, output="state")
    # Through the sigmoid the same network's loss is bounded and returned.
    loss, _, _ = scalar.pascanu_loss_and_grad(1e200, 0.0, T=3)
    assert loss == pytest.approx(0.3**2)


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


@pytest.mark.parametrize("output", ["logit", "Sigmoid", "", None, 1])
def test_unknown_output_is_a_value_error_naming_it(output):
    with pytest.raises(ValueError, match=r"output must be one of 'sigmoid', 'state'; got"):
        scalar.pascanu_loss_and_grad(2.0, -1.0, output=output)


# A tanh unit that stores a bit: h* = tanh(w h*), and the factor w (1 - h*^2) there.


def _stored_by_bisection(w):
    """The largest root of tanh(w h) - h on [0, 1], by bisection (0 if w <= 1)."""
    if w <= 1:
        return 0.0
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if math.tanh(w * mid) > mid else (lo, mid)
    return lo


def _stored_by_iteration(w):
    """Iterate h <- tanh(w h) from 1 until it stops changing."""
    h = 1.0
    while (new := math.tanh(w * h)) != h:
        h = new
    return h


def test_w_2_stores_0_9575_with_the_factor_0_166():
    assert round(float(scalar.tanh_fixed_point(2.0)), 4) == 0.9575
    assert round(float(scalar.tanh_fixed_point_slope(2.0)), 3) == 0.166
    assert float(scalar.tanh_fixed_point(2.0)) == pytest.approx(_stored_by_iteration(2.0), abs=1e-15)


@pytest.mark.parametrize("w, rel", [(1 + 1e-9, 1e-6), (1 + 1e-6, 1e-9), (1.001, 1e-12), (1.05, 1e-12), (1.5, 1e-12),
                                    (2.0, 1e-12), (3.7, 1e-12), (8.0, 1e-12), (50.0, 1e-12)])
def test_the_stored_value_matches_bisection(w, rel):
    """Near w = 1 the root is ill-conditioned: tanh(w h) - h has a slope of about -2 (w - 1)
    there, so a rounding error of tanh moves it by that much more; ``rel`` allows for it."""
    h = float(scalar.tanh_fixed_point(w))
    assert h == pytest.approx(_stored_by_bisection(w), rel=rel, abs=1e-15)
    assert math.tanh(w * h) == pytest.approx(h, rel=1e-14)


def test_the_stored_value_is_vectorised_and_zero_where_there_is_nothing_to_store():
    w = np.array([[-3.0, 0.0, 0.5], [1.0, 2.0, 4.0]])
    h = scalar.tanh_fixed_point(w)
    assert h.shape == w.shape
    assert np.all(h[0] == 0) and h[1, 0] == 0
    np.testing.assert_allclose(h[1, 1:], [_stored_by_bisection(2.0), _stored_by_bisection(4.0)], rtol=1e-12)


@pytest.mark.parametrize("w", [-2.0, 0.5, 1.0, 1.01, 1.3, 2.0, 6.0])
def test_the_factor_is_the_slope_of_the_map_at_the_stored_value(w):
    """Central differences of h -> tanh(w h) at the bisected h*."""
    h, eps = _stored_by_bisection(w), 1e-6
    slope = (math.tanh(w * (h + eps)) - math.tanh(w * (h - eps))) / (2 * eps)
    assert float(scalar.tanh_fixed_point_slope(w)) == pytest.approx(slope, rel=1e-8, abs=1e-11)


def test_the_factor_is_below_1_wherever_a_bit_is_stored():
    w = np.linspace(1.001, 20, 500)
    slope = scalar.tanh_fixed_point_slope(w)
    assert np.all((slope > 0) & (slope < 1))
    assert np.all(np.diff(slope) < 0)


def test_the_unit_run_follows_the_recurrence_and_its_product_matches_finite_differences():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 3))
    w, u, h0, eps = np.array([0.8, 1.2, 1.5]), 0.4, 0.7, 1e-7
    h_T, product = scalar.tanh_unit_memory(w, x, u=u, h0=h0)
    h = np.full(3, h0)
    for x_t in x:
        h = np.tanh(w * h + u * x_t)
    np.testing.assert_allclose(h_T, h, rtol=1e-14)
    up = scalar.tanh_unit_memory(w, x, u=u, h0=h0 + eps)[0]
    down = scalar.tanh_unit_memory(w, x, u=u, h0=h0 - eps)[0]
    np.testing.assert_allclose(product, (up - down) / (2 * eps), rtol=1e-5)


def test_a_held_bit_passes_back_the_factor_to_the_power_of_the_steps():
    w = 2.0
    h_star = float(scalar.tanh_fixed_point(w))
    h_T, product = scalar.tanh_unit_memory(w, np.zeros(40), h0=h_star)
    assert float(h_T) == pytest.approx(h_star, rel=1e-14)
    assert float(product) == pytest.approx(float(scalar.tanh_fixed_point_slope(w)) ** 40, rel=1e-10)


def test_the_unit_run_broadcasts_weights_noise_levels_and_draws():
    x = np.random.default_rng(1).normal(size=(10, 1, 1, 7))
    h_T, product = scalar.tanh_unit_memory(np.array([1.5, 2.0])[:, None, None], x, u=np.array([0.1, 1.0])[:, None])
    assert h_T.shape == product.shape == (2, 2, 7)


@pytest.mark.parametrize("kwargs, words", [
    ({"w": [1.0, np.nan], "x": np.zeros(3)}, "w must be finite"),
    ({"w": 2.0, "x": 1.0}, "x must have at least 1 axes"),
    ({"w": [1.0, 2.0], "x": np.zeros((3, 4))}, "must broadcast"),
    ({"w": 2.0, "x": np.zeros(3), "u": np.inf}, "u must be finite"),
])
def test_the_unit_run_rejects_bad_input_by_name(kwargs, words):
    with pytest.raises(ValueError, match=words):
        scalar.tanh_unit_memory(**kwargs)


def test_the_stored_value_rejects_non_numbers():
    with pytest.raises(ValueError, match="w must be a real numeric array"):
        scalar.tanh_fixed_point("two")
