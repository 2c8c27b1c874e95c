import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gradcourse import spectral

finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
shapes = st.tuples(st.integers(1, 6), st.integers(1, 6))
matrices = shapes.flatmap(lambda s: arrays(np.float64, s, elements=finite))


@given(matrices, st.integers(0, 2**32 - 1))
@settings(max_examples=100, deadline=None)
def test_no_vector_is_stretched_more_than_the_norm(A, seed):
    x = np.random.default_rng(seed).normal(size=(A.shape[1], 20))
    assert np.all(np.linalg.norm(A @ x, axis=0) <= spectral.spectral_norm(A) * np.linalg.norm(x, axis=0) * (1 + 1e-12) + 1e-12)


def sigma_max_2x2(A):
    """Closed form of the largest singular value of [[a, b], [c, d]]:
    (sqrt((a + d)^2 + (b - c)^2) + sqrt((a - d)^2 + (b + c)^2)) / 2."""
    (a, b), (c, d) = A.tolist()
    return (math.hypot(a + d, b - c) + math.hypot(a - d, b + c)) / 2


def rotation(theta):
    return np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])


@given(arrays(np.float64, (2, 2), elements=finite))
@settings(max_examples=200, deadline=None)
def test_svd_norm_matches_the_2x2_closed_form(A):
    assert spectral.spectral_norm(A) == pytest.approx(sigma_max_2x2(A), rel=1e-12, abs=1e-12)


@given(st.lists(finite, min_size=1, max_size=6), st.floats(0, 2 * math.pi), st.floats(0, 2 * math.pi))
@settings(max_examples=100, deadline=None)
def test_svd_norm_of_rotated_diagonal_is_the_largest_absolute_entry(d, theta, phi):
    assert spectral.spectral_norm(np.diag(d)) == pytest.approx(max(abs(x) for x in d), rel=1e-15, abs=0)
    d2 = np.diag((d + d)[:2])
    A = rotation(theta) @ d2 @ rotation(phi)  # singular values |d_1|, |d_2|
    assert spectral.spectral_norm(A) == pytest.approx(max(abs(x) for x in (d + d)[:2]), rel=1e-13, abs=1e-13)


SCALES = [5e-324 * 2**60, 1e-300, 1e-170, 1.0, 1e200, 1e300]
A2 = np.array([[2.0, 1.0], [-0.5, 3.0]])


@pytest.mark.parametrize("scale", SCALES)
def test_every_function_works_at_any_scale(scale):
    A = scale * A2
    want = sigma_max_2x2(A2)
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        sigma_svd = spectral.spectral_norm(A)
        info = spectral.power_iteration(A, rng=np.random.default_rng(0), tol=1e-14, return_info=True)
        rho = spectral.spectral_radius(A)
        unit = spectral.scale_to_norm(A, 1.0)
    assert sigma_svd / scale == pytest.approx(want, rel=1e-12)
    assert info.converged and info.sigma / scale == pytest.approx(want, rel=1e-10)
    np.testing.assert_allclose(A @ info.v, info.sigma * info.u, rtol=1e-7, atol=1e-7 * info.sigma)
    # Eigenvalues of [[2, 1], [-0.5, 3]]: (5 +- sqrt(1 - 2)) / 2 = 2.5 +- 0.5i, |.| = sqrt(6.5).
    assert rho / scale == pytest.approx(math.sqrt(6.5), rel=1e-12)
    np.testing.assert_allclose(unit, A2 / want, rtol=1e-12)


