"""Applying one block's decoded events to the read model: one small function per event, chosen by the
(contract, event name) pair.

Events carry the keys and the changed values; where an event names a record without all of its fields (an account,
a meter, a company) the record is read back through the node's `eth_call` path (the contract's view at that
block), so the read model holds exactly what the contract holds."""

from __future__ import annotations

import datetime
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from contracts_py import (demand_response, green, invoices, notary, participants, payments, readings, registry, ruble,
                          tariffs)
from contracts_py.catalog import CONTRACTS
from contracts_py.participants import Role
from indexer.apply_dr import DR_HANDLERS
from indexer.apply_green import GREEN_HANDLERS
from indexer.decode import DecodedEvent, args_json, decode_outputs, encode_call

INT64_MAX = 2**63 - 1

View = Callable[[bytes, str, tuple], tuple | None]
"""Calls a view function of a native contract at the block being indexed; None when it reverts."""

INVOICE_STATUS = {"InvoiceConfirmed": "confirmed", "InvoiceDisputed": "disputed", "InvoicePaid": "paid"}


@dataclass
class MeterCache:
    """Per meter: (UTC offset, latest indexed interval). Saves two lookups per reading; the indexer drops it when
    a batch rolls back, and meter updates drop their entry."""

    entries: dict[int, tuple[int, int | None]] = field(default_factory=dict)

    def get(self, db: sqlite3.Connection, meter_id: int) -> tuple[int, int | None]:
        found = self.entries.get(meter_id)
        if found is None:
            row = db.execute("SELECT utc_offset_s, (SELECT max(interval_start) FROM readings WHERE meter_id=?) "
                             "FROM meters WHERE meter_id=?", (meter_id, meter_id)).fetchone()
            found = (row[0], row[1]) if row else (0, db.execute(
                "SELECT max(interval_start) FROM readings WHERE meter_id=?", (meter_id,)).fetchone()[0])
            self.entries[meter_id] = found
        return found


