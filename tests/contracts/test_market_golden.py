"""Golden files of the market's other applications, each with its arithmetic worked by hand: green certificate
issuance with carried remainders (tests/data/green), a demand-response baseline with its reward, bonus and penalty
(tests/data/dr), and a prosumer's invoice with the export netted (tests/data/prosumer). The first two run the
contracts on an in-memory chain, the third the pure billing rules."""

import json
from pathlib import Path

import pytest

from contracts_py import demand_response as dr
from contracts_py import demand_response_rules as rules
from contracts_py import green, registry, ruble
from contracts_py.billing import hourly, zones
from contracts_py.billing.bill import MonthUsage, bill_month
from contracts_py.billing.components import Component, VatRate
from contracts_py.billing.netting import net_export, paid_by_retailer
from contracts_py.billing.periods import days_from_civil, days_in_period
from test_billing_golden import PAYEES, in_force_option, intervals_of, minute, minutes_in
from test_billing_world import BANK, CONSUMER, GRID, NEIGHBOUR, World
from test_dr_events import AGGREGATOR, APRIL_1, Site
from test_green_certificates import post_exports

DATA = Path(__file__).resolve().parent.parent / "data"


def cases(area):
    return [pytest.param(json.loads(f.read_text()), id=f.stem) for f in sorted((DATA / area).glob("*.json"))]


def day_number(date: str) -> int:
    return days_from_civil(*map(int, date.split("-")))


def half_hours(span) -> int:
    """How many local half hours a [from, to) span covers."""
    return len(minutes_in(*span)[::30])


# --- green certificates ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", cases("green"))
def test_golden_green_issuance(case):
    facility, meter = case["facility"], case["meter"]
    assert case["sunny_half_hours"] == ["10:00", "16:00"]  # the hours `post_exports` exports in
    world = World()
    meter_id = world.account(2001, consumer=CONSUMER, max_power_w=1_000_000)
    world.ok(GRID, registry.ADDRESS, "configureMeter", meter_id, 2, meter["ct_ratio"], meter["vt_ratio"], 0, True,
             False, 1_000_000, meter["utc_offset"])
    world.ok(GRID, green.ADDRESS, "registerFacility", 7, CONSUMER, green.Technology[facility["technology"].upper()],
             facility["capacity_w"], facility["commissioned_on"], meter_id, "Solar plant")
    register, issued = 0, 0
    for month in case["months"]:
        assert days_in_period(month["period"]) == month["days"]
        register = post_exports(world, meter_id, month["period"], register, month["meter_wh_per_sunny_half_hour"])
        issued += world.ok(CONSUMER, green.ADDRESS, "issue", 7, month["period"]).value
        e = month["expected"]
        assert world.ok(CONSUMER, green.ADDRESS, "issuance", 7, month["period"]).value[:6] == (
            e["issuance_id"], e["measured_wh"], e["carry_in_wh"], e["certificates"], e["carry_out_wh"],
            e["first_serial"])
        assert world.ok(CONSUMER, green.ADDRESS, "facility", 7).value[7:] == (month["period"], e["carry_out_wh"])
    assert issued == case["expected_certificates"]


# --- demand response ---------------------------------------------------------------------------------------------

