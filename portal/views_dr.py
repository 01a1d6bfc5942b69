"""Demand-response pages. Staff (grid company, retailers): programmes, creating one with its baseline rule and rates,
funding, enrolment and announcing events (by the programme's grid company or aggregator), an event's participants
and, after settlement, each one's baseline, actual, reduction, reward, bonus and penalty. Consumers: the events of
their meters with the expected baseline, trading obligations before the event starts, paying a net penalty.

Every write is signed with the user's key (`ChainWriter.send`); the page checks what it can (dates, numbers, the
event not started) before the contract checks the rest."""

from __future__ import annotations

import datetime as dt
import time

from aiohttp import web

from contracts_py import demand_response as dr
from portal import dr_reads, queries
from portal.i18n import gettext_ as _
from portal.views_consumer import parse_rubles
from portal.web import (BadInput, MOSCOW, date_param, day_start, flash, int_param, redirect, render, require_role,
                        scope, state, text_param, user)

routes = web.RouteTableDef()
MAX_W = 10**9


def _staff(request: web.Request) -> None:
    require_role(request, "retailer", "grid")


def _send(request: web.Request, function: str, *args) -> str:
    current = user(request)
    return state(request).writer.send(state(request).users.private_key(current.username), dr.ADDRESS, function,
                                      *args)


def _names(request: web.Request) -> dict[str, str]:
    return dr_reads.company_names(state(request).readers)


def _programme(request: web.Request, programme_id: int):
    found = dr_reads.programme(state(request).writer, programme_id)
    if found is None:
        raise web.HTTPNotFound()
    return found


def _event(request: web.Request, event_id: int) -> dr_reads.EventView:
    found = dr_reads.event(state(request).writer, event_id)
    if found is None:
        raise web.HTTPNotFound()
    return found


def _runs(request: web.Request, programme) -> bool:
    return user(request).address in (dr_reads.hexed(programme.operator), dr_reads.hexed(programme.aggregator))


def rate_param(form, name: str, label: str) -> int:
    """A rate typed in RUB per kWh (0 allowed) as milli-kopecks per kWh."""
    raw = (form.get(name) or "").strip()
    if raw in ("0", "0,00", "0.00"):
        return 0
    try:
        return parse_rubles(raw) * 1000
    except BadInput:
        raise BadInput(_("%(field)s must be in rubles per kWh like 12.50, got “%(value)s”", field=label,
                         value=raw[:40])) from None


# --- programmes ----------------------------------------------------------------------------------------------
@routes.get("/dr/programmes")
async def programmes(request: web.Request):
    _staff(request)
    db, writer = state(request).readers, state(request).writer
    found = [dr_reads.programme(writer, programme_id) for programme_id in dr_reads.programme_ids(db)]
    return render(request, "dr/programmes.html", {"programmes": [p for p in found if p], "names": _names(request),
                                                  "retailers": queries.retailers(db)})


@routes.post("/dr/programmes")
async def create_programme(request: web.Request):
    require_role(request, "grid")
    form = await request.post()
    programme_id = int_param(form, "programme_id", low=1)
    name = text_param(form, "name", 256)
    aggregator = text_param(form, "aggregator", 42).lower()
    if programme_id is None or not name:
        raise BadInput(_("A programme needs a number and a name."))
    if len(aggregator) != 42 or not aggregator.startswith("0x"):
        raise BadInput(_("Choose the programme's aggregator."))
    days = int_param(form, "baseline_days", low=1, high=dr.MAX_BASELINE_DAYS)
    if days is None:
        raise BadInput(_("Say how many comparable days the baseline averages."))
    threshold = int_param(form, "threshold_pct", default=0, low=0, high=100)
    rates = (rate_param(form, "reward", _("Reward")), rate_param(form, "bonus", _("Bonus")),
             rate_param(form, "penalty", _("Penalty")))
    tx = _send(request, "createProgramme", programme_id, bytes.fromhex(aggregator[2:]), name, days,
               form.get("same_day_kind") == "on", *rates, threshold * 10_000)
    await flash(request, "ok", _("Programme %(id)s sent to the ledger.", id=programme_id), tx)
    raise redirect("/dr/programmes")  # its own page exists once the block is in


