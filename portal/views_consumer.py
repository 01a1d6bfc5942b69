"""The consumer's pages: accounts, readings, invoices (confirm, dispute, pay, PDF), payments and their split,
tariffs with the optimizer's comparison, the wallet balance and the consumption chart."""

from __future__ import annotations

import re
import time

from aiohttp import web

from contracts_py import invoices as invoices_contract
from contracts_py import payments as payments_contract
from contracts_py import readings as readings_contract
from contracts_py import ruble, tariffs
from contracts_py.billing.periods import MOSCOW_UTC_OFFSET, add_months, period_of
from portal import plots, queries, weather
from portal.i18n import gettext_ as _
from portal.labels import OPTION_KINDS, label
from portal.pdf import contract_pdf, invoice_pdf
from portal.web import (BadInput, date_range, flash, int_param, paging, redirect, render, require_role,
                        scope, state, text_param, user)
from portal.writes import WriteRejected

routes = web.RouteTableDef()
MAX_REGISTER_KWH = 10**9
"""Largest register value a person may type, in kWh (the contract's own limit is checked again on chain)."""


def _consumer(request: web.Request) -> None:
    require_role(request, "consumer")


def _own_account(request: web.Request, number: int) -> dict:
    found = queries.account(state(request).readers, scope(request), number)
    if found is None:
        raise web.HTTPNotFound()
    return found


def _own_invoice(request: web.Request) -> dict:
    invoice_id = int_param(request.match_info, "invoice_id", low=1, high=2**255)
    found = queries.invoice(state(request).readers, scope(request), invoice_id)
    if found is None:
        raise web.HTTPNotFound()
    return found


def _key(request: web.Request) -> bytes:
    return state(request).users.private_key(user(request).username)


def current_period() -> int:
    return period_of(int(time.time()), MOSCOW_UTC_OFFSET)


@routes.get("/c/accounts")
async def accounts(request: web.Request):
    _consumer(request)
    page, size = paging(request.query, 10)
    found = queries.accounts(state(request).readers, scope(request), page=page, page_size=size)
    return render(request, "consumer/accounts.html", {"page": found})


@routes.get("/c/accounts/{number}")
async def account(request: web.Request):
    _consumer(request)
    number = int_param(request.match_info, "number", low=1)
    info = _own_account(request, number)
    db = state(request).readers
    meters = queries.meters(db, scope(request), account_number=number, page_size=100).rows
    for meter in meters:
        meter["last"] = db.one("SELECT * FROM readings WHERE meter_id = ? ORDER BY interval_start DESC LIMIT 1",
                               [meter["meter_id"]])
    option = _current_option(request, number)
    bills = queries.invoices(db, scope(request), account_number=number, page_size=12).rows
    contracts = db.query("SELECT * FROM consumer_contracts WHERE account_number = ? ORDER BY contract_id",
                         [number])
    return render(request, "consumer/account.html", {"account": info, "meters": meters, "option": option,
                                                     "invoices": bills, "contracts": contracts})


