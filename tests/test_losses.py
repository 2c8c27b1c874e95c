"""The squared-error losses: values against their definitions, and the check_finite switch."""

import numpy as np
import pytest

from gradcourse import NonFiniteError, losses


def test_mse_last_step_raises_on_an_overflowing_loss_unless_told_not_to():
    y = np.array([[[1.0]], [[1e200]]])  # T = 2, B = 1: the last step's square overflows
    with pytest.raises(NonFiniteError, match="the loss overflowed to inf"):
        losses.mse_last_step(y, np.zeros((1, 1)))
    loss, dy = losses.mse_last_step(y, np.zeros((1, 1)), check_finite=False)
    assert loss == np.inf and dy[:, 0, 0].tolist() == [0.0, 1e200]
    # an infinite output is no error in itself: it is the loss that is checked
    loss, _ = losses.mse_last_step(np.array([[[np.inf]], [[2.0]]]), np.zeros((1, 1)))
    assert loss == 2.0


def test_mse_last_step_names_its_arguments():
    with pytest.raises(ValueError, match="y must be a real numeric array"):
        losses.mse_last_step("abc", np.zeros((1, 1)))
    with pytest.raises(ValueError, match=r"y must have shape \(M\.\.\., T, B, n\) with 0 model axes, got shape \(2, 3, 1, 1\)"):
        losses.mse_last_step(np.zeros((2, 3, 1, 1)), np.zeros((1, 1)))


def test_mse_raises_on_an_overflowing_loss_by_default_and_checks_its_arguments():
    y = np.array([[1e200], [0.0]])
    with pytest.raises(NonFiniteError, match="the loss overflowed to inf"):
        losses.mse(y, np.zeros((2, 1)))
    loss, dy = losses.mse(y, np.zeros((2, 1)), check_finite=False)
    assert loss == np.inf and dy.tolist() == [[5e199], [0.0]]
    with pytest.raises(ValueError, match="y must be a real numeric array"):
        losses.mse("abc", np.zeros((2, 1)))
    with pytest.raises(ValueError, match="y_target must be finite"):
        losses.mse(y, np.full((2, 1), np.nan))
    for bad in (1.5, True, -1):
        with pytest.raises(ValueError, match="model_ndim must be an integer >= 0"):
            losses.mse(np.zeros((2, 3, 1)), np.zeros((3, 1)), model_ndim=bad)
