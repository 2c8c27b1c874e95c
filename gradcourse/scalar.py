"""The scalar case: one hidden unit, where the gradient is a product of numbers.

With one unit, the step Jacobian J_i = w f'(a_i) is a number, and the signal that
reaches back k steps is multiplied by the product of k of them. This module holds
the products, where float64 gives up on them, and the one-unit network of Pascanu,
Mikolov and Bengio (2013), x_t = w sigma(x_{t-1}) + b with the loss (sigma(x_50) - 0.7)^2,
whose loss surface has walls; and a tanh unit that stores a bit, h_t = tanh(w h_{t-1}), whose
stable fixed points make it robust to noise exactly where its gradient vanishes (Bengio, Simard
and Frasconi, 1994).

Examples
--------
>>> import numpy as np
>>> products = running_products(np.full(2000, 0.5))
>>> # 0.5^1075 is below the smallest float64
>>> first_zero_or_nonfinite(products)
1075
"""

import numpy as np

from . import _checks, activations

__all__ = ["running_products", "first_zero_or_nonfinite", "one_unit_trajectory", "pascanu_loss_and_grad", "OUTPUTS",
           "tanh_fixed_point", "tanh_fixed_point_slope", "tanh_unit_memory"]


def running_products(factors):
    """Products of the first k factors, k = 1, ..., K: the scalar dh_t/dh_{t-k}.

    Computed in float64 exactly as backpropagation would, so the products underflow
    to 0 or overflow to inf where a real gradient would.

    Parameters
    ----------
    factors : array_like, shape (K,)
        The factors w f'(a_i), latest step first.

    Returns
    -------
    numpy.ndarray, shape (K,)

    Examples
    --------
    >>> running_products([0.5, 0.5, 4.0])
    array([0.5 , 0.25, 1.  ])
    """
    factors = _checks.as_array("factors", factors, ndim=1, nonempty=True)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        return np.cumprod(factors)


def first_zero_or_nonfinite(products):
    """Number of factors k at which a running product first becomes 0, inf or NaN.

    Returns ``None`` if every product is a finite nonzero number.

    Parameters
    ----------
    products : array_like, shape (K,)
        Running products, as from :func:`running_products`; NaN and inf allowed.

    Returns
    -------
    int or None
        k in 1, ..., K, the position (1-based) of the first product that is 0, inf or NaN.

    Examples
    --------
    >>> # 2^1024 overflows
    >>> first_zero_or_nonfinite(running_products(np.full(1100, 2.0)))
    1024
    >>> first_zero_or_nonfinite(np.array([0.5, 0.25])) is None
    True
    """
    products = _checks.as_array("products", products, ndim=1, finite=False, nonempty=True)
    bad = (products == 0) | ~np.isfinite(products)
    return int(np.argmax(bad)) + 1 if bad.any() else None


def one_unit_trajectory(w, b, *, x0=0.5, T=50):
    """Run x_t = w sigma(x_{t-1}) + b for T steps, with forward-mode derivatives.

    ``w`` and ``b`` may be arrays (they broadcast), so a whole grid of networks runs at
    once. Along with x_T come dx_T/dw and dx_T/db, carried forward by the chain rule:
    dx_t/dw = sigma(x_{t-1}) + w sigma'(x_{t-1}) dx_{t-1}/dw and
    dx_t/db = 1 + w sigma'(x_{t-1}) dx_{t-1}/db.

    Parameters
    ----------
    w, b : array_like
        Recurrent weight and bias, broadcastable to a common shape.
    x0 : float, default 0.5
    T : int, default 50

    Returns
    -------
    x_T, dx_dw, dx_db : numpy.ndarray
        Each of the broadcast shape of ``w`` and ``b``.

    Raises
    ------
    gradcourse.errors.NonFiniteError
        If x_T or a derivative overflows float64 (only for enormous ``w`` or ``b``).

    Examples
    --------
    >>> # w = 0: x_t = b
    >>> x_T, dx_dw, dx_db = one_unit_trajectory(0.0, 0.3, T=5)
    >>> float(x_T), float(dx_dw), float(dx_db)
    (0.3, 0.574442516811659, 1.0)
    """
    w = _checks.as_array("w", w, nonempty=True)
    b = _checks.as_array("b", b, nonempty=True)
    x0 = _checks.real_float("x0", x0)
    T = _checks.positive_int("T", T)
    try:
        shape = np.broadcast_shapes(w.shape, b.shape)
    except ValueError:
        raise ValueError(f"w and b must be broadcastable to one shape, got shapes {w.shape} and {b.shape}") from None
    x = np.full(shape, x0)
    dx_dw = np.zeros(shape)
    dx_db = np.zeros(shape)
    with np.errstate(under="ignore", over="ignore", invalid="ignore"):  # overflow is reported below
        for _ in range(T):
            s, s_prime = activations.sigmoid(x), activations.sigmoid_prime(x)
            dx_dw = s + w * s_prime * dx_dw
            dx_db = 1.0 + w * s_prime * dx_db
            x = w * s + b
    for name, value in (("x_T", x), ("dx_T/dw", dx_dw), ("dx_T/db", dx_db)):
        if not np.all(np.isfinite(value)):
            raise _checks.NonFiniteError(f"{name} overflowed to inf or NaN: |w| or |b| is too large for float64")
    return x, dx_dw, dx_db


