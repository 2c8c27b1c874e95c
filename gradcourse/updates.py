"""Update rules for :func:`gradcourse.train.train`: what direction a step takes.

Each rule is a small pure function of the gradients, named as optax and PyTorch name the
same operation; the training loop then moves every parameter by ``-lr`` times the
direction. With several models at once (leading model axes), a rule that looks at the
whole gradient, such as clipping by global norm, does so for each model on its own.

Examples
--------
>>> import numpy as np
>>> # global norm 5
>>> grads = {"W": np.array([[3.0, 0.0]]), "b": np.array([4.0])}
>>> clip_by_global_norm(max_norm=1.0)(grads)["b"]
array([0.8])
>>> sign()(grads)["W"], sgd()(grads)["b"]
(array([[1., 0.]]), array([4.]))
"""

from typing import Callable, NamedTuple

import numpy as np

from . import _checks, clipping

__all__ = ["UpdateRule", "sgd", "clip_by_global_norm", "clip_by_value", "sign"]


class UpdateRule(NamedTuple):
    """A named update rule: ``rule(grads, model_ndim=0)`` returns the step direction."""

    name: str  #: how the rule is shown, e.g. "clip_by_global_norm(max_norm=1.0)"
    direction: Callable  #: (grads, model_ndim) -> dict of arrays with the keys of grads

    def __call__(self, grads, *, model_ndim=0):
        return self.direction(grads, model_ndim)

    def __repr__(self):
        return self.name


def sgd():
    """Plain gradient descent: the direction is the gradient itself (``torch.optim.SGD``).

    Examples
    --------
    >>> sgd()
    sgd()
    """
    return UpdateRule("sgd()", lambda grads, model_ndim: grads)


def clip_by_global_norm(max_norm):
    """Gradient descent with the gradient rescaled to norm at most ``max_norm``, per model
    (optax's ``clip_by_global_norm``; ``torch.nn.utils.clip_grad_norm_``).

    ``max_norm`` is a number, or one threshold per model (an array that broadcasts to the
    model shape); ``np.inf`` leaves a model unclipped, so that one call of
    :func:`gradcourse.train.train` can train clipped and unclipped models side by side.

    Examples
    --------
    >>> import numpy as np
    >>> clip_by_global_norm(0.5)({"g": np.array([0.3, 0.4])})["g"]
    array([0.3, 0.4])
    >>> both = clip_by_global_norm(np.array([np.inf, 1.0]))
    >>> both
    clip_by_global_norm(max_norm=[inf, 1])
    >>> both({"g": np.array([[3.0, 4.0], [3.0, 4.0]])}, model_ndim=1)["g"]
    array([[3. , 4. ],
           [0.6, 0.8]])
    """
    max_norm = clipping._max_norm(max_norm, np.shape(max_norm))  # checked now, not at the first step
    shown = f"{float(max_norm):g}" if max_norm.ndim == 0 else "[" + ", ".join(f"{h:g}" for h in max_norm.flat) + "]"

    def direction(grads, model_ndim):
        return clipping.clip_by_global_norm(grads, max_norm, model_ndim=model_ndim)[0]

    return UpdateRule(f"clip_by_global_norm(max_norm={shown})", direction)


def clip_by_value(clip_value):
    """Gradient descent with every component clipped to [-clip_value, clip_value]
    (optax's ``clip``; ``torch.nn.utils.clip_grad_value_``).

    Examples
    --------
    >>> import numpy as np
    >>> clip_by_value(1.0)({"g": np.array([-3.0, 0.5])})["g"]
    array([-1. ,  0.5])
    """
    clip_value = _checks.positive_float("clip_value", clip_value)
    return UpdateRule(f"clip_by_value(clip_value={clip_value:g})",
                      lambda grads, model_ndim: clipping.clip_by_value(grads, clip_value))


def sign():
    """Sign updates: each component moves by the same step, in the direction of its
    gradient's sign (signSGD; the direction of Rprop without its adaptive step sizes).

    Examples
    --------
    >>> import numpy as np
    >>> sign()({"g": np.array([-1e-30, 0.0, 1e30])})["g"]
    array([-1.,  0.,  1.])
    """
    return UpdateRule("sign()", lambda grads, model_ndim: clipping.sign(grads))
