"""Sliders that redraw a chapter's figure: the same figure as the static one, and none stored."""

import json
import sys
import types
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from gradcourse import activations, explore, jacobians, mlp, rnn, scalar, spectral  # noqa: E402

ROOT = Path(__file__).parents[1]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _lines(fig):
    """(label, x, y) of every line of every panel of ``fig``."""
    return [(line.get_label(), line.get_xdata(), line.get_ydata()) for ax in fig.axes for line in ax.get_lines()]


def _same_drawing(fig_a, fig_b):
    a, b = _lines(fig_a), _lines(fig_b)
    return len(a) == len(b) and all(la == lb and np.array_equal(xa, xb) and np.array_equal(ya, yb)
                                    for (la, xa, ya), (lb, xb, yb) in zip(a, b))


# ---------------------------------------------------------------------------------------------
# Chapter 2: powers of a factor.
# ---------------------------------------------------------------------------------------------


def test_the_powers_figure_draws_the_products_of_equal_factors():
    fig = explore.draw_powers(None, 200)
    lines = _lines(fig)
    assert [label for label, _, _ in lines] == [rf"$\gamma = {g:g}$" for g in explore.GAMMAS]
    for g, (_, k, y) in zip(explore.GAMMAS, lines):
        # a second method: multiply one factor at a time (clipped where the figure clips)
        products = np.r_[1.0, scalar.running_products(np.full(200, g))]
        assert np.array_equal(k, np.arange(201))
        np.testing.assert_allclose(y, np.clip(products, 1e-40, 1e40), rtol=1e-12)


def test_the_chosen_factor_is_drawn_last_in_black_and_not_twice():
    fig = explore.draw_powers(0.99, 1000)
    labels = [label for label, _, _ in _lines(fig)]
    assert labels[-1] == r"$\gamma = 0.99$ (chosen)" and r"$\gamma = 0.99$" not in labels
    line = fig.axes[0].get_lines()[-1]
    assert line.get_color() == "black"
    assert line.get_ydata()[-1] == pytest.approx(np.prod(np.full(1000, 0.99)), rel=1e-12)


def test_without_sliders_the_explorer_draws_the_static_figure_and_prints_the_product(capsys):
    assert explore.explore_powers(gamma=0.99, steps=1000, sliders=False) is None
    shown = plt.gcf()
    assert _same_drawing(shown, explore.draw_powers(0.99, 1000))
    out = capsys.readouterr().out
    assert out == "gamma^1000 = 4.32e-05 for gamma = 0.99, which halves every 69 steps\n"


def test_outside_a_notebook_front_end_no_slider_is_shown():
    assert explore.interactive_frontend() is False
    assert explore.explore_powers() is None  # sliders=None: decided by the front end


@pytest.fixture
def shown(monkeypatch):
    """What the explorers display, instead of displaying it."""
    pytest.importorskip("ipywidgets")
    displayed = []
    monkeypatch.setattr("IPython.display.display", displayed.append)
    return displayed


def test_the_sliders_start_at_the_defaults_and_redraw_what_they_are_set_to(shown):
    assert explore.explore_powers(gamma=0.99, steps=1000, gamma_range=(0.5, 2.0), steps_range=(10, 2000),
                                  sliders=True) is None
    (panel,) = shown
    gamma, steps = panel.kwargs_widgets
    assert (gamma.value, steps.value) == (0.99, 1000)
    assert 10**gamma.min == pytest.approx(0.5) and 10**gamma.max == pytest.approx(2.0)
    assert (steps.min, steps.max) == (10, 2000)
    plt.close("all")
    gamma.value, steps.value = 1.1, 300
    panel.update()
    assert _same_drawing(plt.gcf(), explore.draw_powers(1.1, 300))


@pytest.mark.parametrize("kwargs, words", [
    ({"gamma_range": (2.0, 0.5)}, "low < high"),
    ({"gamma_range": (1.0, 2.0)}, "must lie in gamma_range"),
    ({"gamma_range": (-1.0, 2.0)}, "gamma_range[0] must be a finite number > 0"),
    ({"gamma_range": 0.5}, "must be a pair"),
    ({"steps_range": (10, 500)}, "must lie in steps_range"),
    ({"steps_range": (0, 2000)}, "steps_range[0] must be a positive integer"),
    ({"steps_range": (10.5, 2000)}, "steps_range[0] must be a positive integer"),
    ({"gamma": 0.0}, "gamma must be a finite number > 0"),
    ({"sliders": "yes"}, "sliders must be True or False"),
])
def test_bad_slider_ranges_raise_value_errors_naming_the_argument(kwargs, words):
    with pytest.raises(ValueError) as err:
        explore.explore_powers(**kwargs)
    assert words in str(err.value)