def test_rescaling_reaches_targets_far_from_the_matrix_scale():
    B = spectral.scale_to_norm(1e-300 * A2, 1e300)  # the factor 1e600 is not a float64
    np.testing.assert_allclose(B, A2 * (1e300 / sigma_max_2x2(A2)), rtol=1e-13)
    with pytest.raises(ValueError, match="target=1e.308 is too large for A"):
        spectral.scale_to_radius(np.array([[1.0, 1e300], [0.0, 1.0]]), 1e308)


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (5, 2), (2, 7), (16, 16)])
def test_power_iteration_agrees_with_svd_and_gives_singular_vectors(shape):
    rng = np.random.default_rng(3)
    A = rng.normal(size=shape)
    sigma, u, v = spectral.power_iteration(A, rng=rng, n_iter=20000, tol=1e-15)
    assert sigma == pytest.approx(np.linalg.norm(A, 2), rel=1e-8)
    np.testing.assert_allclose(A @ v, sigma * u, atol=1e-6 * sigma)
    np.testing.assert_allclose(A.T @ u, sigma * v, atol=1e-6 * sigma)


def test_power_iteration_of_zero_matrix_is_zero():
    sigma, u, v = spectral.power_iteration(np.zeros((3, 2)), rng=np.random.default_rng(0))
    assert sigma == 0.0


def test_power_iteration_reports_whether_it_converged():
    A = np.diag([1.0, 0.999])  # close singular values: slow
    slow = spectral.power_iteration(A, rng=np.random.default_rng(0), n_iter=5, return_info=True)
    assert isinstance(slow, spectral.PowerIterationResult)
    assert slow.iterations == 5 and slow.converged is False
    fast = spectral.power_iteration(np.diag([3.0, 1.0]), rng=np.random.default_rng(0), return_info=True)
    assert fast.converged is True and 1 < fast.iterations < 100 and fast.sigma == pytest.approx(3.0, rel=1e-12)
    sigma, u, v = spectral.power_iteration(np.diag([3.0, 1.0]), rng=np.random.default_rng(0))  # the old return
    assert (sigma, u.tolist(), v.tolist()) == (fast.sigma, fast.u.tolist(), fast.v.tolist())


@given(st.integers(1, 6), st.integers(0, 2**32 - 1))
@settings(max_examples=50, deadline=None)
def test_radius_never_exceeds_norm_and_equals_it_for_symmetric(n, seed):
    A = np.random.default_rng(seed).normal(size=(n, n))
    assert spectral.spectral_radius(A) <= spectral.spectral_norm(A) * (1 + 1e-12)
    S = A + A.T
    assert spectral.spectral_radius(S) == pytest.approx(spectral.spectral_norm(S), rel=1e-10)


def test_gelfand_power_norms_approach_the_radius():
    A = np.random.default_rng(1).normal(size=(6, 6))
    norms = spectral.power_norms(A, 200)
    assert norms[200] ** (1 / 200) == pytest.approx(spectral.spectral_radius(A), rel=0.05)
    np.testing.assert_allclose(norms[:4], [np.linalg.norm(np.linalg.matrix_power(A, k), 2) for k in range(4)], rtol=1e-12)


def test_non_normal_matrix_grows_before_it_vanishes():
    A = np.array([[0.5, 10.0], [0.0, 0.5]])  # radius 0.5, norm about 10
    norms = spectral.power_norms(A, 60)
    # Closed form: A^k = [[0.5^k, 10 k 0.5^(k-1)], [0, 0.5^k]].
    closed = [np.linalg.norm([[0.5**k, 10 * k * 0.5 ** (k - 1)], [0, 0.5**k]], 2) for k in range(1, 61)]
    np.testing.assert_allclose(norms[1:], closed, rtol=1e-10)
    assert norms.max() > 10 and norms[60] < 1e-12


def test_overflowing_powers_are_inf_not_an_error():
    norms = spectral.power_norms(np.array([[1e100]]), 5)
    assert np.isinf(norms[4]) and norms[2] == pytest.approx(1e200)


def test_vanishing_powers_are_exact_down_to_the_smallest_float_and_silent():
    with np.errstate(all="raise"):
        norms = spectral.power_norms(0.5 * np.eye(3), 1100)
    assert norms.tolist() == [math.ldexp(1.0, -k) for k in range(1101)]  # 2^-k, 0 beyond 2^-1074


