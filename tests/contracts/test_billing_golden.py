"""Every golden file in tests/data/billing runs through the pure billing rules; each file shows its arithmetic."""

import json
from pathlib import Path

import pytest

from contracts_py.billing import common_house, hourly, losses, substitute, zones
from contracts_py.billing.bill import (MonthUsage, OptionKind, TariffOption, ZonePrice, bill_month, check_option,
                                       usage_from_total, with_losses)
from contracts_py.billing.components import AddOn, Component, VatRate
from contracts_py.billing.periods import days_from_civil, days_in_period, period_start

DATA = Path(__file__).resolve().parent.parent / "data" / "billing"
PAYEES = {"retailer": b"\x0a" * 20, "grid": b"\x0b" * 20, "infrastructure": b"\x0c" * 20}


def golden(kind):
    files = sorted(DATA.glob("*.json"))
    return [pytest.param(json.loads(f.read_text()), id=f.stem) for f in files
            if json.loads(f.read_text())["kind"] == kind]


def minute(hhmm):
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def minutes_in(start, end):
    """Local minutes covered by [start, end), wrapping past midnight."""
    a, b = minute(start), minute(end)
    return range(a, b) if a < b else [*range(a, 1440), *range(0, b)]


def intervals_of(consumption, period, utc_offset):
    """The month's half-hourly intervals (UTC start, Wh) from a daily pattern in local time plus extras."""
    per_half_hour = [None] * 48
    for start, end, wh in consumption["half_hour_wh"]:
        for m in minutes_in(start, end)[::30]:
            assert per_half_hour[m // 30] is None
            per_half_hour[m // 30] = wh
    assert None not in per_half_hour
    extra = {}
    for when, wh in consumption.get("extra", []):
        date, hhmm = when.split()
        y, mo, d = map(int, date.split("-"))
        extra[days_from_civil(y, mo, d) * 86400 + minute(hhmm) * 60 - utc_offset] = wh
    first = period_start(period, utc_offset)
    result = []
    for index in range(days_in_period(period) * 48):
        start = first + index * 1800
        result.append((start, per_half_hour[index % 48] + extra.get(start, 0)))
    return result


def option_of(data):
    kind = OptionKind[data["kind"].upper()]
    return TariffOption(
        kind=kind, effective_from=data["effective_from"], utc_offset=10800, energy_payee=PAYEES["retailer"],
        zones=tuple(zones.ZoneSpan(a, b, zones.Zone[z.upper()]) for a, b, z in data.get("zones", [])),
        zone_prices=tuple(ZonePrice(zones.Zone[z.upper()], p) for z, p in data.get("zone_prices", {}).items()),
        band_limits_wh=tuple(data.get("band_limits_wh", ())), band_prices=tuple(data.get("band_prices", ())),
        band_period_months=data.get("band_period_months", 0), price_category=data.get("price_category", 0),
        add_ons=tuple(AddOn(Component[c.upper()], PAYEES[p], price) for c, p, price in data["add_ons"]))


def hourly_prices_of(data, period):
    days = days_in_period(period)
    by_hour = [None] * 24
    for start, end, price in data["energy_by_local_hour"]:
        for h in range(minute(start) // 60, minute(end) // 60):
            by_hour[h] = price
    return hourly.HourlyPrices(
        period=period, energy_mkop_per_kwh=tuple(by_hour[h % 24] for h in range(days * 24)),
        peak_hours=tuple((day - 1) * 24 + data["peak_hour"] for day in data["working_days"]),
        capacity_mkop_per_kw=data["capacity_mkop_per_kw"],
        network_window_start_hour=data["network_window"][0], network_window_end_hour=data["network_window"][1],
        network_mkop_per_kw=data["network_mkop_per_kw"])


def check_bill(bill, expected):
    assert bill.volume_wh == expected["volume_wh"]
    assert [(Component(l.component).name.lower(), l.payee, l.quantity, l.net, l.vat) for l in bill.lines] == [
        (c, PAYEES[p], q, net, vat) for c, p, q, net, vat in expected["lines"]]
    assert bill.total == expected["total"]


def in_force_option(versions, period):
    from contracts_py.billing.periods import in_force
    options = [option_of(v) for v in versions]
    for option in options:
        check_option(option)
    return in_force(options, period)


@pytest.mark.parametrize("case", golden("bill"))
def test_golden_bill(case):
    period, offset = case["period"], case["utc_offset"]
    intervals = intervals_of(case["consumption"], period, offset)
    option = in_force_option(case["option_versions"], period)
    usage = MonthUsage(period, zones.day_profile(intervals, offset), hourly.hourly_volumes(intervals, period, offset))
    if "losses" in case:
        usage = with_losses(usage, losses.LossAdjustment(**case["losses"]))
    prices = hourly_prices_of(case["hourly_prices"], period) if "hourly_prices" in case else None
    vat = [VatRate(d, bp) for d, bp in case["vat"]]
    bill = bill_month(usage, option, vat, prices)
    check_bill(bill, case["expected"])
    if "zone_volumes" in case["expected"]:
        names = {str(k): v for k, v in case["expected"]["zone_volumes"].items()}
        if option.kind == OptionKind.BANDED:
            assert {str(band): wh for band, wh in bill.zone_volumes} == names
        else:
            assert {zones.Zone(z).name.lower(): wh for z, wh in bill.zone_volumes} == names


@pytest.mark.parametrize("case", golden("common_house"))
def test_golden_common_house(case):
    premises = [common_house.Premises(p["id"], p["area_dm2"], p["metered_wh"], p["residential"])
                for p in case["premises"]]
    result = common_house.common_house_needs(case["house_wh"], premises)
    assert result.premises_wh == case["expected"]["premises_wh"]
    assert result.common_wh == case["expected"]["common_wh"]
    assert dict(result.shares) == case["expected"]["shares"]
    assert sum(share for _, share in result.shares) == result.common_wh


@pytest.mark.parametrize("case", golden("substitute"))
def test_golden_substitute(case):
    household = substitute.HouseholdRule(**case["household_rule"])
    legal = substitute.LegalEntityRule(**case["legal_entity_rule"])
    volumes = []
    for item in case["cases"]:
        history = {int(p): wh for p, wh in item["history"].items()}
        if item["who"] == "household":
            got = substitute.household_volume(item["period"], history, item["missing_in_row"], item["residents"],
                                              household)
        else:
            got = substitute.legal_entity_volume(item["period"], history, item["missing_in_row"],
                                                 item["max_capacity_w"], legal)
        assert (got.volume_wh, substitute.Method(got.method).name.lower()) == (
            item["expected"]["volume_wh"], item["expected"]["method"]), item["worked"]
        volumes.append(got.volume_wh)
    for item in case["recalculations"]:
        got = substitute.recalculate(item["month_wh"], item["gap_real_wh"], item["substituted_wh"])
        assert got == substitute.Recalculation(**item["expected"]), item["worked"]
    spec = case["bill"]
    option = in_force_option(spec["option_versions"], spec["period"])
    usage = usage_from_total(spec["period"], volumes[spec["case"]])
    bill = bill_month(usage, option, [VatRate(d, bp) for d, bp in spec["vat"]])
    check_bill(bill, spec["expected"])