# ---------------------------------------------------------------------------------------------
# Chapter 5: the signals over the layers.
# ---------------------------------------------------------------------------------------------

DATA_RNG = np.random.default_rng(2)
X, Y = DATA_RNG.normal(size=(32, 5)), DATA_RNG.normal(size=(32, 1))


def _signals_by_hand(activation, std, depth, width, seed):
    """RMS of h_{l-1} and delta_l of one network, with backpropagation written out here."""
    p = mlp.init_params([X.shape[1]] + [width] * depth + [1], rng=np.random.default_rng(seed), scheme="normal",
                        std=std)
    f, f_prime = activations.get(activation)
    h, a_list, hs = X, [], [X]
    for l in range(1, depth + 2):
        a = h @ p[f"W{l}"].T + p[f"b{l}"]
        a_list.append(a)
        h = f(a) if l <= depth else a  # a linear output layer
        hs.append(h)
    delta = (h - Y) / len(X)  # dL/dy for L = 1/(2B) sum (y - y*)^2
    deltas = [delta]
    for l in range(depth, 0, -1):
        delta = (delta @ p[f"W{l + 1}"]) * f_prime(a_list[l - 1])
        deltas.insert(0, delta)
    rms = [np.sqrt(np.mean(z**2)) for z in hs[:-1]], [np.sqrt(np.mean(d**2)) for d in deltas]
    return np.array(rms[0]), np.array(rms[1])


@pytest.mark.parametrize("activation, std, depth", [("tanh", 0.05, 6), ("relu", 0.3, 4), ("sigmoid", 1.0, 3)])
def test_layer_signals_match_backpropagation_written_out_one_seed_at_a_time(activation, std, depth):
    s = explore.layer_signals(X, Y, activation, std, depth, width=8, seeds=[3, 4])
    assert s["forward"].shape == s["backward"].shape == (2, depth + 1)
    for row, seed in enumerate((3, 4)):
        forward, backward = _signals_by_hand(activation, std, depth, 8, seed)
        np.testing.assert_allclose(s["forward"][row], forward, rtol=1e-12)
        np.testing.assert_allclose(s["backward"][row], backward, rtol=1e-10)


def test_small_tanh_weights_shrink_both_signals_by_the_predicted_factor():
    """std 0.05 and width 64: sqrt(n v g) = sqrt(64 * 0.05^2 * 1) = 0.4 per layer, tanh near 0."""
    s = explore.layer_signals(X, Y, "tanh", 0.05, 8, width=64, seeds=range(3))
    per_layer = (s["forward"][:, 8] / s["forward"][:, 1]) ** (1 / 7)
    assert np.all(np.abs(per_layer / 0.4 - 1) < 0.15)


def test_the_signals_figure_draws_the_median_and_the_range_of_what_it_is_given():
    given = {"forward": np.array([[1.0, 0.1, 0.01], [3.0, 0.3, 0.03]]),
             "backward": np.array([[1e-3, 1e-2, 1e-1], [2e-3, 2e-2, 2e-1]])}
    fig = explore.draw_layer_signals(X, Y, "tanh", 0.05, 2, signals=given)
    (_, x0, y0), (_, x1, y1) = _lines(fig)
    assert np.array_equal(x0, [1, 2, 3]) and np.array_equal(x1, [1, 2, 3])
    np.testing.assert_allclose(y0, [2.0, 0.2, 0.02])
    np.testing.assert_allclose(y1, [1.5e-3, 1.5e-2, 1.5e-1])
    band = fig.axes[0].collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(0.01) and band.max() == pytest.approx(3.0)


def test_the_figure_from_given_signals_is_the_figure_it_computes_for_the_same_values():
    kwargs = {"width": 16, "seeds": [3, 4, 5]}
    given = explore.layer_signals(X, Y, "relu", 0.2, 5, **kwargs)
    assert _same_drawing(explore.draw_layer_signals(X, Y, "relu", 0.2, 5, signals=given, **kwargs),
                         explore.draw_layer_signals(X, Y, "relu", 0.2, 5, **kwargs))


