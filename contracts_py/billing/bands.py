"""Consumption bands: the price of a kWh rises with the volume consumed within a band period.

Tatarstan households from 2026: up to 3,900 kWh, 3,900-6,000 kWh, above 6,000 kWh. The limits, prices and the
length of the band period (in months) are data. A month is priced knowing what was consumed earlier in the same band
period, so a period longer than a month fills the bands across its months."""

from __future__ import annotations

from collections.abc import Sequence

from contracts_py.billing.errors import BillingError


def check_bands(limits_wh: Sequence[int], prices: Sequence[int], period_months: int) -> None:
    """Limits strictly ascending and positive, one price more than limits, a band period of 1-12 months."""
    if not limits_wh:
        raise BillingError("a banded tariff needs at least one band limit")
    if any(low >= high for low, high in zip((0, *limits_wh), limits_wh)):
        raise BillingError(f"band limits {tuple(limits_wh)} Wh are not strictly ascending from zero")
    if len(prices) != len(limits_wh) + 1:
        raise BillingError(f"{len(limits_wh)} band limits need {len(limits_wh) + 1} prices, got {len(prices)}")
    if not 1 <= period_months <= 12:
        raise BillingError(f"a band period of {period_months} months is not 1 to 12")


def band_volumes(volume_wh: int, prior_wh: int, limits_wh: Sequence[int]) -> tuple[int, ...]:
    """The month's volume in each band, given `prior_wh` already consumed in the band period."""
    parts = []
    lower = 0
    for upper in (*limits_wh, None):
        band_start = max(lower, prior_wh)
        band_end = prior_wh + volume_wh if upper is None else min(upper, prior_wh + volume_wh)
        parts.append(max(0, band_end - band_start))
        lower = upper if upper is not None else lower
    return tuple(parts)


def band_of_period(period_month: int, period_months: int) -> int:
    """Index 0.. of the band period within the year that a month (1-12) belongs to."""
    return (period_month - 1) // period_months
