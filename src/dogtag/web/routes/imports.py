"""The CSV import page: upload a file of one kind; every bad row is reported, nothing is half-written."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine, func, select

from dogtag.errors import DataFormatError, DogtagError
from dogtag.registry.base import table_of
from dogtag.registry.import_log import ImportRecord
from dogtag.registry.imports import KINDS, ImportRejected, import_file, template
from dogtag.web.pages import NotFound, page, pager, render, wants_json
from dogtag.web.routes.dashboard import invalidate
from dogtag.web.security import IMPORTERS, ViewerDep, check_csrf, require

router = APIRouter(tags=["imports"])

MAX_BYTES = 200 * 1024 * 1024


def upload_name(raw: str | None) -> str:
    """The base name of an uploaded file (for messages and the temporary copy); a :class:`DogtagError`
    (400) when it is not a plain file name: empty, ``.``, ``..``, over 255 bytes, control characters."""
    if raw is None:
        return "upload.csv"
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    if (name in ("", ".", "..") or len(name.encode("utf-8", "surrogatepass")) > 255
            or any(ord(c) < 32 or ord(c) == 127 for c in name)):
        raise DogtagError(f"the file name {raw[:80]!r} is not a plain file name (at most 255 bytes, "
                          "no control characters)")
    return name


def history(engine: Engine, page_no: int, size: int) -> dict[str, Any]:
    """One page of the import history, newest first: who imported which file, when, the counts of
    an accepted file, the first errors of a rejected one."""
    t = table_of(ImportRecord)
    with engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(t)) or 0
        pg = pager(total, page_no, size)
        rows = conn.execute(select(t).order_by(t.c.id.desc()).offset(pg["offset"]).limit(size)).all()
    return {"pager": pg, "imports": [
        {"id": r.id, "at": r.at, "actor": r.actor, "kind": r.kind, "file": r.file_name, "sha256": r.sha256,
         "accepted": r.accepted, "rows": r.rows, "inserted": r.inserted, "updated": r.updated,
         "unchanged": r.unchanged, "errors": r.n_errors, "first_errors": (r.errors or [])[:3]} for r in rows]}


@page(router, "/imports", "imports.html", roles=IMPORTERS)
def imports_form(request: Request, page_no: Annotated[int, Query(alias="page", ge=1)] = 1) -> dict[str, Any]:
    """The import form (the kinds of CSV file, in the order of their dependencies, with templates)
    and the import history"""
    return {"title": "Import CSV files", "kinds": list(KINDS), "result": None, "errors": None,
            "history": history(request.app.state.engine, page_no, request.app.state.settings.page_size)}


@router.get("/imports/templates/{kind}.csv", dependencies=[require(IMPORTERS)],
            summary="The CSV template of one kind of import file: its header and a worked example row")
def import_template(kind: str) -> Response:
    if kind not in KINDS:
        raise NotFound(f"template {kind[:80]!r} (one of {', '.join(KINDS)})")
    return Response(template(kind), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{kind}.csv"'})


@router.post("/imports", dependencies=[require(IMPORTERS), Depends(check_csrf)],
             summary="Import one CSV file (multipart: kind, file, conflict); all rows or none")
async def import_upload(request: Request, v: ViewerDep, kind: Annotated[str, Form()],
                        file: Annotated[UploadFile, File()],
                        conflict: Annotated[str | None, Form()] = None) -> Response:
    if kind not in KINDS:
        raise DogtagError(f"unknown kind of file {kind!r}; one of {', '.join(KINDS)}")
    name = upload_name(file.filename)
    data = await file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise DogtagError(f"{name} is larger than {MAX_BYTES // 2**20} MiB")
    options = {"conflict": conflict} if kind == "missing" and conflict else {}
    from starlette.concurrency import run_in_threadpool

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        base: dict[str, Any] = {"title": "Import CSV files", "kinds": list(KINDS), "kind": kind, "file": name}
        page_size = request.app.state.settings.page_size
        try:
            result = await run_in_threadpool(import_file, request.app.state.engine, kind, path,
                                             actor=v.username or "web", **options)
        except ImportRejected as exc:
            errors = [e.as_dict() for e in exc.errors]
            if wants_json(request):
                return JSONResponse({"ok": False, "file": name, "errors": errors}, status_code=400)
            return render(request, "imports.html", {**base, "result": None, "errors": errors,
                                                    "history": history(request.app.state.engine, 1, page_size)}, 400)
        except DataFormatError as exc:
            msg = exc.message
            errors = [{"line": getattr(exc, "line", None), "column": "", "reason": msg}]
            if wants_json(request):
                return JSONResponse({"ok": False, "file": name, "errors": errors}, status_code=400)
            return render(request, "imports.html", {**base, "result": None, "errors": errors,
                                                    "history": history(request.app.state.engine, 1, page_size)}, 400)
    invalidate(request)
    res = {k: val for k, val in result.as_dict().items() if k != "file"}
    if wants_json(request):
        return JSONResponse(jsonable_encoder({"ok": True, "file": name, **res}))
    return render(request, "imports.html", {**base, "result": res, "errors": None,
                                            "history": history(request.app.state.engine, 1, page_size)})
