"""The retailer edits the prices of its zone tariff options: a new dated version per save, signed with its key.

Single-rate, two-zone and three-zone options are edited here: a price per zone and per add-on component (in
₽/kWh, stored as milli-kopecks per kWh) and the date the version takes effect. An edited option keeps its zone
schedule and payees; a new one gets the reference schedule of its kind (FST order 1473-э) and the add-on payees of
the group's existing options. Anything that does not parse is refused on the page and nothing is sent; the
contract checks the option again (`check_option`) before the transaction is signed."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from aiohttp import web

from contracts_py import tariffs
from contracts_py.billing.bill import OptionKind
from contracts_py.billing.periods import MOSCOW_UTC_OFFSET, add_months
from contracts_py.billing.zones import SINGLE_RATE_ZONES, THREE_ZONES, TWO_ZONES, Zone, ZoneSpan
from portal import queries
from portal.i18n import gettext_ as _
from portal.labels import COMPONENTS, label
from portal.web import MOSCOW, BadInput, flash, int_param, redirect, render, require_role, state, user

routes = web.RouteTableDef()
MKOP_PER_RUBLE = 100_000
"""Prices are milli-kopecks per kWh: 1 ₽/kWh = 100 kopecks = 100,000 milli-kopecks."""
PRICE = re.compile(r"\d{1,6}([.,]\d{1,5})?")
REFERENCE_SCHEDULES = {OptionKind.SINGLE_RATE: SINGLE_RATE_ZONES, OptionKind.TWO_ZONE: TWO_ZONES,
                       OptionKind.THREE_ZONE: THREE_ZONES}
ZONE_NAMES = {Zone.ALL_DAY: "All day", Zone.DAY: "Day", Zone.NIGHT: "Night", Zone.PEAK: "Peak",
              Zone.HALF_PEAK: "Half-peak"}


@dataclass(frozen=True)
class OptionVersion:
    """An option's latest version as the tariffs contract returns it (the fields this page edits or keeps)."""

    option_id: int
    kind: int
    effective_from: int
    utc_offset: int
    energy_payee: bytes
    zones: tuple[ZoneSpan, ...]
    zone_prices: dict[int, int]
    """Zone -> milli-kopecks per kWh, in order of first appearance in the schedule."""
    add_ons: tuple[tuple[int, bytes, int], ...]
    """(component, payee, milli-kopecks per kWh)."""


def parse_price(raw: str | None, field: str) -> int:
    """A price typed in ₽/kWh (up to 5 decimals, comma or point) as milli-kopecks per kWh; BadInput otherwise."""
    raw = (raw or "").strip().replace(" ", "")
    if raw.startswith(("-", "−")):
        raise BadInput(_("%(field)s: a price cannot be negative, got “%(value)s”", field=field, value=raw[:40]))
    if not PRICE.fullmatch(raw):
        raise BadInput(_("%(field)s must be a price in ₽/kWh like 4.12345, got “%(value)s”", field=field,
                         value=raw[:40]))
    whole, _sep, fraction = raw.replace(",", ".").partition(".")
    return int(whole) * MKOP_PER_RUBLE + int((fraction + "00000")[:5])


def parse_effective_date(raw: str | None, today: dt.date) -> int:
    """An ISO date, today or later, as yyyymmdd: a new version never rewrites prices already billed."""
    raw = (raw or "").strip()
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise BadInput(_("The effective date must be a date like 2026-04-30, got “%(value)s”",
                         value=raw[:40])) from None
    if day < today:
        raise BadInput(_("The effective date %(day)s is in the past: new prices apply from today or later.",
                         day=day.isoformat()))
    return day.year * 10_000 + day.month * 100 + day.day


