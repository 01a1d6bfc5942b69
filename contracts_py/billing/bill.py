"""A month's bill of one account: its usage priced by the tariff option in force, line by line.

`MonthUsage` is what billing needs of the readings: the month's Wh per local half-hour of the day (any zone
schedule's volumes follow from it) and, for hourly tariffs, the Wh of every hour of the month. `TariffOption` is one
effective-dated version of a tariff option as the retailer published it. `bill_month` is a pure function of the two
(plus VAT and, for hourly options, the month's prices): the same inputs always give the same bill."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import IntEnum

from contracts_py.billing import bands, hourly, losses, zones
from contracts_py.billing.components import (AddOn, BillLine, Component, add_on_lines, check_add_ons, check_payee,
                                             line, vat_in_force, VatRate)
from contracts_py.billing.errors import BillingError
from contracts_py.billing.periods import HALF_HOURS_PER_DAY, check_date, check_period, check_utc_offset
from contracts_py.billing.rounding import kopecks, largest_remainder


class OptionKind(IntEnum):
    """Tariff options; stored on-chain."""

    SINGLE_RATE = 1
    TWO_ZONE = 2
    THREE_ZONE = 3
    BANDED = 4
    HOURLY = 5


ZONES_OF_KIND = {
    OptionKind.SINGLE_RATE: (zones.Zone.ALL_DAY,),
    OptionKind.TWO_ZONE: (zones.Zone.DAY, zones.Zone.NIGHT),
    OptionKind.THREE_ZONE: (zones.Zone.NIGHT, zones.Zone.PEAK, zones.Zone.HALF_PEAK),
}


@dataclass(frozen=True, slots=True)
class ZonePrice:
    zone: int
    mkop_per_kwh: int


@dataclass(frozen=True, slots=True)
class TariffOption:
    """One version of a tariff option: every price and schedule as data, in force from `effective_from`."""

    kind: int
    effective_from: int
    utc_offset: int
    """Local time of the zones and hours: seconds east of UTC (Europe/Moscow: 10800)."""
    energy_payee: bytes
    zones: tuple[zones.ZoneSpan, ...]
    zone_prices: tuple[ZonePrice, ...]
    band_limits_wh: tuple[int, ...]
    band_prices: tuple[int, ...]
    band_period_months: int
    price_category: int
    """3 or 4 for hourly options, else 0."""
    add_ons: tuple[AddOn, ...]


@dataclass(frozen=True, slots=True)
class MonthUsage:
    """The month's consumption as billing needs it."""

    period: int
    profile: tuple[int, ...]
    """Wh per local half-hour of the day, summed over the month (48 values)."""
    hourly_wh: tuple[int, ...] = ()
    """Wh per local hour of the month, for hourly options (empty otherwise)."""
    prior_band_wh: int = 0
    """Wh consumed earlier in the same band period, for banded options."""

    @property
    def volume_wh(self) -> int:
        return sum(self.profile)


@dataclass(frozen=True, slots=True)
class Bill:
    period: int
    volume_wh: int
    zone_volumes: tuple[tuple[int, int], ...]
    """(zone, Wh) for zone options; (band index, Wh) for banded ones; empty for hourly ones."""
    lines: tuple[BillLine, ...]

    @property
    def total(self) -> int:
        return sum(bill_line.total for bill_line in self.lines)


def check_option(option: TariffOption) -> None:
    """Reject an option that could not bill consistently, saying why."""
    if option.kind not in OptionKind._value2member_map_:
        raise BillingError(f"unknown tariff option kind {option.kind}")
    kind = OptionKind(option.kind)
    check_date(option.effective_from)
    check_utc_offset(option.utc_offset)
    check_payee(option.energy_payee)
    check_add_ons(option.add_ons)
    if kind in ZONES_OF_KIND:
        table = zones.zone_table(option.zones)
        expected = tuple(sorted(ZONES_OF_KIND[kind]))
        if tuple(sorted(set(table))) != expected:
            names = ", ".join(zones.Zone(z).name.lower() for z in expected)
            raise BillingError(f"a {kind.name.lower()} option needs exactly the zones {names}")
        if sorted(p.zone for p in option.zone_prices) != list(expected):
            raise BillingError("zone prices must give exactly one price per zone of the schedule")
    elif kind is OptionKind.BANDED:
        bands.check_bands(option.band_limits_wh, option.band_prices, option.band_period_months)
    elif option.price_category not in (3, 4):
        raise BillingError(f"an hourly option needs price category 3 or 4, not {option.price_category}")
    if kind is OptionKind.HOURLY and option.price_category == 4 and not any(
            a.component == Component.TRANSMISSION for a in option.add_ons):
        raise BillingError("price category 4 needs a transmission component to route network capacity to")


