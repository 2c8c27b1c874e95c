"""Checkers for the code exercises: run the reader's function, say right or what is wrong.

One module per chapter; every checker is importable from here. A checker returns a
:class:`Feedback`, which is truthy when all cases pass and prints as a message naming the
first failing case and, where a known mistake explains it, the mistake, followed by the
tolerance the values are held to.

Every checker

- runs the reader's function on fixed cases and on random ones drawn from the checker's own
  generator, seeded afresh at every call (``seed=...`` repeats a set of random cases);
- never raises on what the reader's function does or returns (an exception, None, a wrong
  shape or type, NaN or inf all come back as a failing :class:`Feedback` saying so);
- disables, while the reader's function runs, the library functions that would do the
  exercise in one call (the message then says "do not call ...");
- takes its reference answers from a second method (finite differences, bisection, the SVD,
  multiplying step by step), never from the formula the reader is asked to write.

A question whose answer is a number is checked through the reader's computation, as a
function of the question's inputs, so that trying numbers in a loop does not find it.
"""

from ._feedback import Feedback
from .activations import check_layers_below, check_leaky_rms_gain, check_stable_sigmoid, check_steps_to_target
from .bptt import check_first_distance_below, check_state_jacobian, check_step_jacobian
from .clipping import check_clip_by_global_norm, check_cosine_after_value_clip
from .deep import check_add_identity_layers, check_shrink_per_layer
from .matrix import (check_largest_singular_value, check_most_stretched_direction, check_product_log_norms,
                     check_signal_ratio)
from .normalization import check_layer_norm, check_layer_norm_backward
from .remedies import check_orthogonal, check_steps_to_forget
from .scalar import check_memory_factor, check_steps_to_shrink, check_unstable_half_width
from .truncation import check_kept_by_chunks, check_truncated_da

__all__ = [
    "Feedback",
    "check_step_jacobian",
    "check_state_jacobian",
    "check_steps_to_shrink",
    "check_unstable_half_width",
    "check_memory_factor",
    "check_largest_singular_value",
    "check_most_stretched_direction",
    "check_product_log_norms",
    "check_signal_ratio",
    "check_stable_sigmoid",
    "check_add_identity_layers",
    "check_clip_by_global_norm",
    "check_orthogonal",
    "check_first_distance_below",
    "check_layers_below",
    "check_leaky_rms_gain",
    "check_steps_to_target",
    "check_shrink_per_layer",
    "check_cosine_after_value_clip",
    "check_steps_to_forget",
    "check_truncated_da",
    "check_kept_by_chunks",
    "check_layer_norm",
    "check_layer_norm_backward",
]
