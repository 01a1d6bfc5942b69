"""Green certificates for every role: the registry with filters, my certificates, facilities and their issuance
history, and the writes (register and confirm a facility, issue, transfer, offer, withdraw, buy, retire), each a
transaction signed with the user's key; the retirement statement as a PDF for its parties and the grid company."""

from __future__ import annotations

import re

from aiohttp import web

from contracts_py import green
from portal import queries_green as q
from portal.i18n import gettext_ as _
from portal.pdf_green import retirement_pdf
from portal.views_consumer import parse_rubles
from portal.web import BadInput, date_param, flash, int_param, paging, redirect, render, state, text_param, user

routes = web.RouteTableDef()
TECHNOLOGIES = {1: "Solar", 2: "Wind", 3: "Hydro", 4: "Biomass", 5: "Biogas", 6: "Geothermal"}
STATUS_NAMES = {"issued": "Active", "offered": "Offered for sale", "retired": "Retired"}
SERIAL_RANGE = re.compile(r"(\d{1,19})(?:\s*-\s*(\d{1,19}))?")


def parse_serials(raw: str) -> list[int]:
    """Serials typed as a list of numbers and ranges: "1000001-1000005, 1000009"."""
    serials: list[int] = []
    for part in (raw or "").replace(";", ",").split(","):
        if not part.strip():
            continue
        match = SERIAL_RANGE.fullmatch(part.strip())
        if match is None:
            raise BadInput(_("Certificates are serials and ranges like 1000001-1000005, 1000009; got “%(value)s”",
                             value=part.strip()[:40]))
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if last < first or last - first + len(serials) >= green.MAX_BATCH:
            raise BadInput(_("Name 1 to %(most)s certificates, in ranges that go upwards.", most=green.MAX_BATCH))
        serials.extend(range(first, last + 1))
    if not serials:
        raise BadInput(_("Name the certificates by their serials."))
    return serials


def parse_address(raw: str, field: str) -> bytes:
    raw = (raw or "").strip().lower()
    if not re.fullmatch(r"0x[0-9a-f]{40}", raw):
        raise BadInput(_("%(field)s must be an address like 0x1234…, 40 hexadecimal digits after 0x",
                         field=field))
    return bytes.fromhex(raw[2:])


