"""Webhooks: external systems subscribe to market events and receive HMAC-SHA256 signed POSTs.

A subscription sees the events of its own accounts: a retailer's token those of its accounts, a consumer's its
own, a gateway's its meters'; the grid company, admin and auditor see all. Events come from the read model after
each indexer round (`WebhookProducer.scan`): meter events, invoices issued and disputed, payments received,
readings missing (a remote meter whose last interval is older than the configured silence), and a demand-response
event announced to a participant and its settled result (with the event's programme and period, `dr_event`).
Each (subscription, event) becomes one row of the delivery log; `WebhookSender` posts them oldest first, one at a
time per subscription, so a receiver sees events in order. A failed post is retried with exponential backoff
capped at `max_delay_s`, at most `max_attempts` times; then the delivery is marked failed and the next one goes.
Signature header: `X-Energy-Signature: sha256=<hex HMAC of "<timestamp>.<body>">` with
`X-Energy-Timestamp`, so a receiver can also refuse replays."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass

import aiohttp

from indexer.store import Readers
from rpc.apidb import ApiDb

log = logging.getLogger("energy.webhooks")

EVENT_TYPES: dict[str, tuple[str, str] | None] = {
    "meter_event": ("Readings", "MeterEventReported"),
    "invoice_issued": ("Invoices", "InvoiceIssued"),
    "invoice_disputed": ("Invoices", "InvoiceDisputed"),
    "payment_received": ("Payments", "PaymentConfirmed"),
    "reading_missing": None,
    "dr_event_announced": ("DemandResponse", "ParticipantNotified"),
    "dr_settled": ("DemandResponse", "ParticipantSettled"),
}
"""Webhook event type -> the (contract, event) it follows (reading_missing is derived from the readings)."""
EVENT_KINDS = {source: kind for kind, source in EVENT_TYPES.items() if source}
EVENT_DESCRIPTIONS = {
    "meter_event": "a meter reported an event (tamper, power loss...): meter_id, kind, at, alarms",
    "invoice_issued": "an invoice was issued: invoice_id, account_number, period, consumer, total, due_at...",
    "invoice_disputed": "the consumer disputed an invoice: invoice_id, account_number, consumer, reason",
    "payment_received": "a payment was applied: payment_id, invoice_id, account_number, amount, applied",
    "reading_missing": "a remote meter has been silent longer than the configured time: meter_id, account_number, "
                       "last_interval_start",
    "dr_event_announced": "a demand-response event was announced to a participant: event_id, meter_id, consumer, "
                          "obligation_w, start, end; dr_event gives its programme",
    "dr_settled": "a participant of a demand-response event was settled: event_id, meter_id, consumer, "
                  "baseline_wh, actual_wh, obligation_wh, reward, penalty, paid, penalty_due (kopecks, Wh); "
                  "dr_event gives its programme and period",
}
"""What each webhook event type's `data` holds (the OpenAPI description of the subscription's events)."""


@dataclass(frozen=True)
class WebhookSettings:
    base_delay_s: float = 1.0
    max_delay_s: float = 300.0
    max_attempts: int = 15
    timeout_s: float = 10.0
    reading_missing_after_s: int = 7_200
    """A remote meter silent for this long (by block time) raises `reading_missing`, once per last interval."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def backoff(settings: WebhookSettings, attempts: int) -> float:
    return min(settings.max_delay_s, settings.base_delay_s * 2 ** max(0, attempts - 1))


