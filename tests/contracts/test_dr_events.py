"""Demand response: programmes, events, obligation trading and settlement from hourly profiles, through
`execute_call` on an in-memory chain (`World` from test_billing_world)."""

import eth_abi
import pytest

from contracts_py import demand_response as dr
from contracts_py import demand_response_rules as rules
from contracts_py import readings, ruble
from contracts_py.billing.periods import MOSCOW_UTC_OFFSET, days_from_civil
from test_billing_world import BANK, CONSUMER, GATEWAY, GRID, NEIGHBOUR, RETAILER, World

AGGREGATOR = bytes([0xA9]) * 20
EVENT_DAY = days_from_civil(2026, 5, 13)
"""A Wednesday."""
EVENT_START = EVENT_DAY * 86_400 - MOSCOW_UTC_OFFSET + 18 * 3_600
EVENT_END = EVENT_START + 2 * 3_600
"""18:00-20:00 Moscow time."""
APRIL_1 = days_from_civil(2026, 4, 1) * 86_400 - MOSCOW_UTC_OFFSET
RATES = (5_000_000, 2_500_000, 3_000_000, 500_000)
"""Reward 50 RUB/kWh, bonus 25 RUB/kWh beyond the obligation, penalty 30 RUB/kWh short, below 50% delivered."""


def logs_of(result, event_cls):
    spec = event_cls.__event_spec__
    data_types = [t for t, i in zip(spec.field_types, spec.indexed) if not i]
    return [eth_abi.decode(data_types, log.data) for log in result.logs if log.topics[0] == spec.topic]


def evening_wh(event_day_wh):
    """Wh per half hour: 200 at night and day, 2,000 on working evenings 18-20, 3,000 on weekend evenings, and
    `event_day_wh` on the event's evening."""
    def wh(start):
        local = start + MOSCOW_UTC_OFFSET
        day, half_hour = divmod(local, 86_400)
        if not 36 <= half_hour // 1_800 < 40:
            return 200
        if day == EVENT_DAY:
            return event_day_wh
        return 3_000 if rules.is_weekend(day) else 2_000
    return wh


class Site:
    """A meter with an hourly profile and the register its gateway posts."""

    def __init__(self, world, number, consumer, wh_of):
        self.world, self.wh_of, self.register, self.posted_to = world, wh_of, 1_000_000, APRIL_1
        self.meter = world.account(number, consumer=consumer, hourly=True)

    def post_until(self, end):
        starts, registers = [], []
        for start in range(self.posted_to, end, 1_800):
            self.register += self.wh_of(start)
            starts.append(start)
            registers.append(self.register)
        for at in range(0, len(starts), 1_500):
            self.world.ok(GATEWAY, readings.ADDRESS, "postReadings", self.meter, starts[at:at + 1_500],
                          registers[at:at + 1_500], [0] * len(starts[at:at + 1_500]))
        self.posted_to = end


@pytest.fixture
def world():
    w = World()
    w.ok(BANK, ruble.ADDRESS, "transfer", GRID, 10_000_000)
    w.a = Site(w, 4001, CONSUMER, evening_wh(500))
    w.b = Site(w, 4002, NEIGHBOUR, evening_wh(1_600))
    w.now = EVENT_START - 6 * 3_600
    for site in (w.a, w.b):
        site.post_until(w.now - 1_800)
    w.ok(GRID, dr.ADDRESS, "createProgramme", 1, AGGREGATOR, "Evening peak, Kazan", 5, True, *RATES)
    w.ok(GRID, dr.ADDRESS, "fundProgramme", 1, 1_000_000)
    w.ok(AGGREGATOR, dr.ADDRESS, "enrol", 1, 4001, 2_000)
    w.ok(AGGREGATOR, dr.ADDRESS, "enrol", 1, 4002, 3_000)
    return w


def after_event(world):
    world.now = EVENT_END + 6 * 3_600
    for site in (world.a, world.b):
        site.post_until(world.now - 1_800)


