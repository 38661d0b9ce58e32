"""The elimination order of least per-item work (dogtag.genetics.elimination.best_order, by
dynamic programming over sets of eliminated variables), against every order tried one by one
and costed step by step (order_cost: the operations each step makes, shared tables free)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dogtag.genetics.elimination import best_order, order_cost


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
    least = min(order_cost(fvars, shared, size, p) for p in itertools.permutations(elim))
    assert order_cost(fvars, shared, size, order) <= least * (1 + 1e-12)
