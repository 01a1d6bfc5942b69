"""The billing rules' edges: bad schedules and options rejected with a reason, dated parameters, the optimizer."""

import dataclasses

import pytest

from contracts_py.billing import bands, losses, periods, zones
from contracts_py.billing.bill import (MonthUsage, OptionKind, TariffOption, ZonePrice, bill_month, check_option,
                                       usage_from_total)
from contracts_py.billing.components import AddOn, Component, VatRate, split_payment
from contracts_py.billing.errors import BillingError, NotInForce, ScheduleError
from contracts_py.billing.optimizer import compare_options
from contracts_py.billing.rounding import kopecks, round_half_up

RETAILER, GRID = b"\x0a" * 20, b"\x0b" * 20
VAT = (VatRate(20190101, 2000), VatRate(20260101, 2200))
ADD_ONS = (AddOn(Component.TRANSMISSION, GRID, 180_000),)


def option(kind, spans=(), prices=(), effective_from=20260101, **extra):
    return TariffOption(kind, effective_from, periods.MOSCOW_UTC_OFFSET, RETAILER, tuple(spans), tuple(prices),
                        extra.get("limits", ()), extra.get("band_prices", ()), extra.get("months", 0),
                        extra.get("category", 0), ADD_ONS)


SINGLE = option(OptionKind.SINGLE_RATE, zones.SINGLE_RATE_ZONES, [ZonePrice(zones.Zone.ALL_DAY, 500_000)])
TWO = option(OptionKind.TWO_ZONE, zones.TWO_ZONES,
             [ZonePrice(zones.Zone.DAY, 600_000), ZonePrice(zones.Zone.NIGHT, 250_000)])


@pytest.mark.parametrize("spans, reason", [
    ([zones.ZoneSpan(420, 1380, 1), zones.ZoneSpan(1320, 420, 2)], "zones overlap at minutes 1320-1380"),
    ([zones.ZoneSpan(420, 1380, 1), zones.ZoneSpan(1380, 360, 2)], "minutes 360-420 belong to no zone"),
    ([zones.ZoneSpan(420, 1390, 1), zones.ZoneSpan(1390, 420, 2)], "1390 is not a half-hour"),
    ([zones.ZoneSpan(0, 0, 0)], "empty zone span"),
    ([zones.ZoneSpan(0, 1440, 9)], "unknown zone 9"),
    ([], "at least one span"),
])
def test_bad_zone_schedules_are_rejected_with_the_reason(spans, reason):
    with pytest.raises(ScheduleError, match=reason):
        zones.zone_table(spans)


def test_reference_schedules_are_valid_and_three_zone_has_14_peak_half_hours():
    table = zones.zone_table(zones.THREE_ZONES)
    assert table.count(zones.Zone.PEAK) == 14 and table.count(zones.Zone.HALF_PEAK) == 18
    assert table.count(zones.Zone.NIGHT) == 16 and table[0] == zones.Zone.NIGHT and table[14] == zones.Zone.PEAK


def test_option_whose_zones_do_not_match_its_kind_or_prices_is_rejected():
    with pytest.raises(BillingError, match="needs exactly the zones day, night"):
        check_option(dataclasses.replace(TWO, zones=zones.THREE_ZONES))
    with pytest.raises(BillingError, match="one price per zone"):
        check_option(dataclasses.replace(TWO, zone_prices=TWO.zone_prices[:1]))
    with pytest.raises(BillingError, match="not strictly ascending"):
        check_option(option(OptionKind.BANDED, limits=(6_000_000, 3_900_000), band_prices=(1, 2, 3), months=1))
    with pytest.raises(BillingError, match="price category 3 or 4"):
        check_option(option(OptionKind.HOURLY, category=2))
    with pytest.raises(BillingError, match="appears twice"):
        check_option(dataclasses.replace(SINGLE, add_ons=ADD_ONS * 2))
    check_option(SINGLE)
    check_option(TWO)


def test_vat_and_option_versions_in_force_follow_the_billing_period():
    old = dataclasses.replace(SINGLE, effective_from=20250101,
                              zone_prices=(ZonePrice(zones.Zone.ALL_DAY, 400_000),))
    usage = usage_from_total(202512, 100_000)
    assert periods.in_force([SINGLE, old], 202512) is old
    assert periods.in_force([SINGLE, old], 202601) is SINGLE
    with pytest.raises(NotInForce):
        periods.in_force([SINGLE], 202512)
    december = bill_month(usage, old, VAT)
    assert december.lines[0].net == 40_000 and december.lines[0].vat == 8_000  # 20% in 2025
    january = bill_month(dataclasses.replace(usage, period=202601), old, VAT)
    assert january.lines[0].vat == 8_800  # 22% from 2026-01-01