class Appends:
    """Rows for the tables that only ever get rows added and that no handler reads while indexing (`events`,
    `token_transfers`), kept per statement until `write`: one executemany per statement instead of one execute per
    log. Rows keep their order, and no other statement touches these tables, so the result is the same."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple]] = {}

    def add(self, sql: str, row: tuple) -> None:
        found = self.rows.get(sql)
        if found is None:
            self.rows[sql] = [row]
        else:
            found.append(row)

    def write(self, db: sqlite3.Connection) -> None:
        for sql, rows in self.rows.items():
            db.executemany(sql, rows)
        self.rows.clear()


@dataclass(frozen=True)
class LogContext:
    block_number: int
    timestamp: int
    tx_hash: str
    log_index: int
    view: View
    meters: MeterCache = field(default_factory=MeterCache)
    appends: Appends | None = None
    """Where `apply_event` leaves the rows of append-only tables for the caller to write (the indexer: once per
    block); None writes them at once."""


def hexa(value: bytes) -> str:
    return "0x" + value.hex()


def num(value: int) -> int | str:
    """SQLite integers are 64-bit; a larger uint256 (never a realistic amount) is kept exactly as text."""
    return value if value <= INT64_MAX else str(value)


def local_day(interval_start: int, utc_offset_s: int) -> int:
    day = datetime.datetime.fromtimestamp(interval_start + utc_offset_s, datetime.UTC).date()
    return day.year * 10000 + day.month * 100 + day.day


def view_at(call: Callable[[bytes, bytes], tuple[bool, bytes]]) -> View:
    """A View from a raw call function (to, data) -> (success, return data)."""
    def view(to: bytes, function: str, args: tuple) -> tuple | None:
        success, output = call(to, encode_call(to, function, *args))
        return decode_outputs(to, function, output) if success else None
    return view


# --- registry ------------------------------------------------------------------------------------------------
def _company(db: sqlite3.Connection, ctx: LogContext, a: dict) -> None:
    c = ctx.view(registry.ADDRESS, "company", (a["company"],))
    if c is None:
        return
    db.execute("INSERT OR REPLACE INTO companies VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
               (hexa(a["company"]), c[0], *c[1:10], hexa(c[10]), ctx.block_number))


def _retailer_attached(db, ctx, a) -> None:
    db.execute("UPDATE companies SET grid_company=? WHERE address=?", (hexa(a["grid_company"]), hexa(a["retailer"])))


def _contractor(db, ctx, a) -> None:
    c = ctx.view(registry.ADDRESS, "contractor", (a["grid_company"], a["contractor_id"]))
    if c is not None:
        db.execute("INSERT OR REPLACE INTO contractors VALUES (?,?,?,?,?,?,?,?,?)",
                   (hexa(a["grid_company"]), a["contractor_id"], *c))


def _account(db, ctx, number: int) -> None:
    c = ctx.view(registry.ADDRESS, "account", (number,))
    if c is not None:
        db.execute("INSERT OR REPLACE INTO accounts VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                   (number, hexa(c[0]), c[1], c[2], c[3], hexa(c[4]), c[5], c[6], c[7], c[8], ctx.block_number))


def _metering_point(db, ctx, a) -> None:
    c = ctx.view(registry.ADDRESS, "meteringPoint", (a["point_id"],))
    if c is not None:
        db.execute("INSERT OR REPLACE INTO metering_points VALUES (?,?,?,?)", (a["point_id"], *c))


def _meter(db, ctx, a) -> None:
    meter_id = a["meter_id"]
    ctx.meters.entries.pop(meter_id, None)
    c = ctx.view(registry.ADDRESS, "meter", (meter_id,))
    if c is None:
        return
    gateway = hexa(c[13]) if c[13] != bytes(20) else None
    registered = db.execute("SELECT registered_block FROM meters WHERE meter_id=?", (meter_id,)).fetchone()
    db.execute("INSERT OR REPLACE INTO meters VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
               (meter_id, *c[:9], int(c[9]), int(c[10]), c[11], c[12], gateway,
                registered[0] if registered else ctx.block_number))


def _gateway_bound(db, ctx, a) -> None:
    _meter(db, ctx, a)
    db.execute("INSERT OR IGNORE INTO gateway_bindings VALUES (?,?,?,?)",
               (a["meter_id"], hexa(a["gateway"]), ctx.block_number, ctx.tx_hash))


def _building(db, ctx, a) -> None:
    c = ctx.view(registry.ADDRESS, "building", (a["building_id"],))
    if c is not None:
        db.execute("INSERT OR REPLACE INTO buildings VALUES (?,?,?,?)", (a["building_id"], c[0], hexa(c[1]), c[2]))


def _consumer_contract(db, ctx, a) -> None:
    db.execute("INSERT OR REPLACE INTO consumer_contracts VALUES (?,?,?,?)",
               (a["contract_id"], a["account_number"], hexa(a["document_hash"]), ctx.block_number))
    _account(db, ctx, a["account_number"])


# --- readings ------------------------------------------------------------------------------------------------
def _add_daily(db, meter_id: int, interval_start: int, d_import: int, d_export: int, count: int,
               utc_offset_s: int) -> None:
    day = local_day(interval_start, utc_offset_s)
    db.execute("INSERT INTO readings_daily VALUES (?,?,?,?,?) ON CONFLICT (meter_id, day) DO UPDATE SET "
               "import_wh=import_wh+excluded.import_wh, export_wh=export_wh+excluded.export_wh, "
               "intervals=intervals+excluded.intervals", (meter_id, day, d_import, d_export, count))


def _reading(db, ctx, a) -> None:
    """A late reading inside a gap takes its increase from the interval that closed the gap, as the contract does."""
    meter_id, start = a["meter_id"], a["interval_start"]
    utc_offset_s, latest = ctx.meters.get(db, meter_id)
    later = None
    if latest is not None and latest > start:
        later = db.execute("SELECT interval_start FROM readings WHERE meter_id=? AND interval_start>? "
                           "ORDER BY interval_start LIMIT 1", (meter_id, start)).fetchone()
    if later is not None:
        db.execute("UPDATE readings SET delta_import_wh=delta_import_wh-?, delta_export_wh=delta_export_wh-? "
                   "WHERE meter_id=? AND interval_start=?",
                   (a["delta_import_wh"], a["delta_export_wh"], meter_id, later[0]))
        _add_daily(db, meter_id, later[0], -a["delta_import_wh"], -a["delta_export_wh"], 0, utc_offset_s)
    else:
        ctx.meters.entries[meter_id] = (utc_offset_s, start)
    db.execute("INSERT OR REPLACE INTO readings VALUES (?,?,?,?,?,?,?,?,?)",
               (meter_id, start, num(a["import_wh"]), num(a["export_wh"]), num(a["delta_import_wh"]),
                num(a["delta_export_wh"]), int(a["manual"]), ctx.tx_hash, ctx.block_number))
    _add_daily(db, meter_id, start, a["delta_import_wh"], a["delta_export_wh"], 1, utc_offset_s)


def _conflict(db, ctx, a) -> None:
    db.execute("INSERT OR REPLACE INTO reading_conflicts VALUES (?,?,?,?,?,?,?,?,?)",
               (a["meter_id"], a["interval_start"], num(a["import_wh"]), num(a["export_wh"]),
                num(a["recorded_import_wh"]), num(a["recorded_export_wh"]), ctx.tx_hash, ctx.block_number,
                ctx.log_index))


def _rejection(db, ctx, a) -> None:
    db.execute("INSERT OR REPLACE INTO reading_rejections VALUES (?,?,?,?,?,?,?)",
               (a["meter_id"], a["interval_start"], a["code"], a["reason"], ctx.tx_hash, ctx.block_number,
                ctx.log_index))


def _meter_event(db, ctx, a) -> None:
    db.execute("INSERT OR REPLACE INTO meter_events VALUES (?,?,?,?,?,?,?)",
               (a["meter_id"], a["kind"], a["at"], a["alarms"], ctx.tx_hash, ctx.block_number, ctx.log_index))


# --- participants, money, documents --------------------------------------------------------------------------
def _role_granted(db, ctx, a) -> None:
    db.execute("INSERT OR IGNORE INTO participants (address) VALUES (?)", (hexa(a["account"]),))
    db.execute("INSERT OR REPLACE INTO roles VALUES (?,?,?)",
               (hexa(a["account"]), Role(a["role"]).name.lower(), ctx.block_number))


def _role_revoked(db, ctx, a) -> None:
    db.execute("DELETE FROM roles WHERE address=? AND role=?", (hexa(a["account"]), Role(a["role"]).name.lower()))


def _transfer(db, ctx, a) -> None:
    ctx.appends.add("INSERT OR REPLACE INTO token_transfers VALUES (?,?,?,?,?,?,?)",
                    (ctx.block_number, ctx.log_index, ctx.tx_hash, hexa(a["from"]), hexa(a["to"]), num(a["value"]),
                ctx.timestamp))


def _top_up(db, ctx, a) -> None:
    db.execute("INSERT OR REPLACE INTO top_ups VALUES (?,?,?,?,?,?,?)",
               (hexa(a["reference"]), hexa(a["consumer"]), num(a["amount"]), a["source"], ctx.timestamp,
                ctx.block_number, ctx.tx_hash))


def _bank_request(db, ctx, a, kind: str) -> None:
    account = f"{a['bik']}/{a['bank_account']}" if kind == "withdrawal" else None
    db.execute("INSERT OR REPLACE INTO bank_requests VALUES (?,?,?,?,?,'pending',NULL,NULL,?,NULL,?,NULL)",
               (a["request_id"], kind, hexa(a["holder"]), num(a["amount"]), account, ctx.timestamp, ctx.tx_hash))


def _bank_request_settled(db, ctx, a) -> None:
    reference = hexa(a["bank_reference"]) if "bank_reference" in a else None
    db.execute("UPDATE bank_requests SET status=?, reason=?, bank_reference=?, settled_at=?, settle_tx=? "
               "WHERE request_id=?", ("done" if reference else "rejected", a.get("reason"), reference,
                                     ctx.timestamp, ctx.tx_hash, a["request_id"]))


def _document(db, ctx, a) -> None:
    db.execute("INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?,?,?)",
               (hexa(a["document_hash"]), hexa(a["anchorer"]), a["doc_type"], a["period_start"], a["period_end"],
                ctx.timestamp, ctx.block_number, ctx.tx_hash))


def _tariff_group(db, ctx, a) -> None:
    db.execute("INSERT OR REPLACE INTO tariff_groups VALUES (?,?,?,0)",
               (a["group_id"], hexa(a["retailer"]), a["name"]))


def _tariff_group_deleted(db, ctx, a) -> None:
    db.execute("UPDATE tariff_groups SET deleted=1 WHERE group_id=?", (a["group_id"],))


def _tariff_option(db, ctx, a) -> None:
    db.execute("INSERT OR REPLACE INTO tariff_options VALUES (?,?,?,?,0,?)",
               (a["group_id"], a["option_id"], a["effective_from"], a["kind"], ctx.block_number))


def _tariff_option_removed(db, ctx, a) -> None:
    db.execute("UPDATE tariff_options SET removed=1 WHERE group_id=? AND option_id=?", (a["group_id"], a["option_id"]))


def _invoice_issued(db, ctx, a) -> None:
    db.execute("INSERT OR REPLACE INTO invoices VALUES (?,?,?,?,?,?,?,?,?,'issued',NULL,NULL,0,?,?,?)",
               (num(a["invoice_id"]), a["account_number"], a["period"], hexa(a["consumer"]), num(a["total"]),
                num(a["volume_wh"]), a["method"], num(a["supersedes"]), a["due_at"], ctx.timestamp,
                ctx.block_number, ctx.tx_hash))


def _invoice_line(db, ctx, a) -> None:
    (count,) = db.execute("SELECT count(*) FROM invoice_lines WHERE invoice_id=?", (num(a["invoice_id"]),)).fetchone()
    db.execute("INSERT INTO invoice_lines VALUES (?,?,?,?,?,?,?)",
               (num(a["invoice_id"]), count, hexa(a["payee"]), a["component"], num(a["quantity"]), num(a["net"]),
                num(a["vat"])))


def _invoice_status(db, ctx, a, event: str) -> None:
    db.execute("UPDATE invoices SET status=?, dispute_reason=coalesce(?, dispute_reason) WHERE invoice_id=?",
               (INVOICE_STATUS[event], a.get("reason"), num(a["invoice_id"])))


def _invoice_superseded(db, ctx, a) -> None:
    db.execute("UPDATE invoices SET status='superseded', superseded_by=? WHERE invoice_id=?",
               (num(a["superseded_by"]), num(a["invoice_id"])))


def _payment(db, ctx, a) -> None:
    db.execute("INSERT OR REPLACE INTO payments VALUES (?,?,?,?,?,?,?,?,?,?)",
               (num(a["payment_id"]), num(a["invoice_id"]), a["account_number"], hexa(a["payer"]), num(a["amount"]),
                num(a["applied"]), a["source"], ctx.timestamp, ctx.block_number, ctx.tx_hash))
    db.execute("UPDATE invoices SET paid_total=paid_total+? WHERE invoice_id=?", (num(a["applied"]),
                                                                                 num(a["invoice_id"])))


def _payment_split(db, ctx, a) -> None:
    db.execute("INSERT OR REPLACE INTO payment_splits VALUES (?,?,?,?,?,?,?)",
               (num(a["payment_id"]), hexa(a["payee"]), num(a["invoice_id"]), a["component"], num(a["amount"]),
                ctx.log_index, ctx.block_number))


Handler = Callable[[sqlite3.Connection, LogContext, dict], None]


def _of(contract: bytes, handlers: dict[str, Handler]) -> dict[tuple[str, str], Handler]:
    """The handlers of one contract's events, keyed by (contract name, event name)."""
    name = CONTRACTS[contract].NAME
    return {(name, event): handler for event, handler in handlers.items()}


