"""Prometheus text exposition at GET /metrics: chain height, finality lag, throughput, mempool, peers, validator
signing, indexer lag and webhook backlog."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from indexer.store import Readers
from node.service import Node

TX_RATE_WINDOW_S = 60


@dataclass
class MetricSources:
    node: Node
    readers: Readers | None
    peer_count: Callable[[], int]
    webhook_backlog: Callable[[], int]
    is_validator: Callable[[], bool]


def _gauge(lines: list[str], name: str, help_text: str, value: float) -> None:
    lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value}"]


def render(sources: MetricSources) -> str:
    node = sources.node
    head = node.head
    lines: list[str] = []
    _gauge(lines, "energy_chain_height", "Number of the newest final block", head.number)
    _gauge(lines, "energy_finality_lag_seconds", "Seconds since the newest final block's timestamp",
           max(0.0, round(time.time() - head.timestamp, 3)))
    _gauge(lines, "energy_mempool_transactions", "Transactions waiting in the mempool", len(node.mempool))
    _gauge(lines, "energy_peers", "Connected peers", sources.peer_count())
    _gauge(lines, "energy_validator_signing", "1 when this node's key seals blocks", int(sources.is_validator()))
    if sources.readers is not None and sources.readers.path.exists():
        indexed = sources.readers.one("SELECT value FROM meta WHERE key='last_block'")
        indexed_number = int(indexed["value"]) if indexed else -1
        recent = sources.readers.one("SELECT coalesce(sum(tx_count), 0) AS n FROM blocks WHERE timestamp>?",
                                     (head.timestamp - TX_RATE_WINDOW_S,))
        _gauge(lines, "energy_indexer_lag_blocks", "Final blocks not yet in the read model",
               head.number - indexed_number)
        _gauge(lines, "energy_transactions_per_second", f"Transactions per second over the last {TX_RATE_WINDOW_S} s "
               "of block time", round(recent["n"] / TX_RATE_WINDOW_S, 3))
    _gauge(lines, "energy_webhook_backlog", "Webhook deliveries waiting to be sent", sources.webhook_backlog())
    return "\n".join(lines) + "\n"


def metrics_handler(sources: MetricSources):
    async def handle(request: web.Request) -> web.Response:
        text = await asyncio.to_thread(render, sources)
        return web.Response(text=text, content_type="text/plain", charset="utf-8",
                            headers={"X-Prometheus-Format": "0.0.4"})
    return handle
