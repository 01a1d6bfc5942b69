"""REST endpoints for blocks and transactions (decoded by ABI from the read model), the node's status, and the
submission of signed raw transactions."""

from __future__ import annotations

import json
from collections.abc import Callable

from aiohttp import web

from node.exceptions import InvalidTransaction
from node.service import Node
from rpc.openapi import PAGE, ApiError, Endpoint, Param, page_of
from rpc.rest_read import S_INT, S_STR, S_STR_NULL, _page, obj, run

NODE_KEY = web.AppKey("node", Node)
ON_TRANSACTION_KEY = web.AppKey("on_transaction", Callable)

BLOCK = obj(number=S_INT, hash=S_STR, parent_hash=S_STR, timestamp=S_INT, proposer=S_STR, tx_count=S_INT,
            gas_used=S_INT, log_count=S_INT)
EVENT = obj(log_index=S_INT, contract=S_STR, name=S_STR, args={"type": "object"})
TRANSACTION = obj(hash=S_STR, block_number=S_INT, tx_index=S_INT, sender=S_STR, to_address=S_STR, nonce=S_INT,
                  contract=S_STR_NULL, function=S_STR_NULL, args={"type": "object", "nullable": True}, status=S_INT,
                  gas_used=S_INT, revert_reason=S_STR_NULL, timestamp=S_INT)
TX_COLUMNS = ("hash, block_number, tx_index, sender, to_address, nonce, contract, function, args_json, status, "
              "gas_used, revert_reason, timestamp")


def _decoded(row: dict) -> dict:
    row["args"] = json.loads(row.pop("args_json")) if row.get("args_json") else None
    return row


def _events(readers, tx_hash: str) -> list[dict]:
    rows = readers.query("SELECT log_index, contract, name, args_json FROM events WHERE tx_hash=? ORDER BY log_index",
                         (tx_hash,))
    for row in rows:
        row["args"] = json.loads(row.pop("args_json"))
    return rows


async def blocks(request, p):
    return await run(request, lambda r: _page(r, "SELECT * FROM blocks", [], [], "number DESC", p["limit"],
                                              p["offset"]))


async def block(request, p):
    def query(readers):
        found = readers.one("SELECT * FROM blocks WHERE number=?", (p["number"],))
        if found is not None:
            found["transactions"] = [_decoded(t) for t in readers.query(
                f"SELECT {TX_COLUMNS} FROM transactions WHERE block_number=? ORDER BY tx_index", (p["number"],))]
        return found
    found = await run(request, query)
    if found is None:
        raise ApiError(404, "not_found", f"block {p['number']} is not indexed")
    return found


async def transactions(request, p):
    def query(readers):
        where, args = [], []
        for name, column in (("block", "block_number"), ("sender", "sender"), ("function", "function"),
                             ("contract", "contract")):
            if p[name] is not None:
                where.append(f"{column}=?")
                args.append(p[name])
        page = _page(readers, f"SELECT {TX_COLUMNS} FROM transactions", where, args, "block_number DESC, tx_index",
                     p["limit"], p["offset"])
        page["items"] = [_decoded(t) for t in page["items"]]
        return page
    return await run(request, query)


async def transaction(request, p):
    def query(readers):
        found = readers.one(f"SELECT {TX_COLUMNS} FROM transactions WHERE hash=?", (p["hash"],))
        if found is not None:
            _decoded(found)
            found["events"] = _events(readers, p["hash"])
        return found
    found = await run(request, query)
    if found is None:
        raise ApiError(404, "not_found", f"transaction {p['hash']} is not indexed")
    return found


async def status(request, p):
    node = request.app[NODE_KEY]
    checkpoint = await run(request, lambda r: r.one("SELECT value FROM meta WHERE key='last_block'"))
    indexed = int(checkpoint["value"]) if checkpoint else -1
    return {"chain_id": node.rules.chain_id, "head": node.head.number, "head_hash": "0x" + node.head.hash.hex(),
            "indexed": indexed, "indexer_lag": node.head.number - indexed, "mempool": len(node.mempool)}


async def submit(request, p):
    body = p["body"]
    raws = body.get("raw") if isinstance(body, dict) else None
    raws = [raws] if isinstance(raws, str) else raws
    if not isinstance(raws, list) or not raws or len(raws) > 1000 or not all(isinstance(r, str) for r in raws):
        raise ApiError(400, "bad_body", "body: {\"raw\": \"0x...\"} or {\"raw\": [\"0x...\", ...]} (up to 1000)")
    node = request.app[NODE_KEY]
    results = []
    for index, raw in enumerate(raws):
        try:
            payload = bytes.fromhex(raw[2:]) if raw.startswith("0x") else None
            if payload is None:
                raise InvalidTransaction("expected 0x-hex")
            tx = node.submit_transaction(payload)
            results.append({"index": index, "hash": "0x" + tx.hash.hex(), "error": None})
        except (InvalidTransaction, ValueError) as exc:
            results.append({"index": index, "hash": None, "error": str(exc)})
    if any(r["hash"] for r in results):
        request.app[ON_TRANSACTION_KEY]()
    if len(results) == 1 and results[0]["error"]:
        raise ApiError(400, "transaction_rejected", results[0]["error"])
    return {"results": results}


ENDPOINTS = [
    Endpoint("GET", "/status", status, "Head, read-model checkpoint and mempool size", "chain", (),
             obj(chain_id=S_INT, head=S_INT, head_hash=S_STR, indexed=S_INT, indexer_lag=S_INT, mempool=S_INT)),
    Endpoint("GET", "/blocks", blocks, "Indexed blocks, newest first", "chain", PAGE, page_of(BLOCK)),
    Endpoint("GET", "/blocks/{number}", block, "A block with its decoded transactions", "chain",
             (Param("number", "integer", "Block number", location="path", minimum=0),),
             {**BLOCK, "properties": {**BLOCK["properties"],
                                      "transactions": {"type": "array", "items": TRANSACTION}}}),
    Endpoint("GET", "/transactions", transactions, "Transactions with decoded calls", "chain",
             (Param("block", "integer", "Block number", minimum=0), Param("sender", "address", "Sender"),
              Param("function", "string", "ABI function name"), Param("contract", "string", "Contract name"), *PAGE),
             page_of(TRANSACTION)),
    Endpoint("GET", "/transactions/{hash}", transaction, "A transaction with its decoded call and events", "chain",
             (Param("hash", "hex", "Transaction hash", location="path"),),
             {**TRANSACTION, "properties": {**TRANSACTION["properties"],
                                            "events": {"type": "array", "items": EVENT}}}),
    Endpoint("POST", "/transactions", submit, "Submit signed raw transactions (EIP-1559 or legacy EIP-155)", "chain",
             (), obj(results={"type": "array", "items": obj(index=S_INT, hash=S_STR_NULL, error=S_STR_NULL)}),
             body={"type": "object", "required": ["raw"], "properties": {"raw": {"oneOf": [
                 {"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 1000}]}}},
             status=202),
]
