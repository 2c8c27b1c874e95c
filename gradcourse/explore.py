"""Figures to explore by hand: sliders that redraw a chapter's figure.

Each explorable figure has a *draw* function, which returns the figure for given values (the
chapter calls it too), and an *explore* function, which shows sliders for those values where
someone can move them. Run in Jupyter, JupyterLab, VS Code, Binder or Colab, the explore
function shows the sliders, and every move redraws the figure below them. Run without anyone
to move them (nbconvert, nbval, the book's build) it draws the figure for its default values
once, as a plain figure: the stored notebook holds that figure and no widget, so the book
shows it and needs no widget JavaScript, and the notebook runs the same with or without
ipywidgets.

A front end with someone at it is recognised by the request that ran the cell: it allows
input (``allow_stdin``), as every notebook front end does, while nbconvert and nbval run
notebooks with input off. ``sliders=True`` or ``False`` overrides the guess.

The sliders need ipywidgets, which Binder installs from ``requirements.txt`` and Colab has;
elsewhere ``pip install ipywidgets`` (or ``pip install "gradcourse[explore]"``).

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> fig = draw_powers(0.99, 1000)
>>> line = fig.axes[0].get_lines()[-1]  # the chosen factor, drawn last
>>> line.get_label(), round(float(line.get_ydata()[-1]), 7)
('$\\\\gamma = 0.99$ (chosen)', 4.32e-05)
"""

import numpy as np

from . import _checks, activations, jacobians, losses, mlp, rnn, spectral, stacking
from .plotting import PALETTE, new_figure, plot_contribution_map

__all__ = ["GAMMAS", "draw_powers", "explore_powers", "layer_signals", "plot_layer_profile", "draw_layer_signals",
           "explore_layer_signals", "reach_map", "draw_reach_map", "explore_reach_map", "interactive_frontend"]

#: The factors of chapter 2's figure of powers.
GAMMAS = (0.5, 0.9, 0.99, 1.01, 1.1, 2.0)

_INSTALL = 'pip install ipywidgets (or pip install "gradcourse[explore]")'


def interactive_frontend():
    """Whether the cell running now was sent by a front end where someone can move a slider.

    True when an IPython kernel runs the cell for a request that allows input, as Jupyter,
    JupyterLab, VS Code and Colab send; False under nbconvert and nbval (input off), in a
    terminal and in plain Python.

    Returns
    -------
    bool

    Examples
    --------
    >>> interactive_frontend()  # plain Python: no kernel
    False
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    kernel = getattr(get_ipython(), "kernel", None)
    if kernel is None:
        return False
    try:
        parent = kernel.get_parent()
    except Exception:  # noqa: BLE001  (a kernel without the ipykernel 6 interface)
        return False
    return bool((parent or {}).get("content", {}).get("allow_stdin", False))


def _ipywidgets():
    try:
        import ipywidgets
    except ImportError as err:
        raise ImportError(f"the sliders need ipywidgets, which is not installed: {_INSTALL}") from err
    return ipywidgets


def _range(name, bounds, default, *, integer=False, positive=False):
    """Check a slider's (low, high) range and that it holds the default; return it."""
    try:
        low, high = bounds
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high), got {bounds!r}") from None
    check = _checks.positive_int if integer else (_checks.positive_float if positive else _checks.real_float)
    low, high = check(f"{name}[0]", low), check(f"{name}[1]", high)
    if not low < high:
        raise ValueError(f"{name} must have low < high, got {bounds!r}")
    if not low <= default <= high:
        raise ValueError(f"the default {default!r} must lie in {name} = {bounds!r}")
    return low, high


def _explore(draw, defaults, controls, sliders):
    """Draw once (static), or show ``controls`` that redraw with ``draw`` (live).

    ``draw(**values)`` draws a figure and may return a line of text, printed under it. The
    sliders are displayed here, not returned, so that a cell ending with the call shows them
    once."""
    import matplotlib.pyplot as plt

    asked = sliders is not None and _checks.boolean("sliders", sliders)
    widgets = None
    if asked or (sliders is None and interactive_frontend()):
        try:
            widgets = _ipywidgets()
        except ImportError:
            if asked:
                raise
            print(f"(for sliders: {_INSTALL})")

    def redraw(**values):
        message = draw(**values)
        plt.show()
        if message:
            print(message)

    if widgets is None:
        redraw(**defaults)
        return
    from IPython.display import display  # ipywidgets needs IPython: it is there

    display(widgets.interactive(redraw, **controls(widgets)))


