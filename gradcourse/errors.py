"""The course's own exception, also available as ``gradcourse.NonFiniteError``.

Bad input raises ``ValueError`` naming the argument and what was expected. A computation
whose *result* stops being finite (an overflowing state, loss or gradient) raises
:class:`NonFiniteError` instead, naming where it happened.

Examples
--------
>>> import numpy as np
>>> from gradcourse import rnn
>>> params = rnn.init_params(1, 1, 1, rng=np.random.default_rng(0))
>>> params["W_hh"][:] = 1e200
>>> rnn.forward(params, np.ones((3, 1, 1)), activation="relu")
Traceback (most recent call last):
...
gradcourse.errors.NonFiniteError: the hidden state h_t overflowed to inf or
NaN at step t=3 of 3: the forward pass exploded
"""

__all__ = ["NonFiniteError"]


class NonFiniteError(FloatingPointError):
    """A computation (not its input) produced NaN or inf: an explosion, reported where it happened."""
