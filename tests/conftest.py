"""Shared test set-up: a non-interactive plotting backend, and the font cache built
once here so that its one-time notice never lands in a notebook's stderr."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.font_manager  # noqa: E402,F401  (builds the font cache on first use)
