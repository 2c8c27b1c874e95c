"""The course's figures: one palette, one size, one style, one way to draw a contribution map.

Colours come from Okabe and Ito's palette, which stays distinguishable under the
common forms of colour blindness; maps use ``viridis``, which is perceptually
uniform and readable in grey.

Figures stay legible where the book shows them: at most :data:`MAX_COLUMNS` panels side
by side, no text smaller than :data:`SMALLEST_FONT_PT` points, and, in a notebook, PNGs
at twice the screen resolution (Jupyter's "retina" format) so that lines and text stay
sharp when the browser scales them. At the book's width (about 690 px for an image at a
1280 px window) two panels of :data:`FIGSIZE` show their smallest text at about 11 px.

Examples
--------
>>> import numpy as np
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> fig, ax = new_figure()
>>> image = plot_contribution_map(ax, np.tril(np.ones((4, 4))))
>>> ax.get_xlabel()
'source step $k$'
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

from . import _checks

__all__ = ["PALETTE", "FIGSIZE", "MAX_COLUMNS", "SMALLEST_FONT_PT", "STYLE", "new_figure",
           "plot_contribution_map", "draw_unrolled_rnn"]

#: Okabe-Ito colours, in the order the course uses them.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")

#: Width and height of one panel, in inches.
FIGSIZE = (4.2, 3.0)

#: The most panels side by side: a wider figure, scaled to the book's width, shrinks its
#: text below legibility. Lay more panels out in rows.
MAX_COLUMNS = 2

#: The smallest font size any text in a figure may have, in points.
SMALLEST_FONT_PT = 10

#: Matplotlib settings of every figure (set by :func:`new_figure`).
STYLE = {
    "figure.dpi": 100,
    "font.size": 11,
    "axes.titlesize": 11,
    "axes.labelsize": 11,
    "xtick.labelsize": SMALLEST_FONT_PT,
    "ytick.labelsize": SMALLEST_FONT_PT,
    "legend.fontsize": SMALLEST_FONT_PT,
    "legend.title_fontsize": SMALLEST_FONT_PT,
    "figure.titlesize": 12,
    "axes.prop_cycle": plt.cycler(color=PALETTE),
}


def _retina_in_notebooks():
    """Ask IPython's inline backend for PNGs at twice the resolution, when there is one."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # plain Python: figures are saved explicitly, at whatever dpi is asked
        return
    if get_ipython() is not None:
        set_matplotlib_formats("retina")


def new_figure(ncols=1, nrows=1, **kwargs):
    """A figure of ``nrows`` x ``ncols`` panels of the course's size, palette and style.

    Parameters
    ----------
    ncols : int, at most :data:`MAX_COLUMNS`
    nrows : int
    **kwargs
        Passed to ``matplotlib.pyplot.subplots`` (``sharex``, ``gridspec_kw``, ...).

    Returns
    -------
    fig, axes
        As from ``matplotlib.pyplot.subplots``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fig, axes = new_figure(ncols=2, nrows=2)
    >>> fig.get_size_inches().tolist()
    [8.4, 6.0]
    >>> new_figure(ncols=3)
    Traceback (most recent call last):
    ...
    ValueError: ncols must be at most 2 (wider figures make their text
    illegible at the book's width), got 3; lay the panels out in rows
    instead
    """
    ncols = _checks.positive_int("ncols", ncols)
    nrows = _checks.positive_int("nrows", nrows)
    if ncols > MAX_COLUMNS:
        raise ValueError(f"ncols must be at most {MAX_COLUMNS} (wider figures make their text illegible at the "
                         f"book's width), got {ncols}; lay the panels out in rows instead")
    plt.rcParams.update(STYLE)
    _retina_in_notebooks()
    size = (FIGSIZE[0] * ncols, FIGSIZE[1] * nrows)
    return plt.subplots(nrows, ncols, figsize=size, layout="constrained", **kwargs)


