"""The retailer's pages: accounts, meters, readings and payments (lists and charts), payment reports, tariff groups."""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from contracts_py import tariffs
from portal import plots, queries
from portal.i18n import gettext_ as _
from portal.labels import SOURCES, label
from portal.views_consumer import consumption_page
from portal.web import (BadInput, MOSCOW, date_range, flash, int_param, paging, redirect, render, require_role,
                        scope, state, text_param, user)

routes = web.RouteTableDef()


def _staff(request: web.Request) -> None:
    require_role(request, "retailer", "grid")


def account_filters(request: web.Request) -> dict:
    q = request.query
    return {"number": int_param(q, "number", low=1), "section": int_param(q, "section"),
            "address": text_param(q, "address"), "retailer": text_param(q, "retailer", 42).lower() or None}


@routes.get("/r/accounts")
async def accounts(request: web.Request):
    require_role(request, "retailer")
    page, size = paging(request.query)
    filters = account_filters(request)
    found = queries.accounts(state(request).readers, scope(request), page=page, page_size=size, **filters)
    return render(request, "staff/accounts.html", {"page": found, "filters": filters, "base": "/r/accounts",
                                                   "names": state(request).users.names_by_address()})


@routes.get("/r/meters")
async def meters(request: web.Request):
    _staff(request)
    return meters_page(request, "/r/meters")


def meters_page(request: web.Request, base: str):
    q = request.query
    page, size = paging(q)
    filters = {"account_number": int_param(q, "account", low=1), "serial": text_param(q, "serial"),
               "model": text_param(q, "model"), "address": text_param(q, "address")}
    found = queries.meters(state(request).readers, scope(request), page=page, page_size=size, **filters)
    return render(request, "staff/meters.html", {"page": found, "base": base})


@routes.get("/r/readings")
async def readings(request: web.Request):
    _staff(request)
    return readings_page(request, "/r/readings")


def readings_page(request: web.Request, base: str):
    """Readings filtered by date range, account, serial and address: a list with hashes and a daily chart."""
    q = request.query
    first, last, start, end = date_range(q, default_days=31)
    page, size = paging(q, 50)
    filters = {"account_number": int_param(q, "account", low=1), "serial": text_param(q, "serial"),
               "address": text_param(q, "address")}
    db = state(request).readers
    found = queries.readings(db, scope(request), start=start, end=end, page=page, page_size=size, **filters)
    series = queries.consumption_series(db, scope(request), start=start, end=end, group="day", **filters)
    return render(request, "staff/readings.html", {
        "page": found, "first": first, "last": last, "base": base, "chart": plots.readings_chart(series)})


@routes.get("/r/payments")
async def payments(request: web.Request):
    require_role(request, "retailer")
    q = request.query
    first, last, start, end = date_range(q, default_days=90)
    page, size = paging(q)
    source = int_param(q, "source", low=1, high=4)
    filters = {"account_number": int_param(q, "account", low=1), "address": text_param(q, "address"),
               "source": source}
    db = state(request).readers
    found = queries.payments(db, scope(request), start=start, end=end, page=page, page_size=size, **filters)
    series = queries.payments_by_day(db, scope(request), start=start, end=end, **filters)
    return render(request, "staff/payments.html", {
        "page": found, "first": first, "last": last, "sources": {k: label(SOURCES, k) for k in SOURCES},
        "chart": plots.payments_chart(series)})


@routes.get("/r/reports")
async def reports(request: web.Request):
    _staff(request)
    return reports_page(request, "/r/reports")


def reports_page(request: web.Request, base: str):
    q = request.query
    year = int_param(q, "year", default=dt.datetime.now(MOSCOW).year, low=2000, high=2100)
    month = int_param(q, "month", low=1, high=12)
    retailer = text_param(q, "retailer", 42).lower() or None
    db = state(request).readers
    months = queries.payment_report(db, scope(request), year=year, retailer=retailer)
    detail = queries.month_accounts(db, scope(request), year=year, month=month, retailer=retailer) if month else []
    return render(request, "staff/reports.html", {
        "year": year, "month": month, "months": months, "detail": detail, "base": base,
        "retailers": queries.retailers(db) if user(request).role == "grid" else [], "retailer": retailer})


@routes.get("/r/consumption")
async def consumption(request: web.Request):
    _staff(request)
    return consumption_page(request, "staff/consumption.html", base="/r/consumption")


# --- tariff groups -----------------------------------------------------------------------------------------
def _own_group(request: web.Request, group_id: int) -> dict | None:
    for group in queries.tariff_groups(state(request).readers, user(request).address):
        if group["group_id"] == group_id:
            return group
    return None


@routes.get("/r/tariffs")
async def tariff_groups(request: web.Request):
    require_role(request, "retailer")
    db = state(request).readers
    groups = queries.tariff_groups(db, user(request).address)
    for group in groups:
        group["option_rows"] = queries.tariff_options(db, group["group_id"])
    return render(request, "staff/tariffs.html", {"groups": groups})


@routes.post("/r/tariffs")
async def save_group(request: web.Request):
    require_role(request, "retailer")
    form = await request.post()
    group_id = int_param(form, "group_id", low=1, high=2**63 - 1)
    name = text_param(form, "name", 200)
    if not name:
        raise BadInput(_("A tariff group needs a name."))
    existing = queries.tariff_groups(state(request).readers, None)
    if any(g["group_id"] == group_id and g["retailer"] != user(request).address for g in existing):
        raise web.HTTPForbidden()
    tx = state(request).writer.send(state(request).users.private_key(user(request).username), tariffs.ADDRESS,
                                    "saveGroup", group_id, name)
    await flash(request, "ok", _("Tariff group %(id)s saved.", id=group_id), tx)
    raise redirect("/r/tariffs")


@routes.post("/r/tariffs/{group_id}/delete")
async def delete_group(request: web.Request):
    require_role(request, "retailer")
    group_id = int_param(request.match_info, "group_id", low=1)
    if _own_group(request, group_id) is None:
        raise web.HTTPNotFound()
    tx = state(request).writer.send(state(request).users.private_key(user(request).username), tariffs.ADDRESS,
                                    "deleteGroup", group_id)
    await flash(request, "ok", _("Tariff group %(id)s deleted.", id=group_id), tx)
    raise redirect("/r/tariffs")
