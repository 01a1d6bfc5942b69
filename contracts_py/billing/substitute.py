"""Substitute volumes for months without readings, and their recalculation when readings arrive.

Households (decree 354, item 59): for a limited number of months in a row, the average monthly consumption of the
preceding real months (up to a window); afterwards, or without enough history, the normative per resident. Legal
entities (decree 442, item 166): for a limited number of months, the same month of the last year, or the previous
month when that is unknown; afterwards the calculated method, maximum capacity times the hours of the month. Every
limit is data. When real readings arrive, the real consumption over the gap replaces what was substituted, and the
difference is billed (or credited) in the month the readings came."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

from contracts_py.billing.errors import BillingError
from contracts_py.billing.periods import add_months, days_in_period
from contracts_py.billing.rounding import round_half_up


class Method(IntEnum):
    """How a month's volume was established; stored on-chain."""

    READINGS = 0
    AVERAGE = 1
    NORMATIVE = 2
    SAME_MONTH_LAST_YEAR = 3
    PREVIOUS_MONTH = 4
    MAX_CAPACITY = 5


@dataclass(frozen=True, slots=True)
class HouseholdRule:
    effective_from: int
    months_by_average: int
    """How many months in a row the average may stand in (3 in decree 354)."""
    averaging_months: int
    """The window of preceding real months averaged (6)."""
    min_history_months: int
    """Real months needed in the window to use the average at all."""
    normative_wh_per_resident: int


@dataclass(frozen=True, slots=True)
class LegalEntityRule:
    effective_from: int
    months_by_history: int
    """How many months in a row last year's (or last month's) volume may stand in (2 in decree 442)."""


@dataclass(frozen=True, slots=True)
class SubstituteVolume:
    volume_wh: int
    method: int


def household_volume(period: int, real_history: Mapping[int, int], missing_in_row: int, residents: int,
                     rule: HouseholdRule) -> SubstituteVolume:
    """The volume to bill for a household month without readings.

    `real_history` maps earlier periods to volumes established from readings; `missing_in_row` counts the months
    without readings up to and including `period`."""
    if missing_in_row < 1 or residents < 0:
        raise BillingError("a substitute volume needs at least one missing month and a resident count >= 0")
    if missing_in_row <= rule.months_by_average:
        last_real = add_months(period, -missing_in_row)
        window = [add_months(last_real, -back) for back in range(rule.averaging_months)]
        known = [real_history[p] for p in window if p in real_history]
        if len(known) >= max(1, rule.min_history_months):
            return SubstituteVolume(round_half_up(sum(known), len(known)), Method.AVERAGE)
    return SubstituteVolume(rule.normative_wh_per_resident * residents, Method.NORMATIVE)


def legal_entity_volume(period: int, real_history: Mapping[int, int], missing_in_row: int, max_capacity_w: int,
                        rule: LegalEntityRule) -> SubstituteVolume:
    """The volume to bill for a legal entity's month without readings."""
    if missing_in_row < 1 or max_capacity_w < 0:
        raise BillingError("a substitute volume needs at least one missing month and a capacity >= 0")
    if missing_in_row <= rule.months_by_history:
        last_year = add_months(period, -12)
        if last_year in real_history:
            return SubstituteVolume(real_history[last_year], Method.SAME_MONTH_LAST_YEAR)
        last_real = add_months(period, -missing_in_row)
        if last_real in real_history:
            return SubstituteVolume(real_history[last_real], Method.PREVIOUS_MONTH)
    return SubstituteVolume(max_capacity_w * days_in_period(period) * 24, Method.MAX_CAPACITY)


@dataclass(frozen=True, slots=True)
class Recalculation:
    """The month's billed volume after the real consumption over a gap replaced what was substituted."""

    billed_wh: int
    correction_wh: int
    """Real consumption over the gap less the substituted volumes: negative is a credit."""
    carried_credit_wh: int
    """Credit that exceeded this month's volume, carried to the next month."""


def recalculate(month_wh: int, gap_real_wh: int, substituted_wh: int) -> Recalculation:
    """Bill the month's real volume plus the correction for the gap; a credit never makes a bill negative."""
    if min(month_wh, gap_real_wh, substituted_wh) < 0:
        raise BillingError("volumes must not be negative")
    correction = gap_real_wh - substituted_wh
    billed = month_wh + correction
    return Recalculation(max(billed, 0), correction, max(-billed, 0))
