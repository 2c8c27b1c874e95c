"""Many models at once: parameter dicts stacked along leading model axes.

Training S networks one after the other repeats S times the Python loop over time
steps; stacked, they share it, and numpy's matmul runs the S matrix products of each
step together. Model ``m`` of a stack computes exactly what it computes alone.

Examples
--------
>>> import numpy as np
>>> from gradcourse import rnn
>>> seeds = [rnn.init_params(1, 4, 1, rng=np.random.default_rng(s))
...          for s in range(3)]
>>> params = stack(seeds)
>>> params["W_hh"].shape, model_shape(params)
((3, 4, 4), (3,))
>>> np.array_equal(unstack(params)[2]["W_hh"], seeds[2]["W_hh"])
True
"""

import numpy as np

__all__ = ["stack", "unstack", "repeat", "model_shape"]


def _check_list(dicts):
    if isinstance(dicts, dict) or not hasattr(dicts, "__len__") or len(dicts) == 0:
        raise ValueError(f"dicts must be a non-empty list of parameter dicts, got {type(dicts).__name__}")
    keys = set(dicts[0]) if isinstance(dicts[0], dict) else None
    for i, d in enumerate(dicts):
        if not isinstance(d, dict) or set(d) != keys:
            raise ValueError(f"dicts[{i}] must be a parameter dict with the keys of dicts[0], {sorted(keys or [])}")
        for k in d:
            if np.shape(d[k]) != np.shape(dicts[0][k]):
                raise ValueError(f"dicts[{i}][{k!r}] has shape {np.shape(d[k])}, dicts[0][{k!r}] {np.shape(dicts[0][k])}")


def stack(dicts):
    """Stack parameter dicts of one shape along a new leading model axis.

    Parameters
    ----------
    dicts : list of dict
        Parameter dicts with the same keys and shapes (e.g. one per seed).

    Returns
    -------
    dict of numpy.ndarray
        Each array gains a leading axis of length ``len(dicts)``.

    Examples
    --------
    >>> stack([{"w": np.zeros(2)}, {"w": np.ones(2)}])["w"]
    array([[0., 0.],
           [1., 1.]])
    """
    _check_list(dicts)
    return {k: np.stack([np.asarray(d[k], dtype=float) for d in dicts]) for k in dicts[0]}


def unstack(params):
    """Split a stack with one model axis back into a list of dicts (copies).

    Examples
    --------
    >>> [d["w"].tolist() for d in unstack({"w": np.array([[0.0], [1.0]])})]
    [[0.0], [1.0]]
    """
    S = model_shape(params, core_ndim={k: np.ndim(v) - 1 for k, v in params.items()})
    return [{k: np.array(v[s]) for k, v in params.items()} for s in range(S[0])]


def model_shape(params, core_ndim=None):
    """The leading model axes shared by every array of ``params``.

    Without ``core_ndim`` (a dict of the number of axes of one model's array per key),
    the model shape is the longest leading shape that all arrays share and that leaves
    each weight matrix (a key starting with ``W``) two axes and each bias one.

    Examples
    --------
    >>> model_shape({"W": np.zeros((5, 2, 3, 3)), "b": np.zeros((5, 2, 3))})
    (5, 2)
    """
    if not isinstance(params, dict) or not params:
        raise ValueError("params must be a non-empty dict of arrays")
    if core_ndim is None:
        core_ndim = {k: 2 if k.startswith("W") else 1 for k in params}
    shapes = {k: np.shape(v)[: max(np.ndim(v) - core_ndim[k], 0)] for k, v in params.items()}
    first = next(iter(shapes.values()))
    if any(s != first for s in shapes.values()):
        raise ValueError(f"params' arrays carry different model axes: {shapes}")
    return first


def repeat(params, n):
    """The same models ``n`` times, along a new leading axis: e.g. every seed once per
    learning rate of a grid.

    Examples
    --------
    >>> # model shape (2,)
    >>> seeds = stack([{"w": np.zeros(2)}, {"w": np.ones(2)}])
    >>> lrs = np.array([0.1, 0.3, 1.0])[:, None]  # one row per rate
    >>> repeat(seeds, len(lrs))["w"].shape         # model shape (3, 2)
    (3, 2, 2)
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if not isinstance(params, dict) or not params:
        raise ValueError("params must be a non-empty dict of arrays")
    return {k: np.repeat(np.asarray(v, dtype=float)[None], n, axis=0) for k, v in params.items()}
