"""Actual and reserved capacity of a legal entity for a calendar month, with the day-by-peak-hour table behind the
figure: for the grid company, the retailer (its own accounts) and the consumer (his own legal-entity accounts).
The grid company imports the system operator's peak hours of a month (CSV `date,hour`)."""

from __future__ import annotations

import datetime as dt
import re

from aiohttp import web

from contracts_py.billing.periods import add_months
from contracts_py.registry import ConsumerKind
from portal import capacity, queries
from portal.i18n import gettext_ as _
from portal.web import MOSCOW, BadInput, flash, int_param, redirect, render, require_role, scope, state

routes = web.RouteTableDef()
MAX_CSV_BYTES = 64 * 1024
"""A month's table is about 23 short lines; a year of them fits many times over."""


def month_param(values) -> int:
    """`month=2026-10` as yyyymm; the previous month by default (the last complete one)."""
    raw = (values.get("month") or "").strip()
    if not raw:
        today = dt.datetime.now(MOSCOW).date()
        return add_months(today.year * 100 + today.month, -1)
    match = re.fullmatch(r"(\d{4})-(\d{2})", raw)
    if match is None or not 1 <= int(match.group(2)) <= 12 or not 2000 <= int(match.group(1)) <= 2100:
        raise BadInput(_("The month must look like 2026-04, got “%(value)s”", value=raw[:40]))
    return int(match.group(1)) * 100 + int(match.group(2))


def legal_entity_accounts(request: web.Request) -> list[dict]:
    where, params = scope(request).accounts_where()
    return state(request).readers.query(
        f"SELECT a.number, a.premises_address FROM accounts a WHERE {where} AND a.consumer_kind = ? "
        "ORDER BY a.number LIMIT 200", params + [int(ConsumerKind.LEGAL_ENTITY)])


@routes.get("/capacity")
async def capacity_page(request: web.Request):
    period = month_param(request.query)
    number = int_param(request.query, "account", low=1)
    accounts = legal_entity_accounts(request)
    result, error = None, None
    if number is not None:
        account = queries.account(state(request).readers, scope(request), number)
        if account is None:
            raise web.HTTPNotFound()
        if account["consumer_kind"] != ConsumerKind.LEGAL_ENTITY:
            raise BadInput(_("Account %(number)s is a household: capacity is computed for legal entities.",
                             number=number))
        peaks = capacity.month_peak_hours(state(request).users.db, period)
        try:
            result = capacity.month_capacity(state(request).readers, number, period, peaks)
        except capacity.PeakHoursError:
            error = _("No peak hours of the system operator are imported for %(month)s.",
                      month=f"{period // 100}-{period % 100:02d}")
    return render(request, "capacity/capacity.html", {
        "accounts": accounts, "number": number, "month": f"{period // 100}-{period % 100:02d}", "result": result,
        "error": error})


@routes.post("/capacity/peak-hours")
async def import_peak_hours(request: web.Request):
    require_role(request, "grid")
    form = await request.post()
    upload = form.get("file")
    raw = upload.file.read(MAX_CSV_BYTES + 1) if hasattr(upload, "file") else (form.get("csv") or "").encode()
    if len(raw) > MAX_CSV_BYTES:
        raise BadInput(_("The peak-hours file is larger than 64 KB."))
    try:
        rows = capacity.parse_csv(raw.decode("utf-8"))
    except (capacity.PeakHoursError, UnicodeDecodeError) as exc:
        raise BadInput(_("Peak hours not imported: %(reason)s", reason=str(exc))) from exc
    capacity.save(state(request).users.db, rows)
    await flash(request, "ok", _("%(count)s peak hours imported.", count=len(rows)))
    raise redirect("/capacity")
