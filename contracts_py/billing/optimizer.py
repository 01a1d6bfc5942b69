"""The tariff optimizer: what the last months would have cost under every option open to an account.

Each month is billed under each option's version in force for it, from the same usage, so the comparison is
like for like. An option that cannot bill a month (an hourly option without hourly volumes or prices) is not open
to the account and is left out. Results run cheapest first, ties by option id."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from contracts_py.billing.bands import band_of_period
from contracts_py.billing.bill import MonthUsage, OptionKind, TariffOption, bill_month
from contracts_py.billing.components import VatRate
from contracts_py.billing.errors import BillingError
from contracts_py.billing.hourly import HourlyPrices
from contracts_py.billing.periods import in_force


@dataclass(frozen=True, slots=True)
class OptionCost:
    option_id: int
    total: int
    """Kopecks for all the months compared, VAT included."""
    monthly: tuple[int, ...]


def _with_band_history(usages: Sequence[MonthUsage], option: TariffOption) -> list[MonthUsage]:
    """Usages with the consumption earlier in their band period (among the months compared) filled in."""
    filled = []
    prior = 0
    previous_band = None
    for usage in usages:
        year, month = divmod(usage.period, 100)
        band = (year, band_of_period(month, option.band_period_months))
        prior = prior if band == previous_band else 0
        filled.append(replace(usage, prior_band_wh=prior))
        prior += usage.volume_wh
        previous_band = band
    return filled


def compare_options(usages: Sequence[MonthUsage], options: Mapping[int, Sequence[TariffOption]],
                    vat_rates: Sequence[VatRate],
                    hourly_prices: Mapping[int, HourlyPrices] | None = None) -> tuple[OptionCost, ...]:
    """The cost of `usages` (ascending periods) under every option (id -> its versions), cheapest first."""
    if not usages:
        raise BillingError("the optimizer needs at least one month of usage")
    periods = [u.period for u in usages]
    if periods != sorted(set(periods)):
        raise BillingError("usage months must be distinct and ascending")
    prices = hourly_prices or {}
    costs = []
    for option_id in sorted(options):
        try:
            versions = [in_force(options[option_id], u.period) for u in usages]
            monthly = []
            for usage, version in zip(usages, versions):
                if version.kind == OptionKind.BANDED:
                    usage = _with_band_history([u for u in usages if u.period <= usage.period], version)[-1]
                monthly.append(bill_month(usage, version, vat_rates, prices.get(usage.period)).total)
        except BillingError:
            continue
        costs.append(OptionCost(option_id, sum(monthly), tuple(monthly)))
    return tuple(sorted(costs, key=lambda cost: (cost.total, cost.option_id)))
