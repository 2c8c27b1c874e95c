"""Measure the course against its budgets, on one core.

    python benchmarks/run.py            # print every timing and its budget
    python benchmarks/run.py --strict   # also exit 1 if anything is over budget

Timings depend on the machine, so they are measured here rather than asserted in the
tests. Each notebook runs top to bottom in a fresh kernel, as on Binder.
"""

import argparse
import os
import sys
import time
from pathlib import Path

# One core: set before numpy is imported, here and in the kernels started below.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import nbformat  # noqa: E402
import numpy as np  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

from gradcourse import jacobians, losses, rnn, stacking, tasks, train, updates  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHAPTER_BUDGET_S = 20.0
#: Chapter 7 trains 120 networks (four kinds, five seeds, three learning rates, with and without
#: clipping) for its comparison of the remedies; that one chapter may take up to 60 s.
LONGER_CHAPTER_BUDGET_S = {"07_remedies.ipynb": 60.0}
#: All chapters one after another, as the design asks.
ALL_CHAPTERS_BUDGET_S = 120.0


def best_of(fn, repeat=3):
    """Smallest wall time of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def time_notebook(path):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def contribution_map_case(T=1000, n_h=128):
    rng = np.random.default_rng(0)
    params = rnn.init_params(1, n_h, 1, rng=rng)
    x = rng.normal(size=(T, 1, 1))
    fwd = rnn.forward(params, x)
    _, dy = losses.mse(fwd.y, np.zeros_like(fwd.y))
    return lambda: jacobians.contribution_map(params, fwd, dy)


def bptt_case(T=500, B=64, n_h=128, n_x=8):
    rng = np.random.default_rng(0)
    params = rnn.init_params(n_x, n_h, 1, rng=rng)
    x = rng.normal(size=(T, B, n_x))
    y_target = rng.normal(size=(T, B, 1))
    return lambda: rnn.loss_and_grads(params, x, y_target)


def torch_bptt_case(T=500, B=64, n_h=128, n_x=8):
    """The same problem through PyTorch autograd, if PyTorch is installed (it is not required)."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    params = {k: torch.tensor(v, requires_grad=True) for k, v in rnn.init_params(n_x, n_h, 1, rng=rng).items()}
    x = torch.tensor(rng.normal(size=(T, B, n_x)))
    y_target = torch.tensor(rng.normal(size=(T, B, 1)))

    def run():
        a_in = x @ params["W_xh"].T + params["b_h"]
        h, states = torch.zeros(B, n_h, dtype=torch.float64), []
        for t in range(T):
            h = torch.tanh(h @ params["W_hh"].T + a_in[t])
            states.append(h)
        y = torch.stack(states) @ params["W_hy"].T + params["b_y"]
        (0.5 * ((y - y_target) ** 2).sum() / B).backward()

    return run


def training_case(n_models, one_after_another=False, steps=20, T=50, B=64, n_h=32):
    """``steps`` steps of clipped SGD on the adding problem for ``n_models`` RNNs, stacked
    along a model axis (or, with ``one_after_another``, each trained alone in turn)."""
    seeds = [rnn.init_params(2, n_h, 1, rng=np.random.default_rng(s)) for s in range(n_models)]
    task = lambda rng: tasks.adding_problem(T=T, batch=B, rng=rng)  # noqa: E731

    def fit(params):
        train.train(rnn, params, task, steps=steps, lr=0.01, update=updates.clip_by_global_norm(1.0),
                    rng=np.random.default_rng(1), loss_at="last_step")

    if one_after_another:
        return lambda: [fit(p) for p in seeds]
    params = seeds[0] if n_models == 1 else stacking.stack(seeds)
    return lambda: fit(params)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strict", action="store_true", help="exit 1 if a budget is exceeded")
    args = parser.parse_args()

    results = []  # (what, seconds, budget or None)
    results.append(("t-by-k map, T=1000, n_h=128", best_of(contribution_map_case()), 2.0))
    results.append(("BPTT forward+backward, T=500, B=64, n_h=128", best_of(bptt_case()), None))
    # Stacking saves the Python overhead of the time loop, not arithmetic: on a processor where
    # numpy's tanh is not vectorised (about 20-40 ns an entry), one such RNN is mostly arithmetic
    # already, and 16 stacked cannot cost only 4 times one. At this size the budget is therefore
    # set against the same 16 trained one after another; at the chapters' smaller size, where the
    # overhead dominates, against 4 times one.
    one = best_of(training_case(1))
    in_turn = best_of(training_case(16, True), repeat=1)
    results.append(("train 1 RNN, 20 steps (T=50, B=64, n_h=32)", one, None))
    results.append(("train 16 RNNs one after another, 20 steps", in_turn, None))
    results.append(("train 16 RNNs stacked, 20 steps (budget: 3/4 of in turn)", best_of(training_case(16)), 0.75 * in_turn))
    small = dict(T=30, B=16, n_h=16)  # the size of the chapters' multi-seed runs, where overhead dominates
    one_small = best_of(training_case(1, **small))
    results.append(("train 1 RNN, 20 steps (T=30, B=16, n_h=16)", one_small, None))
    results.append(("train 16 RNNs stacked, same size (budget: 4 times one)", best_of(training_case(16, **small)), 4 * one_small))
    torch_case = torch_bptt_case()
    if torch_case is not None:
        results.append(("the same with PyTorch autograd (for comparison)", best_of(torch_case), None))
    chapters = []
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        budget = LONGER_CHAPTER_BUDGET_S.get(path.name, CHAPTER_BUDGET_S)
        chapters.append(time_notebook(path))
        results.append((f"notebook {path.name}, fresh kernel", chapters[-1], budget))
    results.append((f"all {len(chapters)} chapters, one after another", sum(chapters), ALL_CHAPTERS_BUDGET_S))

    over = False
    for what, seconds, budget in results:
        verdict = "" if budget is None else ("within" if seconds <= budget else "OVER") + f" budget {budget:g} s"
        over |= budget is not None and seconds > budget
        print(f"{what:55s} {seconds:7.2f} s   {verdict}")
    if args.strict and over:
        sys.exit(1)


if __name__ == "__main__":
    main()
