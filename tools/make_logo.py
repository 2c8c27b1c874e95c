"""Draw the course's logo and favicon: a small t-by-k map of a vanishing gradient.

    python tools/make_logo.py      # writes book/images/logo.png and book/images/favicon.png
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "book" / "images"


def draw(path, size_inches, dpi):
    T = 16
    t, k = np.meshgrid(np.arange(T), np.arange(T), indexing="ij")
    M = np.where(k <= t, 0.6 ** (t - k), np.nan)  # each step back multiplies by 0.6
    fig = plt.figure(figsize=(size_inches, size_inches), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(np.log10(M), cmap="viridis", vmin=-6, vmax=0, interpolation="nearest")
    ax.axis("off")
    fig.savefig(path, transparent=True)
    plt.close(fig)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    draw(OUT / "logo.png", 2.0, 100)
    draw(OUT / "favicon.png", 0.32, 100)
    print(f"wrote {OUT / 'logo.png'} and {OUT / 'favicon.png'}")
