import math

import numpy as np
import pytest

from gradcourse import exercises


def step_jacobian_reference(W_hh, a_t, f_prime):
    return f_prime(a_t)[:, None] * W_hh


def state_jacobian_reference(W_hh, a, f_prime):
    P = np.eye(len(W_hh))
    for a_i in a:
        P = step_jacobian_reference(W_hh, a_i, f_prime) @ P
    return P


def test_step_checker_accepts_the_reference():
    feedback = exercises.check_step_jacobian(step_jacobian_reference)
    assert feedback.passed and bool(feedback)
    assert feedback.message.startswith("Correct")


def test_step_checker_names_the_wrong_order():
    feedback = exercises.check_step_jacobian(lambda W, a, fp: W @ np.diag(fp(a)))
    assert not feedback
    assert "wrong order" in feedback.message


def test_step_checker_names_a_missing_derivative_and_a_transpose():
    assert "f'(a_t) is missing" in exercises.check_step_jacobian(lambda W, a, fp: W).message
    assert "transpose" in exercises.check_step_jacobian(lambda W, a, fp: (fp(a)[:, None] * W).T).message


def test_step_checker_reports_shape_exceptions_and_nan():
    assert "expected an array of shape (1, 1), got shape (1,)" in exercises.check_step_jacobian(
        lambda W, a, fp: fp(a)
    ).message
    assert "raised ZeroDivisionError" in exercises.check_step_jacobian(lambda W, a, fp: 1 / 0).message
    assert "NaN or inf" in exercises.check_step_jacobian(lambda W, a, fp: W * np.nan).message


def test_step_checker_points_at_the_wrong_entry_otherwise():
    feedback = exercises.check_step_jacobian(lambda W, a, fp: 2 * step_jacobian_reference(W, a, fp))
    assert not feedback and "entry [0, 0] got" in feedback.message


def test_state_checker_accepts_the_reference():
    assert exercises.check_state_jacobian(state_jacobian_reference)


def test_state_checker_names_the_reversed_product():
    def reversed_order(W_hh, a, f_prime):
        P = np.eye(len(W_hh))
        for a_i in a:
            P = P @ step_jacobian_reference(W_hh, a_i, f_prime)
        return P

    feedback = exercises.check_state_jacobian(reversed_order)
    assert not feedback and "wrong order" in feedback.message


def test_state_checker_wants_the_identity_for_no_steps():
    def forgets_empty(W_hh, a, f_prime):
        return state_jacobian_reference(W_hh, a, f_prime) if len(a) else np.zeros_like(W_hh)

    feedback = exercises.check_state_jacobian(forgets_empty)
    assert not feedback and "t-k=0" in feedback.message


def test_state_checker_rejects_the_bare_matrix_power():
    feedback = exercises.check_state_jacobian(lambda W, a, fp: np.linalg.matrix_power(W, len(a)))
    assert not feedback


def test_steps_to_shrink_accepts_the_closed_form_answer():
    k = math.ceil(math.log(1e-6) / math.log(0.9))  # closed form, checked against the multiplying checker
    assert exercises.check_steps_to_shrink(k)
    assert exercises.check_steps_to_shrink(float(k))


@pytest.mark.parametrize(
    "answer, hint",
    [(131, "One more step"), (100, "still above"), (140, "more than needed"), (131.1, "not a whole number"),
     ("132", "must be a number"), (True, "must be a number"), (np.nan, "must be a number")],
)
def test_steps_to_shrink_rejects_wrong_answers_with_a_hint(answer, hint):
    feedback = exercises.check_steps_to_shrink(answer)
    assert not feedback and hint in feedback.message


def unstable_half_width_reference(w):
    # sigma'(a) = 1 / (4 cosh^2(a / 2)), so |w| sigma'(a) > 1  <=>  cosh(a / 2) < sqrt(|w|) / 2
    return 2 * np.arccosh(np.sqrt(abs(w)) / 2) if abs(w) > 4 else 0.0


def test_unstable_half_width_accepts_the_closed_form():
    assert exercises.check_unstable_half_width(unstable_half_width_reference)


def test_unstable_half_width_names_common_mistakes():
    full_width = exercises.check_unstable_half_width(lambda w: 2 * unstable_half_width_reference(w))
    assert not full_width and "full width" in full_width.message
    no_abs = exercises.check_unstable_half_width(lambda w: unstable_half_width_reference(w) if w > 0 else 0.0)
    assert not no_abs and "negative weight" in no_abs.message
    crash = exercises.check_unstable_half_width(lambda w: 2 * np.arccosh(np.sqrt(w) / 2))
    assert not crash and "NaN or inf" in crash.message  # arccosh of < 1, sqrt of w < 0