def plot_contribution_map(ax, M, *, vmin=None, vmax=None, title=None):
    """Draw a t-by-k map of contribution norms on a log colour scale.

    Steps are labelled 1..T as in the equations (row t, column k). Entries that
    are 0 (k > t, where there is no contribution) are left blank.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    M : array_like, shape (T, T)
        Norms, as from :func:`gradcourse.jacobians.contribution_map`.
    vmin, vmax : float, optional
        Colour limits; by default the smallest and largest positive entries.
    title : str, optional

    Returns
    -------
    matplotlib.image.AxesImage
        For a colour bar: ``fig.colorbar(image, ax=ax)``.
    """
    M = _checks.as_array("M", M, ndim=2)
    T = M.shape[0]
    if M.shape != (T, T):
        raise ValueError(f"M must be square (T, T), got shape {M.shape}")
    positive = M[M > 0]
    if positive.size == 0:
        raise ValueError("M has no positive entry to draw on a log scale")
    norm = LogNorm(vmin=vmin or positive.min(), vmax=vmax or positive.max())
    image = ax.imshow(
        np.where(M > 0, M, np.nan),
        norm=norm,
        cmap="viridis",
        origin="upper",
        extent=(0.5, T + 0.5, T + 0.5, 0.5),
        interpolation="nearest",
    )
    ax.set_xlabel("source step $k$")
    ax.set_ylabel("loss step $t$")
    if title:
        ax.set_title(title)
    return image


def draw_unrolled_rnn(ax, T=4):
    """Draw an RNN unrolled over ``T`` steps: states, inputs, outputs, losses, shared weights.

    Each column is one step t: the input x_t enters a_t, the state h_t feeds the output
    y_t and its loss L_t, and an arrow labelled W_hh carries h_{t-1} to the next step.
    The same three matrices label every column: the weights are shared over time.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fig, ax = new_figure()
    >>> draw_unrolled_rnn(ax, T=3)
    >>> len(ax.texts) > 0
    True
    """
    T = _checks.positive_int("T", T)
    box = dict(boxstyle="round,pad=0.3", facecolor="white", edgecolor=PALETTE[0], linewidth=1.5)
    arrow = dict(arrowstyle="->", color="0.3", linewidth=1.2, shrinkA=12, shrinkB=12)
    rows = {"x": 0.0, "h": 1.0, "y": 2.0, "L": 2.8}

    def node(text, col, row, **style):
        ax.text(col, rows[row], text, ha="center", va="center", fontsize=11, bbox={**box, **style})

    node("$h_0$", 0, "h", edgecolor="0.5")
    for t in range(1, T + 1):
        node(f"$x_{t}$", t, "x", edgecolor=PALETTE[2])
        node(f"$h_{t}$", t, "h")
        node(f"$y_{t}$", t, "y", edgecolor=PALETTE[1])
        ax.text(t, rows["L"], f"$L_{t}$", ha="center", va="center", fontsize=11, color=PALETTE[1])
        ax.annotate("", (t, rows["h"]), (t - 1, rows["h"]), arrowprops=arrow)
        ax.text(t - 0.5, rows["h"] + 0.12, "$W_{hh}$", ha="center", fontsize=SMALLEST_FONT_PT)
        ax.annotate("", (t, rows["h"]), (t, rows["x"]), arrowprops=arrow)
        ax.text(t + 0.08, 0.5, "$W_{xh}$", fontsize=SMALLEST_FONT_PT)
        ax.annotate("", (t, rows["y"]), (t, rows["h"]), arrowprops=arrow)
        ax.text(t + 0.08, 1.5, "$W_{hy}$", fontsize=SMALLEST_FONT_PT)
    ax.text(T + 0.6, rows["L"], "$L = \\sum_t L_t$", va="center", fontsize=11)
    ax.set_xlim(-0.5, T + 1.6)
    ax.set_ylim(-0.5, 3.2)
    ax.axis("off")
