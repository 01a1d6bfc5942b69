"""The green-certificate contract's events in the read model (`contracts_py.green`): facilities, issuances, one
row per certificate with its current owner and status, offers, retirements, and every later move of a certificate.

The contract keeps no ownership lists (its events carry every change of owner); these tables are where "my
certificates", the filtered registry and a facility's issuance history are read from."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

from contracts_py import green

if TYPE_CHECKING:
    from indexer.apply import LogContext

ZERO = "0x" + "00" * 20


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _facility(db: sqlite3.Connection, ctx: LogContext, a: dict) -> None:
    """The event lacks the name: read the whole record back through the contract's view at this block."""
    f = ctx.view(green.ADDRESS, "facility", (a["facility_id"],))
    if f is None:
        return
    owner, technology, capacity_w, commissioned_on, meter_id, name, confirmed, last_period, carry_wh = f
    db.execute("INSERT OR REPLACE INTO green_facilities VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
               (a["facility_id"], _hex(owner), technology, capacity_w, commissioned_on, meter_id, name,
                int(confirmed), last_period, carry_wh, ctx.block_number, ctx.tx_hash))


def _confirmed(db, ctx, a) -> None:
    db.execute("UPDATE green_facilities SET confirmed=1 WHERE facility_id=?", (a["facility_id"],))


def _issued(db, ctx, a) -> None:
    owner = _hex(a["owner"])
    db.execute("INSERT OR REPLACE INTO green_issuances VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
               (a["issuance_id"], a["facility_id"], a["period"], owner, a["technology"], a["first_serial"],
                a["certificates"], a["measured_wh"], a["carry_in_wh"], a["carry_out_wh"], ctx.timestamp,
                ctx.block_number, ctx.tx_hash))
    db.executemany("INSERT OR REPLACE INTO green_certificates VALUES (?,?,?,?,?,?,'issued',NULL,NULL,?)",
                   [(a["first_serial"] + i, a["issuance_id"], a["facility_id"], a["technology"], a["period"],
                     owner, ctx.block_number) for i in range(a["certificates"])])
    db.execute("UPDATE green_facilities SET last_period=?, carry_wh=? WHERE facility_id=?",
               (a["period"], a["carry_out_wh"], a["facility_id"]))


def _move(db, ctx, serial: int, kind: str, sender: str | None, recipient: str | None) -> None:
    db.execute("INSERT OR REPLACE INTO green_moves VALUES (?,?,?,?,?,?,?,?)",
               (serial, kind, sender, recipient, ctx.timestamp, ctx.block_number, ctx.log_index, ctx.tx_hash))


def _transferred(db, ctx, a) -> None:
    recipient = _hex(a["to"])
    db.execute("UPDATE green_certificates SET owner=?, status='issued', offer_id=NULL, updated_block=? "
               "WHERE serial=?", (recipient, ctx.block_number, a["serial"]))
    _move(db, ctx, a["serial"], "transferred", _hex(a["from"]), recipient)


def _offered(db, ctx, a) -> None:
    seller = _hex(a["seller"])
    db.execute("INSERT OR REPLACE INTO green_offers VALUES (?,?,?,?,'open',NULL,NULL,?,?,?,NULL)",
               (a["offer_id"], seller, a["price_each"], len(a["serials"]), ctx.timestamp, ctx.block_number,
                ctx.tx_hash))
    for serial in a["serials"]:
        db.execute("UPDATE green_certificates SET status='offered', offer_id=?, updated_block=? WHERE serial=?",
                   (a["offer_id"], ctx.block_number, serial))
        _move(db, ctx, serial, "offered", seller, None)


def _offer_closed(db, ctx, a) -> None:
    """A sale's transfers came first in the same transaction; a withdrawal releases the certificates here."""
    buyer = _hex(a["buyer"])
    if buyer == ZERO:
        for (serial, seller) in db.execute("SELECT serial, owner FROM green_certificates WHERE offer_id=?",
                                           (a["offer_id"],)).fetchall():
            _move(db, ctx, serial, "withdrawn", seller, None)
        db.execute("UPDATE green_certificates SET status='issued', offer_id=NULL, updated_block=? WHERE offer_id=?",
                   (ctx.block_number, a["offer_id"]))
    db.execute("UPDATE green_offers SET status=?, buyer=?, total=?, closed_tx_hash=? WHERE offer_id=?",
               ("withdrawn" if buyer == ZERO else "sold", None if buyer == ZERO else buyer, a["total"],
                ctx.tx_hash, a["offer_id"]))


def _retired(db, ctx, a) -> None:
    db.execute("UPDATE green_certificates SET status='retired', retirement_id=?, updated_block=? WHERE serial=?",
               (a["retirement_id"], ctx.block_number, a["serial"]))
    _move(db, ctx, a["serial"], "retired", None, _hex(a["beneficiary"]))


def _retirement(db, ctx, a) -> None:
    db.execute("INSERT OR REPLACE INTO green_retirements VALUES (?,?,?,?,?,?,?,?,?,?)",
               (a["retirement_id"], _hex(a["retired_by"]), _hex(a["beneficiary"]), a["beneficiary_account"],
                a["purpose"], a["consumption_period"], a["certificates"], ctx.timestamp, ctx.block_number,
                ctx.tx_hash))


GREEN_HANDLERS: dict[str, Callable[[sqlite3.Connection, LogContext, dict], None]] = {
    "FacilityRegistered": _facility,
    "FacilityConfirmed": _confirmed,
    "CertificatesIssued": _issued,
    "CertificateTransferred": _transferred,
    "CertificatesOffered": _offered,
    "OfferClosed": _offer_closed,
    "CertificateRetired": _retired,
    "RetirementRecorded": _retirement,
}
"""Event name -> its update of the green tables (merged into `indexer.apply.HANDLERS`)."""