def draw_powers(gamma, steps, *, gammas=GAMMAS):
    """Chapter 2's figure: products gamma^(t-k) of t - k equal factors, on a log scale.

    Draws one line per factor in ``gammas`` over the distances 0..``steps``, and, if
    ``gamma`` is given, that factor on top, black and thick, with the others paled (and
    without a second line for a factor of ``gammas`` equal to it). The axes show
    1e-30 to 1e30; values far outside, which overflow the axes' scale, are drawn clipped.

    Parameters
    ----------
    gamma : float or None
        The factor to show on top (> 0), or None for the figure of ``gammas`` alone.
    steps : int
        The largest distance t - k (>= 1).
    gammas : sequence of float
        The factors drawn for comparison (> 0).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fig = draw_powers(None, 200)
    >>> [line.get_label() for line in fig.axes[0].get_lines()][:2]
    ['$\\\\gamma = 0.5$', '$\\\\gamma = 0.9$']
    """
    steps = _checks.positive_int("steps", steps)
    gammas = _checks.as_array("gammas", gammas, ndim=1, nonempty=True)
    if np.any(gammas <= 0):
        raise ValueError(f"gammas must be > 0, got {gammas}")
    if gamma is not None:
        gamma = _checks.positive_float("gamma", gamma)
    k = np.arange(steps + 1)
    fig, ax = new_figure()
    fig.set_size_inches(5.4, 3.0)  # room for the legend beside the panel
    pale = 0.35 if gamma is not None else 1.0

    def powers(g):  # clipped far outside the axes, where the lines leave them unchanged
        with np.errstate(over="ignore", under="ignore"):
            return np.clip(g**k, 1e-40, 1e40)

    for g in gammas:
        if gamma is None or not np.isclose(g, gamma, rtol=1e-12, atol=0):  # not twice
            ax.semilogy(k, powers(g), alpha=pale, label=rf"$\gamma = {g:g}$")
    if gamma is not None:
        ax.semilogy(k, powers(gamma), color="black", linewidth=2.5, label=rf"$\gamma = {gamma:.4g}$ (chosen)")
    ax.set_xlabel("distance $t - k$")
    ax.set_ylabel(r"$\gamma^{t-k}$")
    ax.set_xlim(0, steps)
    ax.set_ylim(1e-30, 1e30)
    ax.set_yticks(10.0 ** np.arange(-30, 31, 10))
    # the legend lists the lines from top to bottom
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles[::-1], labels[::-1], loc="outside right center")
    return fig