def test_settlement_pays_rewards_and_records_a_net_penalty(world):
    announced = world.ok(AGGREGATOR, dr.ADDRESS, "announceEvent", 1, EVENT_START, EVENT_END, [4001, 4002],
                         [2_000, 3_000])
    assert logs_of(announced, dr.ParticipantNotified) == [(2_000, EVENT_START, EVENT_END),
                                                          (3_000, EVENT_START, EVENT_END)]
    event_id = announced.value
    after_event(world)
    before = world.balance(CONSUMER)
    result = world.ok(GRID, dr.ADDRESS, "settle", event_id, [4001, 4002])
    # A: baseline 8,000 Wh (5 working evenings, 4 half hours x 2,000), actual 2,000: 6,000 reduced against
    # 4,000 obliged: 4 kWh x 50 RUB + 2 kWh x 25 RUB = 250 RUB.
    # B: 1,600 reduced of 6,000 obliged (< 50%): reward 1.6 kWh x 50 = 80 RUB, penalty 4.4 kWh x 30 = 132 RUB.
    assert logs_of(result, dr.ParticipantSettled) == [(8_000, 2_000, 4_000, 25_000, 0, 25_000, 0),
                                                      (8_000, 6_400, 6_000, 8_000, 13_200, 0, 5_200)]
    assert result.value == 25_000 and world.balance(CONSUMER) - before == 25_000
    assert world.ok(GRID, dr.ADDRESS, "programme", 1).value[9] == 975_000
    assert world.ok(NEIGHBOUR, dr.ADDRESS, "share", event_id, 4002).value == (3_000, True, 8_000, 6_400, 8_000,
                                                                               13_200, 5_200)
    world.ok(BANK, ruble.ADDRESS, "transfer", NEIGHBOUR, 5_200)
    world.ok(NEIGHBOUR, dr.ADDRESS, "payPenalty", event_id, 4002)
    assert world.ok(GRID, dr.ADDRESS, "programme", 1).value[9] == 980_200
    again = world.call(NEIGHBOUR, dr.ADDRESS, "payPenalty", event_id, 4002)
    assert not again.success and "owes no penalty" in again.revert_reason


def test_an_event_is_settled_once_per_participant(world):
    event_id = world.ok(GRID, dr.ADDRESS, "announceEvent", 1, EVENT_START, EVENT_END, [4001], [2_000]).value
    after_event(world)
    world.ok(AGGREGATOR, dr.ADDRESS, "settle", event_id, [4001])
    before = dict(world.state.data)
    again = world.call(AGGREGATOR, dr.ADDRESS, "settle", event_id, [4001])
    assert not again.success and "meter 4001 is already settled for event 1" in again.revert_reason
    outsider = world.call(AGGREGATOR, dr.ADDRESS, "settle", event_id, [4002])
    assert not outsider.success and "meter 4002 takes no part in event 1" in outsider.revert_reason
    assert world.state.data == before


def test_settlement_waits_for_the_event_end_and_final_readings(world):
    event_id = world.ok(GRID, dr.ADDRESS, "announceEvent", 1, EVENT_START, EVENT_END, [4001], [2_000]).value
    early = world.call(GRID, dr.ADDRESS, "settle", event_id, [4001])
    assert not early.success and "has not ended" in early.revert_reason
    world.now = EVENT_END + 3_600
    world.a.post_until(EVENT_END - 1_800)  # the event's last half hour is not yet recorded
    pending = world.call(GRID, dr.ADDRESS, "settle", event_id, [4001])
    assert not pending.success and "readings are not final for the event" in pending.revert_reason


def test_the_budget_must_cover_the_reward(world):
    world.ok(GRID, dr.ADDRESS, "createProgramme", 2, AGGREGATOR, "Thin budget", 5, True, *RATES)
    world.ok(GRID, dr.ADDRESS, "fundProgramme", 2, 10_000)
    world.ok(AGGREGATOR, dr.ADDRESS, "enrol", 2, 4001, 2_000)
    event_id = world.ok(GRID, dr.ADDRESS, "announceEvent", 2, EVENT_START, EVENT_END, [4001], [2_000]).value
    after_event(world)
    result = world.call(GRID, dr.ADDRESS, "settle", event_id, [4001])
    assert not result.success and "budget 10000 does not cover 25000 kopecks" in result.revert_reason