def test_without_sliders_the_explorer_draws_the_given_signals_without_computing(monkeypatch):
    def no_computing(*args, **kwargs):
        raise AssertionError("the default figure must come from the signals given")

    given = {"forward": np.full((2, 4), 0.5), "backward": np.full((2, 4), 2.0)}
    monkeypatch.setattr(explore, "layer_signals", no_computing)
    explore.explore_layer_signals(X, Y, "tanh", 0.05, 3, signals=given, sliders=False)
    assert _same_drawing(plt.gcf(), explore.draw_layer_signals(X, Y, "tanh", 0.05, 3, signals=given))


def test_the_layer_sliders_compute_new_values_and_reuse_the_given_ones_for_the_defaults(shown):
    kwargs = {"width": 8, "seeds": [3, 4]}
    given = explore.layer_signals(X, Y, "tanh", 0.05, 3, **kwargs)
    given = {kind: 2 * values for kind, values in given.items()}  # recognisably not recomputed
    explore.explore_layer_signals(X, Y, "tanh", 0.05, 3, signals=given, sliders=True, **kwargs)
    (panel,) = shown
    activation, std, depth = panel.kwargs_widgets
    assert (activation.value, std.value, depth.value) == ("tanh", 0.05, 3)
    assert _same_drawing(plt.gcf(), explore.draw_layer_signals(X, Y, "tanh", 0.05, 3, signals=given, **kwargs))
    activation.value, depth.value = "relu", 5
    panel.update()
    assert _same_drawing(plt.gcf(), explore.draw_layer_signals(X, Y, "relu", 0.05, 5, **kwargs))
    activation.value, depth.value = "tanh", 3
    panel.update()
    assert _same_drawing(plt.gcf(), explore.draw_layer_signals(X, Y, "tanh", 0.05, 3, signals=given, **kwargs))


@pytest.mark.parametrize("kwargs, words", [
    ({"depth": 50}, "must lie in depth_range"),
    ({"depth_range": (5, 5)}, "low < high"),
    ({"std_range": (0.1, 1.0)}, "must lie in std_range"),
    ({"std_range": (0.0, 1.0)}, "std_range[0] must be a finite number > 0"),
    ({"activation": "gelu"}, "must be one of activation_choices"),
    ({"activation_choices": ("tanh", "swish")}, "swish"),
])
def test_bad_layer_slider_ranges_raise_value_errors(kwargs, words):
    with pytest.raises(ValueError) as err:
        explore.explore_layer_signals(X, Y, **kwargs)
    assert words in str(err.value)


def test_given_signals_of_the_wrong_depth_are_refused():
    with pytest.raises(ValueError, match=r"signals\['forward'\] must have shape \(any, 4\)"):
        explore.draw_layer_signals(X, Y, "tanh", 0.05, 3, signals={"forward": np.ones((2, 5)),
                                                                   "backward": np.ones((2, 4))})


# ---------------------------------------------------------------------------------------------
# Front ends, ipywidgets, and what the chapters store.
# ---------------------------------------------------------------------------------------------


def _fake_kernel(monkeypatch, allow_stdin):
    request = {"header": {"msg_type": "execute_request"}, "content": {"allow_stdin": allow_stdin}}
    shell = types.SimpleNamespace(kernel=types.SimpleNamespace(get_parent=lambda: request))
    monkeypatch.setattr("IPython.get_ipython", lambda: shell)


@pytest.mark.parametrize("allow_stdin", [True, False])
def test_a_front_end_that_allows_input_counts_as_interactive(monkeypatch, allow_stdin):
    _fake_kernel(monkeypatch, allow_stdin)
    assert explore.interactive_frontend() is allow_stdin


def test_a_live_front_end_gets_the_sliders_without_asking(monkeypatch, shown):
    _fake_kernel(monkeypatch, True)
    explore.explore_powers()
    assert len(shown) == 1 and type(shown[0]).__name__ == "interactive"


def test_without_ipywidgets_a_live_front_end_gets_the_figure_and_a_note(monkeypatch, capsys):
    _fake_kernel(monkeypatch, True)
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets now fails
    assert explore.explore_powers(sliders=None) is None
    assert _same_drawing(plt.gcf(), explore.draw_powers(0.99, 1000))
    assert "pip install ipywidgets" in capsys.readouterr().out


def test_asking_for_sliders_without_ipywidgets_names_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    with pytest.raises(ImportError, match=r"the sliders need ipywidgets.*pip install ipywidgets"):
        explore.explore_powers(sliders=True)


