"""The CSV import page: upload a file of one kind; every bad row is reported, nothing is half-written."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from dogtag.errors import DataFormatError, DogtagError
from dogtag.registry.imports import KINDS, ImportRejected, import_file, template
from dogtag.web.pages import NotFound, page, render, wants_json
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


@page(router, "/imports", "imports.html", roles=IMPORTERS)
def imports_form(request: Request) -> dict[str, Any]:
    """The import form: the kinds of CSV file, in the order of their dependencies"""
    return {"title": "Import CSV files", "kinds": list(KINDS), "result": None, "errors": None}


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
        try:
            result = await run_in_threadpool(import_file, request.app.state.engine, kind, path,
                                             actor=v.username or "web", **options)
        except ImportRejected as exc:
            errors = [e.as_dict() for e in exc.errors]
            if wants_json(request):
                return JSONResponse({"ok": False, "file": name, "errors": errors}, status_code=400)
            return render(request, "imports.html", {**base, "result": None, "errors": errors}, 400)
        except DataFormatError as exc:
            msg = exc.message
            errors = [{"line": getattr(exc, "line", None), "column": "", "reason": msg}]
            if wants_json(request):
                return JSONResponse({"ok": False, "file": name, "errors": errors}, status_code=400)
            return render(request, "imports.html", {**base, "result": None, "errors": errors}, 400)
    invalidate(request)
    res = {k: val for k, val in result.as_dict().items() if k != "file"}
    if wants_json(request):
        return JSONResponse(jsonable_encoder({"ok": True, "file": name, **res}))
    return render(request, "imports.html", {**base, "result": res, "errors": None})
