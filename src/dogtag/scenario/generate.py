"""The seeded Korean War scenario generator: registry import files plus the truth.

``simulate_scenario(folder, seed=1)`` writes, in the layouts ``dogtag import`` reads
(see ``dogtag/registry/README.md``):

``incidents.csv``, ``missing.csv`` (DCAS-like), ``operations.csv``, ``accessions.csv``,
``elements.csv``, ``samples.csv``, ``pedigrees.csv`` (reference families and the pm samples),
``genotypes.csv`` (autosomal STRs; ``quality`` = the lab's estimate of the per-allele drop-out
probability of a degraded profile), ``mito.csv``, ``ystr.csv``; and, apart, ``truth.csv`` (which
individual and which missing person each sample is) and ``scenario.json`` (parameters, seed,
counts). Everything follows from the seed.

The story:

- **Missing persons**: ``n_missing`` (default 7,500) service members lost in the battles of
  :data:`dogtag.scenario.incidents.BATTLES` and the THOR air losses; synthetic names.
- **Families**: one reference family per missing person on one pedigree shape (parents, a
  brother, a sister, the sister's child, the brother's son); ``p_family_donor`` (0.92) of the
  families have at least one donor; of those, most give a maternal-line mtDNA donor, some a
  paternal-line Y donor and some autosomal donors (siblings, nieces and nephews).
- **Remains**, from three sources: a K55-like turnover (boxes of commingled bones of US and
  non-US individuals, elements sampled more than once; their long bones are the measured bones
  of DPAA reference individuals, :mod:`dogtag.scenario.osteometry`, and the reference without
  them is written as ``osteometric_reference.csv.gz``), a disinterment of unknowns (caskets,
  a few holding two individuals) and field recoveries (air-loss and battle sites).
- **Profiles**: most samples give a HVS-I/II mtDNA haplotype; fewer give autosomal STRs, with
  locus failure and drop-out; some give a partial Y-STR haplotype.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dogtag import __version__
from dogtag.scenario import departures as dep
from dogtag.scenario import genetics as sg
from dogtag.scenario.incidents import Incident, air_losses, battles

__all__ = ["MEMBERS", "ScenarioParams", "ScenarioSummary", "simulate_scenario"]

CONFLICT = "Korean War"

#: The pedigree shape of every reference family: id, father, mother, sex (1 male, 2 female, 0 random),
#: relationship to the missing person.
MEMBERS: tuple[tuple[str, str | None, str | None, int, str], ...] = (
    ("FA", None, None, 1, "father"),
    ("MO", None, None, 2, "mother"),
    ("MP", "FA", "MO", 1, "missing person"),
    ("BR", "FA", "MO", 1, "brother"),
    ("SI", "FA", "MO", 2, "sister"),
    ("SIH", None, None, 1, "sister's husband"),
    ("NE", "SIH", "SI", 0, "sister's child"),
    ("BRW", None, None, 2, "brother's wife"),
    ("BC", "BR", "BRW", 1, "brother's son"),
)
_IDX = {m[0]: i for i, m in enumerate(MEMBERS)}

_FIRST = ("James", "John", "Robert", "William", "Charles", "George", "Joseph", "Richard", "Edward", "Donald",
          "Thomas", "Frank", "Harold", "Paul", "Raymond", "Walter", "Jack", "Henry", "Kenneth", "Arthur",
          "Albert", "Eugene", "Ralph", "Howard", "Carl", "Fred", "Clarence", "Earl", "Roy", "Louis", "Harry",
          "Lawrence", "Billy", "Leonard", "Jesse", "Manuel", "Samuel", "Willie", "Melvin", "Gerald")
_LAST = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor",
         "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson",
         "Walker", "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill",
         "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner", "Torres", "Parker",
         "Collins", "Edwards", "Stewart", "Morris", "Murphy", "Cook", "Rogers", "Morgan", "Peterson",
         "Cooper", "Reed", "Bailey", "Bell", "Gomez", "Kelly", "Howard", "Ward", "Cox", "Diaz", "Richardson")
_STATES = (("CA", 7), ("NY", 10), ("PA", 8), ("TX", 6), ("OH", 6), ("IL", 6), ("MI", 5), ("NJ", 4),
           ("MA", 4), ("NC", 3), ("GA", 3), ("IN", 3), ("MO", 3), ("VA", 3), ("TN", 3), ("WI", 3),
           ("KY", 2), ("AL", 2), ("MN", 2), ("LA", 2), ("OK", 2), ("WV", 2), ("WA", 2), ("IA", 2),
           ("SC", 2), ("MS", 2), ("AR", 2), ("FL", 2), ("KS", 1), ("OR", 1), ("CO", 1), ("CT", 1))
_RANKS = {
    "Army": (("PVT", "E-1", 10), ("PFC", "E-3", 40), ("CPL", "E-4", 25), ("SGT", "E-5", 12),
             ("SFC", "E-6", 5), ("2LT", "O-1", 4), ("1LT", "O-2", 3), ("CPT", "O-3", 1)),
    "Marine Corps": (("PVT", "E-1", 10), ("PFC", "E-2", 45), ("CPL", "E-4", 25), ("SGT", "E-4", 12),
                     ("2LT", "O-1", 5), ("1LT", "O-2", 3)),
    "Air Force": (("A2C", "E-3", 5), ("A1C", "E-4", 10), ("SSGT", "E-5", 20), ("TSGT", "E-6", 10),
                  ("2LT", "O-1", 15), ("1LT", "O-2", 25), ("CAPT", "O-3", 12), ("MAJ", "O-4", 3)),
}
_ETHNICITY = {"Cauc": "WHITE", "AfAm": "BLACK", "Hisp": "HISPANIC", "Asian": "ASIAN"}
#: Loss incidents linked to the disinterment of unknowns.
DIS_INC = ("KW-TAEJON", "KW-NAKTONG", "KW-OSAN", "KW-HOENGSONG", "KW-CHIPYONG", "KW-HEARTBREAK", "KW-PORKCHOP",
           "KW-CHONGCHON")
_ELEMENTS = ("femur", "humerus", "tibia", "radius", "ulna", "cranium", "mandible", "tooth", "vertebra", "rib",
             "clavicle", "fibula")


@dataclass
class ScenarioParams:
    """Parameters of the scenario (recorded in ``scenario.json``).

    Counts of remains scale with ``n_missing`` / 7500 unless given.
    """

    seed: int = 1
    n_missing: int = 7500
    population_mix: tuple[float, float, float, float] = (0.86, 0.09, 0.04, 0.01)  # Cauc, AfAm, Hisp, Asian
    p_family_donor: float = 0.92
    p_mt_donor: float = 0.85   # of families with donors
    p_y_donor: float = 0.20
    p_auto_donor: float = 0.35
    k55_individuals: int | None = None   # default 250 x scale
    k55_boxes: int | None = None         # default 55 x scale
    k55_unlisted: float = 0.40           # share of K55 individuals who are not on the list (non-US)
    disinterment_caskets: int | None = None  # default 150 x scale
    field_sites: int | None = None           # default 20 x scale
    p_resample: float = 0.2              # an element sampled a second time
    p_auto_success: dict[str, float] = field(default_factory=lambda: {
        "turnover": 0.5, "disinterment": 0.3, "recovery": 0.6})
    p_mt_success: float = 0.9
    p_y_typed: float = 0.3
    # --- departures from the identification model (dogtag.scenario.departures; 0 = none) ---------
    unlisted_population: str = "Asian"   # population of the remains not on the list (NIST 1036 name)
    n_relatives: int = 0                 # remains of relatives of the missing, not on the list
    p_nonpaternity: float = 0.0          # families whose missing person had another father
    p_wrong_donor: float = 0.0           # families whose first donor is unrelated (not the stated relative)
    p_swapped_reference: float = 0.0     # families whose first donor's profiles are another family's
    str_mutation_rate: float = 0.0       # per transmitted STR allele (one step)
    dropout_max: float = 0.3             # drop-out drawn uniformly up to this; the lab's estimate is capped at 0.3
    dropin: float = 0.0                  # per locus showing one allele
    p_contaminated: float = 0.0          # samples carrying a lab worker's alleles (and mtDNA)
    p_far: float = 0.0                   # field recoveries holding someone lost at another incident
    p_merged_labels: float = 0.0         # two people of one casket or site given one individual label
    n_brothers: int = 0                  # pairs of full brothers missing together, both sets of remains present
    n_father_son: int = 0                # pairs of a father and his son missing together, both remains present

    def scaled(self, n: int | None, base: int) -> int:
        return n if n is not None else max(2, round(base * self.n_missing / 7500))

    def departures(self) -> dict[str, Any]:
        """The departures from the identification model these parameters ask for."""
        base = ScenarioParams()
        names = ("unlisted_population", "n_relatives", "p_nonpaternity", "p_wrong_donor", "p_swapped_reference",
                 "str_mutation_rate", "dropout_max", "dropin", "p_contaminated", "p_far", "p_merged_labels",
                 "n_brothers", "n_father_son")
        return {n: getattr(self, n) for n in names if getattr(self, n) != getattr(base, n)}


@dataclass
class ScenarioSummary:
    folder: str
    params: dict[str, Any]
    counts: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _write(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    n = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for r in rows:
            w.writerow(["" if v is None else v for v in r])
            n += 1
    return n


def _incident_plan(n: int, rng: np.random.Generator) -> tuple[list[Incident], np.ndarray]:
    """Incidents in use and the incident index of each missing person, shape (n,)."""
    scale = n / 7500
    air_all = air_losses()
    air: list[Incident] = []
    crew_total = 0
    target = round(sum(a.crew for a in air_all) * scale)
    for a in air_all:
        if crew_total >= target:
            break
        c = min(a.crew, target - crew_total)
        crew_total += c
        air.append(Incident(**{**asdict(a), "crew": c}))
    bat = battles()
    w = np.array([b.weight for b in bat])
    n_ground = n - crew_total
    ground = rng.choice(len(bat), size=n_ground, p=w / w.sum())
    air_idx = np.repeat(np.arange(len(bat), len(bat) + len(air)), [a.crew for a in air])
    return bat + air, np.concatenate([np.sort(ground), air_idx])


def simulate_scenario(folder: str | Path, params: ScenarioParams | None = None) -> ScenarioSummary:
    """Write the scenario's import files and its truth into ``folder`` (created if needed)."""
    p = params or ScenarioParams()
    if p.n_missing < 20:
        raise ValueError(f"`n_missing` must be at least 20, got {p.n_missing}")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(p.seed)
    drng = np.random.default_rng([p.seed, 13])  # departures draw apart: without them the scenario is unchanged
    if p.unlisted_population not in sg.POPULATIONS:
        raise ValueError(f"`unlisted_population` must be one of {sg.POPULATIONS}, got {p.unlisted_population!r}")
    N = p.n_missing
    incidents, inc_of = _incident_plan(N, rng)
    counts: dict[str, int] = {}

    # --- loss incidents -----------------------------------------------------------------------
    counts["incidents"] = _write(out / "incidents.csv",
                                 ["key", "conflict", "date", "place", "latitude", "longitude", "unit",
                                  "circumstances", "sources"],
                                 [(i.key, CONFLICT, i.date, f"{i.name}: {i.place}", i.latitude, i.longitude,
                                   i.unit, i.circumstances, i.sources) for i in incidents])

    # --- missing persons (DCAS layout) --------------------------------------------------------
    pop = rng.choice(len(sg.POPULATIONS), size=N, p=np.array(p.population_mix) / sum(p.population_mix))
    sn_pool = rng.choice(np.arange(1_000_000, 9_999_999), size=N, replace=False)
    branch = []
    for k in range(N):
        b = incidents[inc_of[k]].branch
        if b == "Army/Marine Corps":
            b = "Army" if rng.random() < 0.85 else "Marine Corps"
        branch.append(b)
    state_names = [s for s, _ in _STATES]
    state_w = np.array([w for _, w in _STATES], dtype=float)
    missing_rows = []
    service_numbers = []
    for k in range(N):
        inc = incidents[inc_of[k]]
        b = branch[k]
        ranks = _RANKS[b]
        rw = np.array([r[2] for r in ranks], dtype=float)
        rank, grade, _ = ranks[int(rng.choice(len(ranks), p=rw / rw.sum()))]
        prefix = {"Army": "RA1", "Marine Corps": "", "Air Force": "AF1"}[b]
        sn = f"{prefix}{sn_pool[k]}"
        service_numbers.append(sn)
        loss_year = int(inc.date[:4])
        age = 18 + int(rng.gamma(2.0, 2.5)) if grade.startswith("E") else 21 + int(rng.gamma(2.0, 3.0))
        missing_rows.append((
            sn, _LAST[int(rng.integers(len(_LAST)))].upper(), _FIRST[int(rng.integers(len(_FIRST)))].upper(),
            chr(65 + int(rng.integers(26))), rank, grade, b.upper(),
            "ACTIVE-REGULAR" if rng.random() < 0.6 else ("SELECTIVE SERVICE" if b == "Army" else "RESERVE"),
            inc.unit, loss_year - age, inc.date, state_names[int(rng.choice(len(state_names), p=state_w / state_w.sum()))],
            "M", _ETHNICITY[sg.POPULATIONS[pop[k]]], CONFLICT, inc.key,
            "DIED WHILE MISSING" if "captivity" in inc.name.lower() else "DECLARED DEAD"))

    # --- family genotypes: all families at once ------------------------------------------------
    panel = sg.MarkerPanel.nist1036()
    geno = np.empty((len(MEMBERS), N, len(panel.markers), 2), dtype=np.int16)
    for name, fa, mo, _sex, _rel in MEMBERS:
        i = _IDX[name]
        if fa is None:
            geno[i] = sg.sample_founders(panel, pop, rng)
        else:
            assert mo is not None
            geno[i] = sg.mendelian_child(geno[_IDX[fa]], geno[_IDX[mo]], rng)
            geno[i] = dep.mutate_str(geno[i], p.str_mutation_rate, panel, drng)
    ne_sex = rng.integers(1, 3, size=N)
    # non-paternity: the missing person's father is another man (the donors keep the stated father)
    nonpat = drng.random(N) < p.p_nonpaternity
    if nonpat.any():
        other = sg.sample_founders(panel, pop[nonpat], drng)
        geno[_IDX["MP"], nonpat] = sg.mendelian_child(other, geno[_IDX["MO"], nonpat], drng)

    # mtDNA: one haplotype per maternal line (MO -> MP, BR, SI; SI -> NE)
    mt_bases = sg.load_mt_haplotypes()
    mt_cont = {0: ("Europe",), 1: ("Africa", "Europe"), 2: ("Europe", "Asia"), 3: ("Asia",)}
    mt_line: list[list[str]] = []
    for k in range(N):
        conts = mt_cont[int(pop[k])]
        cont = conts[int(rng.integers(len(conts)))] if len(conts) > 1 and rng.random() < 0.3 else conts[0]
        base = mt_bases[cont][int(rng.integers(len(mt_bases[cont])))]
        mt_line.append(sg.private_mt(base, 1 + int(rng.poisson(0.7)), rng))
    y_loci, y_bases = sg.load_y_haplotypes()

    # --- donors ------------------------------------------------------------------------------
    has_any = rng.random(N) < p.p_family_donor
    want_mt = has_any & (rng.random(N) < p.p_mt_donor)
    want_y = has_any & (rng.random(N) < p.p_y_donor)
    want_auto = has_any & (rng.random(N) < p.p_auto_donor)
    want_mt |= has_any & ~(want_mt | want_y | want_auto)
    families = [f"F{k + 1:05d}" for k in range(N)]
    ref_truth: list[tuple[str, str, str, str]] = [(families[k], "MP", "non-paternity", "fathered by another man")
                                                  for k in np.flatnonzero(nonpat).tolist()]
    wrong = has_any & (drng.random(N) < p.p_wrong_donor)
    swap = np.flatnonzero(has_any & ~wrong & (drng.random(N) < p.p_swapped_reference))
    swap = drng.permutation(swap)[: len(swap) // 2 * 2]
    partner = {int(a): int(b) for a, b in zip(swap[0::2], swap[1::2], strict=True)}
    partner.update({b: a for a, b in list(partner.items())})
    stranger_g = sg.sample_founders(panel, pop, drng) if wrong.any() else geno[_IDX["FA"]]
    y_source: dict[int, int | None] = {}  # family -> family whose Y the donor carries (None: a stranger)
    ped_rows: list[tuple[Any, ...]] = []
    geno_rows: list[tuple[Any, ...]] = []
    mito_rows: list[tuple[Any, ...]] = []
    ystr_rows: list[tuple[Any, ...]] = []
    donor_kinds: dict[str, int] = {"mtdna": 0, "ystr": 0, "autosomal": 0}
    y_donor: dict[int, str] = {}
    donor_sets: list[set[str]] = []
    for k in range(N):
        fam = families[k]
        donors: dict[str, set[str]] = {}
        if want_mt[k]:
            d = str(rng.choice(["SI", "NE", "BR"], p=[0.4, 0.4, 0.2]))
            donors.setdefault(d, set()).add("mtdna")
        if want_y[k]:
            d = "BR" if rng.random() < 0.5 else "BC"
            donors.setdefault(d, set()).add("ystr")
            y_donor[k] = d
        if want_auto[k]:
            n_auto = 1 + int(rng.random() < 0.4)
            for d in rng.choice(["BR", "SI", "NE", "BC"], size=n_auto, replace=False, p=[0.35, 0.35, 0.15, 0.15]):
                donors.setdefault(str(d), set()).add("autosomal")
        for name, fa, mo, sex, rel in MEMBERS:
            s = int(ne_sex[k]) if sex == 0 else sex
            ref = f"FRS-{fam}-{name}" if name in donors else None
            ped_rows.append(("am", fam, name, fa or 0, mo or 0, s, name == "MP",
                             service_numbers[k] if name == "MP" else None,
                             rel if name != "NE" else ("nephew" if s == 1 else "niece"),
                             "given" if name in donors else None, ref))
        donor_sets.append(set(donors))
        first = next(iter(donors), None)
        for d, kinds in donors.items():
            src_k: int | None = k  # whose profiles the donor's tubes hold (None: a stranger's)
            if d == first and wrong[k]:
                src_k = None
                ref_truth.append((fam, d, "not the stated relative", "an unrelated person"))
            elif d == first and k in partner:
                src_k = partner[k]
                ref_truth.append((fam, d, "swapped reference", f"the profiles of {families[src_k]} {d}"))
            if "ystr" in kinds:
                y_source[k] = src_k
            if "autosomal" in kinds:
                donor_kinds["autosomal"] += 1
                g = stranger_g[k] if src_k is None else geno[_IDX[d], src_k]
                for j, m in enumerate(panel.markers):
                    geno_rows.append((fam, d, m, panel.alleles[m][g[j, 0]], panel.alleles[m][g[j, 1]], ""))
            if "mtdna" in kinds:
                donor_kinds["mtdna"] += 1
                line = mt_line[k] if src_k is None else mt_line[src_k]
                if src_k is None:
                    line = sg.private_mt(mt_bases["Europe"][int(drng.integers(len(mt_bases["Europe"])))], 2, drng)
                hap = line if rng.random() > 0.02 else sg.private_mt(line, 1, rng)  # heteroplasmy/germline
                mito_rows.append((fam, d, sg.CONTROL_REGION, " ".join(hap)))
            if "ystr" in kinds:
                donor_kinds["ystr"] += 1
    counts.update({f"donors_{k}": v for k, v in donor_kinds.items()})
    counts["families_with_donors"] = int(has_any.sum())

    # Y lines: father's haplotype; sons one meiosis from him, brother's son two

    y_member: dict[tuple[int, str], list[str]] = {}
    y_alias: dict[tuple[int, str], tuple[int, str]] = {}   # a missing person who is another family's member

    def y_of(k: int, member: str) -> list[str]:
        """The Y haplotype of a male member, drawn once: FA's from the database, a son's from
        his father's with one meiosis of mutation (MP and BR from FA, BC from BR)."""
        if (k, member) in y_alias:
            return y_of(*y_alias[(k, member)])
        if (k, member) not in y_member:
            grp = "East Asian" if sg.POPULATIONS[pop[k]] == "Asian" else "European"
            if member == "FA":
                y_member[(k, member)] = y_bases[grp][int(rng.integers(len(y_bases[grp])))]
            elif member == "MP" and nonpat[k]:  # another father's line
                y_member[(k, member)] = y_bases[grp][int(drng.integers(len(y_bases[grp])))]
            else:
                father = "BR" if member == "BC" else "FA"
                y_member[(k, member)] = sg.mutate_y(y_of(k, father), y_loci, 1, rng)
        return y_member[(k, member)]

    # ---------------------------------------------------------------------------------------
    # remains
    eligible = [k for k in range(N) if has_any[k] and incidents[inc_of[k]].key in DIS_INC]
    rel_k = drng.choice(eligible, size=min(p.n_relatives, len(eligible)), replace=False).tolist() \
        if p.n_relatives > 0 and eligible else []
    relatives = [(int(k), dep.RELATIVES[r % len(dep.RELATIVES)][0]) for r, k in enumerate(rel_k)]
    rem = _remains(p, rng, drng, incidents, inc_of, pop, relatives, service_numbers)
    acc_rows, el_rows, sa_rows, truth_rows, op_rows = rem["accessions"], rem["elements"], rem["samples"], \
        rem["truth"], rem["operations"]
    # missing relatives: brothers, father and son, lost together, both among the remains
    busy = set(np.flatnonzero(nonpat | wrong).tolist()) | set(partner) | {k for k, _ in relatives}
    pairs = _missing_pairs(p, drng, [s[2] for s in rem["sample_list"]], inc_of, pop, has_any, donor_sets, busy)
    merged_fam: set[str] = set()
    for kind, k, j in pairs:
        member = "BR" if kind == "brothers" else "FA"
        geno[_IDX["MP"], j] = geno[_IDX[member], k]
        y_alias[(j, "MP")] = (k, member)
        if kind == "brothers":
            mt_line[j] = mt_line[k]
        else:   # the father is a generation older
            row = list(missing_rows[j])
            row[9] = int(missing_rows[k][9]) - 18 - int(drng.integers(0, 10))
            missing_rows[j] = tuple(row)
        merged_fam.add(families[j])
        want_y[j] = False
        ped_rows = [(*r[:6], True, service_numbers[j], *r[8:]) if r[1] == families[k] and r[2] == member else r
                    for r in ped_rows]
        what = "brother" if kind == "brothers" else "father"
        ref_truth.append((families[k], member, f"missing {what}",
                          f"{service_numbers[j]} (family {families[j]} not filed apart), lost with {service_numbers[k]}"))
        for who, mate, rel in ((j, k, what), (k, j, "brother" if kind == "brothers" else "son")):
            for ind in {t[1] for t in truth_rows if t[2] == who}:
                note = f"{rel} of {service_numbers[mate]} (missing together, both on the list)"
                rem["notes"][ind] = "; ".join(x for x in (rem["notes"].get(ind), note) if x)
    ped_rows = [r for r in ped_rows if r[1] not in merged_fam]
    geno_rows = [r for r in geno_rows if r[0] not in merged_fam]
    mito_rows = [r for r in mito_rows if r[0] not in merged_fam]
    counts["missing_pairs"] = len(pairs)
    # profiles of the samples
    unl_pop = sg.POPULATIONS.index(p.unlisted_population)
    n_unl = rem["n_unlisted"] - len(relatives)   # foreign remains, then the relatives
    unl_geno = sg.sample_founders(panel, np.full(n_unl, unl_pop), rng)
    cont = mt_cont[unl_pop][-1] if unl_pop != 1 else "Africa"
    y_grp = "East Asian" if p.unlisted_population == "Asian" else "European"
    unl_mt = [sg.private_mt(mt_bases[cont][int(rng.integers(len(mt_bases[cont])))], 1 + int(rng.poisson(0.7)), rng)
              for _ in range(n_unl)]
    unl_y = [y_bases[y_grp][int(rng.integers(len(y_bases[y_grp])))] for _ in range(n_unl)]
    rel_geno = np.empty((len(relatives), len(panel.markers), 2), dtype=np.int16)
    for kind, _meioses, _same_mt in dep.RELATIVES:
        rows = [r for r, (_k, kd) in enumerate(relatives) if kd == kind]
        if not rows:
            continue
        ks = np.array([relatives[r][0] for r in rows], dtype=np.int64)
        rel_geno[rows] = dep.relative_of(kind, geno[_IDX["FA"], ks], geno[_IDX["MO"], ks], panel, pop[ks], drng)
    for k, kind in relatives:
        _kind, meioses, same_mt = next(r for r in dep.RELATIVES if r[0] == kind)
        base = mt_bases["Europe"][int(drng.integers(len(mt_bases["Europe"])))]
        unl_mt.append(mt_line[k] if same_mt else sg.private_mt(base, 2, drng))
        unl_y.append(sg.mutate_y(y_of(k, "FA"), y_loci, meioses, drng) if meioses is not None
                     else y_bases["European"][int(drng.integers(len(y_bases["European"])))])
    unl_geno = np.concatenate([unl_geno, rel_geno])
    samples = rem["sample_list"]  # (sample key, source kind, missing index or -1, unlisted index or -1)
    S = len(samples)
    src = np.array([s[1] for s in samples])
    true_g = np.empty((S, len(panel.markers), 2), dtype=np.int16)
    for i, (_key, _kind, mi, ui) in enumerate(samples):
        true_g[i] = geno[_IDX["MP"], mi] if mi >= 0 else unl_geno[ui]
    p_auto = np.array([p.p_auto_success[s] for s in src])
    auto_ok = rng.random(S) < p_auto
    dropout = rng.uniform(0.0, p.dropout_max, S)
    reported = np.minimum(dropout, 0.3)   # the lab's estimate (``quality``) stays in its usual range
    locus_fail = rng.uniform(0.0, 0.4, S)
    contaminated = drng.random(S) < p.p_contaminated
    sample_note: dict[int, str] = {}
    if contaminated.any():
        worker = sg.sample_founders(panel, np.zeros(int(contaminated.sum()), dtype=np.int64), drng)
        true_g[contaminated] = dep.contaminate(true_g[contaminated], worker, drng)
        for i in np.flatnonzero(contaminated).tolist():
            sample_note[i] = "contaminated"
    obs = dep.drop_in(sg.degrade(true_g, locus_fail, dropout, rng), p.dropin, panel, drng)
    mt_ok = rng.random(S) < p.p_mt_success
    y_ok = auto_ok & (rng.random(S) < p.p_y_typed)
    pm_rows = []
    n_auto = n_mt = n_y = 0
    for i, (key, _kind, mi, ui) in enumerate(samples):
        pm_rows.append(("pm", "", key, 0, 0, 1, False, None, None, None, None))
        if auto_ok[i]:
            typed = 0
            for j, m in enumerate(panel.markers):
                a, b = obs[i, j]
                if a < 0 and b < 0:
                    continue
                typed += 1
                al = panel.alleles[m]
                geno_rows.append(("", key, m, al[a] if a >= 0 else al[b], al[b] if a >= 0 and b >= 0 else "",
                                  round(float(reported[i]), 3)))
            n_auto += typed > 0
        if mt_ok[i]:
            hap = mt_line[mi] if mi >= 0 else unl_mt[ui]
            if contaminated[i] and drng.random() < 0.5:  # the worker's mtDNA typed instead
                hap = sg.private_mt(mt_bases["Europe"][int(drng.integers(len(mt_bases["Europe"])))], 2, drng)
            mito_rows.append(("", key, sg.HVS_RANGE, " ".join(t for t in hap if sg.in_hvs(t))))
            n_mt += 1
        if y_ok[i]:
            hap_y = y_of(mi, "MP") if mi >= 0 else unl_y[ui]
            for loc, a in zip(y_loci, hap_y, strict=True):
                if a and rng.random() > locus_fail[i]:
                    ystr_rows.append(("", key, loc, a))
            n_y += 1
    # Y donors (typed after the remains so that the MP's line is drawn once)
    for kk in np.flatnonzero(want_y).tolist():
        d = y_donor[kk]
        src_y = y_source.get(kk, kk)
        hap_d = y_of(src_y, d) if src_y is not None else \
            y_bases["European"][int(drng.integers(len(y_bases["European"])))]
        for loc, a in zip(y_loci, hap_d, strict=True):
            if a:
                ystr_rows.append((families[kk], d, loc, a))
    counts.update({"samples_autosomal": n_auto, "samples_mtdna": n_mt, "samples_ystr": n_y})

    counts["missing"] = _write(out / "missing.csv",
                               ["SERVICE_NUMBER", "LAST_NAME", "FIRST_NAME", "MIDDLE_NAME", "RANK", "PAY_GRADE",
                                "BRANCH", "ENROLLMENT", "DIVISION", "BIRTH_YEAR", "INCIDENT_DATE", "HOME_STATE",
                                "SEX", "ETHNICITY", "CONFLICT", "LOSS_INCIDENT", "FATALITY"], missing_rows)
    counts["operations"] = _write(out / "operations.csv", ["key", "kind", "name", "site", "latitude", "longitude",
                                                           "start_date", "end_date", "incidents"], op_rows)
    counts["accessions"] = _write(out / "accessions.csv", ["key", "operation", "description", "received_date"],
                                  acc_rows)
    codes = sorted({c for r in el_rows for c in r[6]})
    counts["elements"] = _write(out / "elements.csv", ["key", "accession", "element", "side", "individual", "notes",
                                                       *codes],
                                [(*r[:6], *(r[6].get(c) for c in codes)) for r in el_rows])
    rem["skeletons"].write_reference(out / "osteometric_reference.csv.gz")
    counts["samples"] = _write(out / "samples.csv", ["key", "element", "accession", "taken_date", "material", "sex",
                                                     "lab"], sa_rows)
    counts["pedigree_rows"] = _write(out / "pedigrees.csv",
                                     ["role", "family", "id", "father", "mother", "sex", "missing", "service_number",
                                      "relationship", "consent", "reference_sample"], ped_rows + pm_rows)
    counts["genotype_rows"] = _write(out / "genotypes.csv", ["family", "id", "marker", "allele1", "allele2",
                                                             "quality"], geno_rows)
    counts["mito_rows"] = _write(out / "mito.csv", ["family", "id", "range", "variants"], mito_rows)
    counts["ystr_rows"] = _write(out / "ystr.csv", ["family", "id", "marker", "alleles"], ystr_rows)
    notes = rem["notes"]
    _write(out / "truth.csv", ["sample", "individual", "service_number", "family", "source", "accession", "note"],
           [(key, ind, service_numbers[mi] if mi >= 0 else "", families[mi] if mi >= 0 else "", kind, acc,
             "; ".join(x for x in (notes.get(ind, ""), sample_note.get(i, "")) if x))
            for i, (key, ind, mi, kind, acc) in enumerate(truth_rows)])
    counts["departures_references"] = _write(out / "truth_references.csv",
                                             ["family", "member", "departure", "detail"], ref_truth)
    counts["departures_remains"] = len(notes) + len(sample_note)
    counts["remains_individuals"] = rem["n_individuals"]
    counts["remains_unlisted"] = n_unl
    counts["remains_relatives"] = len(relatives)
    summary = ScenarioSummary(str(out), {**asdict(p), "software": f"dogtag {__version__}"}, counts)
    (out / "scenario.json").write_text(json.dumps(summary.to_dict(), indent=2) + "\n", encoding="utf-8")
    return summary


def _missing_pairs(p: ScenarioParams, drng: np.random.Generator, present: Sequence[int], inc_of: np.ndarray,
                   pop: np.ndarray, has_any: np.ndarray, donor_sets: Sequence[set[str]], busy: set[int]
                   ) -> list[tuple[str, int, int]]:
    """Pairs (kind, k, j) of missing persons with remains, lost at one incident, of one population:
    j becomes the brother (``BR``) or the father (``FA``) of k in k's family, whose donors are typed
    and do not include that member; j's own family is not filed apart."""
    want = [("brothers", p.n_brothers), ("father and son", p.n_father_son)]
    if not any(n > 0 for _, n in want):
        return []
    by_inc: dict[int, list[int]] = {}
    for mi in sorted({int(m) for m in present if m >= 0} - busy):
        by_inc.setdefault(int(inc_of[mi]), []).append(mi)
    pool = [(a, b) for ks in by_inc.values() for i, a in enumerate(ks) for b in ks[i + 1:] if pop[a] == pop[b]]
    pool = [pool[i] for i in drng.permutation(len(pool))]
    used: set[int] = set()
    out: list[tuple[str, int, int]] = []
    for kind, n in want:
        member = "BR" if kind == "brothers" else "FA"
        made = 0
        for a, b in pool:
            if made >= n:
                break
            for k, j in ((a, b), (b, a)):
                if {k, j} & used or not has_any[k] or member in donor_sets[k]:
                    continue
                out.append((kind, k, j))
                used |= {k, j}
                made += 1
                break
    return out


def _remains(p: ScenarioParams, rng: np.random.Generator, drng: np.random.Generator, incidents: list[Incident],
             inc_of: np.ndarray, pop: np.ndarray, relatives: list[tuple[int, str]],
             service_numbers: list[str]) -> dict[str, Any]:
    """Operations, accessions, elements and samples of the three sources of remains, and their truth
    (``notes``: individual -> how it departs from the model)."""
    from dogtag.scenario.osteometry import Skeletons

    skeletons = Skeletons(p.seed)
    by_inc: dict[str, list[int]] = {}
    for k in rng.permutation(len(inc_of)):
        by_inc.setdefault(incidents[inc_of[k]].key, []).append(int(k))
    ops: list[tuple[Any, ...]] = []
    accs: list[tuple[Any, ...]] = []
    els: list[tuple[Any, ...]] = []
    sams: list[tuple[Any, ...]] = []
    truth: list[tuple[Any, ...]] = []
    sample_list: list[tuple[str, str, int, int]] = []
    n_unl = 0
    n_ind = 0
    notes: dict[str, str] = {}

    def draw(keys: Sequence[str], n: int) -> list[int]:
        pool = [k for key in keys for k in by_inc.get(key, [])[:]]
        rng.shuffle(pool)
        chosen = pool[:n]
        taken = set(chosen)
        for key in keys:
            by_inc[key] = [k for k in by_inc.get(key, []) if k not in taken]
        return chosen

    def person(kind: str) -> tuple[str, str]:
        nonlocal n_ind
        n_ind += 1
        return f"R{n_ind:05d}", kind

    def add_element(acc: str, ind: str, mi: int, ui: int, kind: str, date: str, known: str | None,
                    bones: list[tuple[str, str, dict[str, float]]] | None = None) -> None:
        e = f"{acc}-E{len(els) + 1:05d}"
        el = _ELEMENTS[int(rng.integers(len(_ELEMENTS)))]
        side = "M" if el in ("cranium", "mandible", "vertebra") else str(rng.choice(["L", "R"]))
        measures: dict[str, float] = {}
        if bones is not None:  # a turnover individual: its real bones, then vertebrae
            el, side, measures = bones.pop() if bones else ("vertebra", "M", {})
        els.append((e, acc, el, side, known, None, measures))
        for r in range(1 + int(rng.random() < p.p_resample)):
            key = f"{e}-S{r + 1}"
            sams.append((key, e, acc, date, "bone" if el != "tooth" else "tooth", 0, "AFDIL"))
            truth.append((key, ind, mi, kind, acc))
            sample_list.append((key, kind, mi, ui))

    # 1. K55-like turnover
    n_k55 = p.scaled(p.k55_individuals, 250)
    n_boxes = p.scaled(p.k55_boxes, 55)
    k55_inc = ["KW-UNSAN", "KW-CHONGCHON", "KW-CHOSIN", "KW-EASTCHOSIN", "KW-POWCAMP5"]
    ops.append(("OP-K55", "turnover", "K55 turnover: remains handed over by North Korea", "Osan Air Base", 37.09,
                127.03, "2018-07-27", "2018-08-01", ";".join(k55_inc)))
    for b in range(n_boxes):
        accs.append((f"K55-{b + 1:02d}", "OP-K55", f"Box {b + 1} of the turnover", "2018-08-01"))
    n_us = round(n_k55 * (1 - p.k55_unlisted))
    us = draw(k55_inc, n_us)
    for j in range(n_k55):
        mi = us[j] if j < len(us) else -1
        ui = -1
        if mi < 0:
            ui, n_unl = n_unl, n_unl + 1
        ind, kind = person("turnover")
        home = int(rng.integers(n_boxes))
        bones = skeletons.take(us=mi >= 0)
        for _ in range(1 + int(rng.poisson(1.5))):
            box = home if rng.random() < 0.7 else int(rng.integers(n_boxes))
            add_element(f"K55-{box + 1:02d}", ind, mi, ui, kind, "2018-09-15", None, bones)

    # 2. disinterment of unknowns
    n_cask = p.scaled(p.disinterment_caskets, 150)
    dis_inc = list(DIS_INC)
    ops.append(("OP-DIS", "disinterment", "Disinterment of Korean War unknowns",
                "National Memorial Cemetery of the Pacific, Honolulu", 21.31, -157.85, "2018-06-01", "2021-06-30",
                ";".join(dis_inc)))
    for c in range(n_cask):
        acc = f"X-{1000 + c}"
        accs.append((acc, "OP-DIS", f"Casket of unknown {acc}", "2019-01-15"))
        two = rng.random() < 0.1
        people = draw(dis_inc, 2 if two else 1)
        merged = two and drng.random() < p.p_merged_labels
        for mi in people:
            ind, kind = person("disinterment")
            known = None if two and not merged else f"IND-{acc}"
            if merged:
                notes[ind] = f"label {known} shared by two people"
            for _ in range(1 + int(rng.random() < 0.5)):
                add_element(acc, ind, mi, -1, kind, "2019-03-01", known)

    # relatives of the missing, not on the list, each in a casket of its own
    for r, (k, rel) in enumerate(relatives):
        acc = f"X-{5000 + r}"
        accs.append((acc, "OP-DIS", f"Casket of unknown {acc}", "2019-01-15"))
        ind, kind = person("disinterment")
        ui, n_unl = n_unl, n_unl + 1
        notes[ind] = f"{rel} of {service_numbers[k]} (not on the list)"
        for _ in range(1 + int(rng.random() < 0.5)):
            add_element(acc, ind, -1, ui, kind, "2019-03-01", f"IND-{acc}")

    # 3. field recoveries: air-loss sites with a position, and battle sites
    n_sites = p.scaled(p.field_sites, 20)
    sites = [i for i in incidents if i.latitude is not None and by_inc.get(i.key)]
    sites = [sites[i] for i in rng.permutation(len(sites))]
    for s_i, inc in enumerate(sites[:n_sites]):
        op = f"OP-FR-{s_i + 1:03d}"
        year = 2000 + int(rng.integers(0, 20))
        ops.append((op, "recovery", f"Field recovery at the loss site of {inc.key}", inc.place, inc.latitude,
                    inc.longitude, f"{year}-05-01", f"{year}-06-15", inc.key))
        acc = f"CIL-{year}-{s_i + 1:03d}"
        accs.append((acc, op, f"Remains recovered at {inc.place}", f"{year}-07-01"))
        people = draw([inc.key], 1 + int(rng.integers(0, 4)))
        far: list[int] = []
        if drng.random() < p.p_far:   # someone lost at another incident, far away
            pool = [k for key, ks in by_inc.items() if key != inc.key for k in ks]
            if pool:
                far = draw([incidents[inc_of[pool[int(drng.integers(len(pool)))]]].key], 1)
        first_label: str | None = None
        for mi in people + far:
            ind, kind = person("recovery")
            known = f"IND-{ind}" if rng.random() < 0.6 else None
            if mi in far:
                notes[ind] = f"lost at {incidents[inc_of[mi]].key}, recovered at the site of {inc.key}"
            elif first_label is not None and known is not None and drng.random() < p.p_merged_labels:
                notes[ind] = f"label {first_label} shared by two people"
                known = first_label
            first_label = first_label or known
            for _ in range(1 + int(rng.integers(0, 2))):
                add_element(acc, ind, mi, -1, kind, f"{year}-08-01", known)
    return {"operations": ops, "accessions": accs, "elements": els, "samples": sams, "truth": truth,
            "sample_list": sample_list, "n_unlisted": n_unl, "n_individuals": n_ind,
            "skeletons": skeletons, "notes": notes}
