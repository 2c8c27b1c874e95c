import math

import numpy as np
import pytest

from gradcourse import jacobians, losses, products, rnn, stacking


def _unit(n, i=0):
    v = np.zeros(n)
    v[i] = 1.0
    return v


@pytest.mark.parametrize("g", [0.5, 1.0, 2.0])
def test_independent_layers_multiply_the_mean_square_by_g_squared(g):
    """E ||W_k ... W_1 v||^2 = g^(2k) ||v||^2 exactly. Each factor ||W u||^2 / g^2 of a unit u
    is chi^2_n / n, with mean 1 and second moment 1 + 2/n, so the product over k layers has
    variance (1 + 2/n)^k - 1 (times g^(4k)): the tolerance is 5 standard errors of the mean."""
    n, S, k = 8, 20_000, 10
    rng = np.random.default_rng(1)
    layers = (products.gaussian_matrices(n, g=g, rng=rng, size=S) for _ in range(k))
    trace = products.product_trace(layers, _unit(n))
    squares = np.exp(2 * trace.log_norms) / g ** (2 * np.arange(k + 1))[:, None]
    for j in range(1, k + 1):
        standard_error = math.sqrt(((1 + 2 / n) ** j - 1) / S)
        assert abs(squares[j].mean() - 1) < 5 * standard_error, j


def test_one_shared_matrix_has_mean_square_1_plus_2_over_n_squared_at_depth_2():
    """Pairing the four Gaussian factors of ||W W v||^2 (Wick): E = (1 + 2/n^2) ||v||^2 for
    entries N(0, 1/n); the independent product has 1. Tolerance: 5 standard errors."""
    n, S = 3, 200_000
    W = products.gaussian_matrices(n, g=1.0, rng=np.random.default_rng(2), size=S)
    squares = np.exp(2 * products.product_trace([W, W], _unit(n)).log_norms[2])
    assert abs(squares.mean() - (1 + 2 / n**2)) < 5 * squares.std() / math.sqrt(S)


def test_gaussian_matrices_have_the_stated_variance():
    W = products.gaussian_matrices(50, g=3.0, rng=np.random.default_rng(0), size=(4, 5))
    assert W.shape == (4, 5, 50, 50)
    # 50 000 entries: the sample variance is within 2% of 9/50 (its relative sd is 0.6%)
    assert W.var() == pytest.approx(9 / 50, rel=0.02)


def _eigen_power(W, v, k):
    """W^k v from the eigendecomposition W = V diag(lam) V^-1, as (ln of |lam_1|^k, the rest)."""
    lam, V = np.linalg.eig(W)
    c = np.linalg.solve(V, v)
    top = np.abs(lam).max()
    rest = (V @ ((lam / top) ** k * c)).real
    return k * np.log(top), rest


@pytest.mark.parametrize("rho", [0.7, 1.0, 1.5])
def test_powers_of_one_matrix_agree_with_its_eigendecomposition(rho):
    rng = np.random.default_rng(3)
    W = rng.normal(size=(6, 6))
    W *= rho / np.abs(np.linalg.eigvals(W)).max()
    v = rng.normal(size=6)
    trace = products.product_trace([W] * 2000, v)
    for k in (0, 1, 5, 50, 2000):  # 1.5^2000 is far beyond float64
        log_top, rest = _eigen_power(W, v, k)
        assert trace.log_norms[k] == pytest.approx(log_top + np.log(np.linalg.norm(rest)), abs=1e-9 * (1 + k))
        np.testing.assert_allclose(trace.directions[k], rest / np.linalg.norm(rest), atol=1e-8)
    # the growth rate per step tends to the spectral radius (Gelfand)
    assert (trace.log_norms[2000] - trace.log_norms[1000]) / 1000 == pytest.approx(np.log(rho), abs=1e-3)


def test_trace_follows_the_explicit_product_of_different_matrices():
    rng = np.random.default_rng(4)
    layers = [rng.normal(size=(3, 5, 5)) for _ in range(6)]  # three models
    v = rng.normal(size=(3, 5))
    trace = products.product_trace(layers, v)
    x = v
    for j, M in enumerate(layers, start=1):
        x = np.einsum("mij,mj->mi", M, x)
        np.testing.assert_allclose(np.exp(trace.log_norms[j]), np.linalg.norm(x, axis=1), rtol=1e-12)
        np.testing.assert_allclose(trace.directions[j], x / np.linalg.norm(x, axis=1)[:, None], atol=1e-12)
    assert trace.log_norms.shape == (7, 3) and trace.directions.shape == (7, 3, 5)