def power_iteration_reference(A, n_iter=500):
    v = np.random.default_rng(0).normal(size=A.shape[1])
    for _ in range(n_iter):
        v = A.T @ (A @ v)
        v /= np.linalg.norm(v)
    return v


def test_largest_singular_value_accepts_power_iteration():
    assert exercises.check_largest_singular_value(lambda A: np.linalg.norm(A @ power_iteration_reference(A)))


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda A: np.abs(np.linalg.eigvals(A)).max() if A.shape[0] == A.shape[1] else 0.0, "spectral radius"),
        (lambda A: np.linalg.norm(A), "Frobenius"),
        (lambda A: np.linalg.norm(A @ power_iteration_reference(A)) ** 2, "square of the singular value"),
        (lambda A: np.linalg.svd(A, compute_uv=False), "expected an array of shape ()"),
    ],
)
def test_largest_singular_value_names_the_mistake(wrong, hint):
    feedback = exercises.check_largest_singular_value(wrong)
    assert not feedback and hint in feedback.message


def test_most_stretched_direction_accepts_either_sign():
    assert exercises.check_most_stretched_direction(lambda A: power_iteration_reference(A))
    assert exercises.check_most_stretched_direction(lambda A: -np.linalg.svd(A)[2][0])


def test_most_stretched_direction_names_the_mistakes():
    left = exercises.check_most_stretched_direction(lambda A: np.linalg.svd(A)[0][:, 0])
    assert not left and "top left singular vector" in left.message
    unnormalised = exercises.check_most_stretched_direction(lambda A: 3 * np.linalg.svd(A)[2][0])
    assert not unnormalised and "return a unit vector" in unnormalised.message
    smallest = exercises.check_most_stretched_direction(lambda A: np.linalg.svd(A)[2][-1])
    assert not smallest


def test_stable_sigmoid_accepts_the_course_sigmoid():
    from gradcourse.activations import sigmoid

    assert exercises.check_stable_sigmoid(sigmoid)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda a: 1 / (1 + np.exp(-a)), "warned: overflow"),
        (lambda a: 1 / (1 - np.exp(-a)), "Check the sign"),
        (lambda a: 1 / (1 + np.exp(-np.clip(a, -500, 500))), "came out as"),
        (lambda a: 1 / (1 + math.exp(-a)), "raised TypeError"),
        (lambda a: (1 / (1 + np.exp(-np.abs(a)))), "came out as"),
    ],
)
def test_stable_sigmoid_rejects_wrong_versions(wrong, hint):
    feedback = exercises.check_stable_sigmoid(wrong)
    assert not feedback and hint in feedback.message


def add_identity_layers_reference(params, k):
    L = len(params) // 2
    new = {key: value.copy() for key, value in params.items() if key not in (f"W{L}", f"b{L}")}
    n = params[f"W{L}"].shape[1]
    for j in range(k):
        new[f"W{L + j}"], new[f"b{L + j}"] = np.eye(n), np.zeros(n)
    new[f"W{L + k}"], new[f"b{L + k}"] = params[f"W{L}"].copy(), params[f"b{L}"].copy()
    return new


def test_identity_layers_accepts_the_reference():
    assert exercises.check_add_identity_layers(add_identity_layers_reference)


def test_identity_layers_rejects_insertion_before_the_first_layer():
    def at_the_input(params, k):
        L = len(params) // 2
        n = params["W1"].shape[1]
        new = {f"W{j}": np.eye(n) for j in range(1, k + 1)} | {f"b{j}": np.zeros(n) for j in range(1, k + 1)}
        for l in range(1, L + 1):
            new[f"W{l + k}"], new[f"b{l + k}"] = params[f"W{l}"].copy(), params[f"b{l}"].copy()
        return new

    feedback = exercises.check_add_identity_layers(at_the_input)
    assert not feedback and "only on vectors with no negative entries" in feedback.message


def test_identity_layers_rejects_modifying_the_input_and_wrong_counts():
    def in_place(params, k):
        new = add_identity_layers_reference(params, k)
        params["W1"] *= 1.0 + 1e-3
        return new

    assert "input params were modified" in exercises.check_add_identity_layers(in_place).message
    too_few = exercises.check_add_identity_layers(lambda p, k: add_identity_layers_reference(p, k - 1))
    assert not too_few and "expected" in too_few.message and "layers" in too_few.message