def usage_from_total(period: int, volume_wh: int, hours: int = 0) -> MonthUsage:
    """Usage for a volume known only as a total (a substitute volume): spread evenly over the day and the hours."""
    check_period(period)
    profile = largest_remainder(volume_wh, [1] * HALF_HOURS_PER_DAY)
    hourly_wh = largest_remainder(volume_wh, [1] * hours) if hours else ()
    return MonthUsage(period, profile, hourly_wh)


def with_losses(usage: MonthUsage, loss: losses.LossAdjustment) -> MonthUsage:
    """The usage with a meter's losses added or subtracted, spread as the energy flowed."""
    hourly_wh = losses.adjust(usage.hourly_wh, loss) if usage.hourly_wh else ()
    return MonthUsage(usage.period, losses.adjust(usage.profile, loss), hourly_wh, usage.prior_band_wh)


def bill_month(usage: MonthUsage, option: TariffOption, vat_rates: Sequence[VatRate],
               hourly_prices: hourly.HourlyPrices | None = None) -> Bill:
    """Price a month's usage under one tariff option version: one line per component, each rounded once."""
    check_period(usage.period)
    if len(usage.profile) != HALF_HOURS_PER_DAY:
        raise BillingError(f"a day profile has 48 half-hours, got {len(usage.profile)}")
    vat = vat_in_force(vat_rates, usage.period)
    volume = usage.volume_wh
    kind = OptionKind(option.kind)
    lines: list[BillLine] = []
    if kind in ZONES_OF_KIND:
        volumes = zones.zone_volumes(usage.profile, zones.zone_table(option.zones))
        price = {p.zone: p.mkop_per_kwh for p in option.zone_prices}
        energy = kopecks(sum(wh * price[zone] for zone, wh in volumes.items()))
        breakdown = tuple(volumes.items())
    elif kind is OptionKind.BANDED:
        parts = bands.band_volumes(volume, usage.prior_band_wh, option.band_limits_wh)
        energy = kopecks(sum(wh * p for wh, p in zip(parts, option.band_prices)))
        breakdown = tuple(enumerate(parts))
    else:
        if hourly_prices is None or hourly_prices.period != usage.period:
            raise BillingError(f"hourly option without published prices for period {usage.period}")
        hourly.check_prices(hourly_prices, option.price_category)
        if sum(usage.hourly_wh) != volume:
            raise BillingError("hourly volumes do not add up to the month's volume")
        energy = hourly.energy_amount(usage.hourly_wh, hourly_prices)
        breakdown = ()
    lines.append(line(Component.ENERGY, option.energy_payee, volume, energy, vat))
    if kind is OptionKind.HOURLY:
        capacity_w, capacity = hourly.peak_capacity(usage.hourly_wh, hourly_prices)
        lines.append(line(Component.CAPACITY, option.energy_payee, capacity_w, capacity, vat))
        if option.price_category == 4:
            grid = next(a.payee for a in option.add_ons if a.component == Component.TRANSMISSION)
            network_w, network = hourly.network_capacity(usage.hourly_wh, hourly_prices)
            lines.append(line(Component.NETWORK_CAPACITY, grid, network_w, network, vat))
    lines.extend(add_on_lines(volume, option.add_ons, vat))
    return Bill(usage.period, volume, breakdown, tuple(lines))


def with_volume(usage: MonthUsage, volume_wh: int) -> MonthUsage:
    """The usage scaled to another total (after a recalculation credit), keeping its shape over the day and hours."""
    if usage.volume_wh == 0:
        return replace(usage_from_total(usage.period, volume_wh, len(usage.hourly_wh)),
                       prior_band_wh=usage.prior_band_wh)
    hourly_wh = largest_remainder(volume_wh, usage.hourly_wh) if usage.hourly_wh else ()
    return MonthUsage(usage.period, largest_remainder(volume_wh, usage.profile), hourly_wh, usage.prior_band_wh)


def combine(period: int, usages: Sequence[MonthUsage]) -> MonthUsage:
    """The usage of several meters of one account added together."""
    profile = tuple(map(sum, zip(*(u.profile for u in usages)))) if usages else (0,) * HALF_HOURS_PER_DAY
    hourly_sets = [u.hourly_wh for u in usages]
    hourly_wh = tuple(map(sum, zip(*hourly_sets))) if hourly_sets and all(hourly_sets) else ()
    return MonthUsage(period, profile, hourly_wh)
