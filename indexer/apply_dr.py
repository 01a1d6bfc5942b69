"""The demand-response contract's programmes, announced events and obligation offers in the read model
(`contracts_py.demand_response`).

Announcements are what the webhooks and the portal look up when a participant is notified or settled: the
`ParticipantNotified` and `ParticipantSettled` events name the event, and these rows give its programme and
period. An offer stays open until a `handOver` accepts it; `ObligationTraded` does not name the offer, so the
event's open offers are read back through the contract's `offer` view at that block. Every other figure stays in
the `events` table and the contract's views."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

from contracts_py import demand_response

if TYPE_CHECKING:
    from indexer.apply import LogContext

INT64_MAX = 2**63 - 1


def _programme(db: sqlite3.Connection, ctx: LogContext, a: dict) -> None:
    db.execute("INSERT OR REPLACE INTO dr_programmes VALUES (?,?,?,?,?,?)",
               (a["programme_id"], "0x" + a["operator"].hex(), "0x" + a["aggregator"].hex(), a["name"],
                ctx.block_number, ctx.tx_hash))


def _announced(db: sqlite3.Connection, ctx: LogContext, a: dict) -> None:
    db.execute("INSERT OR REPLACE INTO dr_events VALUES (?,?,?,?,?,?,?,?)",
               (a["event_id"], a["programme_id"], a["start"], a["end"], a["required_w"], ctx.timestamp,
                ctx.block_number, ctx.tx_hash))


def _offered(db: sqlite3.Connection, ctx: LogContext, a: dict) -> None:
    db.execute("INSERT OR REPLACE INTO dr_offers VALUES (?,?,?,?,?,1,?,?,?)",
               (a["offer_id"], a["event_id"], a["taker_meter_id"], a["reduction_w"],
                a["price"] if a["price"] <= INT64_MAX else str(a["price"]), ctx.timestamp,
                ctx.block_number, ctx.tx_hash))


def _traded(db: sqlite3.Connection, ctx: LogContext, a: dict) -> None:
    open_offers = db.execute("SELECT offer_id FROM dr_offers WHERE event_id=? AND open=1", (a["event_id"],)).fetchall()
    for (offer_id,) in open_offers:
        found = ctx.view(demand_response.ADDRESS, "offer", (offer_id,))
        if found is not None and not found[4]:
            db.execute("UPDATE dr_offers SET open=0 WHERE offer_id=?", (offer_id,))


DR_HANDLERS: dict[str, Callable[[sqlite3.Connection, LogContext, dict], None]] = {
    "ProgrammeCreated": _programme,
    "EventAnnounced": _announced,
    "ObligationOffered": _offered,
    "ObligationTraded": _traded,
}
"""Event name -> its update of the demand-response tables (merged into `indexer.apply.HANDLERS`)."""
