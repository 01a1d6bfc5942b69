"""REST read endpoints over the indexer's read model: participants, accounts, meters, readings, tariffs,
invoices, payments and reports. Every list is paginated (limit, offset, total)."""

from __future__ import annotations

import asyncio
import datetime
import sqlite3
from typing import Any

from aiohttp import web

from contracts_py.participants import ROLE_BY_NAME
from indexer.store import Readers
from rpc.openapi import PAGE, ApiError, Endpoint, Param, page_of

LOCAL_OFFSET_KEY = web.AppKey("local_offset_s", int)
READERS_KEY = web.AppKey("readers", Readers)

S_INT, S_STR = {"type": "integer"}, {"type": "string"}
S_STR_NULL = {"type": "string", "nullable": True}
S_INT_NULL = {"type": "integer", "nullable": True}


def obj(**props: dict) -> dict:
    return {"type": "object", "required": list(props), "properties": props}


PARTICIPANT = obj(address=S_STR, name=S_STR, roles={"type": "array", "items": S_STR})
ACCOUNT = obj(number=S_INT, retailer=S_STR, section=S_INT, tariff_group=S_INT, contract_id=S_INT, consumer=S_STR,
              premises_address=S_STR, consumer_kind=S_INT, floor_area_dm2=S_INT, building_id=S_INT,
              updated_block=S_INT)
METER = obj(meter_id=S_INT, point_id=S_INT, account_number=S_INT, model=S_STR, serial=S_STR,
            installation_address=S_STR, scheme=S_INT_NULL, ct_ratio=S_INT_NULL, vt_ratio=S_INT_NULL,
            loss_ppm=S_INT_NULL, remote=S_INT_NULL, hourly=S_INT_NULL, max_power_w=S_INT_NULL, utc_offset_s=S_INT,
            gateway=S_STR_NULL, registered_block=S_INT)
READING_30 = obj(meter_id=S_INT, serial=S_STR, account_number=S_INT, interval_start=S_INT, import_wh=S_INT,
                 export_wh=S_INT, delta_import_wh=S_INT, delta_export_wh=S_INT, manual=S_INT, tx_hash=S_STR,
                 block_number=S_INT)
READING_DAY = obj(meter_id=S_INT, serial=S_STR, account_number=S_INT, day=S_INT, import_wh=S_INT, export_wh=S_INT,
                  intervals=S_INT)
INVOICE_LINE = obj(line_no=S_INT, payee=S_STR, component=S_INT, quantity=S_INT, net=S_INT, vat=S_INT)
INVOICE = obj(invoice_id=S_INT, account_number=S_INT, period=S_INT, consumer=S_STR, total=S_INT, volume_wh=S_INT,
              method=S_INT, supersedes=S_INT, due_at=S_INT, status=S_STR, dispute_reason=S_STR_NULL,
              superseded_by=S_INT_NULL, paid_total=S_INT, issued_at=S_INT, block_number=S_INT, tx_hash=S_STR)
PAYMENT = obj(payment_id=S_INT, invoice_id=S_INT, account_number=S_INT, payer=S_STR, amount=S_INT, applied=S_INT,
              source=S_INT, paid_at=S_INT, block_number=S_INT, tx_hash=S_STR)
TARIFF_GROUP = obj(group_id=S_INT, retailer=S_STR, name=S_STR, deleted=S_INT, options={"type": "array", "items": obj(
    option_id=S_INT, effective_from=S_INT, kind=S_INT, removed=S_INT, block_number=S_INT)})


def _page(readers: Readers, select: str, where: list[str], args: list, order: str, limit: int,
          offset: int, count_from: str | None = None) -> dict[str, Any]:
    """A page of `select` and the total; `count_from` counts over a cheaper FROM when the filters allow it."""
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    counted = f"SELECT 1 FROM {count_from}" if count_from else select
    (total,) = readers.connection().execute(f"SELECT count(*) FROM ({counted}{clause})", args).fetchone()
    items = readers.query(f"{select}{clause} ORDER BY {order} LIMIT ? OFFSET ?", [*args, limit, offset])
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def _equal_to(p, pairs) -> tuple[list[str], list]:
    """WHERE clauses `column=?` and their arguments for the query parameters that were given."""
    where, args = [], []
    for name, column in pairs:
        if p[name] is not None:
            where.append(f"{column}=?")
            args.append(p[name])
    return where, args


async def run(request: web.Request, function, *args) -> Any:
    """Queries run in worker threads (SQLite is blocking), each with its own read connection."""
    try:
        return await asyncio.to_thread(function, request.app[READERS_KEY], *args)
    except sqlite3.OperationalError as exc:
        raise ApiError(503, "read_model_unavailable", f"the read model cannot be read yet: {exc}") from None


