"""The consumer's balance: the period's moves and totals, top-up and withdrawal requests to the bank.

Both requests are calls of the ruble token signed with the consumer's key. A withdrawal locks its amount on chain
at once; the bank then pays it out or rejects it, and the page shows each request's state and transactions."""

from __future__ import annotations

from aiohttp import web

from contracts_py import ruble
from portal import balance as money
from portal.app import rub
from portal.i18n import gettext_ as _
from portal.views_consumer import parse_rubles
from portal.web import BadInput, date_range, flash, redirect, render, require_role, state, user

routes = web.RouteTableDef()


def _holder(request: web.Request) -> tuple[str, bytes]:
    require_role(request, "consumer")
    address = user(request).address
    return address, bytes.fromhex(address[2:])


def _key(request: web.Request) -> bytes:
    return state(request).users.private_key(user(request).username)


@routes.get("/c/balance")
async def balance(request: web.Request):
    address, raw = _holder(request)
    first, last, start, end = date_range(request.query)
    db = state(request).readers
    moves, totals = money.period_moves(db, address, start, end)
    return render(request, "balance/balance.html", {
        "first": first, "last": last, "moves": moves, "totals": totals, "me": address,
        "now": state(request).writer.view(ruble.ADDRESS, "balanceOf", raw)[0],
        "locked": money.locked(db, address), "requests": money.bank_requests(db, address)})


@routes.post("/c/balance/top-up")
async def request_top_up(request: web.Request):
    _holder(request)
    form = await request.post()
    amount = parse_rubles(form.get("amount") or "")
    tx = state(request).writer.send(_key(request), ruble.ADDRESS, "requestTopUp", amount)
    await flash(request, "ok", _("Top-up requested: the bank credits your balance once the money arrives."), tx)
    raise redirect("/c/balance")


@routes.post("/c/balance/withdraw")
async def request_withdrawal(request: web.Request):
    _address, raw = _holder(request)
    form = await request.post()
    amount = parse_rubles(form.get("amount") or "")
    bik = (form.get("bik") or "").strip()
    account = (form.get("bank_account") or "").strip().replace(" ", "")
    if not ruble.BIK.fullmatch(bik):
        raise BadInput(_("The BIK has 9 digits, got “%(value)s”", value=bik[:40]))
    if not ruble.BANK_ACCOUNT.fullmatch(account):
        raise BadInput(_("The bank account has 20 digits, got “%(value)s”", value=account[:40]))
    available = state(request).writer.view(ruble.ADDRESS, "balanceOf", raw)[0]
    if amount > available:
        raise BadInput(_("The amount %(amount)s exceeds your balance %(balance)s.", amount=rub(amount),
                         balance=rub(available)))
    tx = state(request).writer.send(_key(request), ruble.ADDRESS, "requestWithdrawal", amount, bik, account)
    await flash(request, "ok", _("Withdrawal requested: the amount is locked until the bank pays it out."), tx)
    raise redirect("/c/balance")
