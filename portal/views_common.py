"""Pages every role has: profile (personal data off-chain, the company's profile on chain) and the FAQ."""

from __future__ import annotations

from aiohttp import web

from contracts_py import registry
from portal import queries
from portal.i18n import gettext_ as _
from portal.web import flash, redirect, render, state, text_param, user

routes = web.RouteTableDef()
COMPANY_FIELDS = ("name", "phone", "director", "postal_address", "inn", "kpp", "bik", "bank_account", "bank_name")


@routes.get("/profile")
async def profile(request: web.Request):
    current = user(request)
    company = None if current.role == "consumer" else queries.company(state(request).readers, current.address)
    return render(request, "profile.html", {"company": company or {}, "fields": COMPANY_FIELDS})


@routes.post("/profile")
async def save_profile(request: web.Request):
    form = await request.post()
    current = user(request)
    state(request).users.update_profile(current.username, text_param(form, "full_name", 200),
                                        text_param(form, "phone", 40), text_param(form, "email", 200))
    await flash(request, "ok", _("Personal data saved (kept off the ledger)."))
    raise redirect("/profile")


@routes.post("/profile/company")
async def save_company(request: web.Request):
    current = user(request)
    if current.role == "consumer":
        raise web.HTTPForbidden()
    form = await request.post()
    values = [text_param(form, field, 200) for field in COMPANY_FIELDS]
    name, phone, director, address, inn, kpp, bik, account, bank = values
    tx = state(request).writer.send(state(request).users.private_key(current.username), registry.ADDRESS,
                                    "saveProfile", name, phone, director, address, inn, kpp, bik, account, bank)
    await flash(request, "ok", _("Company profile sent to the ledger."), tx)
    raise redirect("/profile")


@routes.get("/faq")
async def faq(request: web.Request):
    return render(request, "faq.html", {})
