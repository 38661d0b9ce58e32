"""The sorting's digest: links of one element pair, one excluded (LR 0) and one finite, order."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from dogtag.registry.commingling import _digest


def test_digest_orders_an_excluded_and_a_finite_link_of_one_pair() -> None:
    inv = SimpleNamespace(ids=["a", "b"], elements=[], sides=[], codes=[], values=np.zeros(2), accessions=[],
                          portions=[])
    out, inside = SimpleNamespace(a="a", b="b", log10_lr=float("-inf")), SimpleNamespace(a="a", b="b", log10_lr=2.0)
    assert _digest(inv, [out, inside]) == _digest(inv, [inside, out])
    assert _digest(inv, [inside]) != _digest(inv, [out, inside])
