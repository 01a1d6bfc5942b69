"""JSON-RPC 2.0 over HTTP POST: parsing, batches, standard error codes. Methods are plain callables."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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
    """Routes JSON-RPC requests to registered methods.

    A method registered as `blocking` runs in a worker thread, so the loop keeps serving (a networked node's loop
    also moves consensus messages and timers). The blocking requests that follow one another in a batch run in one
    worker call: a batch of a hundred raw transactions is one thread hop, not a hundred."""

    def __init__(self) -> None:
        self.methods: dict[str, Method] = {}
        self._arity: dict[str, tuple[int, int | None]] = {}
        self._blocking: set[str] = set()

    def register(self, name: str, method: Method, *, blocking: bool = False) -> None:
        """Add a method; a `blocking` one must be synchronous (it runs in a worker thread)."""
        if blocking and inspect.iscoroutinefunction(method):
            raise TypeError(f"{name}: a blocking method must be synchronous")
        self.methods[name] = method
        self._arity[name] = _positional_arity(method)
        if blocking:
            self._blocking.add(name)
        else:
            self._blocking.discard(name)

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
            responses = [r for r in await self._handle_batch(document) if r is not None]
            return responses or None
        return await self.handle_request(document)

    async def handle_request(self, request: Any) -> dict[str, Any] | None:
        if self._is_blocking(request):
            return await asyncio.to_thread(self._answer_now, request)
        return await self._answer(request)

    async def _handle_batch(self, requests: list[Any]) -> list[dict[str, Any] | None]:
        answers: list[dict[str, Any] | None] = []
        start = 0
        while start < len(requests):
            end = start
            while end < len(requests) and self._is_blocking(requests[end]):
                end += 1
            if end > start:
                run = requests[start:end]
                answers += await asyncio.to_thread(lambda: [self._answer_now(request) for request in run])
                start = end
            else:
                answers.append(await self._answer(requests[start]))
                start += 1
        return answers

    def _is_blocking(self, request: Any) -> bool:
        method = request.get("method") if isinstance(request, dict) else None
        return isinstance(method, str) and method in self._blocking

    async def _answer(self, request: Any) -> dict[str, Any] | None:
        answer = self._answer_now(request)
        if not isinstance(answer, _Awaiting):
            return answer
        try:
            result = await answer.result
        except Exception as exc:  # noqa: BLE001 - every failure becomes an error response
            return answer.call.failed(exc)
        return answer.call.succeeded(result)

    def _answer_now(self, request: Any) -> dict[str, Any] | None | _Awaiting:
        """Check and call: the answer, or for a coroutine method what is left to await (on the loop)."""
        try:
            call = self._check(request)
        except _Refused as refused:
            return refused.response
        try:
            result = call.method(*call.params)
        except Exception as exc:  # noqa: BLE001 - every failure becomes an error response
            return call.failed(exc)
        if hasattr(result, "__await__"):
            return _Awaiting(call, result)
        return call.succeeded(result)

    def _check(self, request: Any) -> _Call:
        """The call a request asks for; raises _Refused with the error response for a malformed one."""
        if not isinstance(request, dict) or request.get("jsonrpc") != "2.0" or not isinstance(
                request.get("method"), str):
            raise _Refused(_error_response(request.get("id") if isinstance(request, dict) else None,
                                           RpcError(INVALID_REQUEST, "invalid request: need jsonrpc 2.0 and a method")))
        name = request["method"]
        call = _Call(request.get("id"), "id" not in request, name, self.methods.get(name), request.get("params", []))
        if call.method is None:
            raise _Refused(call.failed(RpcError(METHOD_NOT_FOUND,
                                                f"the method {name} does not exist/is not available")))
        if not isinstance(call.params, list):
            raise _Refused(call.failed(invalid_params("params must be an array")))
        least, most = self._arity[name]
        if len(call.params) < least or (most is not None and len(call.params) > most):
            expected = f"{least}" if least == most else f"{least} to {most}" if most is not None else f"{least} or more"
            raise _Refused(call.failed(invalid_params(
                f"wrong params for {name}: expected {expected} parameters, got {len(call.params)}")))
        return call


@dataclass(frozen=True)
class _Call:
    """A well-formed request: which method, with what, and how to answer it."""

    request_id: Any
    is_notification: bool
    name: str
    method: Method | None
    params: Any

    def succeeded(self, result: Any) -> dict[str, Any] | None:
        return None if self.is_notification else {"jsonrpc": "2.0", "id": self.request_id, "result": result}

    def failed(self, exc: Exception) -> dict[str, Any] | None:
        if not isinstance(exc, RpcError):
            log.error("internal error in %s", self.name, exc_info=exc)
            exc = RpcError(INTERNAL_ERROR, "internal error")
        return None if self.is_notification else _error_response(self.request_id, exc)


@dataclass(frozen=True)
class _Awaiting:
    """A call whose method returned an awaitable."""

    call: _Call
    result: Awaitable[Any]


class _Refused(Exception):
    """A request answered with an error before its method runs."""

    def __init__(self, response: dict[str, Any] | None) -> None:
        super().__init__("refused")
        self.response = response


def _positional_arity(method: Method) -> tuple[int, int | None]:
    """How many positional parameters a method takes: (at least, at most or None for *args)."""
    least, most = 0, 0
    for parameter in inspect.signature(method).parameters.values():
        if parameter.kind is parameter.VAR_POSITIONAL:
            return least, None
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            most += 1
            if parameter.default is parameter.empty:
                least += 1
    return least, most


def _error_response(request_id: Any, error: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_json()}