def test_trace_broadcasts_one_vector_over_models_and_survives_any_scale():
    layers = [np.stack([1e-200 * np.eye(2), 1e200 * np.eye(2)])] * 4
    with np.errstate(all="raise"):
        trace = products.product_trace(layers, [3.0, 4.0])
    np.testing.assert_allclose(trace.log_norms[4], np.log(5) + 4 * np.log([1e-200, 1e200]), rtol=1e-13)
    np.testing.assert_allclose(trace.directions[4], [[0.6, 0.8], [0.6, 0.8]], rtol=1e-13)


def test_a_product_that_is_exactly_zero_gives_minus_infinity():
    nilpotent = np.array([[0.0, 1.0], [0.0, 0.0]])
    trace = products.product_trace([nilpotent] * 3, [0.0, 2.0])
    assert trace.log_norms.tolist() == [np.log(2), np.log(2), -np.inf, -np.inf]
    assert trace.directions[3].tolist() == [0.0, 0.0]


def test_alignment_of_a_symmetric_matrix_is_the_cosine_with_its_top_eigenvector():
    rng = np.random.default_rng(5)
    Q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    W = Q @ np.diag([-4.0, 2.0, 1.0, 0.5, 0.1]) @ Q.T
    u = rng.normal(size=(7, 5))
    want = np.abs(u @ Q[:, 0]) / np.linalg.norm(u, axis=1)
    np.testing.assert_allclose(products.dominant_alignment(W, u), want, rtol=1e-10)
    np.testing.assert_allclose(products.dominant_alignment(3 * W, u), want, rtol=1e-10)  # scale-free


def test_alignment_with_a_complex_pair_is_the_projection_on_its_plane():
    rng = np.random.default_rng(6)
    Q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    block = np.array([[1.0, -2.0, 0, 0], [2.0, 1.0, 0, 0], [0, 0, 0.5, 0], [0, 0, 0, -1.0]])  # 1 +- 2i first
    W = Q @ block @ Q.T
    u = rng.normal(size=4)
    want = np.linalg.norm(Q[:, :2].T @ u) / np.linalg.norm(u)
    assert products.dominant_alignment(W, u) == pytest.approx(want, rel=1e-10)


def test_random_directions_have_the_documented_root_mean_squares_and_medians():
    """For n = 32: rms sqrt(1/n) and sqrt(2/n); medians about 0.12 (a line) and 0.21 (a plane)."""
    n = 32
    line = np.diag(np.arange(n, 0, -1.0))  # a real dominant eigenvalue: a line
    plane = line.copy()
    plane[:2, :2] = [[n, -n], [n, n]]  # n +- n i first: a plane
    u = np.random.default_rng(8).normal(size=(40_000, n))
    for W, rms, median in ((line, math.sqrt(1 / n), 0.12), (plane, math.sqrt(2 / n), 0.21)):
        share = products.dominant_alignment(W, u)
        assert math.sqrt(np.mean(share**2)) == pytest.approx(rms, rel=0.01)
        assert np.median(share) == pytest.approx(median, abs=0.005)
    # in a plane the share squared is Beta(1, n/2 - 1), whose median has a closed form
    assert np.median(products.dominant_alignment(plane, u)) == pytest.approx(
        math.sqrt(1 - 2 ** (-2 / (n - 2))), abs=0.003)


def test_powers_turn_into_the_dominant_direction_and_random_layers_do_not():
    n, S = 16, 400
    rng = np.random.default_rng(7)
    W = products.gaussian_matrices(n, g=1.0, rng=rng, size=S)
    v = rng.normal(size=(S, n))
    shared = products.product_trace([W] * 400, v).directions
    independent = products.product_trace([W] + [products.gaussian_matrices(n, g=1.0, rng=rng, size=S)
                                                 for _ in range(399)], v).directions
    assert np.median(products.dominant_alignment(W, shared[400])) > 0.99
    # a random unit vector has E ||Q^T u||^2 = dim / n with dim 1 or 2: at most sqrt(2/n) on average
    assert np.sqrt(np.mean(products.dominant_alignment(W, independent[400]) ** 2)) < 1.2 * np.sqrt(2 / n)