def test_a_baseline_without_enough_history_is_refused(world):
    world.ok(GRID, dr.ADDRESS, "createProgramme", 3, AGGREGATOR, "Long memory", 20, True, *RATES)
    world.ok(AGGREGATOR, dr.ADDRESS, "enrol", 3, 4001, 2_000)
    world.now = APRIL_1 + 6 * 86_400
    start = APRIL_1 + 7 * 86_400 + 18 * 3_600  # Wednesday 8 April: five working days of history
    event_id = world.ok(GRID, dr.ADDRESS, "announceEvent", 3, start, start + 3_600, [4001], [2_000]).value
    world.now = EVENT_END + 6 * 3_600
    world.a.post_until(world.now - 1_800)
    result = world.call(GRID, dr.ADDRESS, "settle", event_id, [4001])
    assert not result.success and "has 5 comparable days of hourly history, the baseline needs 20" in \
        result.revert_reason


def test_comparable_days_skip_other_kinds_and_days_without_history():
    rule = rules.BaselineRule(days=3, same_day_kind=True)
    assert rules.comparable_days(EVENT_DAY, rule, lambda day: True) == (EVENT_DAY - 1, EVENT_DAY - 2, EVENT_DAY - 5)
    assert rules.comparable_days(EVENT_DAY, rules.BaselineRule(3, False), lambda day: day != EVENT_DAY - 2) == (
        EVENT_DAY - 1, EVENT_DAY - 3, EVENT_DAY - 4)
    assert rules.comparable_days(EVENT_DAY, rule, lambda day: False) == ()


@pytest.mark.parametrize("sender, args, reason", [
    (RETAILER, (1, EVENT_START, EVENT_END, [4001], [2_000]), "runs neither programme 1 nor its events"),
    (GRID, (1, EVENT_START, EVENT_START, [4001], [2_000]), "an event needs a period"),
    (GRID, (1, EVENT_START + 60, EVENT_END, [4001], [2_000]), "whole hours"),
    (GRID, (1, EVENT_START, EVENT_END, [4001], [2_001]), "not within its offer of 2000 W"),
    (GRID, (1, EVENT_START, EVENT_END, [4001, 4001], [1, 1]), "named twice"),
    (GRID, (1, EVENT_START, EVENT_END, [4003], [1]), "meter 4003 is not enrolled in programme 1"),
    (GRID, (1, EVENT_START - 12 * 3_600, EVENT_START - 11 * 3_600, [4001], [1]), "announced before it starts"),
    (GRID, (1, EVENT_START, EVENT_START + 8 * 3_600, [4001], [1]), "not within one local day"),
    (GRID, (9, EVENT_START, EVENT_END, [4001], [1]), "unknown programme 9"),
])
def test_announcement_refusals(world, sender, args, reason):
    before = dict(world.state.data)
    result = world.call(sender, dr.ADDRESS, "announceEvent", *args)
    assert not result.success and reason in result.revert_reason
    assert world.state.data == before


def test_enrolment_refusals(world):
    world.account(4005, consumer=CONSUMER)
    flat = world.call(AGGREGATOR, dr.ADDRESS, "enrol", 1, 4005, 1_000)
    assert not flat.success and "keeps no hourly profile" in flat.revert_reason
    stranger = world.call(RETAILER, dr.ADDRESS, "enrol", 1, 4001, 1_000)
    assert not stranger.success and "runs neither programme 1" in stranger.revert_reason
    not_grid = world.call(AGGREGATOR, dr.ADDRESS, "createProgramme", 5, AGGREGATOR, "x", 5, True, *RATES)
    assert not not_grid.success and "lacks the grid_company role" in not_grid.revert_reason