def test_clip_checker_accepts_the_course_function():
    from gradcourse.clipping import clip_by_global_norm

    assert exercises.check_clip_by_global_norm(lambda g, h: clip_by_global_norm(g, h)[0])


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda g, h: {k: v * min(1.0, h / np.linalg.norm(v)) for k, v in g.items()}, "clipped on its own"),
        (lambda g, h: {k: v * h / np.sqrt(sum(np.sum(u**2) for u in g.values())) for k, v in g.items()}, "already below"),
        (lambda g, h: {k: np.clip(v, -h, h) for k, v in g.items()}, "direction changed"),
        (lambda g, h: {k: v / global_norm(g) * min(global_norm(g), h) for k, v in g.items()}, "Guard the division"),
    ],
)
def test_clip_checker_names_the_mistake(wrong, hint):
    feedback = exercises.check_clip_by_global_norm(wrong)
    assert not feedback and hint in feedback.message


def test_clip_checker_rejects_in_place_modification():
    def in_place(grads, h):
        norm = np.sqrt(sum(np.sum(v**2) for v in grads.values()))
        for v in grads.values():
            v *= min(1.0, h / norm) if norm else 1.0
        return grads

    feedback = exercises.check_clip_by_global_norm(in_place)
    assert not feedback and "input gradients were modified" in feedback.message


def global_norm(grads):
    return np.sqrt(sum(np.sum(v**2) for v in grads.values()))


def test_orthogonal_checker_accepts_qr_and_rejects_lookalikes():
    def qr(n, rng):
        Q, R = np.linalg.qr(rng.normal(size=(n, n)))
        return Q * np.sign(np.diag(R))

    assert exercises.check_orthogonal(qr)
    assert "not perpendicular" in exercises.check_orthogonal(
        lambda n, rng: (lambda W: W / np.linalg.norm(W, axis=0))(rng.normal(size=(n, n)))).message
    assert "singular values range" in exercises.check_orthogonal(lambda n, rng: rng.normal(size=(n, n)) / np.sqrt(n)).message
    assert "draw it from rng" in exercises.check_orthogonal(lambda n, rng: np.eye(n)).message
    assert "expected shape" in exercises.check_orthogonal(lambda n, rng: np.linalg.qr(rng.normal(size=(n + 1, n)))[0]).message


def test_state_checker_hints_at_the_identity_when_the_empty_product_fails():
    from functools import reduce

    def by_reduce(W_hh, a, f_prime):
        return reduce(lambda P, a_i: step_jacobian_reference(W_hh, a_i, f_prime) @ P,
                      a[1:], step_jacobian_reference(W_hh, a[0], f_prime))

    feedback = exercises.check_state_jacobian(by_reduce)
    assert not feedback and "start the product from the identity" in feedback.message


def test_largest_singular_value_rejects_a_fixed_start_that_misses_v1():
    def ones_start(A, n_iter=500):
        v = np.ones(A.shape[1])
        for _ in range(n_iter):
            v = A.T @ (A @ v)
            v /= np.linalg.norm(v)
        return np.linalg.norm(A @ v)

    assert not exercises.check_largest_singular_value(ones_start)


def test_frobenius_diagnosis_only_where_it_is_clearly_apart():
    def brute_force(A):
        theta = np.linspace(0, np.pi, 361)
        if A.shape[1] != 2:
            return np.linalg.svd(A, compute_uv=False)[0]
        return np.linalg.norm(A @ np.stack([np.cos(theta), np.sin(theta)]), axis=0).max()

    feedback = exercises.check_largest_singular_value(brute_force)
    assert not feedback and "Frobenius" not in feedback.message


def test_most_stretched_direction_names_the_column_of_vt():
    feedback = exercises.check_most_stretched_direction(lambda A: np.linalg.svd(A)[2][:, 0])
    assert not feedback and "first column of the SVD's Vt" in feedback.message


def test_unstable_half_width_hints():
    no_guard = exercises.check_unstable_half_width(lambda w: 2 * np.arccosh(np.sqrt(abs(w)) / 2))
    assert not no_guard and "return 0.0" in no_guard.message
    half = exercises.check_unstable_half_width(lambda w: np.arccosh(np.sqrt(abs(w)) / 2) if abs(w) > 4 else 0.0)
    assert not half and "needs the factor 2" in half.message


@pytest.mark.parametrize("drop, hint", [(slice(None, -1), "J_t, the Jacobian of the last step"),
                                        (slice(1, None), "J_{k+1}, the Jacobian of the first step")])
def test_state_checker_names_a_missing_jacobian(drop, hint):
    feedback = exercises.check_state_jacobian(lambda W, a, fp: state_jacobian_reference(W, a[drop], fp))
    assert not feedback and hint in feedback.message
