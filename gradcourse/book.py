"""Helpers for running the chapters outside the book's own environment.

:func:`glue` is myst-nb's ``glue`` when myst-nb is installed (it records a value under a
name, for the book's text to show). Elsewhere, on Colab for instance, it falls back to a
function that displays the value if asked to and otherwise does nothing, so a chapter runs
the same with or without myst-nb.

Examples
--------
>>> # records the value when building the book
>>> glue("answer", 42, display=False)
"""

try:
    from myst_nb import glue
except ImportError:  # pragma: no cover - exercised only where myst-nb is absent

    def glue(name, variable, display=True):
        """Stand-in for myst_nb.glue: show ``variable`` if ``display``, else do nothing."""
        if display:
            from IPython.display import display as show

            show(variable)


__all__ = ["glue"]