def _local_start(day: datetime.date, offset_s: int) -> int:
    return int(datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC).timestamp()) - offset_s


def _day_number(day: datetime.date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def _date_range(p: dict) -> None:
    if p.get("from") and p.get("to") and p["from"] > p["to"]:
        raise ApiError(400, "bad_parameter", "from is after to", {"parameter": "from"})


# --- handlers ----------------------------------------------------------------------------------------------
async def participants(request, p):
    def query(readers: Readers):
        where, args = [], []
        if p["role"]:
            where.append("address IN (SELECT address FROM roles WHERE role=?)")
            args.append(p["role"])
        select = ("SELECT address, (SELECT coalesce(max(name), '') FROM participants pp WHERE pp.address=a.address) "
                  "AS name, (SELECT group_concat(role) FROM roles r WHERE r.address=a.address) AS roles FROM "
                  "(SELECT address FROM participants UNION SELECT address FROM roles) a")
        page = _page(readers, select, where, args, "address", p["limit"], p["offset"])
        for item in page["items"]:
            item["roles"] = sorted((item["roles"] or "").split(",")) if item["roles"] else []
        return page
    return await run(request, query)


async def accounts(request, p):
    def query(readers: Readers):
        where, args = _equal_to(p, (("retailer", "retailer"), ("number", "number"), ("section", "section"),
                                    ("consumer", "consumer")))
        return _page(readers, "SELECT * FROM accounts", where, args, "number", p["limit"], p["offset"])
    return await run(request, query)


async def account(request, p):
    found = await run(request, lambda r: r.one("SELECT * FROM accounts WHERE number=?", (p["number"],)))
    if found is None:
        raise ApiError(404, "not_found", f"no account {p['number']}")
    return found


async def meters(request, p):
    def query(readers: Readers):
        where, args = _equal_to(p, (("account", "account_number"), ("serial", "serial"), ("model", "model"),
                                    ("meter", "meter_id")))
        if p["address"]:
            where.append("installation_address LIKE ? ESCAPE '\\'")
            args.append("%" + _like(p["address"]) + "%")
        return _page(readers, "SELECT * FROM meters", where, args, "meter_id", p["limit"], p["offset"])
    return await run(request, query)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _joins_meters(where: list[str]) -> bool:
    return any("m." in w for w in where)


def _meter_filter(p: dict, where: list, args: list, alias: str) -> None:
    for name, column in (("account", "m.account_number"), ("serial", "m.serial"), ("meter", f"{alias}.meter_id")):
        if p.get(name) is not None:
            where.append(f"{column}=?")
            args.append(p[name])
    if p.get("address"):
        where.append("m.installation_address LIKE ? ESCAPE '\\'")
        args.append("%" + _like(p["address"]) + "%")
    if p.get("retailer"):
        where.append("m.account_number IN (SELECT number FROM accounts WHERE retailer=?)")
        args.append(p["retailer"])


async def readings(request, p):
    _date_range(p)
    offset_s = request.app[LOCAL_OFFSET_KEY]

    def query(readers: Readers):
        where, args = [], []
        _meter_filter(p, where, args, "r")
        if p["grouping"] == "day":
            if p["from"]:
                where.append("r.day>=?")
                args.append(_day_number(p["from"]))
            if p["to"]:
                where.append("r.day<=?")
                args.append(_day_number(p["to"]))
            select = ("SELECT r.meter_id, m.serial, m.account_number, r.day, r.import_wh, r.export_wh, r.intervals "
                      "FROM readings_daily r JOIN meters m ON m.meter_id=r.meter_id")
            by_meter = any(w.startswith(("m.", "r.meter_id")) for w in where)
            return _page(readers, select, where, args, "r.meter_id, r.day" if by_meter else "r.day, r.meter_id",
                         p["limit"], p["offset"], None if _joins_meters(where) else "readings_daily r")
        if p["from"]:
            where.append("r.interval_start>=?")
            args.append(_local_start(p["from"], offset_s))
        if p["to"]:
            where.append("r.interval_start<?")
            args.append(_local_start(p["to"] + datetime.timedelta(days=1), offset_s))
        select = ("SELECT r.meter_id, m.serial, m.account_number, r.interval_start, r.import_wh, r.export_wh, "
                  "r.delta_import_wh, r.delta_export_wh, r.manual, r.tx_hash, r.block_number "
                  "FROM readings r JOIN meters m ON m.meter_id=r.meter_id")
        by_meter = any(w.startswith(("m.", "r.meter_id")) for w in where)
        # without a meter filter, walk the interval index (interval_start, meter_id) instead of every meter
        order = "r.meter_id, r.interval_start" if by_meter else "r.interval_start, r.meter_id"
        return _page(readers, select, where, args, order, p["limit"], p["offset"],
                     None if _joins_meters(where) else "readings r")
    return await run(request, query)


async def invoices(request, p):
    def query(readers: Readers):
        where, args = _equal_to(p, (("account", "account_number"), ("period", "period"), ("status", "status"),
                                    ("consumer", "consumer")))
        if p["retailer"]:
            where.append("account_number IN (SELECT number FROM accounts WHERE retailer=?)")
            args.append(p["retailer"])
        return _page(readers, "SELECT * FROM invoices", where, args, "invoice_id", p["limit"], p["offset"])
    return await run(request, query)


async def invoice(request, p):
    def query(readers: Readers):
        found = readers.one("SELECT * FROM invoices WHERE invoice_id=?", (p["invoice_id"],))
        if found is not None:
            found["lines"] = readers.query("SELECT line_no, payee, component, quantity, net, vat FROM invoice_lines "
                                           "WHERE invoice_id=? ORDER BY line_no", (p["invoice_id"],))
        return found
    found = await run(request, query)
    if found is None:
        raise ApiError(404, "not_found", f"no invoice {p['invoice_id']}")
    return found


async def payments(request, p):
    _date_range(p)
    offset_s = request.app[LOCAL_OFFSET_KEY]

    def query(readers: Readers):
        where, args = [], []
        if p["account"] is not None:
            where.append("account_number=?")
            args.append(p["account"])
        if p["source"] is not None:
            where.append("source=?")
            args.append(p["source"])
        if p["payer"]:
            where.append("payer=?")
            args.append(p["payer"])
        if p["address"]:
            where.append("account_number IN (SELECT number FROM accounts WHERE premises_address LIKE ? ESCAPE '\\')")
            args.append("%" + _like(p["address"]) + "%")
        if p["from"]:
            where.append("paid_at>=?")
            args.append(_local_start(p["from"], offset_s))
        if p["to"]:
            where.append("paid_at<?")
            args.append(_local_start(p["to"] + datetime.timedelta(days=1), offset_s))
        return _page(readers, "SELECT * FROM payments", where, args, "payment_id", p["limit"], p["offset"])
    return await run(request, query)


async def tariff_groups(request, p):
    def query(readers: Readers):
        where, args = (["retailer=?"], [p["retailer"]]) if p["retailer"] else ([], [])
        page = _page(readers, "SELECT * FROM tariff_groups", where, args, "group_id", p["limit"], p["offset"])
        for group in page["items"]:
            group["options"] = readers.query(
                "SELECT option_id, effective_from, kind, removed, block_number FROM tariff_options WHERE group_id=? "
                "ORDER BY option_id, effective_from", (group["group_id"],))
        return page
    return await run(request, query)


async def payments_report(request, p):
    offset_s = request.app[LOCAL_OFFSET_KEY]

    def query(readers: Readers):
        where, args = [], [offset_s, offset_s]
        if p["retailer"]:
            where.append("a.retailer=?")
            args.append(p["retailer"])
        having = []
        if p["year"] is not None:
            having.append("year=?")
        if p["month"] is not None:
            having.append("month=?")
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        sql = ("SELECT a.retailer AS retailer, CAST(strftime('%Y', py.paid_at + ?, 'unixepoch') AS INTEGER) AS year, "
               "CAST(strftime('%m', py.paid_at + ?, 'unixepoch') AS INTEGER) AS month, count(*) AS payments, "
               "sum(py.amount) AS amount, sum(py.applied) AS applied FROM payments py "
               f"JOIN accounts a ON a.number=py.account_number{clause} GROUP BY 1, 2, 3")
        if having:
            sql += " HAVING " + " AND ".join(having)
            args += [v for v in (p["year"], p["month"]) if v is not None]
        return {"items": readers.query(sql + " ORDER BY 1, 2, 3", args)}
    return await run(request, query)


async def readings_report(request, p):
    _date_range(p)

    def query(readers: Readers):
        where, args = [], []
        _meter_filter(p, where, args, "r")
        if p["from"]:
            where.append("r.day>=?")
            args.append(_day_number(p["from"]))
        if p["to"]:
            where.append("r.day<=?")
            args.append(_day_number(p["to"]))
        bucket = "r.day" if p["grouping"] == "day" else "r.day / 100"
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        join = " JOIN meters m ON m.meter_id=r.meter_id" if _joins_meters(where) else ""
        meters = "count(*)" if p["grouping"] == "day" else "count(DISTINCT r.meter_id)"  # one row per meter-day
        sql = (f"SELECT {bucket} AS bucket, {meters} AS meters, sum(r.import_wh) AS import_wh, "
               f"sum(r.export_wh) AS export_wh, sum(r.intervals) AS intervals FROM readings_daily r{join}{clause} "
               "GROUP BY 1 ORDER BY 1")
        return {"grouping": p["grouping"], "items": readers.query(sql, args)}
    return await run(request, query)


ADDRESS_P = lambda name, what: Param(name, "address", what)  # noqa: E731
DATES = (Param("from", "date", "First local date (YYYY-MM-DD)"), Param("to", "date", "Last local date, inclusive"))
METER_FILTERS = (Param("account", "integer", "Account number", minimum=0), Param("serial", "string", "Meter serial"),
                 Param("meter", "integer", "Meter id", minimum=0),
                 Param("address", "string", "Part of the installation address"))

ENDPOINTS = [
    Endpoint("GET", "/participants", participants, "Participants and their roles", "registry",
             (Param("role", "string", "Only holders of this role", choices=tuple(ROLE_BY_NAME)), *PAGE), page_of(PARTICIPANT)),
    Endpoint("GET", "/accounts", accounts, "Personal accounts", "registry",
             (ADDRESS_P("retailer", "Retailer address"), Param("number", "integer", "Account number", minimum=0),
              Param("section", "integer", "Retailer's section", minimum=0), ADDRESS_P("consumer", "Consumer address"),
              *PAGE), page_of(ACCOUNT)),
    Endpoint("GET", "/accounts/{number}", account, "One personal account", "registry",
             (Param("number", "integer", "Account number", location="path", minimum=0),), ACCOUNT),
    Endpoint("GET", "/meters", meters, "Meters", "registry",
             (Param("account", "integer", "Account number", minimum=0), Param("serial", "string", "Serial number"),
              Param("model", "string", "Model"), Param("meter", "integer", "Meter id", minimum=0),
              Param("address", "string", "Part of the installation address"), *PAGE), page_of(METER)),
    Endpoint("GET", "/readings", readings, "Meter readings, half-hourly or by day", "readings",
             (*DATES, *METER_FILTERS, ADDRESS_P("retailer", "Retailer of the accounts"),
              Param("grouping", "string", "30min: one row per interval; day: daily sums", choices=("30min", "day"),
                    default="30min"), *PAGE),
             page_of({"oneOf": [READING_30, READING_DAY]})),
    Endpoint("GET", "/invoices", invoices, "Invoices", "billing",
             (Param("account", "integer", "Account number", minimum=0),
              Param("period", "integer", "YYYYMM", minimum=190001, maximum=299912),
              Param("status", "string", "Invoice status",
                    choices=("issued", "confirmed", "disputed", "superseded", "paid")),
              ADDRESS_P("consumer", "Consumer address"), ADDRESS_P("retailer", "Retailer address"), *PAGE),
             page_of(INVOICE)),
    Endpoint("GET", "/invoices/{invoice_id}", invoice, "One invoice with its lines", "billing",
             (Param("invoice_id", "integer", "Invoice id", location="path", minimum=0),),
             {**INVOICE, "properties": {**INVOICE["properties"], "lines": {"type": "array", "items": INVOICE_LINE}}}),
    Endpoint("GET", "/payments", payments, "Payments", "billing",
             (*DATES, Param("account", "integer", "Account number", minimum=0),
              Param("address", "string", "Part of the premises address"), ADDRESS_P("payer", "Payer address"),
              Param("source", "integer", "1 bank, 2 card, 3 cash desk, 4 auto-debit", minimum=1, maximum=4), *PAGE),
             page_of(PAYMENT)),
    Endpoint("GET", "/tariff-groups", tariff_groups, "Tariff groups and their options", "billing",
             (ADDRESS_P("retailer", "Retailer address"), *PAGE), page_of(TARIFF_GROUP)),
    Endpoint("GET", "/reports/payments", payments_report, "Payments by retailer, year and month", "reports",
             (ADDRESS_P("retailer", "Retailer address"), Param("year", "integer", "Year", minimum=1900, maximum=2999),
              Param("month", "integer", "Month", minimum=1, maximum=12)),
             obj(items={"type": "array", "items": obj(retailer=S_STR, year=S_INT, month=S_INT, payments=S_INT,
                                                     amount=S_INT, applied=S_INT)})),
    Endpoint("GET", "/reports/readings", readings_report, "Energy by day or month", "reports",
             (*DATES, *METER_FILTERS, ADDRESS_P("retailer", "Retailer of the accounts"),
              Param("grouping", "string", "day or month", choices=("day", "month"), default="day")),
             obj(grouping=S_STR, items={"type": "array", "items": obj(
                 bucket=S_INT, meters=S_INT, import_wh=S_INT, export_wh=S_INT, intervals=S_INT)})),
]
