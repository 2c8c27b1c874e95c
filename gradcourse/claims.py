"""Sentences that check themselves.

Every sentence or caption of the book that rests on computed data ("the orthogonal profile
stays below the Gaussian one", "this run overflows") is backed by a :func:`check` in the
cell that computes the data. The check prints the claim, so the reader sees what was
verified, and raises :class:`ClaimError` when the data stop supporting it, so that the
notebook fails to run and its test fails: a sentence cannot outlive its evidence.

Examples
--------
>>> losses = [0.08, 0.004]
>>> claim = "the loss fell below a tenth of where it started"
>>> check(claim, losses[-1] < 0.1 * losses[0])
checked: the loss fell below a tenth of where it started
>>> check("the loss rose", losses[-1] > losses[0])
Traceback (most recent call last):
...
gradcourse.claims.ClaimError: the data no longer support the claim:
the loss rose
"""

import textwrap

import numpy as np

__all__ = ["ClaimError", "check", "LINE_WIDTH"]

#: The printed ``checked: ...`` lines are wrapped to this many columns, the width of the
#: book's code and output boxes; continuation lines are indented under the claim's first word.
LINE_WIDTH = 79
_PREFIX = "checked: "


class ClaimError(AssertionError):
    """A claim of the text that its data no longer support."""


def check(claim, holds, *, detail=None):
    """Print ``checked: <claim>`` if ``holds``, else raise :class:`ClaimError`.

    Parameters
    ----------
    claim : str
        The statement as the text makes it, in a few words.
    holds : bool
        Whether the data support it: a single truth value, e.g. ``bool(np.all(...))``.
    detail : str, optional
        The numbers behind the verdict, shown in the error if the claim fails.

    Raises
    ------
    ClaimError
        If ``holds`` is false.
    TypeError
        If ``claim`` is not a non-empty string or ``holds`` is not a single truth value
        (an array would make "holds" ambiguous: reduce it with ``all`` or ``any``).

    Examples
    --------
    >>> check("two is more than one", 2 > 1)
    checked: two is more than one

    A long claim is wrapped to fit the book's column:

    >>> check("the orthogonal matrix's products never exceed norm 1, in any of the "
    ...       "five seeds, at any distance", True)
    checked: the orthogonal matrix's products never exceed norm 1, in any of the
             five seeds, at any distance
    """
    if not isinstance(claim, str) or not claim.strip():
        raise TypeError(f"claim must be a non-empty string, got {claim!r}")
    if not isinstance(holds, (bool, np.bool_)):
        raise TypeError(
            f"holds must be a single truth value (bool), got {type(holds).__name__}; "
            "reduce an array with np.all or np.any first"
        )
    if not holds:
        message = f"the data no longer support the claim: {claim}"
        raise ClaimError(message if detail is None else f"{message} ({detail})")
    print(_wrapped(claim))


def _wrapped(claim):
    """``checked: <claim>`` within :data:`LINE_WIDTH` columns; line breaks already in
    ``claim`` are kept, and every line after the first is indented under its first word."""
    width = LINE_WIDTH - len(_PREFIX)
    lines = []
    for line in claim.strip().splitlines():
        lines += textwrap.wrap(line.strip(), width, break_on_hyphens=False, break_long_words=False)
    return _PREFIX + ("\n" + " " * len(_PREFIX)).join(lines)