def _models(scales, seeds, T=12, n_h=5):
    dicts = [rnn.init_params(2, n_h, 1, rng=np.random.default_rng(s), recurrent_scale=g)
             for g in scales for s in seeds]
    params = stacking.stack(dicts)
    x = np.random.default_rng(99).normal(size=(len(dicts), T, 1, 2))
    fwd = rnn.forward(params, x)
    _, dy = losses.mse(fwd.y, np.random.default_rng(98).normal(size=fwd.y.shape), model_ndim=1)
    return dicts, params, x, fwd, dy


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_signal_ratios_are_diagonals_of_the_contribution_map(activation):
    dicts, params, x, _, _ = _models((0.5, 1.0, 3.0), (0, 1))
    fwd = rnn.forward(params, x, activation=activation)
    _, dy = losses.mse(fwd.y, np.ones(fwd.y.shape[1:]), model_ndim=1)
    for d in (0, 1, 5, 11):
        ratios = products.signal_ratios(params, fwd, dy, d)
        assert ratios.shape == (6, 12 - d, 1)
        for m, p in enumerate(dicts):
            one = rnn.forward(p, x[m], activation=activation)
            G = jacobians.contribution_map(p, one, dy[m], wrt="h")
            np.testing.assert_allclose(ratios[m, :, 0], np.diagonal(G, -d) / np.diag(G)[d:], rtol=1e-10)


def test_signal_ratios_of_one_model_and_of_each_sequence_of_a_batch():
    p = rnn.init_params(1, 4, 2, rng=np.random.default_rng(0), recurrent_scale=2.0)
    x = np.random.default_rng(1).normal(size=(9, 3, 1))
    fwd = rnn.forward(p, x)
    _, dy = losses.mse(fwd.y, np.zeros_like(fwd.y))
    ratios = products.signal_ratios(p, fwd, dy, 4)
    assert ratios.shape == (5, 3)
    for b in range(3):
        one = rnn.forward(p, x[:, b : b + 1])
        G = jacobians.contribution_map(p, one, dy[:, b : b + 1], wrt="h")
        np.testing.assert_allclose(ratios[:, b], np.diagonal(G, -4) / np.diag(G)[4:], rtol=1e-10)
    np.testing.assert_allclose(products.signal_ratios(p, fwd, dy, 0), 1.0, rtol=1e-15)


def test_bad_input_is_a_clear_error():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        products.gaussian_matrices(0, g=1.0, rng=rng)
    with pytest.raises(ValueError, match="g must be a finite number > 0"):
        products.gaussian_matrices(3, g=-1.0, rng=rng)
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        products.gaussian_matrices(3, g=1.0, rng=0)
    with pytest.raises(ValueError, match="size must be an integer >= 0"):
        products.gaussian_matrices(3, g=1.0, rng=rng, size=2.5)
    with pytest.raises(ValueError, match="v must not be the zero vector"):
        products.product_trace([np.eye(2)], np.zeros(2))
    with pytest.raises(ValueError, match=r"layers\[1\] must have shape \(M..., 2, 2\)"):
        products.product_trace([np.eye(2), np.eye(3)], np.ones(2))
    with pytest.raises(ValueError, match=r"layers\[0\] must be finite"):
        products.product_trace([np.full((2, 2), np.nan)], np.ones(2))
    with pytest.raises(ValueError, match="layers must hold at least one matrix"):
        products.product_trace([], np.ones(2))
    with pytest.raises(ValueError, match="W must be square"):
        products.dominant_alignment(np.ones((2, 3)), np.ones(3))
    with pytest.raises(ValueError, match=r"u must have shape \(..., 2\)"):
        products.dominant_alignment(np.eye(2), np.ones(3))
    _, params, x, fwd, dy = _models((1.0,), (0,))
    for bad in (-1, 12, 2.0, True):
        with pytest.raises(ValueError, match="distance must be an integer from 0 to T - 1 = 11"):
            products.signal_ratios(params, fwd, dy, bad)
    with pytest.raises(ValueError, match="dy must have shape"):
        products.signal_ratios(params, fwd, dy[..., 1:, :, :], 1)
    other = {k: v.copy() for k, v in params.items()}
    other["W_hh"] = 2 * other["W_hh"]
    with pytest.raises(ValueError, match="fwd was computed with other parameters"):
        products.signal_ratios(other, fwd, dy, 1)