#: What the loss of :func:`pascanu_loss_and_grad` compares with the target.
OUTPUTS = ("sigmoid", "state")


def pascanu_loss_and_grad(w, b, *, x0=0.5, T=50, target=0.7, output="sigmoid"):
    """Loss of the one-unit network of Pascanu et al. (2013) and its gradient (dL/dw, dL/db).

    With ``output="sigmoid"`` (the default, the paper's loss) the network's output is
    sigma(x_T) and L = (sigma(x_T) - target)^2, bounded because sigma lies in (0, 1).
    With ``output="state"`` the state itself is compared, L = (x_T - target)^2: a variant
    with the same walls, whose loss is unbounded.
    The derivatives of x_T are carried forward as in :func:`one_unit_trajectory`, and the
    chain rule adds sigma'(x_T) for the sigmoid output:
    dL/dw = 2 (sigma(x_T) - target) sigma'(x_T) dx_T/dw, and the same with b.

    Parameters
    ----------
    w, b : array_like
        Broadcastable grids of parameters.
    x0, T, target : float, int, float
        Start, number of steps and target; the defaults, 0.5, 50 and 0.7, are the paper's.
    output : {"sigmoid", "state"}, default "sigmoid"
        Compare sigma(x_T) (the paper) or x_T (the variant) with the target.

    Returns
    -------
    loss, dL_dw, dL_db : numpy.ndarray
        Each of the broadcast shape of ``w`` and ``b``.

    Raises
    ------
    ValueError
        If ``output`` is not one of :data:`OUTPUTS`, or another argument is invalid.
    gradcourse.errors.NonFiniteError
        If the loss or a derivative overflows float64 (only for enormous ``w`` or ``b``).

    Examples
    --------
    With w = 0 the state is x_t = b from the first step on; for b = 0 the output is
    sigma(0) = 1/2, so L = (1/2 - 0.7)^2 and dL/db = 2 (1/2 - 0.7) sigma'(0) = -0.1:

    >>> loss, dL_dw, dL_db = pascanu_loss_and_grad(0.0, 0.0)
    >>> round(float(loss), 12), round(float(dL_db), 12)
    (0.04, -0.1)
    >>> loss, dL_dw, dL_db = pascanu_loss_and_grad(0.0, 0.7, output="state")
    >>> float(loss), float(dL_db)
    (0.0, 0.0)
    """
    output = _checks.one_of("output", output, OUTPUTS)
    target = _checks.real_float("target", target)
    x_T, dx_dw, dx_db = one_unit_trajectory(w, b, x0=x0, T=T)
    with np.errstate(under="ignore", over="ignore", invalid="ignore"):  # overflow is reported below
        if output == "sigmoid":
            r = activations.sigmoid(x_T) - target
            dL_dx = 2 * r * activations.sigmoid_prime(x_T)
        else:
            r = x_T - target
            dL_dx = 2 * r
        out = r**2, dL_dx * dx_dw, dL_dx * dx_db
    for name, value in zip(("the loss L", "dL/dw", "dL/db"), out):
        if not np.all(np.isfinite(value)):
            raise _checks.NonFiniteError(f"{name} overflowed to inf or NaN: |w| or |b| is too large for float64")
    return out


#: Newton steps of :func:`tanh_fixed_point`: from h = 1 it reaches h* to within rounding in at
#: most about 45 steps for every w > 1 down to 1 + 1e-15; the rest are a margin.
_NEWTON_STEPS = 60


