"""Grouping samples into individuals (dogtag.analysis.individuals): conflicts inside an individual."""

from __future__ import annotations

from dogtag.analysis.individuals import SampleInfo, group_individuals
from dogtag.genetics import mtdna as mt

HVS = "16024-16365;73-340"


def _mt(variants: str) -> mt.MtHaplotype:
    return mt.haplotype(variants, range=HVS)


def _group(*mts: str | None, individuals: tuple[int | None, ...] | None = None) -> list[list[str]]:
    inds = individuals or (1,) * len(mts)
    infos = [SampleInfo(f"S{i}", i, ind, None, _mt(v) if v is not None else None)
             for i, (v, ind) in enumerate(zip(mts, inds, strict=True))]
    return [u.conflicts for u in group_individuals(infos, []).units]


def test_two_maternal_lines_in_one_individual_are_a_conflict() -> None:
    """The anthropologist's individual holds a tooth of one man and an ulna of another: their
    mtDNA differs at two or more sites (SWGDAM: exclusion), so it is never proposed as one."""
    (conf,) = _group("16129A 16189C 16223T 16278T 73G 153G", "16192T 16256T 16270T 73G 263G")
    assert len(conf) == 1 and "different maternal lines" in conf[0] and "S0 / S1" in conf[0]
    (conf,) = _group("16129A 73G 263G", "16129A 16189C 73G 263G", "16129A 16189C 16223T 73G 263G")
    assert len(conf) == 1 and "S0 / S2" in conf[0] and "S0 / S1" not in conf[0] and "S1 / S2" not in conf[0]


def test_one_difference_or_one_line_is_no_conflict() -> None:
    assert _group("16129A 16189C 73G 263G", "16129A 16189C 73G 263G") == [[]]
    assert _group("16129A 16189C 73G 263G", "16129A 16189Y 73G 263G") == [[]]      # heteroplasmy
    assert _group("16129A 16189C 73G 263G", "16129A 73G 263G") == [[]]            # one difference: inconclusive
    assert _group("16129A 16189C 73G 263G", None) == [[]]                          # one typed
    # two people in two registry individuals: two units, nothing to resolve
    assert _group("16129A 16189C 16223T 73G", "16192T 16256T 73G 263G", individuals=(1, 2)) == [[], []]