HANDLERS: dict[tuple[str, str], Handler] = {
    **_of(registry.ADDRESS, {
        "CompanyProfileSaved": _company,
        "RetailerAttached": _retailer_attached,
        "ContractorSaved": _contractor,
        "AccountSaved": lambda db, ctx, a: _account(db, ctx, a["number"]),
        "MeteringPointSaved": _metering_point,
        "MeterRegistered": _meter,
        "MeterConfigured": _meter,
        "MeterReplaced": _meter,
        "GatewayBound": _gateway_bound,
        "BuildingSaved": _building,
        "ConsumerContractSaved": _consumer_contract,
    }),
    **_of(readings.ADDRESS, {
        "MeterReadingConfigured": _meter,
        "ReadingRecorded": _reading,
        "ReadingConflict": _conflict,
        "ReadingRejectedEvent": _rejection,
        "MeterEventReported": _meter_event,
    }),
    **_of(participants.ADDRESS, {
        "RoleGranted": _role_granted,
        "RoleRevoked": _role_revoked,
    }),
    **_of(ruble.ADDRESS, {
        "Transfer": _transfer,
        "TopUpRequested": lambda db, ctx, a: _bank_request(db, ctx, a, "top_up"),
        "WithdrawalRequested": lambda db, ctx, a: _bank_request(db, ctx, a, "withdrawal"),
        "TopUpFulfilled": _bank_request_settled,
        "WithdrawalPaid": _bank_request_settled,
        "BankRequestRejected": _bank_request_settled,
    }),
    **_of(notary.ADDRESS, {
        "DocumentAnchored": _document,
    }),
    **_of(tariffs.ADDRESS, {
        "TariffGroupSaved": _tariff_group,
        "TariffGroupDeleted": _tariff_group_deleted,
        "TariffOptionSaved": _tariff_option,
        "TariffOptionRemoved": _tariff_option_removed,
    }),
    **_of(invoices.ADDRESS, {
        "InvoiceIssued": _invoice_issued,
        "InvoiceLine": _invoice_line,
        "InvoiceConfirmed": lambda db, ctx, a: _invoice_status(db, ctx, a, "InvoiceConfirmed"),
        "InvoiceDisputed": lambda db, ctx, a: _invoice_status(db, ctx, a, "InvoiceDisputed"),
        "InvoicePaid": lambda db, ctx, a: _invoice_status(db, ctx, a, "InvoicePaid"),
        "InvoiceSuperseded": _invoice_superseded,
    }),
    **_of(payments.ADDRESS, {
        "TopUpRecorded": _top_up,
        "PaymentConfirmed": _payment,
        "PaymentSplit": _payment_split,
    }),
    **_of(green.ADDRESS, GREEN_HANDLERS),
    **_of(demand_response.ADDRESS, DR_HANDLERS),
}
"""(contract name, event name) -> its table update, so two contracts' events of the same name never meet the
wrong handler. Events not listed are kept in the `events` table only."""


def apply_event(db: sqlite3.Connection, ctx: LogContext, event: DecodedEvent) -> None:
    """The event's row and its handler's updates; rows of append-only tables go to `ctx.appends` when it is given
    (the caller writes them), else straight to the database."""
    if ctx.appends is None:
        appends = Appends()
        apply_event(db, replace(ctx, appends=appends), event)
        appends.write(db)
        return
    ctx.appends.add("INSERT OR REPLACE INTO events VALUES (?,?,?,?,?,?,?)",
                    (ctx.block_number, ctx.log_index, ctx.tx_hash, event.contract, event.name, args_json(event.args),
                     ctx.timestamp))
    handler = HANDLERS.get((event.contract, event.name))
    if handler is not None:
        handler(db, ctx, event.args)