@routes.get("/dr/programmes/{programme_id}")
async def programme_page(request: web.Request):
    _staff(request)
    programme_id = int_param(request.match_info, "programme_id", low=1)
    found = _programme(request, programme_id)
    db, writer = state(request).readers, state(request).writer
    tomorrow = dt.datetime.now(MOSCOW).date() + dt.timedelta(days=1)
    return render(request, "dr/programme.html", {
        "p": found, "names": _names(request), "runs": _runs(request, found), "tomorrow": tomorrow,
        "participants": dr_reads.participants(db, writer, programme_id),
        "events": dr_reads.programme_events(db, programme_id), "now": int(time.time())})


@routes.post("/dr/programmes/{programme_id}/fund")
async def fund(request: web.Request):
    _staff(request)
    programme_id = int_param(request.match_info, "programme_id", low=1)
    form = await request.post()
    amount = parse_rubles(form.get("amount") or "")
    tx = _send(request, "fundProgramme", programme_id, amount)
    await flash(request, "ok", _("Budget funding sent."), tx)
    raise redirect(f"/dr/programmes/{programme_id}")


@routes.post("/dr/programmes/{programme_id}/enrol")
async def enrol(request: web.Request):
    _staff(request)
    programme_id = int_param(request.match_info, "programme_id", low=1)
    form = await request.post()
    meter_id = int_param(form, "meter_id", low=1)
    offered_w = int_param(form, "offered_w", low=1, high=MAX_W)
    if meter_id is None or offered_w is None:
        raise BadInput(_("Enrolment needs a meter and the reduction offered, in W."))
    tx = _send(request, "enrol", programme_id, meter_id, offered_w)
    await flash(request, "ok", _("Meter %(meter)s enrolled.", meter=meter_id), tx)
    raise redirect(f"/dr/programmes/{programme_id}")


def event_period(form, now: float) -> tuple[int, int]:
    """[start, end) unix seconds of an event from a Moscow date and whole hours; BadInput when empty or past."""
    day = date_param(form, "day", dt.date.min)
    if day == dt.date.min:
        raise BadInput(_("Choose the day of the event."))
    first = int_param(form, "from_hour", low=0, high=23)
    last = int_param(form, "to_hour", low=1, high=24)
    if first is None or last is None:
        raise BadInput(_("Choose the hours of the event."))
    if last <= first:
        raise BadInput(_("The event's period is empty: it ends at %(end)s:00, not after it starts at %(start)s:00.",
                         end=last, start=first))
    start, end = day_start(day) + first * 3600, day_start(day) + last * 3600
    if start <= now:
        raise BadInput(_("A new event must start in the future."))
    return start, end


@routes.post("/dr/programmes/{programme_id}/events")
async def announce(request: web.Request):
    _staff(request)
    programme_id = int_param(request.match_info, "programme_id", low=1)
    form = await request.post()
    start, end = event_period(form, time.time())
    meters, reductions = [], []
    for row in dr_reads.participants(state(request).readers, state(request).writer, programme_id):
        reduction = int_param(form, f"reduction_{row['meter_id']}", low=0, high=MAX_W)
        if reduction:
            meters.append(row["meter_id"])
            reductions.append(reduction)
    if not meters:
        raise BadInput(_("Give at least one participant a required reduction, in W."))
    tx = _send(request, "announceEvent", programme_id, start, end, meters, reductions)
    await flash(request, "ok", _("Event announced; the participants are notified."), tx)
    raise redirect(f"/dr/programmes/{programme_id}")


# --- events --------------------------------------------------------------------------------------------------
@routes.get("/dr/events/{event_id}")
async def event_page(request: web.Request):
    _staff(request)
    found = _event(request, int_param(request.match_info, "event_id", low=1))
    programme = _programme(request, found.programme_id)
    writer, db = state(request).writer, state(request).readers
    shares = [dr_reads.share(writer, found, programme.rates, meter_id) for meter_id in found.meters]
    return render(request, "dr/event.html", {
        "e": found, "p": programme, "shares": shares, "runs": _runs(request, programme), "now": int(time.time()),
        "offers": dr_reads.open_offers(db, found.event_id), "names": _names(request)})


@routes.post("/dr/events/{event_id}/settle")
async def settle(request: web.Request):
    _staff(request)
    found = _event(request, int_param(request.match_info, "event_id", low=1))
    programme = _programme(request, found.programme_id)
    unsettled = [s.meter_id for s in (dr_reads.share(state(request).writer, found, programme.rates, meter_id)
                                      for meter_id in found.meters) if not s.settled]
    if not unsettled:
        raise BadInput(_("Every participant of this event is settled."))
    tx = _send(request, "settle", found.event_id, unsettled)
    await flash(request, "ok", _("Settlement sent."), tx)
    raise redirect(f"/dr/events/{found.event_id}")


