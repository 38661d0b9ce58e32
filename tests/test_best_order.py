"""The elimination order of least per-item work (dogtag.genetics.elimination.best_order),
against every order tried one by one."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from dogtag.genetics.elimination import best_order


def _work(fvars, shared, size, order) -> int:
    """Eliminate in ``order`` one variable at a time: the scope's size, 0 if all its factors are shared."""
    live = [(set(fv), sh) for fv, sh in zip(fvars, shared, strict=True)]
    total = 0
    for v in order:
        touching = [f for f in live if v in f[0]]
        scope = set().union(*(f[0] for f in touching))
        if not all(sh for _, sh in touching):
            total += math.prod(size[u] for u in scope)
        live = [f for f in live if v not in f[0]] + [(scope - {v}, all(sh for _, sh in touching))]
    return total


@pytest.mark.parametrize("seed", range(20))
def test_best_order_has_the_least_work_of_all_orders(seed):
    rng = np.random.default_rng(seed)
    n_vars = int(rng.integers(3, 7))
    size = tuple(int(rng.choice([2, 16])) for _ in range(n_vars))
    fvars = tuple(tuple(sorted(rng.choice(n_vars, size=int(rng.integers(1, 4)), replace=False).tolist()))
                  for _ in range(int(rng.integers(3, 8))))
    used = sorted({v for fv in fvars for v in fv})
    keep = tuple(used[:1]) if seed % 2 else ()
    shared = tuple(bool(rng.random() < 0.3) for _ in fvars)
    order = best_order(fvars, shared, size, keep)
    elim = [v for v in used if v not in keep]
    assert order is not None and sorted(order) == elim
    least = min(_work(fvars, shared, size, p) for p in itertools.permutations(elim))
    assert _work(fvars, shared, size, order) == least
