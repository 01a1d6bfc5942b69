"""JSON-RPC 2.0 over HTTP POST: parsing, batches, standard error codes. Methods are plain callables."""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("energy.rpc")

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000
"""Geth's code for a transaction the node refuses (nonce too low, already known...)."""
EXECUTION_REVERTED = 3
MAX_BATCH = 1000

Method = Callable[..., Awaitable[Any] | Any]


class RpcError(Exception):
    """An error answered to the caller with a JSON-RPC code."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def invalid_params(message: str) -> RpcError:
    return RpcError(INVALID_PARAMS, message)


class Dispatcher:
    """Routes JSON-RPC requests to registered methods."""

    def __init__(self) -> None:
        self.methods: dict[str, Method] = {}
        self._signatures: dict[str, inspect.Signature] = {}

    def register(self, name: str, method: Method) -> None:
        self.methods[name] = method
        self._signatures[name] = inspect.signature(method)

    async def handle_body(self, body: bytes) -> Any | None:
        """The response document for a request body, or None when there is nothing to answer (notifications)."""
        try:
            document = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return _error_response(None, RpcError(PARSE_ERROR, f"parse error: {exc}"))
        if isinstance(document, list):
            if not document:
                return _error_response(None, RpcError(INVALID_REQUEST, "empty batch"))
            if len(document) > MAX_BATCH:
                return _error_response(None, RpcError(INVALID_REQUEST, f"batch larger than {MAX_BATCH}"))
            responses = [r for r in [await self.handle_request(item) for item in document] if r is not None]
            return responses or None
        return await self.handle_request(document)

    async def handle_request(self, request: Any) -> dict[str, Any] | None:
        if not isinstance(request, dict) or request.get("jsonrpc") != "2.0" or not isinstance(
                request.get("method"), str):
            return _error_response(request.get("id") if isinstance(request, dict) else None,
                                   RpcError(INVALID_REQUEST, "invalid request: need jsonrpc 2.0 and a method"))
        request_id = request.get("id")
        is_notification = "id" not in request
        method = self.methods.get(request["method"])
        params = request.get("params", [])
        try:
            if method is None:
                raise RpcError(METHOD_NOT_FOUND, f"the method {request['method']} does not exist/is not available")
            if not isinstance(params, list):
                raise invalid_params("params must be an array")
            try:
                self._signatures[request["method"]].bind(*params)
            except TypeError as exc:
                raise invalid_params(f"wrong params for {request['method']}: {exc}") from exc
            result = method(*params)
            if hasattr(result, "__await__"):
                result = await result
        except RpcError as exc:
            return None if is_notification else _error_response(request_id, exc)
        except Exception:
            log.exception("internal error in %s", request.get("method"))
            return None if is_notification else _error_response(request_id, RpcError(INTERNAL_ERROR,
                                                                                        "internal error"))
        return None if is_notification else {"jsonrpc": "2.0", "id": request_id, "result": result}


def _error_response(request_id: Any, error: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_json()}