def test_obligation_changes_hands_for_a_price_before_the_event(world):
    event_id = world.ok(GRID, dr.ADDRESS, "announceEvent", 1, EVENT_START, EVENT_END, [4001, 4002],
                        [2_000, 3_000]).value
    offer_id = world.ok(CONSUMER, dr.ADDRESS, "offerToTake", event_id, 4001, 1_000, 1_500).value
    foreign = world.call(NEIGHBOUR, dr.ADDRESS, "offerToTake", event_id, 4001, 1_000, 1_500)
    assert not foreign.success and "meter 4001 is not 0x" in foreign.revert_reason
    poor = world.call(NEIGHBOUR, dr.ADDRESS, "handOver", offer_id, 4002)
    assert not poor.success and "insufficient balance" in poor.revert_reason
    world.ok(BANK, ruble.ADDRESS, "transfer", NEIGHBOUR, 1_500)
    before = world.balance(CONSUMER)
    traded = world.ok(NEIGHBOUR, dr.ADDRESS, "handOver", offer_id, 4002)
    assert logs_of(traded, dr.ObligationTraded) == [(1_000, 1_500)]
    assert world.balance(CONSUMER) - before == 1_500 and world.balance(NEIGHBOUR) == 0
    assert world.ok(GRID, dr.ADDRESS, "share", event_id, 4001).value[0] == 3_000
    assert world.ok(GRID, dr.ADDRESS, "share", event_id, 4002).value[0] == 2_000
    closed = world.call(NEIGHBOUR, dr.ADDRESS, "handOver", offer_id, 4002)
    assert not closed.success and "unknown or closed" in closed.revert_reason


def test_obligation_cannot_be_traded_after_the_event_starts(world):
    event_id = world.ok(GRID, dr.ADDRESS, "announceEvent", 1, EVENT_START, EVENT_END, [4001, 4002],
                        [2_000, 3_000]).value
    offer_id = world.ok(CONSUMER, dr.ADDRESS, "offerToTake", event_id, 4001, 1_000, 0).value
    world.now = EVENT_START
    before = dict(world.state.data)
    late = world.call(NEIGHBOUR, dr.ADDRESS, "handOver", offer_id, 4002)
    assert not late.success and "has started; obligations are fixed" in late.revert_reason
    late_offer = world.call(CONSUMER, dr.ADDRESS, "offerToTake", event_id, 4001, 1_000, 0)
    assert not late_offer.success and "has started" in late_offer.revert_reason
    assert world.state.data == before


def test_demand_response_event_from_announcement_to_rewards_end_to_end(world):
    """Announced by the aggregator; the neighbour hands 1 kW to the consumer for 15 RUB; after the event both
    are settled from final readings: the consumer delivers its 3 kW in full, the neighbour falls short but its
    reward still exceeds its penalty."""
    event_id = world.ok(AGGREGATOR, dr.ADDRESS, "announceEvent", 1, EVENT_START, EVENT_END, [4001, 4002],
                        [2_000, 3_000]).value
    world.ok(BANK, ruble.ADDRESS, "transfer", NEIGHBOUR, 1_500)
    offer_id = world.ok(CONSUMER, dr.ADDRESS, "offerToTake", event_id, 4001, 1_000, 1_500).value
    world.ok(NEIGHBOUR, dr.ADDRESS, "handOver", offer_id, 4002)
    after_event(world)
    assert world.ok(GRID, dr.ADDRESS, "baseline", event_id, 4002).value == (8_000, 6_400)
    consumer_before = world.balance(CONSUMER)
    settled = world.ok(AGGREGATOR, dr.ADDRESS, "settle", event_id, [4001, 4002])
    # A: 6,000 of 6,000 Wh obliged -> 6 kWh x 50 RUB = 300 RUB. B: 1,600 of 4,000 (< 50%): 80 RUB reward,
    # 2.4 kWh x 30 RUB = 72 RUB penalty, 8 RUB paid.
    assert logs_of(settled, dr.ParticipantSettled) == [(8_000, 2_000, 6_000, 30_000, 0, 30_000, 0),
                                                       (8_000, 6_400, 4_000, 8_000, 7_200, 800, 0)]
    assert world.balance(CONSUMER) - consumer_before == 30_000 and world.balance(NEIGHBOUR) == 800
    assert world.ok(GRID, dr.ADDRESS, "programme", 1).value[9] == 1_000_000 - 30_800
    assert world.balance(dr.ADDRESS) == 1_000_000 - 30_800
