"""Synthetic DVI incidents with known truth, for the joint identification's tests and benchmark.

``simulate_incident(n_samples, n_families, ...)`` draws a :class:`dogtag.identify.case.DVICase`
and its truth from the shipped NIST 1036 (Caucasian) frequencies, 23 autosomal STRs (the 20
expanded CODIS core loci, Penta D, Penta E, SE33) and pedmut's stepwise mutation model (female
rate 0.001, male 0.002, rate2 1e-6, range 0.1), so that no pair is excluded outright.

Each family is drawn whole on an extended pedigree by :func:`dogtag.genetics.simulate.
simulate_profiles` (gene dropping with mutation), then reduced to the members the reference
family keeps (a marginal of the same draw: the members dropped are untyped and have no typed
descendants). Reference kinds, in turn:

- one missing person ``MP``: ``parents`` (father and mother typed), ``siblings`` (a brother and
  a sister typed, parents untyped), ``grandparents`` (the paternal grandparents and the mother
  typed, the father untyped);
- two missing brothers ``MP1``, ``MP2`` (a fraction ``brothers`` of the families):
  ``parents``, ``sister`` (one typed sister) or ``grandparents`` (paternal grandparents).

Samples: the missing persons' own profiles (a closed incident: all of them, ``n_samples`` is
then ignored; an open one: ``n_samples - n_unrelated`` of them, at random), unrelated remains
(Hardy-Weinberg draws; ``unrelated`` is their fraction of the samples in an open incident), and
``relatives`` remains of relatives of the missing who are not themselves missing (a half-brother,
a paternal cousin or a paternal uncle of a singleton family's missing person, whose reference
pedigree does not contain them). A fraction ``degraded`` of the samples are degraded (each locus
fails with probability 0.2, each allele copy drops out with probability 0.2; the sample carries
``dropout = 0.2``). Sex: every missing person and every relative is male; unrelated remains are
male. Everything follows from ``seed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dogtag.genetics.cases import Genotype
from dogtag.genetics.freqdb import load_database
from dogtag.genetics.markers import Marker
from dogtag.genetics.pedigree import Pedigree
from dogtag.genetics.simulate import simulate_profiles
from dogtag.identify.case import DVICase, Family, Sample

__all__ = ["LOCI", "Incident", "incident_markers", "simulate_incident"]

LOCI = ("CSF1PO", "FGA", "TH01", "TPOX", "vWA", "D3S1358", "D5S818", "D7S820", "D8S1179",
        "D13S317", "D16S539", "D18S51", "D21S11", "D1S1656", "D2S441", "D2S1338", "D10S1248",
        "D12S391", "D19S433", "D22S1045", "Penta_D", "Penta_E", "SE33")

# extended pedigrees: id, father, mother, sex
_SINGLE = (("PGF", None, None, 1), ("PGM", None, None, 2), ("FA", "PGF", "PGM", 1),
           ("MO", None, None, 2), ("MP", "FA", "MO", 1), ("S1", "FA", "MO", 1), ("S2", "FA", "MO", 2),
           ("UN", "PGF", "PGM", 1), ("UNW", None, None, 2), ("CO", "UN", "UNW", 1),
           ("HBM", None, None, 2), ("HB", "FA", "HBM", 1))
_BROTHERS = (("PGF", None, None, 1), ("PGM", None, None, 2), ("FA", "PGF", "PGM", 1),
             ("MO", None, None, 2), ("MP1", "FA", "MO", 1), ("MP2", "FA", "MO", 1), ("SI", "FA", "MO", 2))
#: reference kind -> (members of the reference pedigree, typed members)
_SINGLE_KINDS = {"parents": (("FA", "MO", "MP"), ("FA", "MO")),
                 "siblings": (("FA", "MO", "MP", "S1", "S2"), ("S1", "S2")),
                 "grandparents": (("PGF", "PGM", "FA", "MO", "MP"), ("PGF", "PGM", "MO"))}
_BROTHER_KINDS = {"parents": (("FA", "MO", "MP1", "MP2"), ("FA", "MO")),
                  "sister": (("FA", "MO", "MP1", "MP2", "SI"), ("SI",)),
                  "grandparents": (("PGF", "PGM", "FA", "MO", "MP1", "MP2"), ("PGF", "PGM"))}
#: relatives who are not missing, in the extended singleton pedigree
RELATIVES = {"half-brother": "HB", "cousin": "CO", "uncle": "UN"}


@dataclass
class Incident:
    """A simulated case and its truth.

    ``truth[sample]`` is the missing-person label (as :meth:`DVICase.missing_labels`) the sample
    is, or ``"*"`` (unrelated remains or a relative who is not missing); ``kind[sample]`` says
    which (``"missing"``, ``"unrelated"``, ``"half-brother"``, ``"cousin"``, ``"uncle"``);
    ``brothers`` lists the label pairs of missing brothers.
    """

    case: DVICase
    truth: dict[str, str]
    kind: dict[str, str]
    brothers: list[tuple[str, str]] = field(default_factory=list)
    closed: bool = False
    seed: int = 1


def incident_markers() -> list[Marker]:
    """The 23 loci with NIST 1036 Caucasian frequencies and the stepwise mutation model."""
    db = load_database("nist1036-Cauc")
    return db.markers(list(LOCI), mutation={"model": "stepwise", "rate": 0.001, "rate2": 1e-6, "range": 0.1},
                      male_mutation={"model": "stepwise", "rate": 0.002, "rate2": 1e-6, "range": 0.1})


def _ped(rows: tuple[tuple[str, str | None, str | None, int], ...], keep: tuple[str, ...]) -> Pedigree:
    sel = [r for r in rows if r[0] in keep]
    return Pedigree.from_table([r[0] for r in sel], [r[1] if r[1] in keep else None for r in sel],
                               [r[2] if r[2] in keep else None for r in sel], [r[3] for r in sel])


def _degrade(g: dict[str, Genotype], rng: np.random.Generator) -> dict[str, tuple[str | None, str | None]]:
    out: dict[str, tuple[str | None, str | None]] = {}
    for m, (a, b) in g.items():
        if rng.random() < 0.2:
            continue
        if a == b:
            if rng.random() < 0.2 * 0.2:
                continue
            out[m] = (a, b)
            continue
        keep = [x for x in (a, b) if rng.random() >= 0.2]
        if not keep:
            continue
        out[m] = (keep[0], keep[1]) if len(keep) == 2 else (keep[0], None)
    return out


def simulate_incident(n_samples: int, n_families: int, *, closed: bool = False, brothers: float = 0.0,
                      degraded: float = 0.0, unrelated: float = 0.5, relatives: dict[str, int] | None = None,
                      seed: int = 1, markers: list[Marker] | None = None) -> Incident:
    """A synthetic incident with its truth (see the module docstring).

    Parameters
    ----------
    n_samples : number of remains (open incident; a closed one has one per missing person).
    n_families : number of reference families.
    closed : every sample is one of the missing persons, and every missing person is found.
    brothers : fraction of families with two missing brothers.
    degraded : fraction of degraded samples.
    unrelated : fraction of the samples (open incident) that are unrelated to every family.
    relatives : number of remains of each kind of relative who is not missing
        (keys of :data:`RELATIVES`), taken from distinct singleton families.
    seed : random seed.
    """
    if not 0.0 <= brothers <= 1.0 or not 0.0 <= degraded <= 1.0 or not 0.0 <= unrelated <= 1.0:
        raise ValueError("`brothers`, `degraded` and `unrelated` are fractions in [0, 1]")
    rng = np.random.default_rng(seed)
    markers = markers if markers is not None else incident_markers()
    n_bro = round(brothers * n_families)
    is_bro = np.zeros(n_families, dtype=bool)
    is_bro[rng.permutation(n_families)[:n_bro]] = True
    kind_of = [list(_BROTHER_KINDS if b else _SINGLE_KINDS)[int(rng.integers(3))] for b in is_bro]
    sims: dict[bool, list[dict[str, dict[str, Genotype]]]] = {}
    for b, rows in ((False, _SINGLE), (True, _BROTHERS)):
        n = int((is_bro == b).sum())
        ped = _ped(rows, tuple(r[0] for r in rows))
        sims[b] = simulate_profiles(ped, markers, members=[r[0] for r in rows], nsim=n,
                                    seed=int(rng.integers(2**31))) if n else []
    it = {False: iter(sims[False]), True: iter(sims[True])}
    am: list[Family] = []
    profiles: dict[str, dict[str, Genotype]] = {}  # missing label -> genotypes
    truth_pool: list[str] = []
    brother_pairs: list[tuple[str, str]] = []
    single_draws: list[tuple[int, dict[str, dict[str, Genotype]]]] = []
    for f in range(n_families):
        draw = next(it[bool(is_bro[f])])
        name = f"F{f + 1}"
        if is_bro[f]:
            members, typed = _BROTHER_KINDS[kind_of[f]]
            ped = _ped(_BROTHERS, members)
            mps: tuple[str, ...] = ("MP1", "MP2")
            brother_pairs.append((f"{name}:MP1", f"{name}:MP2"))
        else:
            members, typed = _SINGLE_KINDS[kind_of[f]]
            ped = _ped(_SINGLE, members)
            mps = ("MP",)
            single_draws.append((f, draw))
        am.append(Family(name, ped, mps, {m: dict(draw[m]) for m in typed}))
        for mp in mps:
            label = f"{name}:{mp}"
            profiles[label] = dict(draw[mp])
            truth_pool.append(label)
    # labels as DVICase.missing_labels gives them: the bare id where it is unique across families
    case0 = DVICase(markers, [], am)
    labels = case0.missing_labels()
    full = [f"{f.name}:{m}" for f in am for m in f.missing]
    relabel = dict(zip(full, labels, strict=True))
    brother_pairs = [(relabel[a], relabel[b]) for a, b in brother_pairs]

    genos: list[tuple[str, dict[str, Genotype]]] = []  # (truth, genotypes)
    kinds: list[str] = []
    if closed:
        chosen = list(range(len(truth_pool)))
        n_unrel = 0
    else:
        n_unrel = round(unrelated * n_samples)
        chosen = sorted(rng.permutation(len(truth_pool))[: max(0, n_samples - n_unrel)].tolist())
    for k in chosen:
        genos.append((relabel[truth_pool[k]], profiles[truth_pool[k]]))
        kinds.append("missing")
    rel = relatives or {}
    bad = sorted(set(rel) - set(RELATIVES))
    if bad:
        raise ValueError(f"`relatives`: unknown kinds {', '.join(bad)}; use {', '.join(RELATIVES)}")
    order = rng.permutation(len(single_draws)).tolist()
    if sum(rel.values()) > len(order):
        raise ValueError("`relatives`: more relatives than singleton families")
    for what, count in rel.items():
        for _ in range(count):
            _f, draw = single_draws[order.pop()]
            genos.append(("*", dict(draw[RELATIVES[what]])))
            kinds.append(what)
    unrel: list[dict[str, Genotype]] = [{} for _ in range(n_unrel)]
    for m in markers:
        q = m.freqs / m.freqs.sum()
        g = np.sort(rng.choice(m.n_alleles, size=(n_unrel, 2), p=q), axis=1)
        for i in range(n_unrel):
            unrel[i][m.name] = (m.alleles[g[i, 0]], m.alleles[g[i, 1]])
    genos += [("*", u) for u in unrel]
    kinds += ["unrelated"] * n_unrel
    perm = rng.permutation(len(genos))
    deg = rng.random(len(genos)) < degraded
    pm: list[Sample] = []
    truth: dict[str, str] = {}
    kind: dict[str, str] = {}
    for n, k in enumerate(perm.tolist()):
        sid = f"V{n + 1}"
        who, g = genos[k]
        if deg[n]:
            pm.append(Sample(sid, 1, _degrade(g, rng), dropout=0.2))
        else:
            pm.append(Sample(sid, 1, {m: (a, b) for m, (a, b) in g.items()}))
        truth[sid] = who
        kind[sid] = kinds[k]
    case = DVICase(markers, pm, am, name=f"synthetic incident {len(pm)} x {n_families} (seed {seed})")
    return Incident(case, truth, kind, brother_pairs, closed, seed)
