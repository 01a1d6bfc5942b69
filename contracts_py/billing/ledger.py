"""An account's month billed from its metered usage and what billing carried over from earlier months.

The ledger is the account's memory between invoices: the last invoiced period, months in a row without readings,
substituted volume not yet set against real readings, residents (for the normative) and the last 13 months'
volumes (for averages, the same month of last year, and bands longer than a month). A month with readings bills
its metered volume less what was substituted before (a credit beyond the month carries on); a month without any
reading bills a substitute volume. The account's share of its building's common-house needs is billed in lines of
its own, priced like energy used evenly around the clock, so each payee's part of it stays visible."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from contracts_py.billing import substitute
from contracts_py.billing.bill import Bill, MonthUsage, OptionKind, TariffOption, bill_month, usage_from_total
from contracts_py.billing.bill import with_volume
from contracts_py.billing.components import BillLine, Component, VatRate
from contracts_py.billing.errors import BillingError
from contracts_py.billing.hourly import HourlyPrices

HISTORY_MONTHS = 13
"""Monthly volumes kept per account: enough for the same month of last year."""


@dataclass(frozen=True, slots=True)
class MonthVolume:
    period: int
    metered_wh: int
    """From readings (after ratios and losses); 0 for a substituted month."""
    billed_wh: int
    method: int


@dataclass(frozen=True, slots=True)
class AccountLedger:
    last_period: int
    missing_in_row: int
    unreconciled_wh: int
    """Volume billed by substitution (or credit carried) not yet set against real readings."""
    residents: int
    history: tuple[MonthVolume, ...]


EMPTY_LEDGER = AccountLedger(0, 0, 0, 0, ())


@dataclass(frozen=True, slots=True)
class AccountMonth:
    """What an account's month looks like to billing, gathered from the registry and the readings."""

    usage: MonthUsage
    """Metered usage after transformer ratios and losses."""
    intervals_recorded: int
    legal_entity: bool
    max_capacity_w: int
    common_house_wh: int = 0


@dataclass(frozen=True, slots=True)
class BilledMonth:
    bill: Bill
    metered_wh: int
    method: int
    ledger: AccountLedger
    """The ledger after this month."""


def band_prior(ledger: AccountLedger, option: TariffOption, period: int) -> int:
    """Volume billed earlier in the band period of `period` (bands longer than a month)."""
    if option.kind != OptionKind.BANDED or option.band_period_months <= 1:
        return 0
    year, month = divmod(period, 100)
    first = year * 100 + (month - 1) // option.band_period_months * option.band_period_months + 1
    return sum(m.billed_wh for m in ledger.history if first <= m.period < period)


def _common_house_lines(month: AccountMonth, billed_wh: int, option: TariffOption, vat: Sequence[VatRate],
                        prices: HourlyPrices | None) -> tuple[BillLine, ...]:
    period = month.usage.period
    hours = len(prices.energy_mkop_per_kwh) if prices else 0
    usage = replace(usage_from_total(period, month.common_house_wh, hours), prior_band_wh=billed_wh)
    lines = bill_month(usage, option, vat, prices).lines
    return tuple(replace(line, component=int(Component.COMMON_HOUSE)) if line.component == Component.ENERGY
                 else line for line in lines
                 if line.component not in (Component.CAPACITY, Component.NETWORK_CAPACITY))


def bill_account_month(month: AccountMonth, ledger: AccountLedger, option: TariffOption, vat: Sequence[VatRate],
                       prices: HourlyPrices | None,
                       rules: tuple[substitute.HouseholdRule, substitute.LegalEntityRule] | None) -> BilledMonth:
    """Bill an account's month: metered (less earlier substitutes) or substituted, plus common-house needs.

    `rules` may be None when the month has readings (they are needed only to substitute)."""
    usage = month.usage
    period = usage.period
    hours = len(prices.energy_mkop_per_kwh) if prices else 0
    history = {m.period: m.metered_wh for m in ledger.history if m.method == substitute.Method.READINGS}
    if month.intervals_recorded:
        metered, method, missing = usage.volume_wh, substitute.Method.READINGS, 0
        billed = max(metered - ledger.unreconciled_wh, 0)
        unreconciled = max(ledger.unreconciled_wh - metered, 0)
        usage = with_volume(usage, billed)
    else:
        if rules is None:
            raise BillingError("a month without readings needs the substitute-volume rules")
        missing = ledger.missing_in_row + 1
        if month.legal_entity:
            estimate = substitute.legal_entity_volume(period, history, missing, month.max_capacity_w, rules[1])
        else:
            estimate = substitute.household_volume(period, history, missing, ledger.residents, rules[0])
        metered, method, billed = 0, estimate.method, estimate.volume_wh
        unreconciled = ledger.unreconciled_wh + billed
        usage = usage_from_total(period, billed, hours)
    usage = replace(usage, prior_band_wh=band_prior(ledger, option, period))
    bill = bill_month(usage, option, vat, prices)
    if month.common_house_wh:
        bill = replace(bill, lines=bill.lines + _common_house_lines(month, usage.prior_band_wh + billed, option,
                                                                    vat, prices))
    entry = MonthVolume(period, metered, billed, method)
    after = AccountLedger(period, missing, unreconciled, ledger.residents,
                          (ledger.history + (entry,))[-HISTORY_MONTHS:])
    return BilledMonth(bill, metered, method, after)
