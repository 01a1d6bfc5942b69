"""The node's HTTP server: JSON-RPC on POST / (aiohttp app factory)."""

from __future__ import annotations

import json

from aiohttp import web

from rpc.jsonrpc import Dispatcher

MAX_REQUEST_BYTES = 5 * 1024 * 1024
DISPATCHER_KEY = web.AppKey("dispatcher", Dispatcher)


async def _handle_jsonrpc(request: web.Request) -> web.Response:
    body = await request.read()
    response = await request.app[DISPATCHER_KEY].handle_body(body)
    if response is None:
        return web.Response(status=204)
    return web.Response(text=json.dumps(response), content_type="application/json")


@web.middleware
async def _errors_as_json(request: web.Request, handler):
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge:
        return web.json_response({"jsonrpc": "2.0", "id": None,
                                  "error": {"code": -32600, "message": "request too large"}}, status=413)


def create_app(dispatcher: Dispatcher) -> web.Application:
    """An aiohttp application answering JSON-RPC on POST /."""
    app = web.Application(client_max_size=MAX_REQUEST_BYTES, middlewares=[_errors_as_json])
    app[DISPATCHER_KEY] = dispatcher
    app.router.add_post("/", _handle_jsonrpc)
    return app
