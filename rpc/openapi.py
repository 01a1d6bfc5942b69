"""REST endpoints declared once, with their parameters and response schemas: the same declarations validate
requests, register aiohttp routes and generate the OpenAPI 3 document served at /api/v1/openapi.json."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

API_PREFIX = "/api/v1"
MAX_LIMIT = 1_000
INT64_MAX = 2**63 - 1
"""Integers are SQLite's 64-bit integers: larger values are refused as bad parameters, not looked up."""
ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")


class ApiError(Exception):
    """An error answered as JSON: {"error": {"status", "code", "message", "details"}}."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def response(self) -> web.Response:
        body: dict[str, Any] = {"status": self.status, "code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return web.json_response({"error": body}, status=self.status)


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    """integer, string, boolean, date (YYYY-MM-DD), address (0x + 40 hex), hex."""
    description: str = ""
    required: bool = False
    location: str = "query"
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    default: Any = None

    def schema(self) -> dict[str, Any]:
        if self.kind == "integer":
            schema: dict[str, Any] = {"type": "integer", "format": "int64", "maximum": self.upper()}
            if self.minimum is not None:
                schema["minimum"] = self.minimum
        elif self.kind == "boolean":
            schema = {"type": "boolean"}
        elif self.kind == "date":
            schema = {"type": "string", "format": "date"}
        elif self.kind == "address":
            schema = {"type": "string", "pattern": ADDRESS_RE.pattern}
        elif self.kind == "hex":
            schema = {"type": "string", "pattern": "^0x([0-9a-fA-F]{2})*$"}
        else:
            schema = {"type": "string", "maxLength": 256}
        if self.choices:
            schema["enum"] = list(self.choices)
        if self.default is not None:
            schema["default"] = self.default
        return schema

    def upper(self) -> int:
        return INT64_MAX if self.maximum is None else min(self.maximum, INT64_MAX)

    def parse(self, raw: str) -> Any:
        try:
            if self.kind == "integer":
                if not re.fullmatch(r"-?\d{1,19}", raw):
                    raise ValueError("not an integer")
                value: Any = int(raw)
                if (self.minimum is not None and value < self.minimum) or value > self.upper() or \
                        value < -INT64_MAX - 1:
                    raise ValueError(f"outside {self.minimum}..{self.upper()}")
                return value
            if self.kind == "boolean":
                if raw not in ("true", "false"):
                    raise ValueError("expected true or false")
                return raw == "true"
            if self.kind == "date":
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
                    raise ValueError("expected YYYY-MM-DD")
                return datetime.date.fromisoformat(raw)
            if self.kind == "address":
                if not ADDRESS_RE.fullmatch(raw):
                    raise ValueError("expected 0x and 40 hex digits")
                return raw.lower()
            if self.kind == "hex":
                if not re.fullmatch(r"0x([0-9a-fA-F]{2})*", raw):
                    raise ValueError("expected 0x-hex")
                return raw.lower()
            if len(raw) > 256:
                raise ValueError("longer than 256 characters")
            if self.choices and raw not in self.choices:
                raise ValueError(f"expected one of {', '.join(self.choices)}")
            return raw
        except ValueError as exc:
            raise ApiError(400, "bad_parameter", f"{self.name}: {exc}", {"parameter": self.name}) from None


LIMIT = Param("limit", "integer", "Page size", minimum=1, maximum=MAX_LIMIT, default=100)
OFFSET = Param("offset", "integer", "Rows to skip", minimum=0, maximum=10**9, default=0)
PAGE = (LIMIT, OFFSET)

Handler = Callable[[web.Request, dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    """Relative to /api/v1, with {name} path parameters."""
    handler: Handler
    summary: str
    tag: str
    params: tuple[Param, ...] = ()
    response: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    body: dict[str, Any] | None = None
    """JSON schema of the request body, or {"xml": True} for an XML body."""
    roles: frozenset[str] | None = None
    """Roles whose tokens may call it; None: no token needed."""
    status: int = 200
    raw_response: bool = False
    """The handler returns a ready web.Response (XML, files) instead of JSON data."""

    def operation_id(self) -> str:
        words = re.sub(r"[{}]", "", self.path).strip("/").replace("-", "/").split("/")
        return self.method.lower() + "".join(w[:1].upper() + w[1:] for w in words if w)


def page_of(schema: dict[str, Any]) -> dict[str, Any]:
    """The response schema of a paginated list."""
    return {"type": "object", "required": ["items", "total", "limit", "offset"], "properties": {
        "items": {"type": "array", "items": schema}, "total": {"type": "integer"},
        "limit": {"type": "integer"}, "offset": {"type": "integer"}}}


ERROR_SCHEMA = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["status", "code", "message"],
    "properties": {"status": {"type": "integer"}, "code": {"type": "string"}, "message": {"type": "string"},
                   "details": {}}}}}


def openapi_document(endpoints: list[Endpoint], title: str, version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for ep in endpoints:
        operation: dict[str, Any] = {
            "operationId": ep.operation_id(),
            "summary": ep.summary,
            "tags": [ep.tag],
            "parameters": [{"name": p.name, "in": p.location, "required": p.required or p.location == "path",
                            "description": p.description, "schema": p.schema()} for p in ep.params],
            "responses": {
                str(ep.status): {"description": "OK", "content": (
                    {"application/xml": {"schema": {"type": "string"}}} if ep.raw_response
                    else {"application/json": {"schema": ep.response}})},
                "4XX": {"description": "Bad request, unknown resource or forbidden",
                        "content": {"application/json": {"schema": ERROR_SCHEMA}}},
                "503": {"description": "The read model is not ready",
                        "content": {"application/json": {"schema": ERROR_SCHEMA}}},
            },
        }
        if ep.body is not None:
            content = ({"application/xml": {"schema": {"type": "string"}}} if ep.body.get("xml")
                       else {"application/json": {"schema": ep.body}})
            operation["requestBody"] = {"required": True, "content": content}
        if ep.roles is not None:
            operation["security"] = [{"bearerToken": []}]
            operation["description"] = "Token roles: " + ", ".join(sorted(ep.roles))
        paths.setdefault(API_PREFIX + ep.path, {})[ep.method.lower()] = operation
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {"securitySchemes": {"bearerToken": {"type": "http", "scheme": "bearer"}}},
    }


def parse_request_params(endpoint: Endpoint, request: web.Request) -> dict[str, Any]:
    """Typed parameters; unknown or repeated query parameters are errors, never silently ignored."""
    known = {p.name for p in endpoint.params if p.location == "query"}
    unknown = sorted(set(request.query) - known)
    if unknown:
        raise ApiError(400, "unknown_parameter", f"unknown parameter(s): {', '.join(unknown)}",
                       {"allowed": sorted(known)})
    values: dict[str, Any] = {}
    for param in endpoint.params:
        source = request.match_info if param.location == "path" else request.query
        raws = [source[param.name]] if param.location == "path" and param.name in source else \
            request.query.getall(param.name, []) if param.location == "query" else []
        if len(raws) > 1:
            raise ApiError(400, "bad_parameter", f"{param.name}: given more than once", {"parameter": param.name})
        if not raws:
            if param.required or param.location == "path":
                raise ApiError(400, "missing_parameter", f"{param.name} is required", {"parameter": param.name})
            values[param.name] = param.default
            continue
        values[param.name] = param.parse(raws[0])
    return values


def json_body_size_ok(text: str, limit: int) -> None:
    if len(text) > limit:
        raise ApiError(413, "too_large", f"body larger than {limit} bytes")


def dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))
