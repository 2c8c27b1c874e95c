import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from gradcourse import NonFiniteError, clipping

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
grad_dicts = st.dictionaries(
    st.sampled_from(["W_xh", "W_hh", "b_h", "W_hy", "b_y"]),
    arrays(np.float64, array_shapes(min_dims=1, max_dims=2, max_side=5), elements=finite),
    min_size=1,
)
thresholds = st.floats(1e-3, 1e3)


def copy(grads):
    return {k: v.copy() for k, v in grads.items()}


@given(grad_dicts, thresholds)
@settings(max_examples=200, deadline=None)
def test_norm_clipping_caps_the_norm_and_keeps_the_direction(grads, h):
    before = copy(grads)
    clipped, norm = clipping.clip_by_global_norm(grads, max_norm=h)
    assert all(np.array_equal(grads[k], before[k]) for k in grads)  # pure
    assert norm == pytest.approx(np.sqrt(sum(np.sum(v**2) for v in grads.values())), rel=1e-12)
    assert clipping.global_norm(clipped) == pytest.approx(min(norm, h), rel=1e-9, abs=1e-300)
    scale = min(1.0, h / norm) if norm > 0 else 1.0
    for k in grads:  # one common non-negative factor: the direction is unchanged
        np.testing.assert_allclose(clipped[k], scale * grads[k], rtol=1e-12)


@given(grad_dicts, thresholds)
@settings(max_examples=200, deadline=None)
def test_norm_clipping_is_idempotent(grads, h):
    once, _ = clipping.clip_by_global_norm(grads, max_norm=h)
    twice, _ = clipping.clip_by_global_norm(once, max_norm=h)
    for k in grads:
        np.testing.assert_allclose(twice[k], once[k], rtol=1e-12)


@given(grad_dicts, thresholds)
@settings(max_examples=200, deadline=None)
def test_value_clipping_bounds_every_component_and_keeps_small_ones(grads, c):
    before = copy(grads)
    clipped = clipping.clip_by_value(grads, clip_value=c)
    assert all(np.array_equal(grads[k], before[k]) for k in grads)
    for k, g in grads.items():
        assert np.all(np.abs(clipped[k]) <= c)
        inside = np.abs(g) <= c
        np.testing.assert_array_equal(clipped[k][inside], g[inside])
        np.testing.assert_array_equal(np.sign(clipped[k]), np.sign(g))
    again = clipping.clip_by_value(clipped, clip_value=c)
    assert all(np.array_equal(again[k], clipped[k]) for k in grads)


@given(grad_dicts)
@settings(max_examples=100, deadline=None)
def test_sign_keeps_only_the_sign(grads):
    signs = clipping.sign(grads)
    for k, g in grads.items():
        np.testing.assert_array_equal(signs[k], np.sign(g))
        assert set(np.unique(signs[k])) <= {-1.0, 0.0, 1.0}


def test_value_clipping_changes_the_direction_and_norm_clipping_does_not():
    g = {"g": np.array([3.0, 0.5])}
    by_value = clipping.clip_by_value(g, 1.0)["g"]
    by_norm, _ = clipping.clip_by_global_norm(g, 1.0)
    cosine = lambda u: u @ g["g"] / (np.linalg.norm(u) * np.linalg.norm(g["g"]))
    assert cosine(by_value) < 0.97  # (1, 0.5) against (3, 0.5): about 0.93
    assert cosine(by_norm["g"]) == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_gradients_raise_with_the_switch(bad):
    grads = {"a": np.array([1.0, bad]), "b": np.ones(2)}
    with pytest.raises(NonFiniteError, match=r"grads\['a'\] has 1 NaN or inf entries of 2"):
        clipping.clip_by_global_norm(grads, 1.0, error_if_nonfinite=True)
    with pytest.raises(NonFiniteError):
        clipping.clip_by_value(grads, 1.0, error_if_nonfinite=True)
    with pytest.raises(NonFiniteError):
        clipping.sign(grads, error_if_nonfinite=True)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nonfinite_gradients_are_reported_and_never_made_finite(bad):
    grads = {"a": np.array([1.0, bad]), "b": np.ones(2)}
    clipped, norm = clipping.clip_by_global_norm(grads, 1.0)
    assert not np.isfinite(norm)  # the report
    assert not np.isfinite(clipped["a"][1]) and clipped["a"][0] == 1.0
    assert not np.isfinite(clipping.clip_by_value(grads, 1.0)["a"][1])
    assert not np.isfinite(clipping.sign(grads)["a"][1])


def test_overflowing_norm_of_finite_entries_is_reported_or_raises():
    grads = {"a": np.array([1e200, 1e200])}
    _, norm = clipping.clip_by_global_norm(grads, 1.0)
    assert norm == np.inf
    with pytest.raises(NonFiniteError, match="global norm of the gradients overflowed"):
        clipping.clip_by_global_norm(grads, 1.0, error_if_nonfinite=True)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="max_norm must be a finite number > 0"):
        clipping.clip_by_global_norm({"a": np.ones(2)}, 0.0)
    with pytest.raises(ValueError, match="clip_value must be a finite number > 0"):
        clipping.clip_by_value({"a": np.ones(2)}, -1.0)
    with pytest.raises(ValueError, match="grads must be a non-empty dict"):
        clipping.global_norm([np.ones(2)])