def latest_version(request: web.Request, group_id: int, option_id: int, effective_from: int) -> OptionVersion:
    period = add_months(effective_from // 100, 1)  # in force on that month's first day: the latest version
    (kind, effective, offset, payee, starts, ends, zone_ids, prices, _limits, _bands, _months, _category,
     components, payees, add_on_prices) = state(request).writer.view(tariffs.ADDRESS, "option", group_id, option_id,
                                                                    period)
    return OptionVersion(option_id, kind, effective, offset, payee,
                         tuple(ZoneSpan(*span) for span in zip(starts, ends, zone_ids)),
                         dict(zip(dict.fromkeys(zone_ids), prices)), tuple(zip(components, payees, add_on_prices)))


def _group_versions(request: web.Request, group_id: int) -> list[OptionVersion]:
    latest: dict[int, int] = {}
    for row in queries.tariff_options(state(request).readers, group_id):
        latest[row["option_id"]] = max(latest.get(row["option_id"], 0), row["effective_from"])
    return [latest_version(request, group_id, option_id, effective) for option_id, effective in latest.items()]


def _own_group(request: web.Request) -> int:
    require_role(request, "retailer")
    group_id = int_param(request.match_info, "group_id", low=1)
    if not any(g["group_id"] == group_id for g in queries.tariff_groups(state(request).readers,
                                                                         user(request).address)):
        raise web.HTTPNotFound()
    return group_id


@routes.get("/r/tariffs/{group_id}/options")
async def options_page(request: web.Request):
    group_id = _own_group(request)
    return render(request, "tariff_options/options.html", {
        "group_id": group_id, "versions": _group_versions(request, group_id),
        "editable": {int(k) for k in REFERENCE_SCHEDULES}, "zone_name": lambda z: label(ZONE_NAMES, z),
        "component": lambda c: label(COMPONENTS, c), "mkop_to_price": mkop_to_price,
        "today": dt.datetime.now(MOSCOW).date()})


def mkop_to_price(mkop: int) -> str:
    """Milli-kopecks per kWh as the ₽/kWh text the form takes back unchanged."""
    return f"{mkop // MKOP_PER_RUBLE}.{mkop % MKOP_PER_RUBLE:05d}"


@routes.post("/r/tariffs/{group_id}/options")
async def save_option(request: web.Request):
    group_id = _own_group(request)
    form = await request.post()
    option_id = int_param(form, "option_id", low=1, high=2**63 - 1)
    kind = int_param(form, "kind", low=1, high=5)
    if kind not in REFERENCE_SCHEDULES:
        raise BadInput(_("Only single-rate and zone options are edited here."))
    effective_from = parse_effective_date(form.get("effective_from"), dt.datetime.now(MOSCOW).date())
    versions = _group_versions(request, group_id)
    existing = next((v for v in versions if v.option_id == option_id), None)
    if existing is not None and existing.kind != kind:
        raise BadInput(_("Option %(option)s is of another kind; publish another kind as a new option.",
                         option=option_id))
    zones = existing.zones if existing else REFERENCE_SCHEDULES[OptionKind(kind)]
    zone_ids = tuple(dict.fromkeys(span.zone for span in zones))
    prices = [parse_price(form.get(f"price_{zone}"), label(ZONE_NAMES, zone)) for zone in zone_ids]
    template = existing or (versions[0] if versions else None)
    payees = [(c, p) for c, p, _price in template.add_ons] if template else []
    add_on_prices = [parse_price(form.get(f"addon_{c}"), label(COMPONENTS, c)) for c, _p in payees]
    retailer = bytes.fromhex(user(request).address[2:])
    tx = state(request).writer.send(
        state(request).users.private_key(user(request).username), tariffs.ADDRESS, "saveOption", group_id,
        option_id, kind, effective_from, existing.utc_offset if existing else MOSCOW_UTC_OFFSET,
        existing.energy_payee if existing else retailer, [s.start_minute for s in zones],
        [s.end_minute for s in zones], [s.zone for s in zones], prices, [], [], 0, 0, [c for c, _p in payees],
        [p for _c, p in payees], add_on_prices)
    await flash(request, "ok", _("Option %(option)s saved, in force from %(day)s.", option=option_id,
                                 day=f"{effective_from // 10_000}-{effective_from // 100 % 100:02d}-"
                                     f"{effective_from % 100:02d}"), tx)
    raise redirect(f"/r/tariffs/{group_id}/options")