def parse_month(raw: str, field: str) -> int:
    """A month typed as 2026-04 (what `<input type=month>` sends) as yyyymm."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", (raw or "").strip())
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise BadInput(_("%(field)s must be a month like 2026-04, got “%(value)s”", field=field,
                         value=(raw or "")[:40]))
    return int(match.group(1)) * 100 + int(match.group(2))


def _found(row: dict | None) -> dict:
    if row is None:
        raise web.HTTPNotFound()
    return row


def _me(request: web.Request) -> str:
    return user(request).address


def _key(request: web.Request) -> bytes:
    return state(request).users.private_key(user(request).username)


async def _sent(request: web.Request, message: str, tx: str, target: str) -> web.HTTPSeeOther:
    await flash(request, "ok", message, tx)
    return redirect(target)


def _context(**values) -> dict:
    return {"technologies": {k: _(v) for k, v in TECHNOLOGIES.items()},
            "statuses": {k: _(v) for k, v in STATUS_NAMES.items()}, **values}


# --- registry ------------------------------------------------------------------------------------------------
@routes.get("/green/certificates")
async def registry(request: web.Request):
    return _certificate_list(request, "/green/certificates", owner=text_param(request.query, "owner", 42).lower())


@routes.get("/green/my")
async def mine(request: web.Request):
    db = state(request).readers
    return _certificate_list(request, "/green/my", owner=_me(request), mine=True,
                             my_offers=q.offers(db, seller=_me(request)),
                             my_retirements=q.retirements_of(db, _me(request)))


def _certificate_list(request: web.Request, base: str, *, owner: str, mine: bool = False, **extra):
    query = request.query
    status = text_param(query, "status", 10)
    if status and status not in q.STATUSES:
        raise BadInput(_("Unknown status “%(value)s”", value=status))
    technology = int_param(query, "technology", low=1, high=255)
    period = parse_month(query["period"], _("Period")) if query.get("period") else None
    page, size = paging(query, 20)
    db = state(request).readers
    found = q.certificates(db, facility_id=int_param(query, "facility", low=1), technology=technology,
                           period=period, owner=owner, status=status, page=page, page_size=size)
    return render(request, "green/certificates.html", _context(
        page=found, base=base, mine=mine, facilities=q.facilities(db), periods=q.periods(db), **extra))


@routes.get("/green/certificates/{serial}")
async def certificate(request: web.Request):
    db = state(request).readers
    found = _found(q.certificate(db, int_param(request.match_info, "serial", low=1)))
    retirement = q.retirement(db, found["retirement_id"]) if found["retirement_id"] else None
    return render(request, "green/certificate.html", _context(
        c=found, moves=q.moves(db, found["serial"]), retirement=retirement,
        may_download=retirement is not None and _may_download(request, retirement)))


# --- facilities ----------------------------------------------------------------------------------------------
@routes.get("/green/facilities")
async def facilities(request: web.Request):
    return render(request, "green/facilities.html", _context(facilities=q.facilities(state(request).readers)))


@routes.post("/green/facilities")
async def register_facility(request: web.Request):
    form = await request.post()
    is_grid = user(request).role == "grid"
    owner = parse_address(form.get("owner"), _("Owner")) if is_grid else bytes.fromhex(_me(request)[2:])
    technology = int_param(form, "technology", low=1, high=255)
    capacity_kw = int_param(form, "capacity_kw", low=1, high=10**9)
    commissioned = date_param(form, "commissioned_on", None)
    facility_id, meter_id = int_param(form, "facility_id", low=1), int_param(form, "meter_id", low=1)
    if None in (facility_id, technology, capacity_kw, commissioned, meter_id):
        raise BadInput(_("Fill in the facility number, technology, installed capacity, commissioning date and "
                         "meter."))
    tx = state(request).writer.send(_key(request), green.ADDRESS, "registerFacility", facility_id, owner,
                                    technology, capacity_kw * 1000, int(commissioned.strftime("%Y%m%d")), meter_id,
                                    text_param(form, "name", 256))
    message = _("Facility registered.") if is_grid else _("Facility registered; it awaits the grid company's "
                                                          "confirmation.")
    raise await _sent(request, message, tx, "/green/facilities")


@routes.get("/green/facilities/{facility_id}")
async def facility(request: web.Request):
    db = state(request).readers
    found = _found(q.facility(db, int_param(request.match_info, "facility_id", low=1)))
    return render(request, "green/facility.html", _context(
        f=found, issuances=q.issuances(db, found["facility_id"]),
        may_issue=_me(request) == found["owner"] or user(request).role == "grid"))


@routes.post("/green/facilities/{facility_id}/confirm")
async def confirm_facility(request: web.Request):
    facility_id = int_param(request.match_info, "facility_id", low=1)
    tx = state(request).writer.send(_key(request), green.ADDRESS, "confirmFacility", facility_id)
    raise await _sent(request, _("Facility confirmed."), tx, f"/green/facilities/{facility_id}")


@routes.post("/green/facilities/{facility_id}/issue")
async def issue(request: web.Request):
    facility_id = int_param(request.match_info, "facility_id", low=1)
    form = await request.post()
    period = parse_month(form.get("period"), _("Period"))
    tx = state(request).writer.send(_key(request), green.ADDRESS, "issue", facility_id, period)
    raise await _sent(request, _("Issuance for %(period)s sent.", period=f"{period // 100}-{period % 100:02d}"),
                      tx, f"/green/facilities/{facility_id}")


# --- moving certificates -------------------------------------------------------------------------------------
@routes.post("/green/transfer")
async def transfer(request: web.Request):
    form = await request.post()
    serials = parse_serials(form.get("serials"))
    to = parse_address(form.get("to"), _("Recipient"))
    tx = state(request).writer.send(_key(request), green.ADDRESS, "transfer", to, serials)
    raise await _sent(request, _("Transfer of %(n)s certificates sent.", n=len(serials)), tx, "/green/my")


@routes.get("/green/offers")
async def offers(request: web.Request):
    db = state(request).readers
    return render(request, "green/offers.html", _context(
        offers=q.offers(db), sold=q.offers(db, status="sold", limit=50), me=_me(request)))


@routes.post("/green/offers")
async def make_offer(request: web.Request):
    form = await request.post()
    serials = parse_serials(form.get("serials"))
    price = parse_rubles(form.get("price") or "")
    tx = state(request).writer.send(_key(request), green.ADDRESS, "offer", serials, price)
    raise await _sent(request, _("Offer of %(n)s certificates sent.", n=len(serials)), tx, "/green/offers")


@routes.post("/green/offers/{offer_id}/{action:withdraw|buy}")
async def offer_action(request: web.Request):
    offer_id = int_param(request.match_info, "offer_id", low=1)
    if request.match_info["action"] == "withdraw":
        tx = state(request).writer.send(_key(request), green.ADDRESS, "withdrawOffer", offer_id)
        raise await _sent(request, _("Offer withdrawn."), tx, "/green/my")
    tx = state(request).writer.send(_key(request), green.ADDRESS, "buy", offer_id)
    raise await _sent(request, _("Purchase sent: the rubles and the certificates move in one transaction."), tx,
                      "/green/my")


@routes.post("/green/retire")
async def retire(request: web.Request):
    form = await request.post()
    serials = parse_serials(form.get("serials"))
    account = int_param(form, "account", low=1)
    if account is not None:
        found = q.account_consumer(state(request).readers, account)
        if found is None:
            raise BadInput(_("Unknown account %(number)s", number=account))
        beneficiary = bytes.fromhex(found["consumer"][2:])
    else:
        beneficiary = parse_address(form.get("beneficiary"), _("Beneficiary"))
    purpose = text_param(form, "purpose", 256)
    if not purpose:
        raise BadInput(_("State the purpose of the retirement."))
    period = parse_month(form.get("period"), _("Consumption period"))
    tx = state(request).writer.send(_key(request), green.ADDRESS, "retire", serials, beneficiary, account or 0,
                                    purpose, period)
    raise await _sent(request, _("Retirement of %(n)s certificates sent.", n=len(serials)), tx, "/green/my")


# --- the retirement statement --------------------------------------------------------------------------------
def _may_download(request: web.Request, retirement: dict) -> bool:
    """Its parties (who retired, the beneficiary, the retailer of the beneficiary's account) and the grid company."""
    current = user(request)
    if current.role == "grid" or current.address in (retirement["retired_by"], retirement["beneficiary"]):
        return True
    account = q.account_consumer(state(request).readers, retirement["beneficiary_account"]) \
        if retirement["beneficiary_account"] else None
    return current.role == "retailer" and account is not None and account["retailer"] == current.address


@routes.get("/green/retirements/{retirement_id}/pdf")
async def statement(request: web.Request):
    retirement_id = int_param(request.match_info, "retirement_id", low=1)
    db = state(request).readers
    found = _found(q.retirement(db, retirement_id))
    if not _may_download(request, found):
        raise web.HTTPForbidden(text=_("Only the parties of a retirement and the grid company may download its "
                                       "statement."))
    writer = state(request).writer
    on_chain = writer.view(green.ADDRESS, "retirementStatement", retirement_id)
    names = {f["facility_id"]: f["name"] for f in q.facilities(db)}
    body = retirement_pdf(retirement_id, on_chain, names, {k: _(v) for k, v in TECHNOLOGIES.items()},
                          writer.node.rules.chain_id)
    return web.Response(body=body, content_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="retirement-{retirement_id}.pdf"'})
