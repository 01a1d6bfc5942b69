"""Demand response rules as pure functions: comparable days and the reward and penalty arithmetic."""

import pytest

from contracts_py.billing.periods import days_from_civil
from contracts_py.demand_response_rules import BaselineRule, Outcome, Rates, comparable_days, is_weekend, settle_share

RATES = Rates(reward_mkop_per_kwh=5_000_000, bonus_mkop_per_kwh=2_500_000, penalty_mkop_per_kwh=3_000_000,
              penalty_threshold_ppm=500_000)


def test_weekends_follow_the_calendar():
    assert [is_weekend(days_from_civil(2026, 5, d)) for d in range(11, 18)] == [False] * 5 + [True] * 2


def test_comparable_days_stop_at_the_lookback_window():
    monday = days_from_civil(2026, 5, 11)
    rule = BaselineRule(days=20, same_day_kind=True)
    days = comparable_days(monday, rule, lambda day: True)
    assert len(days) == 20 and not any(is_weekend(day) for day in days)
    sparse = comparable_days(monday, rule, lambda day: day % 3 == 0)
    assert 0 < len(sparse) < 20 and min(sparse) >= monday - 45


@pytest.mark.parametrize("baseline, actual, obligation_w, hours, expected", [
    (8_000, 2_000, 2_000, 2, Outcome(6_000, 4_000, 25_000, 0)),  # beyond the obligation: bonus
    (8_000, 4_000, 2_000, 2, Outcome(4_000, 4_000, 20_000, 0)),  # exactly the obligation
    (8_000, 6_000, 2_000, 2, Outcome(2_000, 4_000, 10_000, 0)),  # exactly the 50% threshold: no penalty
    (8_000, 6_001, 2_000, 2, Outcome(1_999, 4_000, 9_995, 6_003)),  # just below the threshold
    (8_000, 9_000, 2_000, 2, Outcome(0, 4_000, 0, 12_000)),  # consumed more than the baseline
    (8_000, 7_999, 0, 2, Outcome(1, 0, 2, 0)),  # obligation handed away: 1 Wh x 25 RUB/kWh = 2.5 kopecks
    (1, 0, 1, 1, Outcome(1, 1, 5, 0)),  # 1 Wh x 50 RUB/kWh = 5 kopecks
])
def test_reward_and_penalty_arithmetic(baseline, actual, obligation_w, hours, expected):
    assert settle_share(baseline, actual, obligation_w, hours, RATES) == expected