def profile_of(case, meter):
    """Meter Wh of the half hour starting at a UTC time, by the file's profile (Moscow time)."""
    profile, event = case["profile"], case["event"]
    evening = range(minute(profile["evening"][0]) // 30, minute(profile["evening"][1]) // 30)
    event_day = day_number(event["date"])
    by_day = {day_number(d): wh for d, wh in profile["evening_wh_per_half_hour_by_date"].items()}

    def wh(start):
        day, second = divmod(start + 10_800, 86_400)
        if second // 1_800 not in evening:
            return profile["wh_per_half_hour"]
        if day == event_day:
            return meter["event_evening_wh_per_half_hour"]
        return by_day.get(day, profile["evening_wh_per_half_hour"])
    return wh


@pytest.mark.parametrize("case", cases("dr"))
def test_golden_demand_response(case):
    event, rule, rates = case["event"], case["rule"], case["rates"]
    event_day = day_number(event["date"])
    start = event_day * 86_400 - 10_800 + minute(event["from"]) * 60
    end = event_day * 86_400 - 10_800 + minute(event["to"]) * 60
    world = World()
    world.ok(BANK, ruble.ADDRESS, "transfer", GRID, 10_000_000)
    consumers = (CONSUMER, NEIGHBOUR)
    sites = [Site(world, p["meter"], consumer, profile_of(case, p)) for p, consumer in
             zip(case["participants"], consumers)]
    for p in case["participants"]:
        world.ok(GRID, registry.ADDRESS, "configureMeter", p["meter"], 2, p["ct_ratio"], 1, 0, True, True, 20_000,
                 10_800)
    world.now = start - 6 * 3_600
    for site in sites:
        site.post_until(world.now - 1_800)
    world.ok(GRID, dr.ADDRESS, "createProgramme", 1, AGGREGATOR, "Evening peak", rule["baseline_days"],
             rule["same_day_kind"], rates["reward_mkop_per_kwh"], rates["bonus_mkop_per_kwh"],
             rates["penalty_mkop_per_kwh"], rates["penalty_threshold_ppm"])
    world.ok(GRID, dr.ADDRESS, "fundProgramme", 1, 1_000_000)
    for p in case["participants"]:
        world.ok(AGGREGATOR, dr.ADDRESS, "enrol", 1, p["meter"], p["offered_w"])
    meters = [p["meter"] for p in case["participants"]]
    world.ok(AGGREGATOR, dr.ADDRESS, "announceEvent", 1, start, end, meters,
             [p["obligation_w"] for p in case["participants"]])
    world.now = end + 6 * 3_600
    for site in sites:
        site.post_until(world.now - 1_800)
    world.ok(AGGREGATOR, dr.ADDRESS, "settle", 1, meters)

    first_day = (APRIL_1 + 10_800) // 86_400  # `Site` posts from the start of April
    days = rules.comparable_days(event_day, rules.BaselineRule(rule["baseline_days"], rule["same_day_kind"]),
                                 lambda day: day >= first_day)
    assert days == tuple(day_number(d) for d in case["expected_comparable_days"])
    balances = {consumer: 0 for consumer in consumers}
    for p, consumer in zip(case["participants"], consumers):
        e = p["expected"]
        assert world.ok(AGGREGATOR, dr.ADDRESS, "share", 1, p["meter"]).value == (
            p["obligation_w"], True, e["baseline_wh"], e["actual_wh"], e["reward"], e["penalty"], e["penalty_due"])
        assert rules.settle_share(e["baseline_wh"], e["actual_wh"], p["obligation_w"], (end - start) // 3_600,
                                  rules.Rates(**rates)).obligation_wh == e["obligation_wh"]
        balances[consumer] += e["paid"]
    assert {consumer: world.balance(consumer) for consumer in consumers} == balances


# --- prosumer ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", cases("prosumer"))
def test_golden_netted_invoice(case):
    period, offset = case["period"], case["utc_offset"]
    intervals = intervals_of(case["consumption"], period, offset)
    usage = MonthUsage(period, zones.day_profile(intervals, offset), hourly.hourly_volumes(intervals, period, offset))
    bill = bill_month(usage, in_force_option([case["option"]], period), [VatRate(d, bp) for d, bp in case["vat"]])
    assert [(Component(l.component).name.lower(), l.payee, l.total) for l in bill.lines] == [
        (c, PAYEES[p], total) for c, p, total in case["charges"]["lines"]]
    assert bill.total == case["charges"]["total"]
    names = {payee: name for name, payee in PAYEES.items()}
    for item in case["cases"]:
        e = item["expected"]
        sunny = days_in_period(period) * half_hours(case["sunny_half_hours"])
        export_wh = sunny * item["export_wh_per_sunny_half_hour"]
        assert export_wh == e["export_wh"], item["name"]
        netting = net_export(bill.lines, PAYEES["retailer"], export_wh, case["export_mkop_per_kwh"])
        assert (netting.credit, list(netting.applied), netting.payout) == (e["credit"], e["applied"], e["payout"])
        assert {names[payee]: kop for payee, kop in paid_by_retailer(bill.lines, PAYEES["retailer"], netting)} == \
            e["paid_by_retailer"]
        assert (bill.total - netting.credit, max(bill.total - netting.credit, 0)) == (e["net"], e["due"])
