"""API documentation, rendered on the server from the OpenAPI description (no CDN, no script)."""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dogtag.web.pages import page

router = APIRouter(tags=["docs"])


@page(router, "/docs", "docs.html")
def docs(request: Request) -> dict[str, Any]:
    """API documentation: every route with its parameters, from /openapi.json"""
    spec = request.app.openapi()
    ops: list[dict[str, Any]] = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            params = [{"name": p["name"], "in": p["in"], "required": p.get("required", False)}
                      for p in op.get("parameters", [])]
            body = op.get("requestBody", {}).get("content", {})
            form = []
            for ctype, content in body.items():
                ref = content.get("schema", {}).get("$ref", "")
                schema = spec.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[-1], {})
                form += [{"name": k, "in": ctype, "required": k in schema.get("required", [])}
                         for k in schema.get("properties", {})]
            ops.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                        "tag": (op.get("tags") or [""])[0], "params": params + form})
    return {"title": "API", "info": spec.get("info", {}), "operations": ops}


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    """The site icon (a dog tag), from the package's static files."""
    data = (resources.files("dogtag.web") / "static" / "favicon.ico").read_bytes()
    return Response(data, media_type="image/x-icon", headers={"Cache-Control": "max-age=86400"})
