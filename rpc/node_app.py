"""The node's complete HTTP application: JSON-RPC (POST /) and its WebSocket subscriptions (GET /), the REST API
with OpenAPI and Swagger UI, contract ABIs, Prometheus metrics; the indexer and the webhook sender run beside it
as background tasks (cleanup_ctx), fed by the node's block listener."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from indexer.follower import Indexer
from indexer.store import INDEX_FILE, Readers
from node.service import Node
from rpc.apidb import ApiDb
from rpc.app import create_app
from rpc.eth import EthApi
from rpc.eth_extras import EthExtras
from rpc.jsonrpc import Dispatcher
from rpc.metrics import MetricSources, metrics_handler
from rpc.rest_app import add_rest_routes, api_errors
from rpc.rest_chain import NODE_KEY, ON_TRANSACTION_KEY
from rpc.rest_hooks import API_DB_KEY
from rpc.rest_read import LOCAL_OFFSET_KEY, READERS_KEY
from rpc.settings import ApiSettings, use_json_logs
from rpc.subscriptions import BlockFeed, websocket_handler
from rpc.webhooks import WebhookProducer, WebhookSender

log = logging.getLogger("energy.rpc")


def create_node_app(node: Node, dispatcher: Dispatcher, datadir: Path,
                    on_transaction: Callable[[], None] = lambda: None, *,
                    peer_count: Callable[[], int] = lambda: 0,
                    signer: bytes | None = None) -> tuple[web.Application, ssl.SSLContext | None]:
    """The application and the TLS context to serve it with (None: plain HTTP), per `<datadir>/api.json`.
    `signer` is the address of this node's key, for the validator-signing metric."""
    settings = ApiSettings.load(datadir)
    if settings.json_logs:
        use_json_logs()
    eth = EthApi(node, on_transaction)
    EthExtras(eth, peer_count).register(dispatcher)
    app = create_app(dispatcher)
    app.middlewares.append(api_errors)
    readers = Readers(Path(datadir) / INDEX_FILE)
    api_db = ApiDb.for_datadir(datadir)
    app[NODE_KEY] = node
    app[ON_TRANSACTION_KEY] = on_transaction
    app[READERS_KEY] = readers
    app[API_DB_KEY] = api_db
    app[LOCAL_OFFSET_KEY] = node.genesis.utc_offset_minutes * 60
    feed = BlockFeed()
    sender = WebhookSender(api_db, settings.webhooks)

    async def websocket(request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return web.json_response({"error": "JSON-RPC: POST / ; subscriptions: WebSocket upgrade on GET /"},
                                     status=405)
        return await websocket_handler(request, eth, dispatcher, feed)

    app.router.add_get("/", websocket)
    add_rest_routes(app, settings.public_reads)
    def is_validator() -> bool:
        return signer is not None and signer in node.validator_snapshot().validators

    app.router.add_get("/metrics", metrics_handler(MetricSources(node, readers, peer_count, sender.backlog,
                                                                 is_validator)))

    async def background(app: web.Application):
        loop = asyncio.get_running_loop()
        feed.attach(loop)
        feed.latest = node.head.number
        wake_indexer = asyncio.Event()

        indexer = Indexer.for_datadir(node, datadir) if settings.indexer else None

        def on_block(block, receipts) -> None:
            if indexer is not None:
                indexer.remember(block, receipts)
            feed.publish_from_thread(block.number)
            loop.call_soon_threadsafe(wake_indexer.set)

        node.add_block_listener(on_block)
        tasks = []
        if indexer is not None:
            producer = WebhookProducer(api_db, readers, settings.webhooks)

            indexed = asyncio.Event()
            tasks.append(asyncio.create_task(indexer.follow(wake_indexer, lambda number: indexed.set())))
            tasks.append(asyncio.create_task(_produce(producer, sender, indexed)))
            tasks.append(asyncio.create_task(sender.run()))
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if indexer is not None:
            indexer.close()
        api_db.close()

    app.cleanup_ctx.append(background)
    return app, settings.ssl_context()


SCAN_PERIOD_S = 60
"""Webhook events are scanned after every indexer round, and at least this often (readings missing)."""


async def _produce(producer: WebhookProducer, sender: WebhookSender, indexed: asyncio.Event) -> None:
    while True:
        try:
            await asyncio.wait_for(indexed.wait(), timeout=SCAN_PERIOD_S)
        except TimeoutError:
            pass
        indexed.clear()
        try:
            if await asyncio.to_thread(producer.scan):
                sender.wake.set()
        except Exception:  # webhooks must never stop the node; the next round scans again
            log.exception("webhook scan failed")