def tanh_fixed_point(w):
    """The largest fixed point h* of the map h -> tanh(w h): the value a tanh unit stores.

    For w > 1 the map has three fixed points, -h*, 0 and h* with 0 < h* < 1, and this is h*;
    for w <= 1 (negative w too), 0 is the only one. Found by Newton's method on
    F(h) = tanh(w h) - h from h = 1: F is concave on h > 0, so the iterates fall
    monotonically to h* and never overshoot it (up to rounding). Close to w = 1 the root is
    ill-conditioned: F'(h*) is about -2 (w - 1), so rounding in tanh moves h* by that much
    more (a relative 1e-7 at w = 1 + 1e-9).

    Parameters
    ----------
    w : array_like
        Recurrent weights, any shape with at least one entry; finite.

    Returns
    -------
    numpy.ndarray
        h*, of the shape of ``w``, with h* = tanh(w h*).

    Examples
    --------
    >>> h_star = tanh_fixed_point([0.5, 2.0, 4.0])
    >>> h_star.round(4)
    array([0.    , 0.9575, 0.9993])
    >>> bool(np.allclose(np.tanh([0.5, 2.0, 4.0] * h_star), h_star))
    True
    """
    w = _checks.as_array("w", w, nonempty=True)
    h = np.where(w > 1, 1.0, 0.0)
    above = w > 1
    with np.errstate(invalid="ignore", divide="ignore"):
        for _ in range(_NEWTON_STEPS):
            t = np.tanh(w * h)
            step = (t - h) / (w * (1 - t**2) - 1)
            h = np.where(above, h - step, 0.0)
    return h


def tanh_fixed_point_slope(w):
    """The factor w f'(a*) = w (1 - h*^2) by which a tanh unit holding h* multiplies a gradient.

    At the fixed point a* = w h* and f'(a*) = 1 - tanh(a*)^2 = 1 - h*^2. It is also the slope
    of the map h -> tanh(w h) at h*, so it decides how a small perturbation of the stored
    value evolves: it shrinks (the memory is robust) exactly when the slope is below 1 in
    size. For w > 1 it lies in (0, 1); for w <= 1 it is w, the slope at h* = 0. Computed as
    w / cosh(w h*)^2, the same number, which keeps its significant digits for large w, where
    h* rounds to nearly 1.

    Parameters
    ----------
    w : array_like
        Recurrent weights, any shape with at least one entry; finite.

    Returns
    -------
    numpy.ndarray
        The slope, of the shape of ``w``.

    Examples
    --------
    >>> tanh_fixed_point_slope([0.5, 2.0, 4.0]).round(4)
    array([0.5   , 0.1664, 0.0054])
    """
    w = _checks.as_array("w", w, nonempty=True)
    h_star = tanh_fixed_point(w)
    # 1 - h*^2 = 1 - tanh(a*)^2 = 1 / cosh(a*)^2, which keeps its digits where h* is close to 1
    with np.errstate(over="ignore"):  # cosh overflows only where the factor underflows to 0
        return w / np.cosh(w * h_star) ** 2


def tanh_unit_memory(w, x, *, u=1.0, h0=1.0):
    """Run a one-unit tanh network h_t = tanh(w h_{t-1} + u x_t) and carry dh_t/dh_0 along.

    The derivative is the running product of the step factors w f'(a_t) = w (1 - h_t^2),
    multiplied in float64 as backpropagation would. ``w``, ``u`` and ``h0`` broadcast against
    one step of the input, ``x[t]``, so that a grid of weights, noise levels and noise draws
    runs in one call.

    Parameters
    ----------
    w : array_like
        Recurrent weights, broadcastable with ``x[0]``.
    x : array_like, shape (T, ...)
        Inputs, time first; zeros for a unit left alone, random draws for noise.
    u : array_like, default 1.0
        Input weight (the size of the noise when ``x`` is standard normal).
    h0 : array_like, default 1.0
        Initial state: 1 writes the bit +1.

    Returns
    -------
    h_T, product : numpy.ndarray
        The final state and dh_T/dh_0, each of the broadcast shape of ``w``, ``u``, ``h0``
        and ``x[0]``.

    Raises
    ------
    ValueError
        If an argument is not finite or the shapes do not broadcast.

    Examples
    --------
    >>> # w = 2, no input: the state falls from 1 to the stored value 0.9575
    >>> h_T, product = tanh_unit_memory(2.0, np.zeros(30))
    >>> round(float(h_T), 4), bool(0 < product < 0.17**29)
    (0.9575, True)
    """
    w = _checks.as_array("w", w, nonempty=True)
    x = _checks.as_array("x", x, min_ndim=1, nonempty=True)
    u = _checks.as_array("u", u, nonempty=True)
    h0 = _checks.as_array("h0", h0, nonempty=True)
    try:
        shape = np.broadcast_shapes(w.shape, x.shape[1:], u.shape, h0.shape)
    except ValueError:
        raise ValueError(f"w, u, h0 and one step of x must broadcast to one shape, got shapes {w.shape}, "
                         f"{u.shape}, {h0.shape} and {x.shape[1:]}") from None
    h = np.broadcast_to(h0, shape).copy()
    product = np.ones(shape)
    with np.errstate(under="ignore"):  # a vanished product is the point, not an error
        for x_t in x:
            h = np.tanh(w * h + u * x_t)
            product = product * (w * (1 - h**2))
    return h, product
