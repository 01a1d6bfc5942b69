"""Hourly billing of legal entities with a capacity charge (price categories 3 and 4).

Energy is priced hour by hour at the retailer's published prices for the month. Capacity (generation) is charged on
the consumer's average consumption in the system operator's peak hours: one hour per working day, published with
the prices. Category 4 also pays the grid for network capacity: the average over working days of the consumer's
maximum hourly consumption within the grid's planned peak window. All of it is data per billing period."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from contracts_py.billing.errors import BillingError
from contracts_py.billing.periods import check_utc_offset, days_in_period, period_start
from contracts_py.billing.rounding import MICRO_PER_KOPECK, round_half_up

HOURS_PER_DAY = 24


@dataclass(frozen=True, slots=True)
class HourlyPrices:
    """The retailer's published prices of one month for an hourly tariff."""

    period: int
    energy_mkop_per_kwh: tuple[int, ...]
    """One price per local hour of the month (days x 24)."""
    peak_hours: tuple[int, ...]
    """The system operator's peak hour of each working day, as hour-of-month indices (day x 24 + hour)."""
    capacity_mkop_per_kw: int
    """Generation capacity price per kW per month."""
    network_window_start_hour: int
    network_window_end_hour: int
    """The grid's planned peak window [start, end) in local hours, category 4 only."""
    network_mkop_per_kw: int
    """Network capacity rate per kW per month, category 4 only (0 for category 3)."""


def check_prices(prices: HourlyPrices, category: int) -> None:
    hours = days_in_period(prices.period) * HOURS_PER_DAY
    if len(prices.energy_mkop_per_kwh) != hours:
        raise BillingError(f"period {prices.period} has {hours} hours, got {len(prices.energy_mkop_per_kwh)} prices")
    if not prices.peak_hours:
        raise BillingError("no peak hours published for capacity")
    days = [hour // HOURS_PER_DAY for hour in prices.peak_hours]
    if any(not 0 <= hour < hours for hour in prices.peak_hours) or days != sorted(set(days)):
        raise BillingError("peak hours must be one per working day, ascending, within the month")
    if category == 4:
        if not 0 <= prices.network_window_start_hour < prices.network_window_end_hour <= HOURS_PER_DAY:
            raise BillingError("the network peak window is not [start, end) within a day")
    elif category != 3:
        raise BillingError(f"hourly billing covers price categories 3 and 4, not {category}")


def hourly_volumes(intervals: Iterable[tuple[int, int]], period: int, utc_offset: int) -> tuple[int, ...]:
    """Wh per local hour of the month from half-hourly intervals `(utc start, Wh)` inside the period."""
    check_utc_offset(utc_offset)
    start = period_start(period, utc_offset)
    hours = [0] * (days_in_period(period) * HOURS_PER_DAY)
    for interval_start, energy in intervals:
        index = (interval_start - start) // 3_600
        if not 0 <= index < len(hours):
            raise BillingError(f"interval at {interval_start} lies outside period {period}")
        hours[index] += energy
    return tuple(hours)


def energy_amount(hourly_wh: Sequence[int], prices: HourlyPrices) -> int:
    """Kopecks of energy: each hour's Wh at its price, rounded once."""
    if len(hourly_wh) != len(prices.energy_mkop_per_kwh):
        raise BillingError(f"{len(hourly_wh)} hourly volumes for {len(prices.energy_mkop_per_kwh)} prices")
    micro = sum(wh * price for wh, price in zip(hourly_wh, prices.energy_mkop_per_kwh))
    return round_half_up(micro, MICRO_PER_KOPECK)


def peak_capacity(hourly_wh: Sequence[int], prices: HourlyPrices) -> tuple[int, int]:
    """(average W in the peak hours rounded to the W, kopecks at the capacity price rounded once)."""
    total_wh = sum(hourly_wh[hour] for hour in prices.peak_hours)
    days = len(prices.peak_hours)
    return (round_half_up(total_wh, days),
            round_half_up(total_wh * prices.capacity_mkop_per_kw, days * MICRO_PER_KOPECK))


def network_capacity(hourly_wh: Sequence[int], prices: HourlyPrices) -> tuple[int, int]:
    """(average of the daily maxima in the grid's window in W, kopecks at the network rate rounded once)."""
    maxima = 0
    for peak_hour in prices.peak_hours:
        day_start = peak_hour // HOURS_PER_DAY * HOURS_PER_DAY
        maxima += max(hourly_wh[day_start + prices.network_window_start_hour:
                                day_start + prices.network_window_end_hour])
    days = len(prices.peak_hours)
    return (round_half_up(maxima, days),
            round_half_up(maxima * prices.network_mkop_per_kw, days * MICRO_PER_KOPECK))
