"""Bill 10,000 accounts for one month of half-hourly readings with the pure billing rules.

Readings are generated in memory (48 x 30 intervals per account, deterministic), folded into each account's day
profile (and hourly volumes for the hourly accounts), and billed under a mix of tariff options: single-rate,
two-zone, three-zone, banded and, for 1 in 50 accounts, hourly with capacity (price category 4).
Goal: <= 30 s. The last line reads `billing: N accounts/s, T s for 10000 accounts`."""

from __future__ import annotations

import argparse
import time

from contracts_py.billing import hourly, zones
from contracts_py.billing.bill import MonthUsage, OptionKind, TariffOption, ZonePrice, bill_month
from contracts_py.billing.components import AddOn, Component, VatRate
from contracts_py.billing.periods import MOSCOW_UTC_OFFSET, days_in_period, period_start

PERIOD = 202604
RETAILER, GRID, INFRA = b"\x0a" * 20, b"\x0b" * 20, b"\x0c" * 20
ADD_ONS = (AddOn(Component.TRANSMISSION, GRID, 181_234), AddOn(Component.RETAIL_MARKUP, RETAILER, 52_345),
           AddOn(Component.INFRASTRUCTURE, INFRA, 1_287))
VAT = (VatRate(20190101, 2000), VatRate(20260101, 2200))


def option(kind, spans=(), prices=(), **extra) -> TariffOption:
    return TariffOption(kind, 20260101, MOSCOW_UTC_OFFSET, RETAILER, spans,
                        tuple(ZonePrice(z, p) for z, p in prices), extra.get("limits", ()),
                        extra.get("band_prices", ()), extra.get("months", 0), extra.get("category", 0), ADD_ONS)


OPTIONS = (
    option(OptionKind.SINGLE_RATE, zones.SINGLE_RATE_ZONES, [(zones.Zone.ALL_DAY, 412_345)]),
    option(OptionKind.TWO_ZONE, zones.TWO_ZONES, [(zones.Zone.DAY, 520_000), (zones.Zone.NIGHT, 310_000)]),
    option(OptionKind.THREE_ZONE, zones.THREE_ZONES,
           [(zones.Zone.PEAK, 615_000), (zones.Zone.HALF_PEAK, 470_000), (zones.Zone.NIGHT, 280_000)]),
    option(OptionKind.BANDED, limits=(3_900_000, 6_000_000), band_prices=(560_000, 890_000, 1_230_000), months=1),
)
HOURLY = option(OptionKind.HOURLY, category=4)


def hourly_prices() -> hourly.HourlyPrices:
    days = days_in_period(PERIOD)
    return hourly.HourlyPrices(PERIOD, tuple(250_000 if h % 24 < 7 or h % 24 == 23 else 480_000
                                             for h in range(days * 24)),
                               tuple(day * 24 + 10 for day in range(days) if day % 7 not in (3, 4)),
                               101_234_567, 8, 21, 98_765_432)


def month_of_readings(account: int) -> list[tuple[int, int]]:
    """One account's half-hourly (UTC start, Wh) for the month: a daily shape that varies by account and day."""
    first = period_start(PERIOD, MOSCOW_UTC_OFFSET)
    base = 40 + account % 97
    return [(first + i * 1_800, base + (i % 48) * 3 + (i // 48 + account) % 11)
            for i in range(days_in_period(PERIOD) * 48)]


def bill_accounts(count: int) -> tuple[int, float, float]:
    """Bill `count` accounts; returns (sum of all bills in kopecks, seconds billing, seconds generating)."""
    prices = hourly_prices()
    billing = generating = 0.0
    grand_total = 0
    for account in range(count):
        started = time.perf_counter()
        intervals = month_of_readings(account)
        generated = time.perf_counter()
        profile = zones.day_profile(intervals, MOSCOW_UTC_OFFSET)
        if account % 50 == 49:
            usage = MonthUsage(PERIOD, profile, hourly.hourly_volumes(intervals, PERIOD, MOSCOW_UTC_OFFSET))
            bill = bill_month(usage, HOURLY, VAT, prices)
        else:
            bill = bill_month(MonthUsage(PERIOD, profile), OPTIONS[account % len(OPTIONS)], VAT)
        grand_total += bill.total
        billing += time.perf_counter() - generated
        generating += generated - started
    return grand_total, billing, generating


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    args = parser.parse_args()
    total, seconds, generating = bill_accounts(args.accounts)
    print(f"billed {args.accounts} accounts, {days_in_period(PERIOD) * 48} intervals each; "
          f"sum of bills {total} kopecks; generating the readings took {generating:.1f} s more")
    print(f"billing: {args.accounts / seconds:.0f} accounts/s, {seconds:.1f} s for {args.accounts} accounts")


if __name__ == "__main__":
    main()