@pytest.mark.parametrize("chapter", ["02_scalar", "03_matrix", "05_deep"])
def test_the_stored_chapters_hold_the_figure_and_no_widget(chapter):
    """A stored widget would make the book load the widget JavaScript from the network."""
    nb = json.loads((ROOT / "book" / f"{chapter}.ipynb").read_text())
    assert "widgets" not in nb["metadata"]
    cell = next(c for c in nb["cells"] if "explore." in "".join(c["source"]) and "explore_" in "".join(c["source"]))
    kinds = [set(out.get("data", {})) for out in cell["outputs"]]
    assert {"image/png", "text/plain"} in kinds
    assert not any("application/vnd.jupyter.widget-view+json" in kind for kind in kinds)


# ---------------------------------------------------------------------------------------------
# Chapter 3: the t-by-k map over the recurrent scale.
# ---------------------------------------------------------------------------------------------


def _reach_by_products(g, seed, T, n_h):
    """The same map from the step Jacobians, multiplied out one loss step at a time."""
    rng = np.random.default_rng(seed)
    p = rnn.init_params(2, n_h, 1, rng=rng, recurrent_scale=g)
    x = rng.normal(size=(T, 1, 2))
    fwd = rnn.forward(p, x)
    targets = rng.normal(size=fwd.y.shape)
    J = jacobians.step_jacobians(p, fwd)[:, 0]  # (T, n_h, n_h)
    reach = np.zeros((T, T))
    for t in range(T):
        e = p["W_hy"].T @ (fwd.y[t, 0] - targets[t, 0])  # dL_t/dh_t, up to the loss's scale
        start = np.linalg.norm(e)
        for k in range(t, -1, -1):
            reach[t, k] = np.linalg.norm(e) / start
            e = J[k].T @ e  # on to dL_t/dh_(k-1)
    return reach, p["W_hh"]


@pytest.mark.parametrize("g", [0.5, 3.0])
def test_the_reach_map_is_the_product_of_step_jacobians_relative_to_its_diagonal(g):
    reach, W_hh = explore.reach_map(g, seed=2, T=12, n_h=5)
    expected, W_expected = _reach_by_products(g, 2, 12, 5)
    np.testing.assert_array_equal(W_hh, W_expected)
    np.testing.assert_allclose(reach, expected, rtol=1e-10, atol=0)
    assert np.all(np.diag(reach) == 1) and np.all(reach[np.triu_indices(12, 1)] == 0)


def test_without_sliders_the_map_explorer_draws_the_static_map_and_prints_the_signal_30_back(capsys):
    assert explore.explore_reach_map(g=1.5, seed=1, sliders=False) is None
    shown = plt.gcf().axes[0].get_images()[0].get_array()
    static = explore.draw_reach_map(1.5, seed=1).axes[0].get_images()[0].get_array()
    np.testing.assert_array_equal(np.ma.filled(shown, -1), np.ma.filled(static, -1))
    reach, _ = _reach_by_products(1.5, 1, 60, 32)
    back = np.exp(np.mean(np.log(np.diagonal(reach, -30))))
    assert capsys.readouterr().out == f"g = 1.5, seed 1: 30 steps back the signal is {back:.2g} of its size\n"


def test_the_map_sliders_start_at_the_defaults_and_redraw_what_they_are_set_to(shown):
    explore.explore_reach_map(g=1.5, seed=1, g_range=(0.25, 8.0), seed_range=(0, 9), sliders=True)
    (panel,) = shown
    g, seed = panel.kwargs_widgets
    assert (g.value, seed.value, seed.min, seed.max) == (1.5, 1, 0, 9)
    assert 10**g.min == pytest.approx(0.25) and 10**g.max == pytest.approx(8.0)
    plt.close("all")
    g.value, seed.value = 3.0, 4
    panel.update()
    title = plt.gcf().axes[0].get_title()
    rho = spectral.spectral_radius(explore.reach_map(3.0, 4)[1])
    assert title == rf"$g = 3$, $\rho(W_{{hh}}) = {rho:.2f}$"


@pytest.mark.parametrize("kwargs, words", [
    ({"g_range": (8.0, 0.25)}, "low < high"),
    ({"g": 10.0}, "must lie in g_range"),
    ({"seed_range": (0.5, 9)}, "whole numbers"),
    ({"seed": 12}, "must lie in seed_range"),
    ({"T": 30}, "T must be more than 30"),
    ({"g": -1.0}, "g"),
])
def test_bad_map_slider_values_raise_value_errors(kwargs, words):
    with pytest.raises(ValueError, match=words):
        explore.explore_reach_map(**kwargs, sliders=False)