# --- the consumer's events -----------------------------------------------------------------------------------
def _my_meters(request: web.Request) -> dict[int, dict]:
    rows = queries.meters(state(request).readers, scope(request), page_size=100).rows
    return {row["meter_id"]: row for row in rows}


def consumer_events(request: web.Request, *, upcoming_only: bool = False) -> list[dict]:
    """The consumer's events, newest first: each with his shares and, before it ends, his expected baseline."""
    mine = _my_meters(request)
    writer, db = state(request).writer, state(request).readers
    now = int(time.time())
    events = []
    for event_id in dr_reads.events_of_meters(db, list(mine)):
        found = dr_reads.event(writer, event_id)
        if upcoming_only and found.end <= now:
            continue
        programme = dr_reads.programme(writer, found.programme_id)
        shares = []
        for meter_id in (m for m in found.meters if m in mine):
            share = dr_reads.share(writer, found, programme.rates, meter_id)
            expected = None if share.settled else dr_reads.expected_baseline(
                db, mine[meter_id], programme.rule, found.start, found.end)
            shares.append({"share": share, "meter": mine[meter_id], "expected": expected})
        events.append({"e": found, "p": programme, "shares": shares, "upcoming": now < found.end,
                       "open": now < found.start, "offers": dr_reads.open_offers(db, event_id)})
    return events


async def upcoming_events(request: web.Request) -> dict:
    """Context processor: a consumer's upcoming events, for the notification box on each of his pages."""
    current = request.get("user")
    if current is None or current.role != "consumer":
        return {}
    return {"dr_upcoming": consumer_events(request, upcoming_only=True)}


@routes.get("/c/dr")
async def my_events(request: web.Request):
    require_role(request, "consumer")
    return render(request, "dr/consumer.html", {"events": consumer_events(request), "mine": _my_meters(request)})


def _my_meter(request: web.Request, form, name: str) -> int:
    meter_id = int_param(form, name, low=1)
    if meter_id is None or meter_id not in _my_meters(request):
        raise web.HTTPNotFound()
    return meter_id


def _not_started(found: dr_reads.EventView) -> None:
    if time.time() >= found.start:
        raise BadInput(_("Event %(id)s has started; its obligations can no longer be traded.", id=found.event_id))


@routes.post("/c/dr/events/{event_id}/offers")
async def offer_to_take(request: web.Request):
    require_role(request, "consumer")
    found = _event(request, int_param(request.match_info, "event_id", low=1))
    form = await request.post()
    meter_id = _my_meter(request, form, "meter_id")
    _not_started(found)
    reduction_w = int_param(form, "reduction_w", low=1, high=MAX_W)
    if reduction_w is None:
        raise BadInput(_("Say how many W of the obligation you take."))
    price = parse_rubles(form.get("price") or "")
    tx = _send(request, "offerToTake", found.event_id, meter_id, reduction_w, price)
    await flash(request, "ok", _("Your offer to take %(w)s W is on the ledger.", w=reduction_w), tx)
    raise redirect("/c/dr")


@routes.post("/c/dr/offers/{offer_id}/accept")
async def hand_over(request: web.Request):
    require_role(request, "consumer")
    offer_id = int_param(request.match_info, "offer_id", low=1)
    form = await request.post()
    meter_id = _my_meter(request, form, "meter_id")
    event_id = dr_reads.offer_event(state(request).readers, offer_id)
    if event_id is None:
        raise web.HTTPNotFound()
    _not_started(_event(request, event_id))
    tx = _send(request, "handOver", offer_id, meter_id)
    await flash(request, "ok", _("Obligation handed over; the price is paid from your wallet."), tx)
    raise redirect("/c/dr")


@routes.post("/c/dr/events/{event_id}/penalty")
async def pay_penalty(request: web.Request):
    require_role(request, "consumer")
    event_id = int_param(request.match_info, "event_id", low=1)
    form = await request.post()
    tx = _send(request, "payPenalty", event_id, _my_meter(request, form, "meter_id"))
    await flash(request, "ok", _("Penalty paid into the programme's budget."), tx)
    raise redirect("/c/dr")
