"""Prosumer pages: the consumer sees the export price in force, this month's export so far and what it would earn,
and every billed month with both sides (the import charges, the export credit and the net) from `exportStatement`;
the retailer keeps its effective-dated export price. Issuing a month's invoice nets its export on the invoice
(`invoices.issueInvoice`), so there is no separate settlement to send."""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from contracts_py import invoices, prosumer
from contracts_py.billing.netting import export_credit
from contracts_py.billing.periods import add_months
from portal import queries
from portal.i18n import gettext_ as _
from portal.views_consumer import current_period
from portal.views_dr import rate_param
from portal.web import (BadInput, date_param, flash, int_param, redirect, render, require_role, scope, state,
                        user)
from portal.writes import WriteRejected

routes = web.RouteTableDef()
CONTRACT = invoices.Invoices.NAME
STATEMENT_FIELDS = ("consumer", "invoice_id", "import_wh", "charges", "export_wh", "mkop_per_kwh", "credit",
                    "net_due", "payout", "issued_at")


def export_prices(request: web.Request, retailer: str) -> prosumer.PriceSchedule:
    dates, prices = state(request).writer.view(prosumer.ADDRESS, "exportPrices", bytes.fromhex(retailer[2:]))
    return prosumer.PriceSchedule(tuple(prosumer.ExportPrice(d, p) for d, p in zip(dates, prices)))


def netted_months(request: web.Request, where: str, params: list) -> list[dict]:
    """Months whose invoice netted an export (newest first), read back from `exportStatement`, which follows
    corrections to the invoice in force."""
    rows = state(request).readers.query(
        "SELECT DISTINCT i.account_number, i.period FROM events e JOIN invoices i ON i.invoice_id = "
        "json_extract(e.args_json, '$.invoice_id') JOIN accounts a ON a.number = i.account_number "
        f"WHERE e.contract = ? AND e.name = 'ExportNetted' AND {where} ORDER BY i.period DESC, i.account_number",
        [CONTRACT, *params])
    return [{**dict(zip(STATEMENT_FIELDS, state(request).writer.view(
        prosumer.ADDRESS, "exportStatement", row["account_number"], row["period"]))), **row} for row in rows]


def month_export_wh(request: web.Request, number: int, period: int) -> int:
    """Exported Wh of the account's meters in a month so far (indexed daily sums, after CT x VT ratios)."""
    row = state(request).readers.one(
        "SELECT coalesce(sum(d.export_wh * coalesce(m.ct_ratio, 1) * coalesce(m.vt_ratio, 1)), 0) AS wh "
        "FROM readings_daily d JOIN meters m ON m.meter_id = d.meter_id WHERE m.account_number = ? "
        "AND d.day BETWEEN ? AND ?", [number, period * 100 + 1, period * 100 + 31])
    return row["wh"]


# --- the consumer ---------------------------------------------------------------------------------------------
@routes.get("/c/prosumer")
async def prosumer_accounts(request: web.Request):
    require_role(request, "consumer")
    rows = queries.accounts(state(request).readers, scope(request), page_size=100).rows
    if len(rows) == 1:
        raise redirect(f"/c/prosumer/{rows[0]['number']}")
    return render(request, "prosumer/accounts.html", {"accounts": rows})


@routes.get("/c/prosumer/{number}")
async def prosumer_account(request: web.Request):
    require_role(request, "consumer")
    number = int_param(request.match_info, "number", low=1)
    account = queries.account(state(request).readers, scope(request), number)
    if account is None:
        raise web.HTTPNotFound()
    prices = export_prices(request, account["retailer"])
    period = current_period()
    price = prosumer.price_on(prices, period)  # the price this month's invoice nets its export at
    export_wh = month_export_wh(request, number, period)
    months = netted_months(request, "a.number = ?", [number])
    last = add_months(period, -1)
    quote, quote_error = None, None
    billed = state(request).readers.one("SELECT 1 FROM invoices WHERE account_number = ? AND period = ?",
                                        [number, last])
    if billed is None:
        try:
            quote = dict(zip(("export_wh", "mkop_per_kwh", "credit"),
                             state(request).writer.view(prosumer.ADDRESS, "exportQuote", number, last)))
        except WriteRejected as exc:
            quote_error = exc.reason
    return render(request, "prosumer/account.html", {
        "account": account, "price": price, "prices": prices, "period": period, "export_wh": export_wh,
        "credit": export_credit(export_wh, price) if price is not None else None, "months": months,
        "last": last, "quote": quote, "quote_error": quote_error})


# --- the retailer ---------------------------------------------------------------------------------------------
@routes.get("/r/prosumer")
async def retailer_page(request: web.Request):
    require_role(request, "retailer")
    return render(request, "prosumer/retailer.html", {
        "prices": export_prices(request, user(request).address),
        "months": netted_months(request, "a.retailer = ?", [user(request).address])})


def _key(request: web.Request) -> bytes:
    return state(request).users.private_key(user(request).username)


@routes.post("/r/prosumer/prices")
async def set_price(request: web.Request):
    require_role(request, "retailer")
    form = await request.post()
    day = date_param(form, "effective_from", dt.date.min)
    if day == dt.date.min:
        raise BadInput(_("Choose the date the price is in force from."))
    price = rate_param(form, "price", _("Export price"))
    tx = state(request).writer.send(_key(request), prosumer.ADDRESS, "setExportPrice",
                                    int(day.strftime("%Y%m%d")), price)
    await flash(request, "ok", _("Export price from %(day)s sent to the ledger.", day=day.isoformat()), tx)
    raise redirect("/r/prosumer")
