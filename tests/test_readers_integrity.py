"""Every command that reads a file reports bad bytes and oversized fields as a one-line error
naming the file and the line (exit status 2), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from dogtag.cli import main
from fuzz_readers import FREQUENCIES, GENOTYPES, MITO, PEDIGREES, YSTR

BIG = "x" * 140_000


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    err = capsys.readouterr().err
    assert exit_.value.code == 2, err
    assert "Traceback" not in err
    return err


def _case(folder: Path, **files: bytes) -> Path:
    folder.mkdir()
    for name, text in (("pedigrees", PEDIGREES), ("genotypes", GENOTYPES), ("frequencies", FREQUENCIES)):
        (folder / f"{name}.csv").write_bytes(files.get(name, text.encode()))
    return folder


BAD = {  # the second line of a file with the right header
    "binary": (b"A,\x00\x01\x02\xff,x", "binary data (a NUL byte"),
    "bad UTF-8": (b"A,\xff\xfe,x", "not UTF-8 text"),
    "oversized field": (f'A,"{BIG}",x'.encode(), "longer than 131,072"),
}
HEADERS = {"mito": b"id,range,variants", "ystr": b"id,DYS19,DYS390", "pedigrees": PEDIGREES.split("\n")[0].encode(),
           "missing": b"SERVICE_NUMBER,LAST_NAME,BRANCH"}


@pytest.mark.parametrize("what", sorted(BAD))
def test_every_reading_command(what: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    row, reason = BAD[what]

    def bad(kind: str) -> Path:
        f = tmp_path / f"{kind}.csv"
        f.write_bytes(HEADERS[kind] + b"\n" + row + b"\n")
        return f

    for args in (["mito", "freq", "263G", "--db"], ["ystr", "freq", "DYS19=14", "--db"]):
        f = bad(args[0])
        err = _run(capsys, *args, str(f))
        assert f"{f}, line 2: " in err and reason in err
    err = _run(capsys, "dvi", str(_case(tmp_path / "case", pedigrees=bad("pedigrees").read_bytes())))
    assert "pedigrees.csv, line 2: " in err and reason in err
    for suffix in (".json", ".fam"):
        g = tmp_path / f"case{suffix}"
        g.write_bytes(b"x\n" + row + b"\n")
        err = _run(capsys, "lr", str(g))
        assert f"{g}, line " in err
        # a .fam or .json line may be long, and Familias files may be Latin-1; NUL bytes never
        if what == "binary" or (what == "bad UTF-8" and suffix == ".json"):
            assert f"{g}, line 2: " in err and reason in err
    db = f"sqlite:///{tmp_path / 'r.sqlite'}"
    assert main(["init", "--database", db]) is None
    capsys.readouterr()
    f = bad("missing")
    err = _run(capsys, "import", "missing", str(f), "--database", db)
    assert f"{f}, line 2: " in err and reason in err


def test_duplicated_headers_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "m.csv"
    f.write_text(MITO.replace("id,range,variants", "id,range,Range"))
    assert "column 'range' appears twice in the header" in _run(capsys, "mito", "freq", "263G", "--db", str(f))
    f.write_text(YSTR.replace("DYS391", "DYS19"))
    assert "appears twice" in _run(capsys, "ystr", "freq", "DYS19=14", "--db", str(f))
    case = _case(tmp_path / "case", pedigrees=PEDIGREES.replace('"sex"', '"father"').encode())
    assert "column 'father' appears twice" in _run(capsys, "dvi", str(case))
