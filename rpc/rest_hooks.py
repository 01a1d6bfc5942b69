"""REST endpoints of webhook subscriptions and their delivery log; a token's holder sees only its own."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from aiohttp import web

from contracts_py.participants import ROLE_BY_NAME
from rpc.apidb import ApiDb
from rpc.openapi import PAGE, ApiError, Endpoint, Param, page_of
from rpc.rest_read import S_INT, S_STR, S_STR_NULL, obj
from rpc.webhooks import EVENT_DESCRIPTIONS, EVENT_TYPES

API_DB_KEY = web.AppKey("api_db", ApiDb)
ANY_ROLE = frozenset(ROLE_BY_NAME)
MAX_WEBHOOKS_PER_HOLDER = 50

WEBHOOK = obj(id=S_INT, url=S_STR, events={"type": "array", "items": S_STR}, created_at=S_INT, active=S_INT)
DELIVERY = obj(id=S_INT, event_type=S_STR, event_key=S_STR, payload=S_STR, status=S_STR, attempts=S_INT,
               last_status_code={"type": "integer", "nullable": True}, last_error=S_STR_NULL, created_at=S_INT,
               delivered_at={"type": "integer", "nullable": True})


def _owned(request: web.Request, webhook_id: int) -> dict:
    rows = request.app[API_DB_KEY].query("SELECT id, url, events, created_at, active, owner FROM webhooks WHERE id=?",
                                         (webhook_id,))
    if not rows or rows[0]["owner"] != request["holder"].address:
        raise ApiError(404, "not_found", f"no webhook {webhook_id} of yours")
    return rows[0]


def _public(row: dict) -> dict:
    return {"id": row["id"], "url": row["url"], "events": row["events"].split(","), "created_at": row["created_at"],
            "active": row["active"]}


async def create(request, p):
    body = p["body"]
    if not isinstance(body, dict):
        raise ApiError(400, "bad_body", "expected a JSON object")
    url, secret, events = body.get("url"), body.get("secret"), body.get("events")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2000:
        raise ApiError(400, "bad_body", "url: an http(s) URL is required")
    if not isinstance(secret, str) or not 16 <= len(secret) <= 256:
        raise ApiError(400, "bad_body", "secret: 16 to 256 characters")
    if not isinstance(events, list) or not events or not all(e in EVENT_TYPES for e in events):
        raise ApiError(400, "bad_body", f"events: a non-empty list of {', '.join(EVENT_TYPES)}")
    api = request.app[API_DB_KEY]
    holder = request["holder"]
    (count,) = api.execute("SELECT count(*) FROM webhooks WHERE owner=? AND active=1", (holder.address,)).fetchone()
    if count >= MAX_WEBHOOKS_PER_HOLDER:
        raise ApiError(409, "limit_reached", f"at most {MAX_WEBHOOKS_PER_HOLDER} webhooks per participant")
    cursor = await asyncio.to_thread(api.execute, "INSERT INTO webhooks (owner, role, url, secret, events, "
                                     "created_at) VALUES (?,?,?,?,?,?)",
                                     (holder.address, holder.role, url, secret, ",".join(dict.fromkeys(events)),
                                      int(time.time())))
    return _public(_owned(request, cursor.lastrowid))


async def listing(request, p):
    api = request.app[API_DB_KEY]
    owner = request["holder"].address
    (total,) = api.execute("SELECT count(*) FROM webhooks WHERE owner=?", (owner,)).fetchone()
    rows = api.query("SELECT id, url, events, created_at, active FROM webhooks WHERE owner=? ORDER BY id LIMIT ? "
                     "OFFSET ?", (owner, p["limit"], p["offset"]))
    return {"items": [_public(r) for r in rows], "total": total, "limit": p["limit"], "offset": p["offset"]}


async def delete(request, p):
    _owned(request, p["webhook_id"])
    request.app[API_DB_KEY].execute("UPDATE webhooks SET active=0 WHERE id=?", (p["webhook_id"],))
    return {"id": p["webhook_id"], "active": 0}


async def deliveries(request, p):
    _owned(request, p["webhook_id"])
    api = request.app[API_DB_KEY]
    where, args = "webhook_id=?", [p["webhook_id"]]
    if p["status"]:
        where += " AND status=?"
        args.append(p["status"])
    (total,) = api.execute(f"SELECT count(*) FROM deliveries WHERE {where}", args).fetchone()
    rows = api.query("SELECT id, event_type, event_key, payload, status, attempts, last_status_code, last_error, "
                     f"created_at, delivered_at FROM deliveries WHERE {where} ORDER BY id LIMIT ? OFFSET ?",
                     (*args, p["limit"], p["offset"]))
    return {"items": rows, "total": total, "limit": p["limit"], "offset": p["offset"]}


WEBHOOK_ID = Param("webhook_id", "integer", "Webhook id", location="path", minimum=1)
ENDPOINTS = [
    Endpoint("POST", "/webhooks", create, "Subscribe a URL to events (HMAC-SHA256 signed with the secret)",
             "webhooks", (), WEBHOOK, roles=ANY_ROLE, status=201, body={
                 "type": "object", "required": ["url", "secret", "events"], "properties": {
                     "url": {"type": "string", "format": "uri"}, "secret": {"type": "string", "minLength": 16},
                     "events": {"type": "array", "items": {"type": "string", "enum": list(EVENT_TYPES)},
                                "description": "; ".join(f"{kind}: {text}" for kind, text in
                                                         EVENT_DESCRIPTIONS.items())}}}),
    Endpoint("GET", "/webhooks", listing, "Your webhook subscriptions", "webhooks", PAGE, page_of(WEBHOOK),
             roles=ANY_ROLE),
    Endpoint("DELETE", "/webhooks/{webhook_id}", delete, "Stop a subscription", "webhooks", (WEBHOOK_ID,),
             obj(id=S_INT, active=S_INT), roles=ANY_ROLE),
    Endpoint("GET", "/webhooks/{webhook_id}/deliveries", deliveries, "The delivery log of a subscription",
             "webhooks", (WEBHOOK_ID, Param("status", "string", "Delivery status",
                                            choices=("pending", "delivered", "failed")), *PAGE),
             page_of(DELIVERY), roles=ANY_ROLE),
]
