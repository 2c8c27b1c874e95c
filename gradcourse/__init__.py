"""gradcourse: the code behind the course on vanishing and exploding gradients.

Modules, one idea each:

- :mod:`gradcourse.activations` -- f and f_prime for sigmoid, tanh, ReLU, leaky ReLU
- :mod:`gradcourse.rnn` -- a vanilla RNN: init, forward, loss, BPTT
- :mod:`gradcourse.gradcheck` -- finite-difference gradient checks
- :mod:`gradcourse.jacobians` -- step Jacobians and the t-by-k contribution map
- :mod:`gradcourse.plotting` -- the course's figures
- :mod:`gradcourse.exercises` -- checkers for the code exercises
"""

from ._checks import NonFiniteError

__all__ = ["NonFiniteError"]
__version__ = "0.1.0"
