"""The grid company's pages: retailers, contractors, accounts with their on-chain history, meters, reports."""

from __future__ import annotations

from aiohttp import web

from contracts_py import registry
from portal import queries
from portal.i18n import gettext_ as _
from portal.views_consumer import consumption_page
from portal.views_retailer import account_filters, meters_page, readings_page, reports_page
from portal.web import (BadInput, date_range, flash, int_param, paging, redirect, render, require_role, scope,
                        state, text_param, user)

routes = web.RouteTableDef()
TABS = ("consumer", "meter", "payments", "readings")
METER_EVENTS = ("MeterRegistered", "MeterConfigured", "GatewayBound", "MeterReplaced", "MeterReadingConfigured")


def _grid(request: web.Request) -> None:
    require_role(request, "grid")


@routes.get("/g/retailers")
async def retailers(request: web.Request):
    _grid(request)
    return render(request, "grid/retailers.html", {"retailers": queries.retailers(state(request).readers)})


@routes.get("/g/contractors")
async def contractors(request: web.Request):
    _grid(request)
    rows = queries.contractors(state(request).readers, user(request).address)
    return render(request, "grid/contractors.html", {"contractors": rows,
                                                     "next_id": max([r["contractor_id"] for r in rows], default=0) + 1})


@routes.post("/g/contractors")
async def add_contractor(request: web.Request):
    _grid(request)
    form = await request.post()
    contractor_id = int_param(form, "contractor_id", low=1)
    values = [text_param(form, f, 200) for f in ("name", "postal_address", "inn", "kpp", "bik", "bank_account",
                                                 "bank_name")]
    if not values[0]:
        raise BadInput(_("A contractor needs a name."))
    tx = state(request).writer.send(state(request).users.private_key(user(request).username), registry.ADDRESS,
                                    "saveContractor", contractor_id, *values)
    await flash(request, "ok", _("Contractor %(id)s sent to the ledger.", id=contractor_id), tx)
    raise redirect("/g/contractors")


@routes.get("/g/accounts")
async def accounts(request: web.Request):
    _grid(request)
    page, size = paging(request.query)
    filters = account_filters(request)
    db = state(request).readers
    found = queries.accounts(db, scope(request), page=page, page_size=size, **filters)
    return render(request, "staff/accounts.html", {"page": found, "filters": filters, "base": "/g/accounts",
                                                   "retailers": queries.retailers(db),
                                                   "names": state(request).users.names_by_address()})


@routes.get("/g/accounts/{number}")
async def account(request: web.Request):
    _grid(request)
    number = int_param(request.match_info, "number", low=1)
    db = state(request).readers
    info = queries.account(db, scope(request), number)
    if info is None:
        raise web.HTTPNotFound()
    tab = request.query.get("tab", "consumer")
    if tab not in TABS:
        tab = "consumer"
    meters = queries.meters(db, scope(request), account_number=number, page_size=100).rows
    rows: list[dict] = []
    readings_page = None
    if tab == "consumer":
        rows = queries.account_history(db, number, ("AccountSaved",))
    elif tab == "meter":
        for meter in meters:
            rows += queries.account_history(db, meter["meter_id"], METER_EVENTS, key="meter_id")
    elif tab == "payments":
        rows = queries.payments(db, scope(request), account_number=number, page_size=100).rows
        for row in rows:
            tx = queries.transaction(db, row["tx_hash"])
            row["function"], row["call_json"] = (tx["function"], tx["args_json"]) if tx else ("", "")
    else:
        first, last, start, end = date_range(request.query, default_days=62)
        page, size = paging(request.query, 50)
        readings_page = queries.readings(db, scope(request), start=start, end=end, account_number=number,
                                         page=page, page_size=size)
        rows = readings_page.rows
    return render(request, "grid/account.html", {"account": info, "tab": tab, "tabs": TABS, "rows": rows,
                                                 "page": readings_page, "meters": meters,
                                                 "consumer_name": state(request).users.names_by_address().get(
                                                     info["consumer"], "")})


@routes.get("/g/meters")
async def meters(request: web.Request):
    _grid(request)
    return meters_page(request, "/g/meters")


@routes.get("/g/meters/{meter_id}")
async def meter(request: web.Request):
    require_role(request, "grid", "retailer")
    meter_id = int_param(request.match_info, "meter_id", low=1)
    db = state(request).readers
    info = queries.meter(db, scope(request), meter_id)
    if info is None:
        raise web.HTTPNotFound()
    first, last, start, end = date_range(request.query, default_days=31)
    page, size = paging(request.query, 50)
    found = queries.readings(db, scope(request), start=start, end=end, account_number=info["account_number"],
                             serial=info["serial"], page=page, page_size=size)
    return render(request, "grid/meter.html", {
        "meter": info, "page": found, "first": first, "last": last,
        "point": db.one("SELECT * FROM metering_points WHERE point_id = ?", [info["point_id"]]),
        "history": queries.account_history(db, meter_id, METER_EVENTS, key="meter_id")})


@routes.get("/g/reports")
async def reports(request: web.Request):
    _grid(request)
    return reports_page(request, "/g/reports")


@routes.get("/g/readings")
async def readings(request: web.Request):
    _grid(request)
    return readings_page(request, "/g/readings")


@routes.get("/g/consumption")
async def consumption(request: web.Request):
    _grid(request)
    return consumption_page(request, "staff/consumption.html", base="/g/consumption")


@routes.get("/g/tree")
async def tree(request: web.Request):
    """Consumers, their supply points and meters, searchable by account, address or consumer name."""
    _grid(request)
    text = text_param(request.query, "q")
    names = state(request).users.names_by_address()
    matching = tuple(a for a, n in names.items() if text and text.lower() in (n or "").lower())
    found = queries.account_tree(state(request).readers, scope(request), text=text, consumers=matching)
    return render(request, "grid/tree.html", {"accounts": found, "q": text, "names": names})
