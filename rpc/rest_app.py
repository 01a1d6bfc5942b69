"""The REST API's routes on the node's aiohttp application: /api/v1 endpoints (declared in rest_*.py), the OpenAPI
document, Swagger UI at /api/docs (assets from the swagger-ui-bundle package, no CDN), and the native contracts'
ABI JSON at /abi/<Name>.json (files shipped in rpc/abi/)."""

from __future__ import annotations

import json
from typing import Any

import swagger_ui_bundle
from aiohttp import web

from contracts_py.catalog import CONTRACTS
from rpc import rest_ats, rest_chain, rest_hooks, rest_read
from rpc.abi_files import abi_file_text
from rpc.openapi import API_PREFIX, ApiError, Endpoint, openapi_document, parse_request_params
from rpc.rest_hooks import API_DB_KEY

ENDPOINTS: list[Endpoint] = [*rest_chain.ENDPOINTS, *rest_read.ENDPOINTS, *rest_hooks.ENDPOINTS,
                             *rest_ats.ENDPOINTS]
PUBLIC_READS_KEY = web.AppKey("public_reads", bool)
DOCS_HTML = """<!doctype html><html><head><meta charset="utf-8"><title>Energy Ledger API</title>
<link rel="stylesheet" href="/api/docs/static/swagger-ui.css"></head><body><div id="ui"></div>
<script src="/api/docs/static/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/api/v1/openapi.json", dom_id: "#ui"});</script></body></html>"""


def abi_json(name: str) -> bytes | None:
    """The ABI of a native contract by its exact NAME (the same JSON as the shipped rpc/abi/<NAME>.json)."""
    for contract in CONTRACTS.values():
        if contract.NAME == name:
            return abi_file_text(contract).encode()
    return None


def _handler(endpoint: Endpoint):
    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            _authorize(endpoint, request)
            params = parse_request_params(endpoint, request)
            if endpoint.body is not None:
                params["body"] = await _body(endpoint, request)
            result = await endpoint.handler(request, params)
        except ApiError as exc:
            return exc.response()
        if endpoint.raw_response:
            return result
        return web.json_response(result, status=endpoint.status, dumps=lambda d: json.dumps(d, ensure_ascii=False))
    return handle


def _authorize(endpoint: Endpoint, request: web.Request) -> None:
    header = request.headers.get("Authorization", "")
    holder = None
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "bad_token", "Authorization: Bearer <token> expected")
        holder = request.app[API_DB_KEY].token_holder(token.strip())
        if holder is None:
            raise ApiError(401, "bad_token", "unknown or revoked token")
    request["holder"] = holder
    if endpoint.roles is None and (holder is not None or request.app[PUBLIC_READS_KEY]):
        return
    if holder is None:
        raise ApiError(401, "token_required", "this endpoint needs an API token (Authorization: Bearer ...)")
    if holder.role not in endpoint.roles:
        raise ApiError(403, "wrong_role", f"a {holder.role} token cannot call this endpoint; roles: "
                       f"{', '.join(sorted(endpoint.roles))}")


async def _body(endpoint: Endpoint, request: web.Request) -> Any:
    raw = await request.read()
    if endpoint.body.get("xml"):
        return raw
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, "bad_json", f"body is not JSON: {exc}") from None


@web.middleware
async def api_errors(request: web.Request, handler):
    """Errors under /api and /abi are JSON too: unknown paths, wrong methods, oversized bodies."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if not request.path.startswith(("/api", "/abi")) or exc.status < 400:
            raise
        codes = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}
        response = ApiError(exc.status, codes.get(exc.status, "http_error"), exc.reason).response()
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response


def add_rest_routes(app: web.Application, public_reads: bool = True) -> None:
    app[PUBLIC_READS_KEY] = public_reads
    for endpoint in ENDPOINTS:
        app.router.add_route(endpoint.method, API_PREFIX + endpoint.path, _handler(endpoint))
    document = openapi_document(ENDPOINTS, "Energy Ledger REST API", "1.0.0")

    async def openapi(request: web.Request) -> web.Response:
        return web.json_response(document)

    async def docs(request: web.Request) -> web.Response:
        return web.Response(text=DOCS_HTML, content_type="text/html")

    async def abi(request: web.Request) -> web.Response:
        body = abi_json(request.match_info["name"])
        if body is None:
            return ApiError(404, "not_found", f"no contract named {request.match_info['name']!r}").response()
        return web.Response(body=body, content_type="application/json")

    app.router.add_get(API_PREFIX + "/openapi.json", openapi)
    app.router.add_get("/api/docs", docs)
    app.router.add_static("/api/docs/static", swagger_ui_bundle.swagger_ui_path)
    app.router.add_get("/abi/{name}.json", abi)
