"""Checkers for the code exercises: run the reader's function, say right or what is wrong.

One module per chapter; every checker is importable from here. A checker returns a
:class:`Feedback`, which is truthy when all reference cases pass and prints as a
message naming the first failing case and, where a known mistake explains it, the
mistake. Reference answers never come from the formula the reader is asked to write:
they come from finite differences, closed forms or a second method.
"""

from ._feedback import Feedback
from .activations import check_stable_sigmoid
from .clipping import check_clip_by_global_norm
from .deep import check_add_identity_layers
from .bptt import check_state_jacobian, check_step_jacobian
from .matrix import check_largest_singular_value, check_most_stretched_direction
from .remedies import check_orthogonal
from .scalar import check_steps_to_shrink, check_unstable_half_width

__all__ = [
    "Feedback",
    "check_step_jacobian",
    "check_state_jacobian",
    "check_steps_to_shrink",
    "check_unstable_half_width",
    "check_largest_singular_value",
    "check_most_stretched_direction",
    "check_stable_sigmoid",
    "check_add_identity_layers",
    "check_clip_by_global_norm",
    "check_orthogonal",
]