@routes.get("/c/accounts/{number}/contracts/{contract_id}/pdf")
async def contract_document(request: web.Request):
    _consumer(request)
    number = int_param(request.match_info, "number", low=1)
    info = _own_account(request, number)
    db = state(request).readers
    contract = db.one("SELECT * FROM consumer_contracts WHERE contract_id = ? AND account_number = ?",
                      [int_param(request.match_info, "contract_id", low=1), number])
    if contract is None:
        raise web.HTTPNotFound()
    body = contract_pdf(contract, info, queries.company(db, info["retailer"]), user(request))
    return web.Response(body=body, content_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="contract-{contract["contract_id"]}.pdf"'})


def _current_option(request: web.Request, number: int) -> int | None:
    try:
        return state(request).writer.view(tariffs.ADDRESS, "accountOption", number, current_period())[0]
    except WriteRejected:
        return None


REGISTER = re.compile(r"\d{1,10}([.,]\d{1,3})?")


def parse_kwh(raw: str, field: str) -> int:
    """A register typed in kWh (up to 3 decimals, comma or point) as whole Wh; BadInput otherwise."""
    raw = (raw or "").strip().replace(" ", "")
    if not REGISTER.fullmatch(raw):
        raise BadInput(_("%(field)s must be a number of kWh like 1234.5, got “%(value)s”", field=field,
                         value=raw[:40]))
    whole, _sep, fraction = raw.replace(",", ".").partition(".")
    wh = int(whole) * 1000 + int((fraction + "000")[:3])
    if wh > MAX_REGISTER_KWH * 1000:
        raise BadInput(_("%(field)s is out of range", field=field))
    return wh


@routes.post("/c/accounts/{number}/reading")
async def submit_reading(request: web.Request):
    _consumer(request)
    number = int_param(request.match_info, "number", low=1)
    _own_account(request, number)
    form = await request.post()
    meter_id = int_param(form, "meter_id", low=1)
    meter = queries.meter(state(request).readers, scope(request), meter_id)
    if meter is None or meter["account_number"] != number:
        raise web.HTTPNotFound()
    import_wh = parse_kwh(form.get("import_kwh"), _("Import (A+)"))
    export_wh = parse_kwh(form.get("export_kwh") or "0", _("Export (A−)"))
    tx = state(request).writer.send(_key(request), readings_contract.ADDRESS, "postManualReading", meter_id,
                                    import_wh, export_wh)
    await flash(request, "ok", _("Reading sent to the ledger."), tx)
    raise redirect(f"/c/accounts/{number}")


@routes.get("/c/invoices")
async def invoice_list(request: web.Request):
    _consumer(request)
    page, size = paging(request.query, 10)
    found = queries.invoices(state(request).readers, scope(request), page=page, page_size=size)
    return render(request, "consumer/invoices.html", {"page": found})


@routes.get("/c/invoices/{invoice_id}")
async def invoice(request: web.Request):
    _consumer(request)
    info = _own_invoice(request)
    db = state(request).readers
    paid = queries.payments(db, scope(request), account_number=info["account_number"], page_size=100).rows
    return render(request, "consumer/invoice.html", {
        "invoice": info, "lines": queries.invoice_lines(db, info["invoice_id"]),
        "payments": [p for p in paid if p["invoice_id"] == info["invoice_id"]],
        "outstanding": max(0, info["total"] - info["paid_total"]),
        "balance": _balance(request)})


@routes.get("/c/invoices/{invoice_id}/pdf")
async def invoice_document(request: web.Request):
    _consumer(request)
    info = _own_invoice(request)
    db = state(request).readers
    body = invoice_pdf(info, queries.invoice_lines(db, info["invoice_id"]), queries.account(
        db, scope(request), info["account_number"]), user(request))
    return web.Response(body=body, content_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="invoice-{info["invoice_id"]}.pdf"'})


@routes.post("/c/invoices/{invoice_id}/{action:confirm|dispute|pay}")
async def invoice_action(request: web.Request):
    _consumer(request)
    info = _own_invoice(request)
    form = await request.post()
    action = request.match_info["action"]
    writer, key = state(request).writer, _key(request)
    if action == "confirm":
        tx = writer.send(key, invoices_contract.ADDRESS, "confirmInvoice", info["invoice_id"])
        message = _("Invoice confirmed.")
    elif action == "dispute":
        reason = text_param(form, "reason", 500)
        if not reason:
            raise BadInput(_("Say why you dispute the invoice."))
        tx = writer.send(key, invoices_contract.ADDRESS, "disputeInvoice", info["invoice_id"], reason)
        message = _("Dispute sent.")
    else:
        amount = parse_rubles(form.get("amount") or "")
        tx = writer.send(key, payments_contract.ADDRESS, "payInvoice", info["invoice_id"], amount,
                         int(payments_contract.Source.CARD))
        message = _("Payment sent.")
    await flash(request, "ok", message, tx)
    raise redirect(f"/c/invoices/{info['invoice_id']}")


def parse_rubles(raw: str) -> int:
    raw = raw.strip().replace(" ", "").replace("\u202f", "")
    if not re.fullmatch(r"\d{1,12}([.,]\d{1,2})?", raw):
        raise BadInput(_("The amount must be in rubles like 1234.56, got “%(value)s”", value=raw[:40]))
    whole, _sep, fraction = raw.replace(",", ".").partition(".")
    kopecks = int(whole) * 100 + int((fraction + "00")[:2])
    if kopecks <= 0:
        raise BadInput(_("The amount must be positive."))
    return kopecks


@routes.get("/c/payments")
async def payment_list(request: web.Request):
    _consumer(request)
    page, size = paging(request.query, 10)
    db = state(request).readers
    found = queries.payments(db, scope(request), page=page, page_size=size)
    for row in found.rows:
        row["splits"] = queries.payment_splits(db, row["payment_id"])
    return render(request, "consumer/payments.html", {"page": found})


@routes.get("/c/tariffs/{number}")
async def tariff(request: web.Request):
    _consumer(request)
    number = int_param(request.match_info, "number", low=1)
    info = _own_account(request, number)
    months = int_param(request.query, "months", default=1, low=1, high=12)
    last = add_months(current_period(), -1)
    error, ranked = None, []
    try:
        option_ids, totals = state(request).writer.view(invoices_contract.ADDRESS, "compareOptions", number, last,
                                                        months)
        ranked = sorted(zip(option_ids, totals), key=lambda pair: pair[1])
    except WriteRejected as exc:
        error = exc.reason
    options = {row["option_id"]: row for row in queries.tariff_options(state(request).readers,
                                                                         info["tariff_group"])}
    return render(request, "consumer/tariffs.html", {
        "account": info, "current": _current_option(request, number), "ranked": ranked, "error": error,
        "options": options, "kinds": {k: label(OPTION_KINDS, k) for k in OPTION_KINDS}, "months": months,
        "last": last})


@routes.post("/c/tariffs/{number}")
async def choose_tariff(request: web.Request):
    _consumer(request)
    number = int_param(request.match_info, "number", low=1)
    _own_account(request, number)
    form = await request.post()
    option_id = int_param(form, "option_id", low=1)
    tx = state(request).writer.send(_key(request), tariffs.ADDRESS, "chooseOption", number, option_id)
    await flash(request, "ok", _("Tariff option %(option)s chosen from the next month.", option=option_id), tx)
    raise redirect(f"/c/tariffs/{number}")


def _balance(request: web.Request) -> int:
    address = bytes.fromhex(user(request).address[2:])
    return state(request).writer.view(ruble.ADDRESS, "balanceOf", address)[0]


@routes.get("/c/consumption")
async def consumption(request: web.Request):
    _consumer(request)
    return consumption_page(request, "consumer/consumption.html")


def consumption_page(request: web.Request, template: str, **extra):
    """The consumption chart for the accounts in the user's scope (consumer, retailer or grid company)."""
    first, last, start, end = date_range(request.query, default_days=30)
    group = request.query.get("group", "day")
    if group not in ("day", "30min"):
        raise BadInput(_("Group by day or by 30 minutes."))
    if group == "30min" and end - start > 31 * 86400:
        raise BadInput(_("Half-hour grouping covers at most 31 days."))
    number = int_param(request.query, "account", low=1)
    serial, address = text_param(request.query, "serial"), text_param(request.query, "address")
    if group == "30min" and user(request).role != "consumer" and number is None and not serial:
        raise BadInput(_("Choose an account or a meter for half-hour grouping."))
    series = queries.consumption_series(state(request).readers, scope(request), start=start, end=end, group=group,
                                        account_number=number, serial=serial, address=address)
    temperature = weather.averages(state(request).users.db, start, end, 1800 if group == "30min" else 86400)
    own = queries.accounts(state(request).readers, scope(request), page_size=100).rows
    chart = plots.consumption_chart(series, temperature, half_hours=group == "30min")
    return render(request, template, {
        "first": first, "last": last, "group": group, "chart": chart,
        "total_wh": sum(wh for _b, wh in series), "accounts": own, "account_number": number, **extra})
