"""The explorer: blocks, transactions with their decoded calls and events, search by hash or number."""

from __future__ import annotations

import json
import re

from aiohttp import web

from node.exceptions import InvalidBlock
from node.finality import check_final
from portal import queries
from portal.i18n import gettext_ as _
from portal.web import BadInput, int_param, paging, redirect, render, state

routes = web.RouteTableDef()
HASH = re.compile(r"0x[0-9a-f]{64}")


@routes.get("/x/blocks")
async def blocks(request: web.Request):
    page, size = paging(request.query)
    return render(request, "explorer/blocks.html", {"page": queries.blocks(state(request).readers, page, size)})


@routes.get("/x/blocks/{number}")
async def block(request: web.Request):
    number = int_param(request.match_info, "number")
    db = state(request).readers
    info = queries.block(db, number)
    if info is None:
        raise web.HTTPNotFound()
    node = state(request).writer.node
    header = node.store.header_by_number(number)
    bft = header.bft
    return render(request, "explorer/block.html", {
        "block": info, "transactions": queries.block_transactions(db, number),
        "validators": ["0x" + v.hex() for v in bft.validators], "seals": len(bft.commit_seals),
        "round": bft.round, "seal_check": _seal_check(node, header)})


def _seal_check(node, header) -> str | None:
    """None when the commit seals are a quorum of the block's validators (checked here, now), else why not."""
    if header.number == 0:
        return None  # genesis is final by definition
    try:
        check_final(header, node.validator_snapshot(node.store.header_by_number(header.number - 1)))
    except InvalidBlock as exc:
        return str(exc)
    return None


@routes.get("/x/tx/{tx_hash}")
async def transaction(request: web.Request):
    tx_hash = request.match_info["tx_hash"].lower()
    if not HASH.fullmatch(tx_hash):
        raise BadInput(_("A transaction hash is 0x and 64 hex digits."))
    db = state(request).readers
    info = queries.transaction(db, tx_hash)
    if info is None:
        pending = state(request).writer.node.mempool
        return render(request, "explorer/pending.html", {"tx_hash": tx_hash,
                                                         "in_mempool": bytes.fromhex(tx_hash[2:]) in pending})
    args = json.loads(info["args_json"]) if info["args_json"] else {}
    events = queries.transaction_events(db, tx_hash)
    for event in events:
        event["args"] = json.loads(event["args_json"])
    return render(request, "explorer/transaction.html", {"tx": info, "args": _shorten(args), "events": events})


def _shorten(args: dict) -> dict:
    """Long arrays (a day of readings) are cut for display; the full call stays on the chain."""
    return {k: (v[:20] + ["…"] if isinstance(v, list) and len(v) > 20 else v) for k, v in args.items()}


@routes.get("/x/search")
async def search(request: web.Request):
    term = (request.query.get("q") or "").strip().lower()
    if re.fullmatch(r"\d{1,12}", term):
        raise redirect(f"/x/blocks/{int(term)}")
    if not HASH.fullmatch(term):
        raise BadInput(_("Search by a block number, a block hash or a transaction hash."))
    found = queries.block_by_hash(state(request).readers, term)
    raise redirect(f"/x/blocks/{found['number']}" if found else f"/x/tx/{term}")
