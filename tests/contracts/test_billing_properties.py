"""Properties of the billing rules over generated data (hypothesis)."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts_py.billing import zones
from contracts_py.billing.bill import MonthUsage, OptionKind, TariffOption, ZonePrice, bill_month
from contracts_py.billing.components import AddOn, Component, VatRate, split_payment
from contracts_py.billing.errors import ScheduleError
from contracts_py.billing.periods import HALF_HOUR, MOSCOW_UTC_OFFSET, half_hour_of_day, period_start
from contracts_py.billing.rounding import largest_remainder

VAT = (VatRate(20190101, 2000), VatRate(20260101, 2200))
RETAILER, GRID = b"\x0a" * 20, b"\x0b" * 20

line_totals = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=8).filter(lambda t: sum(t) > 0)


@given(line_totals, st.data())
def test_payment_splits_sum_to_the_payment_to_the_kopeck(totals, data):
    amount = data.draw(st.integers(min_value=1, max_value=sum(totals)))
    parts = split_payment(amount, totals)
    assert sum(parts) == amount
    assert all(0 <= part <= total for part, total in zip(parts, totals))
    assert split_payment(sum(totals), totals) == tuple(totals)


@given(st.integers(min_value=0, max_value=10**12), st.lists(st.integers(min_value=0, max_value=10**6), min_size=1))
def test_largest_remainder_parts_sum_exactly_and_stay_within_one_of_the_exact_share(total, weights):
    if sum(weights) == 0:
        weights = [1] * len(weights)
    parts = largest_remainder(total, weights)
    assert sum(parts) == total
    assert all(abs(part * sum(weights) - total * w) < sum(weights) for part, w in zip(parts, weights))


@st.composite
def schedules(draw):
    """A random valid schedule: cut points on the half-hour grid, rotated so a span may wrap past midnight."""
    cuts = sorted(draw(st.sets(st.integers(min_value=1, max_value=47), max_size=8)))
    shift = draw(st.integers(min_value=0, max_value=47))
    bounds = [0, *cuts, 48]
    spans = []
    for start, end in zip(bounds, bounds[1:]):
        zone = draw(st.sampled_from(list(zones.Zone)))
        spans.append(zones.ZoneSpan((start + shift) % 48 * 30, (end + shift) % 48 * 30, zone))
    if len(spans) == 1:
        spans = [zones.ZoneSpan(0, 1440, spans[0].zone)]
    return spans


def covers(span, half_hour):
    minute = half_hour * 30
    if span.start_minute < span.end_minute:
        return span.start_minute <= minute < span.end_minute
    return minute >= span.start_minute or minute < span.end_minute


@given(schedules())
def test_zone_assignment_covers_every_half_hour_of_the_day_exactly_once(spans):
    table = zones.zone_table(spans)
    assert len(table) == 48
    for half_hour in range(48):
        holders = [span for span in spans if covers(span, half_hour)]
        assert len(holders) == 1 and table[half_hour] == holders[0].zone


@given(schedules(), st.data())
def test_a_schedule_with_a_span_removed_or_doubled_is_rejected(spans, data):
    if len(spans) > 1:
        victim = data.draw(st.integers(min_value=0, max_value=len(spans) - 1))
        broken = spans[:victim] + spans[victim + 1:]
    else:
        broken = spans + [zones.ZoneSpan(0, 30, zones.Zone.NIGHT)]
    try:
        zones.zone_table(broken)
    except ScheduleError:
        return
    raise AssertionError(f"{broken} accepted")


@given(st.integers(min_value=period_start(202601, MOSCOW_UTC_OFFSET) // HALF_HOUR,
                   max_value=period_start(203601, MOSCOW_UTC_OFFSET) // HALF_HOUR))
def test_local_half_hours_run_0_to_47_every_day_without_dst(index):
    """Moscow time has no DST: any 48 consecutive half-hours hit each local half-hour of the day once."""
    start = index * HALF_HOUR
    seen = sorted(half_hour_of_day(start + k * HALF_HOUR, MOSCOW_UTC_OFFSET) for k in range(48))
    assert seen == list(range(48))


PRICE = st.integers(min_value=0, max_value=2_000_000)


@st.composite
def zoned_options(draw):
    kind = draw(st.sampled_from([OptionKind.SINGLE_RATE, OptionKind.TWO_ZONE, OptionKind.THREE_ZONE]))
    spans = {OptionKind.SINGLE_RATE: zones.SINGLE_RATE_ZONES, OptionKind.TWO_ZONE: zones.TWO_ZONES,
             OptionKind.THREE_ZONE: zones.THREE_ZONES}[kind]
    prices = tuple(ZonePrice(z, draw(PRICE)) for z in zones.zones_of(spans))
    add_ons = (AddOn(Component.TRANSMISSION, GRID, draw(PRICE)), AddOn(Component.RETAIL_MARKUP, RETAILER, draw(PRICE)))
    return TariffOption(kind, 20260101, MOSCOW_UTC_OFFSET, RETAILER, spans, prices, (), (), 0, 0, add_ons)


@settings(max_examples=50)
@given(zoned_options(), st.integers(min_value=0, max_value=2**32), st.integers(min_value=0, max_value=20_000))
def test_billing_the_same_readings_twice_gives_the_same_bill(option, seed, peak_wh):
    """A month of readings (1440 half-hours drawn from a seed) billed twice, in any order, gives the same bill."""
    rnd = random.Random(seed)
    values = [rnd.randint(0, peak_wh) for _ in range(1440)]
    start = period_start(202604, MOSCOW_UTC_OFFSET)
    intervals = [(start + k * HALF_HOUR, wh) for k, wh in enumerate(values)]
    first = bill_month(MonthUsage(202604, zones.day_profile(intervals, MOSCOW_UTC_OFFSET)), option, VAT)
    shuffled = list(intervals)
    rnd.shuffle(shuffled)
    again = bill_month(MonthUsage(202604, zones.day_profile(shuffled, MOSCOW_UTC_OFFSET)), option, VAT)
    assert first == again
    assert first.volume_wh == sum(values)
    assert first.total == sum(line.net + line.vat for line in first.lines)
