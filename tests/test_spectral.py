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


@given(matrices)
@settings(max_examples=100, deadline=None)
def test_svd_norm_agrees_with_numpy(A):
    assert spectral.spectral_norm(A) == pytest.approx(np.linalg.norm(A, 2), rel=1e-12, abs=1e-12)


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