def explore_powers(gamma=0.99, steps=1000, *, gamma_range=(0.5, 2.0), steps_range=(10, 2000), sliders=None):
    """Sliders for a factor gamma and a number of steps that redraw :func:`draw_powers`.

    Each drawing prints what the product of ``steps`` factors ``gamma`` comes to and how many
    steps halve or double it. Without sliders (see the module), draws the defaults once.

    Parameters
    ----------
    gamma : float
        The factor shown first.
    steps : int
        The number of steps shown first.
    gamma_range : (float, float)
        The slider's range for gamma, 0 < low < high, on a log scale.
    steps_range : (int, int)
        The slider's range for the steps, 1 <= low < high.
    sliders : bool, optional
        Show sliders (True), draw once (False), or decide by the front end (None).

    Returns
    -------
    None
        The sliders and their figure, or the figure alone, are displayed.

    Raises
    ------
    ValueError
        If a range is not (low, high) with low < high or does not hold its default.
    ImportError
        If ``sliders=True`` in a live front end and ipywidgets is missing.

    Examples
    --------
    >>> explore_powers(gamma=0.9, gamma_range=(1.0, 2.0))
    Traceback (most recent call last):
    ...
    ValueError: the default 0.9 must lie in gamma_range = (1.0, 2.0)
    """
    gamma = _checks.positive_float("gamma", gamma)
    steps = _checks.positive_int("steps", steps)
    g_low, g_high = _range("gamma_range", gamma_range, gamma, positive=True)
    s_low, s_high = _range("steps_range", steps_range, steps, integer=True)

    def draw(gamma, steps):
        draw_powers(gamma, steps)
        with np.errstate(over="ignore", under="ignore"):
            product = gamma**steps
        if gamma == 1:
            every = "stays at 1"
        else:
            change = "halves" if gamma < 1 else "doubles"
            every = f"{change} every {np.log(2) / abs(np.log(gamma)):.3g} steps"
        return f"gamma^{steps} = {product:.3g} for gamma = {gamma:.4g}, which {every}"

    def controls(widgets):
        layout = {"style": {"description_width": "initial"}, "continuous_update": False}
        return {
            "gamma": widgets.FloatLogSlider(value=gamma, base=10, min=np.log10(g_low), max=np.log10(g_high),
                                            step=0.001, readout_format=".4g", description="factor gamma", **layout),
            "steps": widgets.IntSlider(value=steps, min=s_low, max=s_high, step=10, description="steps t - k",
                                       **layout),
        }

    return _explore(draw, {"gamma": gamma, "steps": steps}, controls, sliders)