@pytest.mark.parametrize("target", [0.5, 1.0, 3.0])
def test_scaling_hits_the_target(target):
    A = np.random.default_rng(2).normal(size=(5, 5))
    assert spectral.spectral_norm(spectral.scale_to_norm(A, target)) == pytest.approx(target, rel=1e-12)
    assert spectral.spectral_radius(spectral.scale_to_radius(A, target)) == pytest.approx(target, rel=1e-12)


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match=r"A must be a square matrix \(n, n\), got shape \(2, 3\)"):
        spectral.spectral_radius(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"A must have shape 2-D"):
        spectral.spectral_norm(np.zeros(3))
    with pytest.raises(ValueError, match="A must be finite"):
        spectral.spectral_norm(np.array([[np.nan]]))
    with pytest.raises(ValueError, match="A must not be the zero matrix: its spectral norm is 0"):
        spectral.scale_to_norm(np.zeros((2, 2)), 1.0)
    with pytest.raises(ValueError, match="not be nilpotent.*spectral radius is 0"):
        spectral.scale_to_radius(np.array([[0.0, 1.0], [0.0, 0.0]]), 1.0)
    with pytest.raises(ValueError, match="target must be a finite number > 0"):
        spectral.scale_to_norm(np.eye(2), -1.0)
    with pytest.raises(ValueError, match="tol must be a finite number > 0"):
        spectral.power_iteration(np.eye(2), rng=np.random.default_rng(0), tol=-1)
    with pytest.raises(ValueError, match="tol must be a finite number > 0"):
        spectral.power_iteration(np.eye(2), rng=np.random.default_rng(0), tol=np.nan)
    with pytest.raises(ValueError, match="n_iter must be a positive integer"):
        spectral.power_iteration(np.eye(2), rng=np.random.default_rng(0), n_iter=0)


# --- power iteration's bookkeeping, power norms with exact closed forms, silence ----------


def test_power_iteration_of_a_zero_matrix_reports_no_steps_and_unit_vectors():
    info = spectral.power_iteration(np.zeros((3, 2)), rng=np.random.default_rng(0), return_info=True)
    assert info.sigma == 0.0 and info.iterations == 0 and info.converged is True
    assert info.u.tolist() == [0.0, 0.0, 0.0]
    assert info.v.shape == (2,) and np.linalg.norm(info.v) == pytest.approx(1.0, rel=1e-15)


def test_power_iteration_on_a_rank_one_matrix_lands_in_one_step_and_confirms_in_the_next():
    # A = u v^T with unit u, v and sigma = 1: A^T A x is along v for every x, so the first
    # step gives sigma exactly and the second sees no change
    A = np.full((2, 2), 0.5)
    info = spectral.power_iteration(A, rng=np.random.default_rng(1), return_info=True)
    assert info.iterations == 2 and info.converged is True
    assert info.sigma == pytest.approx(1.0, rel=1e-15)
    np.testing.assert_allclose(np.abs(info.v), np.sqrt(0.5), rtol=1e-15)


def test_power_iteration_stops_at_the_first_relative_change_below_tol():
    # singular values 0.6 and 0.57: slow, so the stopping rule decides the step count
    A, tol = np.diag([0.6, 0.57]), 1e-6

    def run(n_iter):
        return spectral.power_iteration(A, rng=np.random.default_rng(1), n_iter=n_iter, tol=tol, return_info=True)

    info = run(1000)
    k = info.iterations
    assert info.converged and 10 < k < 1000
    before, two_before = run(k - 1).sigma, run(k - 2).sigma
    assert abs(info.sigma - before) <= tol * info.sigma  # converged at step k ...
    assert abs(before - two_before) > tol * before  # ... and not at step k - 1
    assert not run(k - 1).converged