def test_bands_fill_across_a_longer_band_period():
    assert bands.band_volumes(1_000_000, 3_500_000, (3_900_000, 6_000_000)) == (400_000, 600_000, 0)
    assert bands.band_volumes(1_000_000, 7_000_000, (3_900_000, 6_000_000)) == (0, 0, 1_000_000)
    assert bands.band_volumes(0, 0, (3_900_000,)) == (0, 0)


def test_losses_subtracted_never_below_zero():
    assert losses.adjust((100, 0, 50), losses.LossAdjustment(0, 1_000, True)) == (0, 0, 0)
    assert losses.adjust((0, 0), losses.LossAdjustment(10_000, 3, False)) == (2, 1)
    assert losses.loss_volume(1_000_000, losses.LossAdjustment(20_000, 0, True)) == -20_000


def test_rounding_is_half_away_from_zero():
    assert [kopecks(x) for x in (499_999, 500_000, 1_500_000, -500_000, -499_999)] == [0, 1, 2, -1, 0]
    assert round_half_up(5, 2) == 3 and round_half_up(-5, 2) == -3
    with pytest.raises(BillingError):
        round_half_up(1, 0)


def test_overpayment_split_is_refused():
    with pytest.raises(BillingError, match="does not fit"):
        split_payment(101, [60, 40])
    assert split_payment(50, [60, 40]) == (30, 20)


def test_calendar_from_utc_to_moscow_periods():
    new_year_moscow = periods.period_start(202601, periods.MOSCOW_UTC_OFFSET)
    assert periods.local_date(new_year_moscow, periods.MOSCOW_UTC_OFFSET) == 20260101
    assert periods.period_of(new_year_moscow - 1, periods.MOSCOW_UTC_OFFSET) == 202512
    assert periods.days_in_period(202402) == 29 and periods.days_in_period(202602) == 28
    assert periods.add_months(202601, -1) == 202512 and periods.next_period(202612) == 202701
    for days in (-1, 0, 19_000, 20_454, 100_000):
        y, m, d = periods.civil_from_days(days)
        assert periods.days_from_civil(y, m, d) == days


def test_optimizer_ranks_options_cheapest_first_and_skips_those_not_open():
    night_heavy = MonthUsage(202602, tuple(20_000 if h < 14 or h >= 46 else 1_000 for h in range(48)))
    day_heavy = MonthUsage(202603, tuple(1_000 if h < 14 or h >= 46 else 20_000 for h in range(48)))
    hourly = option(OptionKind.HOURLY, category=3)
    ranked = compare_options([night_heavy], {1: [SINGLE], 2: [TWO], 3: [hourly]}, VAT)
    assert [cost.option_id for cost in ranked] == [2, 1]
    ranked = compare_options([day_heavy], {1: [SINGLE], 2: [TWO]}, VAT)
    assert [cost.option_id for cost in ranked] == [1, 2]
    both = compare_options([night_heavy, day_heavy], {1: [SINGLE], 2: [TWO]}, VAT)
    assert all(cost.total == sum(cost.monthly) for cost in both)
    with pytest.raises(BillingError):
        compare_options([day_heavy, night_heavy], {1: [SINGLE]}, VAT)


def test_ledger_carries_a_substitute_credit_beyond_the_month_and_fills_long_band_periods():
    from contracts_py.billing.ledger import AccountLedger, AccountMonth, MonthVolume, bill_account_month
    april = usage_from_total(202604, 100_000)
    credit = AccountLedger(202603, 2, 250_000, 2, ())
    billed = bill_account_month(AccountMonth(april, 1_440, False, 0), credit, SINGLE, VAT, None, None)
    assert billed.bill.volume_wh == 0 and billed.ledger.unreconciled_wh == 150_000
    assert billed.ledger.missing_in_row == 0 and billed.ledger.history[-1] == MonthVolume(202604, 100_000, 0, 0)
    with pytest.raises(BillingError, match="needs the substitute-volume rules"):
        bill_account_month(AccountMonth(usage_from_total(202604, 0), 0, False, 0), credit, SINGLE, VAT, None, None)
    quarterly = option(OptionKind.BANDED, limits=(300_000,), band_prices=(100_000, 200_000), months=3)
    history = AccountLedger(202604, 0, 0, 0, (MonthVolume(202603, 0, 250_000, 0), MonthVolume(202604, 0, 240_000, 0)))
    may = bill_account_month(AccountMonth(usage_from_total(202605, 100_000), 1, False, 0), history, quarterly, VAT,
                             None, None)
    assert may.bill.zone_volumes == ((0, 60_000), (1, 40_000))  # Q2 began in April with 240,000 Wh; March is Q1