def layer_signals(X, Y, activation, std, depth, *, width=64, seeds=range(5)):
    """RMS of the forward and backward signals of every layer of deep networks, one per seed.

    Networks of ``depth`` hidden layers of ``width`` units (``depth + 1`` weight layers), with
    weights drawn from a normal distribution of standard deviation ``std`` and zero biases,
    seeded by each of ``seeds``; the loss is half the squared error on (X, Y). For layer l,
    the forward signal is its input h_{l-1} (h_0 = X) and the backward signal
    delta_l = dL/da_l; each is summarised by its root mean square over examples and units.

    Parameters
    ----------
    X : array_like, shape (B, n_0)
    Y : array_like, shape (B, n_out)
    activation : str
        One of ``gradcourse.activations``' names ("sigmoid", "tanh", "relu", ...).
    std : float
        Standard deviation of every weight (> 0).
    depth : int
        Number of hidden layers (>= 1).
    width : int, default 64
    seeds : iterable of int, default range(5)
        One network per seed, from ``np.random.default_rng(seed)``.

    Returns
    -------
    dict
        ``"forward"`` and ``"backward"``, arrays of shape (n_seeds, depth + 1): column l - 1
        holds layer l's RMS of h_{l-1} and of delta_l.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.normal(size=(8, 3)), rng.normal(size=(8, 1))
    >>> s = layer_signals(X, Y, "tanh", 0.5, 4, width=6, seeds=[0, 1])
    >>> s["forward"].shape, s["backward"].shape
    ((2, 5), (2, 5))
    """
    X = _checks.as_array("X", X, ndim=2, nonempty=True)
    Y = _checks.as_array("Y", Y, ndim=2, nonempty=True)
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"X and Y must have the same number of examples, got shapes {X.shape} and {Y.shape}")
    activations.get(activation)  # a clear error for an unknown name
    std = _checks.positive_float("std", std)
    depth = _checks.positive_int("depth", depth)
    width = _checks.positive_int("width", width)
    seeds = [_checks.nonnegative_int("seeds", s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    sizes = [X.shape[1]] + [width] * depth + [Y.shape[1]]
    p = stacking.stack([mlp.init_params(sizes, rng=np.random.default_rng(s), scheme="normal", std=std)
                        for s in seeds])
    fwd = mlp.forward(p, X, activation=activation)
    _, dy = losses.mse(fwd.y, Y, model_ndim=1)
    deltas = mlp.backward_signals(p, fwd, dy)
    x = np.broadcast_to(X, fwd.h[0].shape[:-1] + X.shape[-1:])
    inputs = [x, *fwd.h]  # h_0 = x, ..., h_depth: the input of layer l is h_{l-1}

    def rms(z):
        return np.sqrt(np.mean(z**2, axis=(-2, -1)))

    return {"forward": np.stack([rms(h) for h in inputs], axis=-1),
            "backward": np.stack([rms(d) for d in deltas], axis=-1)}


def plot_layer_profile(ax, values, *, color=PALETTE[0], label=None):
    """One quantity over the layers: median over seeds (line) and their range (band), log scale.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    values : array_like, shape (n_seeds, n_layers)
        Positive values; column l - 1 belongs to layer l.
    color : str
    label : str, optional

    Returns
    -------
    matplotlib.lines.Line2D
        The median line.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fig, ax = new_figure()
    >>> line = plot_layer_profile(ax, [[1.0, 0.1], [3.0, 0.3]])
    >>> line.get_ydata().tolist()
    [2.0, 0.2]
    """
    values = _checks.as_array("values", values, ndim=2, nonempty=True)
    if np.any(values <= 0):
        raise ValueError("values must be positive, to be drawn on a log scale")
    layer = np.arange(1, values.shape[1] + 1)
    (line,) = ax.semilogy(layer, np.median(values, axis=0), color=color, label=label)
    ax.fill_between(layer, values.min(axis=0), values.max(axis=0), color=color, alpha=0.25, linewidth=0)
    ax.set_xlabel("layer $l$ (1 = input side)")
    return line


def draw_layer_signals(X, Y, activation, std, depth, *, width=64, seeds=range(5), signals=None):
    """Chapter 5's signals over the layers: RMS of h_{l-1} (left) and of delta_l (right).

    Parameters
    ----------
    X, Y, activation, std, depth, width, seeds
        As for :func:`layer_signals`.
    signals : dict, optional
        ``"forward"`` and ``"backward"`` arrays of shape (n_seeds, depth + 1) already computed
        for these values (the chapter's own); otherwise :func:`layer_signals` computes them.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.normal(size=(8, 3)), rng.normal(size=(8, 1))
    >>> fig = draw_layer_signals(X, Y, "relu", 0.5, 4, width=6, seeds=[0, 1])
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['RMS of $h_{l-1}$', 'RMS of $\\\\delta_l$']
    """
    if signals is None:
        signals = layer_signals(X, Y, activation, std, depth, width=width, seeds=seeds)
    depth = _checks.positive_int("depth", depth)
    values = {}
    for kind in ("forward", "backward"):
        if not isinstance(signals, dict) or kind not in signals:
            raise ValueError(f"signals must be a dict with 'forward' and 'backward', got {type(signals).__name__}")
        values[kind] = _checks.as_array(f"signals['{kind}']", signals[kind], shape=(None, depth + 1))
    fig, axes = new_figure(ncols=2)
    name = {"relu": "ReLU"}.get(activation, activation)
    plot_layer_profile(axes[0], values["forward"])
    plot_layer_profile(axes[1], values["backward"], color=PALETTE[1])
    axes[0].set_ylabel("RMS of $h_{l-1}$")
    axes[1].set_ylabel(r"RMS of $\delta_l$")
    step = max(1, round((depth + 1) / 4))  # 1, 4, 8, 12, 16 for 16 layers
    ticks = np.unique(np.r_[1, np.arange(step, depth + 2, step)])
    for ax in axes:
        ax.set_xticks(ticks)
        ax.minorticks_off()  # a tick per decade is enough, and half the cost of drawing
    fig.suptitle(f"{name}, std {std:.3g}, {depth} hidden layers of width {width}")
    return fig


def explore_layer_signals(X, Y, activation="tanh", std=0.05, depth=15, *, width=64, seeds=range(5), signals=None,
                          std_range=(0.01, 3.0), depth_range=(1, 40),
                          activation_choices=("sigmoid", "tanh", "relu"), sliders=None):
    """Sliders for the activation, the weights' scale and the depth that redraw
    :func:`draw_layer_signals`.

    Without sliders (see the module), draws the defaults once, from ``signals`` if given: a
    chapter that has measured them pays only for the drawing.

    Parameters
    ----------
    X, Y, activation, std, depth, width, seeds, signals
        The values shown first, as for :func:`draw_layer_signals`; ``signals`` belong to them.
    std_range : (float, float)
        The slider's range for std, 0 < low < high, on a log scale.
    depth_range : (int, int)
        The slider's range for the number of hidden layers, 1 <= low < high.
    activation_choices : sequence of str
        The activations to choose from; must hold ``activation``.
    sliders : bool, optional
        Show sliders (True), draw once (False), or decide by the front end (None).

    Returns
    -------
    None
        The sliders and their figure, or the figure alone, are displayed.

    Raises
    ------
    ValueError
        If a range is not (low, high) with low < high or does not hold its default.

    Examples
    --------
    >>> explore_layer_signals(np.ones((4, 2)), np.ones((4, 1)), depth=50)
    Traceback (most recent call last):
    ...
    ValueError: the default 50 must lie in depth_range = (1, 40)
    """
    std = _checks.positive_float("std", std)
    depth = _checks.positive_int("depth", depth)
    s_low, s_high = _range("std_range", std_range, std, positive=True)
    d_low, d_high = _range("depth_range", depth_range, depth, integer=True)
    choices = tuple(activation_choices)
    for name in choices:
        activations.get(name)
    if activation not in choices:
        raise ValueError(f"activation {activation!r} must be one of activation_choices {choices}")
    seeds = list(seeds)
    first = (activation, std, depth)

    def draw(activation, std, depth):
        given = signals if (activation, depth) == first[::2] and np.isclose(std, first[1], rtol=1e-9) else None
        draw_layer_signals(X, Y, activation, std, depth, width=width, seeds=seeds, signals=given)

    def controls(widgets):
        layout = {"style": {"description_width": "initial"}, "continuous_update": False}
        return {
            "activation": widgets.Dropdown(options=choices, value=activation, description="activation"),
            "std": widgets.FloatLogSlider(value=std, base=10, min=np.log10(s_low), max=np.log10(s_high), step=0.01,
                                          readout_format=".3g", description="weight std", **layout),
            "depth": widgets.IntSlider(value=depth, min=d_low, max=d_high, description="hidden layers", **layout),
        }

    return _explore(draw, {"activation": activation, "std": std, "depth": depth}, controls, sliders)


def reach_map(g, seed, *, T=60, n_h=32):
    """Chapter 3's map: ||dL_t/dh_k|| / ||dL_t/dh_t|| of a tanh RNN with recurrent scale g.

    A tanh RNN of ``n_h`` units (two inputs, one output), drawn by
    :func:`gradcourse.rnn.init_params` with ``recurrent_scale=g`` from
    ``np.random.default_rng(seed)``, which then draws T steps of Gaussian inputs and targets
    for one sequence; the squared error at every step. Row t of the map is the error signal
    of loss L_t at every source step k, relative to its size at k = t.

    Parameters
    ----------
    g : float
        Recurrent scale (> 0): W_hh has entries N(0, g^2 / n_h).
    seed : int
        Seed of the weights, inputs and targets (>= 0).
    T : int, default 60
    n_h : int, default 32

    Returns
    -------
    reach : numpy.ndarray, shape (T, T)
        1 on the diagonal, 0 above it (k > t).
    W_hh : numpy.ndarray, shape (n_h, n_h)

    Examples
    --------
    >>> reach, W_hh = reach_map(1.0, seed=1, T=5, n_h=4)
    >>> reach.shape, W_hh.shape, np.diag(reach).tolist()
    ((5, 5), (4, 4), [1.0, 1.0, 1.0, 1.0, 1.0])
    """
    g = _checks.positive_float("g", g)
    seed = _checks.nonnegative_int("seed", seed)
    T = _checks.positive_int("T", T)
    n_h = _checks.positive_int("n_h", n_h)
    rng = np.random.default_rng(seed)
    p = rnn.init_params(2, n_h, 1, rng=rng, recurrent_scale=g)
    x = rng.normal(size=(T, 1, 2))
    fwd = rnn.forward(p, x, activation="tanh")
    targets = rng.normal(size=fwd.y.shape)
    _, dy = losses.mse(fwd.y, targets)
    G = jacobians.contribution_map(p, fwd, dy, wrt="h")  # ||dL_t/dh_k||
    return G / np.diag(G)[:, None], p["W_hh"]


def draw_reach_map(g, seed=1, *, T=60, n_h=32):
    """One map of :func:`reach_map`, titled with g and the spectral radius of W_hh.

    The colour scale is fixed, 1e-10 to 1e4 (values outside take its end colours), so that
    maps for different g can be compared.

    Parameters
    ----------
    g, seed, T, n_h
        As for :func:`reach_map`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fig = draw_reach_map(1.5, T=10, n_h=4)
    >>> fig.axes[0].get_title().startswith("$g = 1.5$")
    True
    """
    reach, W_hh = reach_map(g, seed, T=T, n_h=n_h)
    return _plot_reach(reach, W_hh, g)


def _plot_reach(reach, W_hh, g):
    fig, ax = new_figure()
    rho = spectral.spectral_radius(W_hh)
    title = rf"$g = {g:.3g}$, $\rho(W_{{hh}}) = {rho:.2f}$"
    image = plot_contribution_map(ax, reach, vmin=1e-10, vmax=1e4, title=title)
    fig.colorbar(image, ax=ax, label=r"$\|\partial L_t/\partial h_k\| \,/\, \|\partial L_t/\partial h_t\|$")
    return fig


def explore_reach_map(g=1.5, seed=1, *, g_range=(0.25, 8.0), seed_range=(0, 9), T=60, sliders=None):
    """Sliders for the recurrent scale g and the seed that redraw :func:`draw_reach_map`.

    Each drawing prints the signal 30 steps back (the geometric mean over the loss steps of
    the map's diagonal 30 below the main one). Without sliders (see the module), draws the
    defaults once.

    Parameters
    ----------
    g : float
        The scale shown first.
    seed : int
        The draw shown first.
    g_range : (float, float)
        The slider's range for g, 0 < low < high, on a log scale.
    seed_range : (int, int)
        The slider's range for the seed, 0 <= low < high.
    T : int, default 60
        Steps of the sequence (> 30).
    sliders : bool, optional
        Show sliders (True), draw once (False), or decide by the front end (None).

    Returns
    -------
    None
        The sliders and their figure, or the figure alone, are displayed.

    Raises
    ------
    ValueError
        If a range is not (low, high) with low < high or does not hold its default.

    Examples
    --------
    >>> explore_reach_map(g=0.1)
    Traceback (most recent call last):
    ...
    ValueError: the default 0.1 must lie in g_range = (0.25, 8.0)
    """
    g = _checks.positive_float("g", g)
    seed = _checks.nonnegative_int("seed", seed)
    T = _checks.positive_int("T", T)
    if T <= 30:
        raise ValueError(f"T must be more than 30, to show the signal 30 steps back, got {T}")
    g_low, g_high = _range("g_range", g_range, g, positive=True)
    s_low, s_high = _range("seed_range", seed_range, seed, integer=False)
    if s_low < 0 or s_low != int(s_low) or s_high != int(s_high):
        raise ValueError(f"seed_range must hold whole numbers >= 0, got {seed_range!r}")

    def draw(g, seed):
        reach, W_hh = reach_map(g, seed, T=T)
        _plot_reach(reach, W_hh, g)
        back = np.exp(np.mean(np.log(np.diagonal(reach, -30))))
        return f"g = {g:.3g}, seed {seed}: 30 steps back the signal is {back:.2g} of its size"

    def controls(widgets):
        layout = {"style": {"description_width": "initial"}, "continuous_update": False}
        return {
            "g": widgets.FloatLogSlider(value=g, base=10, min=np.log10(g_low), max=np.log10(g_high), step=0.01,
                                        readout_format=".3g", description="recurrent scale g", **layout),
            "seed": widgets.IntSlider(value=seed, min=int(s_low), max=int(s_high), description="seed", **layout),
        }

    return _explore(draw, {"g": g, "seed": seed}, controls, sliders)
