"""Tariff groups, their options and prices, VAT and substitute-volume rules, and each account's chosen option.

A retailer creates, edits and deletes its tariff groups; a group offers options (single-rate, two-zone,
three-zone, banded, hourly with capacity), each a list of effective-dated versions whose prices and zone
schedules are data, validated by the pure rules in `contracts_py.billing` (a schedule with overlapping or missing
zones is rejected with the reason). Hourly options get their prices per month. VAT and the substitute-volume limits
are law, set by the admin as dated versions. An account bills under its group's first option until its consumer
switches; a switch applies from the next billing period. `billingTerms` hands all of it to the invoices contract."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from contracts_py import registry
from contracts_py.abi import (Address, AddressArray, Indexed, String, Uint8, Uint32, Uint64, Uint64Array,
                              Uint256, Uint256Array)
from contracts_py.billing.bill import OptionKind, TariffOption, ZonePrice, check_option
from contracts_py.billing.components import AddOn, VatRate
from contracts_py.billing.errors import BillingError
from contracts_py.billing.hourly import HourlyPrices, check_prices
from contracts_py.billing.periods import check_date, in_force, next_period, period_of
from contracts_py.billing.substitute import HouseholdRule, LegalEntityRule
from contracts_py.billing.zones import ZoneSpan
from contracts_py.participants import Role, require_role
from contracts_py.runtime import (Context, ContractStorage, NativeContract, Revert, event, external, internal, require,
                                  view)

ADDRESS = bytes.fromhex("000000000000000000000000000000000000e006")
MAX_OPTIONS = 8
MAX_VERSIONS = 24
"""Versions kept per option (two years of monthly price changes); older ones are dropped."""
VAT_KEY = b"vat"
SUBSTITUTE_KEY = b"subst"


@dataclass(frozen=True, slots=True)
class TariffGroup:
    group_id: int
    retailer: bytes
    name: str
    option_ids: tuple[int, ...]
    """The first option is the default of accounts that chose none."""


@dataclass(frozen=True, slots=True)
class OptionVersions:
    kind: int
    versions: tuple[TariffOption, ...]
    """Ascending by effective date."""


@dataclass(frozen=True, slots=True)
class OptionChoice:
    from_period: int
    option_id: int


@dataclass(frozen=True, slots=True)
class AccountChoices:
    choices: tuple[OptionChoice, ...]
    """Ascending by period; the last two are kept (the one in force and a pending switch)."""


@dataclass(frozen=True, slots=True)
class VatRates:
    rates: tuple[VatRate, ...]


@dataclass(frozen=True, slots=True)
class SubstituteRules:
    household: tuple[HouseholdRule, ...]
    legal_entity: tuple[LegalEntityRule, ...]


@dataclass(frozen=True, slots=True)
class BillingTerms:
    """What the invoices contract needs to bill an account for a period."""

    group: TariffGroup
    option_id: int
    option: TariffOption
    hourly_prices: HourlyPrices | None
    vat_rates: tuple[VatRate, ...]


@event
class TariffGroupSaved:
    group_id: Indexed(Uint64)
    retailer: Indexed(Address)
    name: String


@event
class TariffGroupDeleted:
    group_id: Indexed(Uint64)
    retailer: Indexed(Address)


@event
class TariffOptionSaved:
    group_id: Indexed(Uint64)
    option_id: Indexed(Uint64)
    kind: Uint8
    effective_from: Uint64


@event
class TariffOptionRemoved:
    group_id: Indexed(Uint64)
    option_id: Indexed(Uint64)


@event
class HourlyPricesPublished:
    group_id: Indexed(Uint64)
    option_id: Indexed(Uint64)
    period: Indexed(Uint64)


@event
class OptionSwitched:
    account_number: Indexed(Uint64)
    option_id: Indexed(Uint64)
    from_period: Uint64


@event
class VatRateSet:
    effective_from: Indexed(Uint64)
    basis_points: Uint32


@event
class SubstituteRulesSet:
    effective_from: Indexed(Uint64)


def _id(value: int) -> bytes:
    return value.to_bytes(8, "big")


def _group_key(group_id: int) -> bytes:
    return b"g" + _id(group_id)


def _option_key(group_id: int, option_id: int) -> bytes:
    return b"o" + _id(group_id) + _id(option_id)


def _prices_key(group_id: int, option_id: int, period: int) -> bytes:
    return b"h" + _id(group_id) + _id(option_id) + _id(period)


def _choice_key(account_number: int) -> bytes:
    return b"a" + _id(account_number)


@contextmanager
def _rules(call: str) -> Iterator[None]:
    """Turn a billing-rule error into a revert carrying its reason."""
    try:
        yield
    except BillingError as error:
        raise Revert(f"{call}: {error}") from error


def set_vat_at_genesis(storage: ContractStorage, effective_from: int, basis_points: int) -> None:
    """Genesis VAT versions (e.g. 20% from 2019-01-01 and 22% from 2026-01-01)."""
    rates = storage.get_record(VAT_KEY, VatRates) or VatRates(())
    kept = tuple(r for r in rates.rates if r.effective_from != effective_from)
    new = VatRate(effective_from, basis_points)
    storage.set_record(VAT_KEY, VatRates(tuple(sorted(kept + (new,), key=lambda r: r.effective_from))))


def set_substitute_rules_at_genesis(storage: ContractStorage, household: HouseholdRule,
                                    legal_entity: LegalEntityRule) -> None:
    rules = storage.get_record(SUBSTITUTE_KEY, SubstituteRules) or SubstituteRules((), ())
    storage.set_record(SUBSTITUTE_KEY, SubstituteRules(
        tuple(sorted((*rules.household, household), key=lambda r: r.effective_from)),
        tuple(sorted((*rules.legal_entity, legal_entity), key=lambda r: r.effective_from))))


class Tariffs(NativeContract):
    NAME = "Tariffs"
    EVENTS = (TariffGroupSaved, TariffGroupDeleted, TariffOptionSaved, TariffOptionRemoved, HourlyPricesPublished,
              OptionSwitched, VatRateSet, SubstituteRulesSet)

    # --- groups and options (retailers) ---------------------------------------------------------------------

    def _own_group(self, ctx: Context, group_id: int) -> TariffGroup:
        require_role(ctx, ctx.sender, Role.RETAILER)
        group = self.getGroup(ctx, group_id)
        require(group.retailer == ctx.sender, f"tariff group {group_id} belongs to another retailer")
        return group

    @external
    def saveGroup(self, ctx: Context, groupId: Uint64, name: String) -> None:
        """A retailer creates a tariff group or renames one of its own."""
        require_role(ctx, ctx.sender, Role.RETAILER)
        require(groupId > 0, "tariff group 0 is reserved")
        require(0 < len(name) <= registry.MAX_TEXT, f"a group name has 1 to {registry.MAX_TEXT} characters")
        old = ctx.storage.get_record(_group_key(groupId), TariffGroup)
        require(old is None or old.retailer == ctx.sender, f"tariff group {groupId} belongs to another retailer")
        group = TariffGroup(groupId, ctx.sender, name, old.option_ids if old else ())
        ctx.storage.set_record(_group_key(groupId), group)
        ctx.emit(TariffGroupSaved(group_id=groupId, retailer=ctx.sender, name=name))

    @external
    def deleteGroup(self, ctx: Context, groupId: Uint64) -> None:
        """Delete a group and its options; accounts still in it can no longer be billed until moved."""
        group = self._own_group(ctx, groupId)
        for option_id in group.option_ids:
            ctx.storage.set(_option_key(groupId, option_id), None)
        ctx.storage.set(_group_key(groupId), None)
        ctx.emit(TariffGroupDeleted(group_id=groupId, retailer=ctx.sender))

    @external
    def saveOption(self, ctx: Context, groupId: Uint64, optionId: Uint64, kind: Uint8, effectiveFrom: Uint64,
                   utcOffsetS: Uint32, energyPayee: Address, zoneStarts: Uint64Array, zoneEnds: Uint64Array,
                   zoneIds: Uint64Array, zonePrices: Uint256Array, bandLimitsWh: Uint256Array,
                   bandPrices: Uint256Array, bandPeriodMonths: Uint8, priceCategory: Uint8,
                   addOnComponents: Uint64Array, addOnPayees: AddressArray, addOnPrices: Uint256Array) -> None:
        """Publish a version of an option, in force from `effectiveFrom` (yyyymmdd); prices in milli-kopecks.

        Zone span i is local minutes [zoneStarts[i], zoneEnds[i]) of zone zoneIds[i]; zonePrices[i] is the price
        of zone zoneIds[i] where zone i first appears (one price per distinct zone, in order of appearance).
        A version with the same effective date replaces the earlier one; an option keeps its kind."""
        group = self._own_group(ctx, groupId)
        require(optionId > 0, "option 0 is reserved")
        require(len(zoneStarts) == len(zoneEnds) == len(zoneIds), "zone arrays differ in length")
        require(len(addOnComponents) == len(addOnPayees) == len(addOnPrices), "add-on arrays differ in length")
        distinct_zones = tuple(dict.fromkeys(zoneIds))
        require(len(zonePrices) == len(distinct_zones),
                f"{len(distinct_zones)} zones need {len(distinct_zones)} prices, got {len(zonePrices)}")
        option = TariffOption(
            kind=kind, effective_from=effectiveFrom, utc_offset=utcOffsetS, energy_payee=energyPayee,
            zones=tuple(ZoneSpan(s, e, z) for s, e, z in zip(zoneStarts, zoneEnds, zoneIds)),
            zone_prices=tuple(ZonePrice(z, p) for z, p in zip(distinct_zones, zonePrices)),
            band_limits_wh=tuple(bandLimitsWh), band_prices=tuple(bandPrices), band_period_months=bandPeriodMonths,
            price_category=priceCategory,
            add_ons=tuple(AddOn(c, p, price) for c, p, price in zip(addOnComponents, addOnPayees, addOnPrices)))
        with _rules("tariff option rejected"):
            check_option(option)
        key = _option_key(groupId, optionId)
        stored = ctx.storage.get_record(key, OptionVersions)
        if stored is None:
            require(len(group.option_ids) < MAX_OPTIONS, f"a group offers at most {MAX_OPTIONS} options")
            stored = OptionVersions(kind, ())
            ctx.storage.set_record(_group_key(groupId),
                                   TariffGroup(groupId, group.retailer, group.name, group.option_ids + (optionId,)))
        require(stored.kind == kind, f"option {optionId} is {OptionKind(stored.kind).name.lower()}; "
                                     "publish another kind as a new option")
        versions = tuple(v for v in stored.versions if v.effective_from != effectiveFrom) + (option,)
        versions = tuple(sorted(versions, key=lambda v: v.effective_from))[-MAX_VERSIONS:]
        ctx.storage.set_record(key, OptionVersions(kind, versions))
        ctx.emit(TariffOptionSaved(group_id=groupId, option_id=optionId, kind=kind, effective_from=effectiveFrom))

    @external
    def removeOption(self, ctx: Context, groupId: Uint64, optionId: Uint64) -> None:
        group = self._own_group(ctx, groupId)
        require(optionId in group.option_ids, f"tariff group {groupId} has no option {optionId}")
        ctx.storage.set(_option_key(groupId, optionId), None)
        ctx.storage.set_record(_group_key(groupId), TariffGroup(
            groupId, group.retailer, group.name, tuple(o for o in group.option_ids if o != optionId)))
        ctx.emit(TariffOptionRemoved(group_id=groupId, option_id=optionId))

    @external
    def publishHourlyPrices(self, ctx: Context, groupId: Uint64, optionId: Uint64, period: Uint64,
                            energyPrices: Uint256Array, peakHours: Uint64Array, capacityPricePerKw: Uint256,
                            networkWindowStartHour: Uint8, networkWindowEndHour: Uint8,
                            networkPricePerKw: Uint256) -> None:
        """The month's prices of an hourly option: one energy price per local hour, the system operator's peak
        hour of each working day (hour-of-month indices), capacity and (category 4) network capacity rates."""
        self._own_group(ctx, groupId)
        versions = self._versions(ctx, groupId, optionId)
        require(versions.kind == OptionKind.HOURLY, f"option {optionId} is not hourly")
        prices = HourlyPrices(period, tuple(energyPrices), tuple(peakHours), capacityPricePerKw,
                              networkWindowStartHour, networkWindowEndHour, networkPricePerKw)
        with _rules("hourly prices rejected"):
            check_prices(prices, in_force(versions.versions, period).price_category)
        ctx.storage.set_record(_prices_key(groupId, optionId, period), prices)
        ctx.emit(HourlyPricesPublished(group_id=groupId, option_id=optionId, period=period))

    # --- the consumer's choice ------------------------------------------------------------------------------

    @external
    def chooseOption(self, ctx: Context, accountNumber: Uint64, optionId: Uint64) -> Uint64:
        """The account's consumer switches to another option of its group, from the next billing period.

        Returns that period (yyyymm). Switching again before it starts replaces the pending switch."""
        account = ctx.call(registry.ADDRESS, "getAccount", accountNumber)
        require(account.consumer == ctx.sender, f"0x{ctx.sender.hex()} is not the consumer of account {accountNumber}")
        group = self.getGroup(ctx, account.tariff_group)
        require(optionId in group.option_ids, f"tariff group {group.group_id} offers no option {optionId}")
        offset = self._versions(ctx, group.group_id, optionId).versions[-1].utc_offset
        from_period = next_period(period_of(ctx.block.timestamp, offset))
        stored = ctx.storage.get_record(_choice_key(accountNumber), AccountChoices) or AccountChoices(())
        kept = tuple(c for c in stored.choices if c.from_period < from_period)[-1:]
        ctx.storage.set_record(_choice_key(accountNumber),
                               AccountChoices(kept + (OptionChoice(from_period, optionId),)))
        ctx.emit(OptionSwitched(account_number=accountNumber, option_id=optionId, from_period=from_period))
        return from_period

    # --- law (admin) ----------------------------------------------------------------------------------------

    @external
    def setVatRate(self, ctx: Context, effectiveFrom: Uint64, basisPoints: Uint32) -> None:
        """The admin records a VAT rate in force from a date (22% = 2200 from 20260101)."""
        require_role(ctx, ctx.sender, Role.ADMIN)
        with _rules("VAT rate rejected"):
            check_date(effectiveFrom)
        require(basisPoints <= 10_000, f"VAT of {basisPoints} basis points exceeds 100%")
        set_vat_at_genesis(ctx.storage, effectiveFrom, basisPoints)
        ctx.emit(VatRateSet(effective_from=effectiveFrom, basis_points=basisPoints))

    @external
    def setSubstituteRules(self, ctx: Context, effectiveFrom: Uint64, monthsByAverage: Uint8,
                           averagingMonths: Uint8, minHistoryMonths: Uint8, normativeWhPerResident: Uint64,
                           legalMonthsByHistory: Uint8) -> None:
        """The admin records the substitute-volume limits (decree 354 item 59, decree 442 item 166)."""
        require_role(ctx, ctx.sender, Role.ADMIN)
        with _rules("substitute rules rejected"):
            check_date(effectiveFrom)
        require(0 < averagingMonths <= 12, "the averaging window is 1 to 12 months")
        set_substitute_rules_at_genesis(
            ctx.storage,
            HouseholdRule(effectiveFrom, monthsByAverage, averagingMonths, minHistoryMonths, normativeWhPerResident),
            LegalEntityRule(effectiveFrom, legalMonthsByHistory))
        ctx.emit(SubstituteRulesSet(effective_from=effectiveFrom))

    # --- reads for the invoices contract --------------------------------------------------------------------

    def _versions(self, ctx: Context, group_id: int, option_id: int) -> OptionVersions:
        stored = ctx.storage.get_record(_option_key(group_id, option_id), OptionVersions)
        if stored is None:
            raise Revert(f"tariff group {group_id} has no option {option_id}")
        return stored

    @internal
    def getGroup(self, ctx: Context, group_id: int) -> TariffGroup:
        group = ctx.storage.get_record(_group_key(group_id), TariffGroup)
        if group is None:
            raise Revert(f"unknown tariff group {group_id}")
        return group

    @internal
    def optionInForce(self, ctx: Context, account_number: int, period: int) -> int:
        """The option an account bills under in `period`: its latest choice from then or before, else the
        group's first option."""
        account = ctx.call(registry.ADDRESS, "getAccount", account_number)
        group = self.getGroup(ctx, account.tariff_group)
        require(group.option_ids, f"tariff group {group.group_id} offers no option")
        stored = ctx.storage.get_record(_choice_key(account_number), AccountChoices) or AccountChoices(())
        chosen = [c.option_id for c in stored.choices if c.from_period <= period]
        if chosen and chosen[-1] in group.option_ids:
            return chosen[-1]
        return group.option_ids[0]

    @internal
    def billingTerms(self, ctx: Context, account_number: int, period: int, option_id: int = 0) -> BillingTerms:
        """Everything needed to bill an account for a period (under `option_id`, or the one in force)."""
        account = ctx.call(registry.ADDRESS, "getAccount", account_number)
        group = self.getGroup(ctx, account.tariff_group)
        require(group.retailer == account.retailer,
                f"tariff group {group.group_id} is not offered by account {account_number}'s retailer")
        option_id = option_id or self.optionInForce(ctx, account_number, period)
        versions = self._versions(ctx, group.group_id, option_id)
        with _rules(f"no tariff for period {period}"):
            option = in_force(versions.versions, period)
        prices = None
        if option.kind == OptionKind.HOURLY:
            prices = ctx.storage.get_record(_prices_key(group.group_id, option_id, period), HourlyPrices)
            require(prices is not None, f"no hourly prices published for option {option_id} in period {period}")
        vat = ctx.storage.get_record(VAT_KEY, VatRates)
        require(vat is not None, "no VAT rate recorded")
        return BillingTerms(group, option_id, option, prices, vat.rates)

    @internal
    def substituteRules(self, ctx: Context, period: int) -> tuple[HouseholdRule, LegalEntityRule]:
        rules = ctx.storage.get_record(SUBSTITUTE_KEY, SubstituteRules)
        require(rules is not None, "no substitute-volume rules recorded")
        with _rules(f"no substitute-volume rules for period {period}"):
            return in_force(rules.household, period), in_force(rules.legal_entity, period)

    # --- views ----------------------------------------------------------------------------------------------

    @view
    def group(self, ctx: Context, groupId: Uint64) -> tuple[Address, String, Uint64Array]:
        """(retailer, name, optionIds)."""
        group = self.getGroup(ctx, groupId)
        return group.retailer, group.name, group.option_ids

    @view
    def option(self, ctx: Context, groupId: Uint64, optionId: Uint64, period: Uint64) -> tuple[
            Uint8, Uint64, Uint32, Address, Uint64Array, Uint64Array, Uint64Array, Uint256Array, Uint256Array,
            Uint256Array, Uint8, Uint8, Uint64Array, AddressArray, Uint256Array]:
        """The version in force for `period`: (kind, effectiveFrom, utcOffsetS, energyPayee, zoneStarts,
        zoneEnds, zoneIds, zonePrices, bandLimitsWh, bandPrices, bandPeriodMonths, priceCategory,
        addOnComponents, addOnPayees, addOnPrices), arrays as `saveOption` takes them."""
        with _rules(f"no version for period {period}"):
            o = in_force(self._versions(ctx, groupId, optionId).versions, period)
        prices = {p.zone: p.mkop_per_kwh for p in o.zone_prices}
        zone_ids = tuple(s.zone for s in o.zones)
        return (o.kind, o.effective_from, o.utc_offset, o.energy_payee, tuple(s.start_minute for s in o.zones),
                tuple(s.end_minute for s in o.zones), zone_ids,
                tuple(prices[z] for z in dict.fromkeys(zone_ids)), o.band_limits_wh, o.band_prices,
                o.band_period_months, o.price_category, tuple(a.component for a in o.add_ons),
                tuple(a.payee for a in o.add_ons), tuple(a.mkop_per_kwh for a in o.add_ons))

    @view
    def accountOption(self, ctx: Context, accountNumber: Uint64, period: Uint64) -> Uint64:
        """The option the account bills under in `period`."""
        return self.optionInForce(ctx, accountNumber, period)

    @view
    def vatRate(self, ctx: Context, period: Uint64) -> Uint32:
        vat = ctx.storage.get_record(VAT_KEY, VatRates)
        require(vat is not None, "no VAT rate recorded")
        with _rules(f"no VAT rate for period {period}"):
            return in_force(vat.rates, period).basis_points
