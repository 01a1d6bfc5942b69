"""eth_subscribe over WebSocket (GET / upgrade on the JSON-RPC port): `newHeads` and `logs`.

The node's block listener runs in the committing thread; `BlockFeed.publish_from_thread` hops onto the loop and
wakes every connection. Each connection keeps the next block it owes its subscribers and reads blocks from the
store, so a burst of blocks is never skipped, and a slow client only slows its own deliveries (back-pressure)."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from typing import Any

from aiohttp import WSMsgType, web

from rpc.eth import EthApi, _matches, _topic_set
from rpc.formats import header_json, log_json, parse_address, quantity
from rpc.jsonrpc import INVALID_PARAMS, Dispatcher, RpcError

log = logging.getLogger("energy.rpc.ws")

MAX_SUBSCRIPTIONS = 100


class BlockFeed:
    """The newest final block number; wakes every WebSocket connection when it moves."""

    def __init__(self) -> None:
        self.wakeups: set[asyncio.Event] = set()
        self.latest = -1
        self.loop: asyncio.AbstractEventLoop | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def publish_from_thread(self, number: int) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.publish, number)

    def publish(self, number: int) -> None:
        self.latest = max(self.latest, number)
        for wakeup in self.wakeups:
            wakeup.set()


class Connection:
    """One WebSocket client's subscriptions."""

    def __init__(self, ws: web.WebSocketResponse, eth: EthApi) -> None:
        self.ws = ws
        self.eth = eth
        self.subscriptions: dict[str, tuple[str, dict]] = {}
        self.next_block = eth.node.head.number + 1

    def subscribe(self, kind: Any, criteria: Any = None) -> str:
        if kind not in ("newHeads", "logs"):
            raise RpcError(INVALID_PARAMS, f"unsupported subscription {kind!r}; supported: newHeads, logs")
        if len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
            raise RpcError(INVALID_PARAMS, f"at most {MAX_SUBSCRIPTIONS} subscriptions per connection")
        parsed: dict = {}
        if kind == "logs":
            criteria = criteria or {}
            if not isinstance(criteria, dict):
                raise RpcError(INVALID_PARAMS, "logs subscription takes a filter object")
            addresses = criteria.get("address")
            addresses = [addresses] if isinstance(addresses, str) else addresses
            parsed = {"addresses": {parse_address(a) for a in addresses} if addresses else None,
                      "topics": [_topic_set(t) for t in criteria.get("topics") or []]}
        subscription_id = quantity(int.from_bytes(secrets.token_bytes(16), "big"))
        self.subscriptions[subscription_id] = (kind, parsed)
        return subscription_id

    async def deliver_up_to(self, head: int) -> None:
        store = self.eth.node.store
        while self.next_block <= head:
            number = self.next_block
            self.next_block += 1
            if not self.subscriptions:
                continue
            block = store.block_by_number(number)
            receipts = self.eth.node.receipts_of(block.hash)
            for subscription_id, (kind, parsed) in list(self.subscriptions.items()):
                if kind == "newHeads":
                    await self._notify(subscription_id, header_json(block.header, len(block.encode())))
                    continue
                log_index = 0
                for tx_index, receipt in enumerate(receipts):
                    for entry in receipt.logs:
                        if _matches(entry, parsed["addresses"], parsed["topics"]):
                            await self._notify(subscription_id, log_json(entry, block.header,
                                                                         block.transactions[tx_index], tx_index,
                                                                         log_index))
                        log_index += 1

    async def _notify(self, subscription_id: str, result: dict) -> None:
        await self.ws.send_str(json.dumps({"jsonrpc": "2.0", "method": "eth_subscription",
                                           "params": {"subscription": subscription_id, "result": result}}))


async def websocket_handler(request: web.Request, eth: EthApi, dispatcher: Dispatcher, feed: BlockFeed):
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=5 * 1024 * 1024)
    await ws.prepare(request)
    connection = Connection(ws, eth)
    wakeup = asyncio.Event()
    feed.wakeups.add(wakeup)

    async def pump() -> None:
        while True:
            await wakeup.wait()
            wakeup.clear()
            await connection.deliver_up_to(feed.latest)

    pumping = asyncio.create_task(pump())
    try:
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                break
            reply = await _answer(message.data, connection, dispatcher)
            if reply is not None:
                await ws.send_str(json.dumps(reply))
    finally:
        feed.wakeups.discard(wakeup)
        pumping.cancel()
        await asyncio.gather(pumping, return_exceptions=True)
    return ws


async def _answer(text: str, connection: Connection, dispatcher: Dispatcher) -> Any:
    try:
        request = json.loads(text)
    except json.JSONDecodeError:
        return await dispatcher.handle_body(text.encode())
    if isinstance(request, dict) and request.get("method") in ("eth_subscribe", "eth_unsubscribe"):
        params = request.get("params") or []
        try:
            if not isinstance(params, list) or not params:
                raise RpcError(INVALID_PARAMS, "params must be a non-empty array")
            if request["method"] == "eth_subscribe":
                result: Any = connection.subscribe(*params[:2])
            else:
                result = connection.subscriptions.pop(params[0], None) is not None
        except RpcError as exc:
            return {"jsonrpc": "2.0", "id": request.get("id"), "error": exc.to_json()}
        return {"jsonrpc": "2.0", "id": request.get("id"), "result": result}
    return await dispatcher.handle_body(text.encode())
