"""gradcourse: the code behind the course on vanishing and exploding gradients.

Modules, one idea each:

- :mod:`gradcourse.activations` -- f and f_prime for sigmoid, tanh, ReLU, leaky ReLU
- :mod:`gradcourse.rnn` -- a vanilla RNN: init, forward, loss, BPTT
- :mod:`gradcourse.lstm` -- an LSTM with hand-written BPTT
- :mod:`gradcourse.mlp` -- a deep feedforward network, optionally residual
- :mod:`gradcourse.jacobians` -- step Jacobians and the t-by-k contribution map
- :mod:`gradcourse.truncation` -- truncated BPTT: windows, chunks, randomized truncation
- :mod:`gradcourse.normalization` -- layer normalization, forward and backward
- :mod:`gradcourse.spectral` -- spectral norm and radius, powers of matrices
- :mod:`gradcourse.products` -- products of one shared matrix against independent ones
- :mod:`gradcourse.scalar` -- the one-unit case, float64's limits, a unit that stores a bit
- :mod:`gradcourse.measures` -- Jacobian norms from the start, steps to a loss target
- :mod:`gradcourse.clipping` -- clipping by value, by global norm, sign updates
- :mod:`gradcourse.losses`, :mod:`gradcourse.tasks` -- the squared error, the adding problem
- :mod:`gradcourse.train`, :mod:`gradcourse.updates` -- one training loop, its update rules
- :mod:`gradcourse.stacking` -- many models at once
- :mod:`gradcourse.gradcheck` -- finite-difference gradient checks
- :mod:`gradcourse.plotting` -- the course's figures
- :mod:`gradcourse.explore` -- sliders that redraw a chapter's figure in a live notebook
- :mod:`gradcourse.exercises` -- checkers for the code exercises
- :mod:`gradcourse.book` -- running the chapters with or without myst-nb

One convention for the three models (:mod:`~gradcourse.rnn`, :mod:`~gradcourse.lstm`,
:mod:`~gradcourse.mlp`):

- ``params = model.init_params(..., rng=rng)``: a dict of arrays, names from the equations
  (``W_hh``, ``W_xh``, ``b_h``, ``W_hy``, ``b_y`` for the RNN).
- ``fwd = model.forward(params, x, ...)``: a record of everything backpropagation needs --
  the inputs ``x``, the initial states ``h0`` (and ``c0``), the activation and its
  parameters, every pre-activation and state, the outputs ``y``, and a fingerprint of
  ``params``. Steps t = 1..T sit at index t - 1 (layers l = 1..L of the deep net likewise);
  initial states are separate fields.
- ``grads = model.backward(params, fwd, dy)``: dL/d(param) with the keys of ``params``,
  given dy = dL/dy; a record made with other parameters is an error.
- ``loss, grads = model.loss_and_grads(params, x, y_target, ...)``: the squared error of
  :mod:`gradcourse.losses` and its gradients.

Arrays are time-major, (T, B, n) with B the batch size. Any parameter dict may carry
leading *model axes* M (:mod:`gradcourse.stacking`): then every array has them in front,
the loss is one number per model, and S models train in one loop
(:func:`gradcourse.train.train`). Bad input raises ``ValueError`` or ``TypeError`` naming the
argument; a value that overflows raises :class:`NonFiniteError` naming where.
"""

from .errors import NonFiniteError

__all__ = ["NonFiniteError"]
__version__ = "0.3.0"