class WebhookProducer:
    """Turns newly indexed events into pending deliveries; its cursor lives in the API database."""

    def __init__(self, api: ApiDb, readers: Readers, settings: WebhookSettings) -> None:
        self.api = api
        self.readers = readers
        self.settings = settings

    def scan(self) -> int:
        subscriptions = self.api.query("SELECT id, owner, role, events FROM webhooks WHERE active=1")
        cursor = self.api.query("SELECT value FROM webhook_cursor WHERE name='events'")
        last = cursor[0]["value"] if cursor else -1
        checkpoint = self.readers.one("SELECT value FROM meta WHERE key='last_block'")
        indexed = int(checkpoint["value"]) if checkpoint else -1
        if indexed < last:
            return 0  # the read model is being rebuilt: what it indexes again up to the cursor was announced
        names = {name for _, name in EVENT_KINDS}
        rows = self.readers.query(  # up to the checkpoint read first: a batch committed meanwhile waits its turn
            "SELECT block_number, log_index, tx_hash, contract, name, args_json, timestamp FROM events WHERE "
            f"block_number>? AND block_number<=? AND name IN ({','.join('?' * len(names))}) "
            "ORDER BY block_number, log_index", (last, indexed, *names))
        events = [(kind, f"{r['block_number']}:{r['log_index']}", self._details(kind, {
                   "block_number": r["block_number"], "log_index": r["log_index"], "tx_hash": r["tx_hash"],
                   "timestamp": r["timestamp"], "data": json.loads(r["args_json"])}))
                  for r in rows if (kind := EVENT_KINDS.get((r["contract"], r["name"]))) is not None]
        events += self._missing_readings()
        created = 0
        now = time.time()
        with self.api.lock:
            self.api.db.execute("BEGIN")
            for kind, key, payload in events:
                parties = self._parties(payload["data"])
                for sub in subscriptions:
                    if kind in sub["events"].split(",") and _may_see(sub, parties):
                        body = json.dumps({"type": kind, "id": key, **payload})
                        created += self.api.db.execute(
                            "INSERT OR IGNORE INTO deliveries (webhook_id, event_type, event_key, payload, status, "
                            "next_attempt_at, created_at) VALUES (?,?,?,?,'pending',?,?)",
                            (sub["id"], kind, key, body, now, int(now))).rowcount
            self.api.db.execute("INSERT OR REPLACE INTO webhook_cursor VALUES ('events', ?)", (indexed,))
            self.api.db.execute("COMMIT")
        return created

    def _details(self, kind: str, payload: dict) -> dict:
        """A demand-response payload gains `dr_event`: the event's programme, its name and period."""
        if not kind.startswith("dr_"):
            return payload
        found = self.readers.one(
            "SELECT e.event_id, e.programme_id, p.name AS programme_name, e.start_at AS start, e.end_at AS end, "
            "e.required_w FROM dr_events e LEFT JOIN dr_programmes p ON p.programme_id=e.programme_id "
            "WHERE e.event_id=?", (payload["data"]["event_id"],))
        return {**payload, "dr_event": found}

    def _parties(self, data: dict) -> dict[str, str]:
        """Who an event concerns: the account's retailer and consumer, the meter's gateway; a consumer the event
        names itself (an invoice's, a demand-response participant's) is the one concerned."""
        account = data.get("account_number")
        meter = data.get("meter_id")
        parties: dict[str, str] = {}
        if meter is not None:
            row = self.readers.one("SELECT account_number, gateway FROM meters WHERE meter_id=?", (meter,))
            if row:
                account = account if account is not None else row["account_number"]
                parties["gateway"] = row["gateway"] or ""
        if account is not None:
            row = self.readers.one("SELECT retailer, consumer FROM accounts WHERE number=?", (account,))
            if row:
                parties.update(retailer=row["retailer"], consumer=row["consumer"])
        if isinstance(data.get("consumer"), str):
            parties["consumer"] = data["consumer"]
        return parties

    def _missing_readings(self) -> list[tuple[str, str, dict]]:
        head = self.readers.one("SELECT max(timestamp) AS t FROM blocks")
        if not head or head["t"] is None:
            return []
        cutoff = head["t"] - self.settings.reading_missing_after_s
        rows = self.readers.query(
            "SELECT m.meter_id, m.account_number, (SELECT max(interval_start) FROM readings r "
            "WHERE r.meter_id=m.meter_id) AS last FROM meters m WHERE m.remote=1 AND m.gateway IS NOT NULL")
        return [("reading_missing", f"missing:{r['meter_id']}:{r['last']}",
                 {"timestamp": head["t"], "data": {"meter_id": r["meter_id"], "account_number": r["account_number"],
                                                   "last_interval_start": r["last"]}})
                for r in rows if r["last"] is not None and r["last"] + 1800 < cutoff]


SEE_ALL = frozenset({"admin", "grid_company", "auditor", "validator"})
"""Roles whose subscriptions receive every account's events; a retailer, consumer or gateway gets its own only."""


def _may_see(subscription: dict, parties: dict[str, str]) -> bool:
    role = subscription["role"]
    return role in SEE_ALL or parties.get(role) == subscription["owner"]


class WebhookSender:
    """Posts pending deliveries, oldest first per subscription, with bounded exponential backoff."""

    def __init__(self, api: ApiDb, settings: WebhookSettings) -> None:
        self.api = api
        self.settings = settings
        self.wake = asyncio.Event()

    def backlog(self) -> int:
        return self.api.query("SELECT count(*) AS n FROM deliveries WHERE status='pending'")[0]["n"]

    async def run(self) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.settings.timeout_s)) as session:
            while True:
                due = self._due()
                if due:
                    await asyncio.gather(*(self._attempt(session, d) for d in due))
                    continue
                try:
                    await asyncio.wait_for(self.wake.wait(), timeout=self._sleep_s())
                except TimeoutError:
                    pass
                self.wake.clear()

    def _due(self) -> list[dict]:
        """The oldest pending delivery of each subscription, when its retry time has come."""
        return self.api.query(
            "SELECT d.id, d.payload, d.event_type, d.attempts, w.url, w.secret FROM deliveries d "
            "JOIN webhooks w ON w.id=d.webhook_id WHERE d.id IN (SELECT min(id) FROM deliveries "
            "WHERE status='pending' GROUP BY webhook_id) AND d.next_attempt_at<=?", (time.time(),))

    def _sleep_s(self) -> float:
        rows = self.api.query("SELECT min(next_attempt_at) AS t FROM deliveries WHERE status='pending'")
        if rows[0]["t"] is None:
            return 5.0
        return max(0.01, min(5.0, rows[0]["t"] - time.time()))

    async def _attempt(self, session: aiohttp.ClientSession, delivery: dict) -> None:
        body = delivery["payload"].encode()
        timestamp = int(time.time())
        headers = {"Content-Type": "application/json", "X-Energy-Event": delivery["event_type"],
                   "X-Energy-Delivery": str(delivery["id"]), "X-Energy-Timestamp": str(timestamp),
                   "X-Energy-Signature": sign(delivery["secret"], timestamp, body)}
        code, error = None, None
        try:
            async with session.post(delivery["url"], data=body, headers=headers, allow_redirects=False) as response:
                code = response.status
                if not 200 <= code < 300:
                    error = f"HTTP {code}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        attempts = delivery["attempts"] + 1
        if error is None:
            self.api.execute("UPDATE deliveries SET status='delivered', attempts=?, last_status_code=?, "
                             "last_error=NULL, delivered_at=? WHERE id=?", (attempts, code, timestamp, delivery["id"]))
            return
        final = attempts >= self.settings.max_attempts
        if final:
            log.warning("webhook delivery %d failed for good after %d attempts: %s", delivery["id"], attempts, error)
        self.api.execute("UPDATE deliveries SET status=?, attempts=?, last_status_code=?, last_error=?, "
                         "next_attempt_at=? WHERE id=?",
                         ("failed" if final else "pending", attempts, code, error,
                          time.time() + backoff(self.settings, attempts), delivery["id"]))
