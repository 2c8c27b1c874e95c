"""gradcourse: the code behind the course on vanishing and exploding gradients.

Modules, one idea each:

- :mod:`gradcourse.activations` -- f and f_prime for sigmoid, tanh, ReLU, leaky ReLU
- :mod:`gradcourse.rnn` -- a vanilla RNN: init, forward, loss, BPTT
- :mod:`gradcourse.gradcheck` -- finite-difference gradient checks
- :mod:`gradcourse.jacobians` -- step Jacobians and the t-by-k contribution map
- :mod:`gradcourse.lstm` -- an LSTM with hand-written BPTT
- :mod:`gradcourse.mlp` -- a deep feedforward network, optionally residual
- :mod:`gradcourse.spectral` -- spectral norm and radius, powers of matrices
- :mod:`gradcourse.scalar` -- the one-unit case and float64's limits
- :mod:`gradcourse.clipping` -- clipping by value, by global norm, sign updates
- :mod:`gradcourse.losses`, :mod:`gradcourse.tasks`, :mod:`gradcourse.train` -- losses,
  the adding problem, a training loop
- :mod:`gradcourse.plotting` -- the course's figures
- :mod:`gradcourse.exercises` -- checkers for the code exercises
- :mod:`gradcourse.book` -- running the chapters with or without myst-nb
"""

from .errors import NonFiniteError

__all__ = ["NonFiniteError"]
__version__ = "0.2.0"
