"""The readers under fuzzing: valid seed files, mutations of them, and the rule they must keep.

Shared by tests/test_fuzz_readers.py (hypothesis, short) and benchmarks/fuzz.py (long runs): a
reader given any bytes either returns or raises one of the project's own errors
(:class:`dogtag.errors.DogtagError`), never anything else, and never hangs.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

PEDIGREES = ('"role","family","id","father","mother","sex","missing_person"\n'
             '"pm","V1","V1","","","male",FALSE\n"am","F1","FA","","","male",FALSE\n'
             '"am","F1","MO","","","female",FALSE\n"am","F1","M1","FA","MO","male",TRUE\n')
GENOTYPES = ('"family","id","marker","allele1","allele2"\n"V1","V1","TH01","6","9.3"\n'
             '"F1","FA","TH01","6","7"\n"F1","MO","TH01","9.3","9.3"\n')
FREQUENCIES = '"marker","allele","frequency"\n"TH01","6","0.3"\n"TH01","7","0.2"\n"TH01","9.3","0.5"\n'
KINSHIP_JSON = json.dumps({
    "markers": [{"name": "TH01", "alleles": ["6", "7"], "freqs": [0.4, 0.6]}],
    "hypotheses": [{"name": "H1", "pedigree": [{"id": "A", "fid": None, "mid": None, "sex": 1},
                                               {"id": "B", "fid": None, "mid": None, "sex": 2},
                                               {"id": "C", "fid": "A", "mid": "B", "sex": 1}]},
                   {"name": "H2", "pedigree": [{"id": "A", "sex": 1}, {"id": "B", "sex": 2},
                                               {"id": "C", "sex": 1}]}],
    "genotypes": {"A": {"TH01": ["6", "6"]}, "C": {"TH01": ["6", "7"]}}})
MITO = "id,range,variants\nA,16024-16569;1-576,16093C 16189C 263G 315.1C\nB,16024-16569,16519C\n"
YSTR = "id,DYS19,DYS390,DYS391\nA,14,24,11\nB,15,23,10\n"


def familias(rels: list[tuple[int, int]] = [(0, 2), (1, 2)]) -> str:  # noqa: B006 (read only)
    """A minimal Familias 3 file: AF (male), MO, CH (male); H1 with ``rels`` (parent, child), H2 none."""
    lines = ['"Output from Familias, version 3.3.1"', '"DO NOT EDIT!"', "3.3.1", '""', "3"]
    for name, male in (("AF", True), ("MO", False), ("CH", True)):
        lines += [f'"{name}"', "#FALSE#", "-1", "#FALSE#", "#TRUE#" if male else "#FALSE#", "0"]
    lines += ['"Known relations"', "0", "0", "0", "2", "0", '"H1"', "0", "0", str(len(rels))]
    for p, c in rels:
        lines += [str(p), str(c)]
    lines += ["1", '"H2"', "0", "0", "0", "#FALSE# (#Databases: 1 ;Theta/Kinship/Fst: 0 )", "1",
              "#TRUE#", '"unknown"', '"TH01"', "0.001", "0.002", "4", "4", "2", "0.1", "0.1", "1e-006",
              "1e-006", "#FALSE#", "0",
              "2\t(DatabaseSize = 1000 , Dropout probability = 0 , Minor allele frequency = 0 )",
              '"6"', "0.4", '"7"', "0.6"]
    return "\n".join(lines) + "\n"


def _case_folder(folder: Path, data: bytes, which: str) -> Path:
    """A case folder whose file ``which`` holds ``data`` (the others, the seeds, written once)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("pedigrees.csv", PEDIGREES), ("genotypes.csv", GENOTYPES),
                       ("frequencies.csv", FREQUENCIES)):
        if name == which:
            (folder / name).write_bytes(data)
        elif not (folder / name).exists():
            (folder / name).write_text(text)
    return folder


