import numpy as np
import pytest

from gradcourse import losses, rnn, tasks, train


def test_adding_problem_markers_and_targets():
    x, y = tasks.adding_problem(T=20, batch=500, rng=np.random.default_rng(0))
    markers = x[:, :, 1]
    assert np.all(markers.sum(axis=0) == 2)
    assert np.all(markers[:10].sum(axis=0) == 1) and np.all(markers[10:].sum(axis=0) == 1)
    np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * markers).sum(axis=0))
    assert np.all((x[:, :, 0] >= 0) & (x[:, :, 0] <= 1))


def test_adding_baseline_is_the_loss_of_predicting_the_mean():
    _, y = tasks.adding_problem(T=10, batch=200_000, rng=np.random.default_rng(1))
    assert 0.5 * np.mean((y - 1.0) ** 2) == pytest.approx(tasks.ADDING_BASELINE, rel=0.01)


def test_adding_problem_is_reproducible_and_checks_arguments():
    a = tasks.adding_problem(T=8, batch=3, rng=np.random.default_rng(5))
    b = tasks.adding_problem(T=8, batch=3, rng=np.random.default_rng(5))
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    with pytest.raises(ValueError, match="T must be at least 2"):
        tasks.adding_problem(T=1, batch=3, rng=np.random.default_rng(0))


def test_last_step_loss_matches_full_loss_on_the_last_step():
    rng = np.random.default_rng(2)
    y, target = rng.normal(size=(5, 4, 1)), rng.normal(size=(4, 1))
    loss, dy = losses.mse_last_step(y, target)
    assert loss == pytest.approx(0.5 * np.mean(np.sum((y[-1] - target) ** 2, axis=1)))
    assert np.all(dy[:-1] == 0)
    np.testing.assert_allclose(dy[-1], (y[-1] - target) / 4)


def small_task(rng):
    return tasks.adding_problem(T=10, batch=16, rng=rng)


@pytest.mark.parametrize("method, threshold", [("sgd", None), ("clip_norm", 1.0), ("clip_value", 0.1), ("sign", None)])
def test_training_records_every_step_and_leaves_params_alone(method, threshold):
    params = rnn.init_params(2, 8, 1, rng=np.random.default_rng(0))
    before = {k: v.copy() for k, v in params.items()}
    history = train.train_rnn(params, small_task, steps=30, lr=0.01, rng=np.random.default_rng(1),
                              method=method, threshold=threshold)
    assert history.stopped == "" and len(history.losses) == 30 == len(history.grad_norms)
    assert all(np.array_equal(params[k], before[k]) for k in params)
    assert any(not np.array_equal(history.params[k], before[k]) for k in params)


def test_first_loss_and_norm_are_those_of_the_initial_parameters():
    params = rnn.init_params(2, 8, 1, rng=np.random.default_rng(0))
    history = train.train_rnn(params, small_task, steps=3, lr=0.1, rng=np.random.default_rng(7))
    x, y = small_task(np.random.default_rng(7))
    fwd = rnn.forward(params, x)
    loss, dy = losses.mse_last_step(fwd.y, y)
    grads = rnn.backward(params, x, fwd, dy)
    assert history.losses[0] == loss
    assert history.grad_norms[0] == pytest.approx(np.sqrt(sum(np.sum(g**2) for g in grads.values())))


def test_norm_clipping_caps_every_update():
    params = rnn.init_params(2, 8, 1, rng=np.random.default_rng(0), recurrent_scale=3.0)
    lr, h = 0.05, 0.01
    history = train.train_rnn(params, small_task, steps=1, lr=lr, rng=np.random.default_rng(1),
                              method="clip_norm", threshold=h)
    step = np.sqrt(sum(np.sum((history.params[k] - params[k]) ** 2) for k in params))
    assert step == pytest.approx(lr * min(h, history.grad_norms[0]), rel=1e-9)


def test_divergence_stops_with_a_message_and_keeps_the_record():
    params = rnn.init_params(2, 16, 1, rng=np.random.default_rng(0), recurrent_scale=2.0)
    history = train.train_rnn(params, small_task, steps=2000, lr=5.0, rng=np.random.default_rng(1))
    assert history.stopped.startswith("stopped at step")
    assert len(history.losses) == int(history.stopped.split()[3].rstrip(":"))
    assert np.all(np.isfinite(history.losses)) and np.all(np.isfinite(history.grad_norms))


def test_bad_arguments_are_clear_errors():
    params = rnn.init_params(2, 4, 1, rng=np.random.default_rng(0))
    kw = dict(steps=1, lr=0.1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="method must be one of"):
        train.train_rnn(params, small_task, method="adam", **kw)
    with pytest.raises(ValueError, match="threshold is required"):
        train.train_rnn(params, small_task, method="clip_norm", **kw)
    with pytest.raises(ValueError, match="threshold is required"):
        train.train_rnn(params, small_task, method="sgd", threshold=1.0, **kw)


def test_training_an_lstm_learns_a_short_adding_problem():
    from gradcourse import lstm

    params = lstm.init_params(2, 8, 1, rng=np.random.default_rng(0))
    task = lambda rng: tasks.adding_problem(T=5, batch=32, rng=rng)
    history = train.train_rnn(params, task, steps=400, lr=0.5, rng=np.random.default_rng(1),
                              method="clip_norm", threshold=1.0, model="lstm")
    assert history.stopped == ""
    assert np.mean(history.losses[-50:]) < 0.5 * tasks.ADDING_BASELINE


def test_unknown_model_is_a_clear_error():
    params = rnn.init_params(2, 4, 1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="model must be 'rnn' or 'lstm'"):
        train.train_rnn(params, small_task, steps=1, lr=0.1, rng=np.random.default_rng(0), model="gru")