def test_power_iteration_with_a_start_in_the_null_space_gives_no_estimate():
    v = np.random.default_rng(0).normal(size=2)
    v /= np.linalg.norm(v)  # the starting vector the iteration draws from this seed
    A = np.array([[v[1], -v[0]]])  # A v = 0 exactly
    if np.any(A @ v != 0):
        pytest.skip("this platform's dot product does not cancel exactly")
    info = spectral.power_iteration(A, rng=np.random.default_rng(0), return_info=True)
    assert info.sigma == 0.0 and info.iterations == 1 and info.converged is False
    assert info.u.tolist() == [0.0]


def test_power_norms_of_a_rank_one_and_of_a_nilpotent_matrix():
    # (J / 2)^k = 2^(k - 2) J for the 4 x 4 matrix of ones J, whose norm is 4: ||A^k|| = 2^k
    np.testing.assert_array_equal(spectral.power_norms(np.full((4, 4), 0.5), 5), [1.0, 2.0, 4.0, 8.0, 16.0, 32.0])
    np.testing.assert_array_equal(spectral.power_norms(np.array([[0.0, 1.0], [0.0, 0.0]]), 3), [1.0, 1.0, 0.0, 0.0])


def test_spectral_functions_are_silent_under_seterr_raise_at_extreme_scales():
    with np.errstate(all="raise"):
        # entries whose ratio is beyond float64: the small one vanishes, exactly as it should
        assert spectral.spectral_norm(np.array([[1e300, 1e-300]])) == 1e300
        # a norm beyond the largest float64 is inf
        assert spectral.spectral_norm(np.full((1, 2), 1.5e308)) == np.inf
        # ||diag(1, 1e-200)^k|| = 1: the second entry underflows on the way
        np.testing.assert_array_equal(spectral.power_norms(np.diag([1.0, 1e-200]), 4), 1.0)
        sigma, _, v = spectral.power_iteration(np.diag([1.0, 1e-200]), rng=np.random.default_rng(0))
        assert sigma == pytest.approx(1.0, rel=1e-12) and abs(v[0]) == pytest.approx(1.0, rel=1e-12)
        B = spectral.scale_to_norm(np.array([[1.0, 1e-300]]), 1e-100)
        assert B[0, 0] == pytest.approx(1e-100, rel=1e-15) and B[0, 1] == 0.0
        with pytest.raises(ValueError, match="target=1e\\+300 is too large for A"):
            spectral.scale_to_radius(np.array([[1.0, 1e10], [0.0, 1.0]]), 1e300)  # radius 1, entries 1e310


def test_power_norms_and_scale_to_radius_need_a_square_matrix_and_name_it():
    with pytest.raises(ValueError, match=r"A must be a square matrix \(n, n\), got shape \(2, 3\)"):
        spectral.power_norms(np.ones((2, 3)), 1)
    with pytest.raises(ValueError, match=r"A must be a square matrix"):
        spectral.scale_to_radius(np.ones((2, 3)), 1.0)
    with pytest.raises(ValueError, match="k_max must be a positive integer"):
        spectral.power_norms(np.eye(2), 0)
    with pytest.raises(ValueError, match="A must be finite"):
        spectral.power_iteration(np.array([[np.inf]]), rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="A must be finite"):
        spectral.scale_to_norm(np.array([[np.inf]]), 1.0)
    with pytest.raises(ValueError, match="A must be finite"):
        spectral.scale_to_radius(np.array([[np.inf]]), 1.0)
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        spectral.power_iteration(np.eye(2), rng=0)
    with pytest.raises(ValueError, match="return_info must be True or False"):
        spectral.power_iteration(np.eye(2), rng=np.random.default_rng(0), return_info=1)
    with pytest.raises(ValueError, match=r"^A must have a nonzero eigenvalue \(not be nilpotent\)"):
        spectral.scale_to_radius(np.zeros((2, 2)), 1.0)