def readers() -> dict[str, tuple[bytes, str, Callable[[Path], Any]]]:
    """name -> (seed file, file suffix, read(path)) for every file reader of the io layer."""
    from dogtag.genetics.freqdb import read_frequencies
    from dogtag.io.csvcase import read_case_folder
    from dogtag.io.familias import read_fam
    from dogtag.io.lineage_tables import read_mtdna, read_ystr
    from dogtag.io.pedsuite_json import read_json_case

    def case(which: str) -> Callable[[Path], Any]:
        return lambda p: read_case_folder(_case_folder(p.parent / f"case-{p.stem}", p.read_bytes(), which))

    return {
        "case folder pedigrees.csv": (PEDIGREES.encode(), ".csv", case("pedigrees.csv")),
        "case folder genotypes.csv": (GENOTYPES.encode(), ".csv", case("genotypes.csv")),
        "frequencies (long CSV)": (FREQUENCIES.encode(), ".csv", read_frequencies),
        "Familias .fam": (familias().encode(), ".fam", read_fam),
        "pedsuite JSON": (KINSHIP_JSON.encode(), ".json", read_json_case),
        "mtDNA table": (MITO.encode(), ".csv", read_mtdna),
        "Y-STR table": (YSTR.encode(), ".csv", read_ystr),
    }


#: a registry (:func:`registry_for_fuzzing`) and valid files of each registry import kind
REGISTRY_PEDIGREE = ("family,id,father,mother,sex,missing\nF1,FA,,,male,false\nF1,MO,,,female,false\n"
                     "F1,MP,FA,MO,male,true\n")
REGISTRY_SEEDS = {
    "missing": "SERVICE_NUMBER,LAST_NAME,BRANCH,HOME_STATE,INCIDENT_DATE,BIRTH_YEAR\n"
               "RA7,DOE,ARMY,OHIO,19501128,1930\nRA8,ROE,NAVY,IOWA,19510203,1931\n",
    "pedigrees": REGISTRY_PEDIGREE.replace("F1", "F2"),
    "profiles": "family,id,marker,allele1,allele2\nF1,FA,TH01,6,9.3\nF1,MO,TH01,7,7\nF1,MO,AMEL,X,X\n",
}


def registry_for_fuzzing(engine: Any, folder: Path) -> None:
    """Fill a migrated registry with what the seeds refer to: two missing persons, a turnover with
    samples S1 and S2, and family F1 (FA, MO and their missing son MP)."""
    from dogtag.registry.imports import import_file
    from registry.factories import small_registry

    small_registry(engine)
    (folder / "family.csv").write_text(REGISTRY_PEDIGREE)
    import_file(engine, "pedigrees", folder / "family.csv", actor="setup")


#: bytes a mutation inserts: CSV and JSON syntax, digits, signs, NUL, bad UTF-8, a BOM
SPECIAL = [b",", b'"', b"\n", b"\r", b"\x00", b"\xff", b"\xc3", b"\xef\xbb\xbf", b"-", b"9", b"{", b"}",
           b"[", b"]", b"#TRUE#", b"=", b"'", b"<script>", b"\t", b"999999999999999999999", b"NaN", b"-4",
           b"0", b".", b"e308"]


def mutate(seed: bytes, rng: random.Random, *, max_edits: int = 4) -> bytes:
    """A seed file with a few random edits: flipped, deleted, inserted or duplicated bytes, truncation."""
    data = bytearray(seed)
    for _ in range(rng.randint(1, max_edits)):
        op = rng.randrange(6)
        at = rng.randrange(len(data) + 1)
        if op == 0 and data:
            data[min(at, len(data) - 1)] = rng.randrange(256)
        elif op == 1 and data:
            del data[at:at + rng.randint(1, 8)]
        elif op == 2:
            data[at:at] = rng.choice(SPECIAL)
        elif op == 3 and data:
            end = min(len(data), at + rng.randint(1, 40))
            data[at:at] = data[at:end]
        elif op == 4:
            del data[at:]
        else:
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    return bytes(data)
