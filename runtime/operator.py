"""The routes an operator and an API's users read beside the workflows: the OpenAPI document
(``/openapi.json``), its docs page (``/docs``, Swagger UI served from the installed package,
no CDN), the Prometheus metrics (``/metrics``), and who may read the operator's pages.

Access (``METRICS`` and ``CONSOLE``): ``open`` (the development default), ``protect`` (the
default with ``RUNTIME_ENV=production``: the internal key, or a token whose level is at least
``OPERATOR_LEVEL``, which then sees its own tenant only) or ``off``.
"""

from __future__ import annotations

import functools
import hmac
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from runtime.auth import verify_token
from runtime.config import Config, ConfigError
from runtime.endpoint import error_response
from runtime.errors import AuthRequired, Forbidden, InvalidToken, WorkflowError
from runtime.workflow import CompiledWorkflow

if TYPE_CHECKING:
    from runtime.app import Services

OPERATOR_COOKIE = "operator_token"


def _swagger_static() -> Path:
    """Swagger UI's files in the installed ``swagger-ui-py`` (found without importing it)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("swagger-ui-py is not installed: /docs needs its files")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>API docs</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui",
  deepLinking: true, persistAuthorization: true});
</script>
</body>
</html>
"""


@dataclass(frozen=True)
class Operator:
    """Who reads an operator page: every tenant (``tenant`` None) or one."""

    tenant: str | None


def operator(config: Config, mode: str, conn: HTTPConnection) -> Operator:
    """The reader of an operator page under ``mode``; AuthRequired or Forbidden otherwise."""
    if mode == "open":
        return Operator(None)
    key = conn.headers.get("x-internal-key")
    if (
        key is not None
        and config.internal_key is not None
        and hmac.compare_digest(key.encode(), config.internal_key.encode())
    ):
        return Operator(None)
    token = None
    auth = conn.headers.get("authorization")
    if auth is not None:
        scheme, _, given = auth.partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise InvalidToken("The Authorization header must be `Bearer <token>`")
        token = given.strip()
    else:
        token = conn.cookies.get(OPERATOR_COOKIE)
    if not token:
        raise AuthRequired("An operator token or the internal key (X-Internal-Key) is required")
    return operator_token(config, token)


def operator_token(config: Config, token: str) -> Operator:
    """The reader a token makes: its tenant's operator when its level is at least
    ``OPERATOR_LEVEL``; InvalidToken or Forbidden otherwise."""
    tenant, user, _ = verify_token(config, token)
    if user["level"] < config.operator_level:
        raise Forbidden(
            f"The token's level is below OPERATOR_LEVEL ({config.operator_level})",
            "AUTH_INSUFFICIENT_LEVEL",
            requiredLevel=config.operator_level,
            userLevel=user["level"],
        )
    return Operator(tenant)


def served_document(document: Path, mounted: list[CompiledWorkflow]) -> bytes:
    """The compiled document with only the routes this server mounts (an inactive workflow
    is compiled and described, but served only with ``--include-inactive``)."""
    doc = json.loads(document.read_text(encoding="utf-8"))
    served = {wf.info.id for wf in mounted}
    paths = {}
    for path, ops in doc.get("paths", {}).items():
        kept = {m: op for m, op in ops.items() if op.get("x-workflow") in served}
        if kept:
            paths[path] = kept
    doc["paths"] = paths
    return json.dumps(doc, indent=2, ensure_ascii=True).encode()


def routes(
    services: Services, openapi: Path | None, mounted: list[CompiledWorkflow]
) -> list[BaseRoute]:
    """``/openapi.json`` and ``/docs`` (when the compiled folder has the document: read at
    the first request for it) and ``/metrics`` (unless off or on a port of its own)."""
    out: list[BaseRoute] = []
    if openapi is not None:
        served = functools.cache(functools.partial(served_document, openapi, mounted))

        async def openapi_json(request: Request) -> Response:
            return Response(served(), media_type="application/json")

        async def docs(request: Request) -> Response:
            return HTMLResponse(DOCS_PAGE)

        out += [
            Route("/openapi.json", openapi_json, methods=["GET"]),
            Route("/docs", docs, methods=["GET"]),
            Mount("/docs/static", StaticFiles(directory=_swagger_static()), name="swagger"),
        ]
    config = services.config
    if config.metrics != "off" and config.metrics_port is None:

        async def metrics(request: Request) -> Response:
            try:
                operator(config, config.metrics, request)
            except WorkflowError as err:
                return error_response(err)
            from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

            return Response(
                generate_latest(services.telemetry.registry()), media_type=CONTENT_TYPE_LATEST
            )

        out.append(Route("/metrics", metrics, methods=["GET"]))
    return out
