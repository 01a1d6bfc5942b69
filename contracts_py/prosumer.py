"""Prosumer settlement: the retailer buys the energy a consumer's premises export (A-) at a price given as data,
netted against the consumer's bill with both sides on the invoice.

Prices. Each retailer keeps an effective-dated schedule of export prices in milli-kopecks per kWh
(`setExportPrice`); the price of a month is the one in force on its first day. Dates only go forward, so a
billed month's price never changes (the invoice also records the price it used).

Netting. Issuing an account's invoice (`invoices.issueInvoice`) reads the month's exported Wh (after CT x VT
ratios) and the price in force of the account's retailer (`exportPriceOf`), and puts the export on the invoice as
a credit line set against the charges (`billing.netting`): the invoice's total is the net, and paying it settles
the month. A credit beyond the bill is paid out to the consumer at issuance. Each month is billed once (a
correction bills it again in place of the old invoice), so no Wh is paid twice. This contract's views give the
quote before issuance and the statement after it."""

from __future__ import annotations

from dataclasses import dataclass

from contracts_py import invoices, registry
from contracts_py.abi import Address, Indexed, Uint32, Uint64, Uint64Array, Uint256
from contracts_py.billing.netting import export_credit
from contracts_py.participants import Role, require_role
from contracts_py.runtime import Context, NativeContract, Revert, event, external, internal, require, view

ADDRESS = bytes.fromhex("000000000000000000000000000000000000e00b")

MAX_PRICES = 64
"""Price versions kept per retailer."""
MAX_REVISIONS = 1_000
"""Invoice revisions followed to find the one in force."""


@dataclass(frozen=True, slots=True)
class ExportPrice:
    effective_from: int
    """yyyymmdd."""
    mkop_per_kwh: int


@dataclass(frozen=True, slots=True)
class PriceSchedule:
    prices: tuple[ExportPrice, ...]


@event
class ExportPriceSet:
    retailer: Indexed(Address)
    effective_from: Indexed(Uint32)
    mkop_per_kwh: Uint64


def price_on(schedule: PriceSchedule, period: int) -> int | None:
    """The export price (milli-kopecks per kWh) in force on the first day of a yyyymm period, if any."""
    in_force = [p for p in schedule.prices if p.effective_from <= period * 100 + 1]
    return in_force[-1].mkop_per_kwh if in_force else None


def price_in_force(schedule: PriceSchedule, period: int) -> int:
    """`price_on`, refusing a period before the first version."""
    price = price_on(schedule, period)
    if price is None:
        raise Revert(f"no export price is in force on {period * 100 + 1}")
    return price


class ProsumerSettlement(NativeContract):
    NAME = "ProsumerSettlement"
    EVENTS = (ExportPriceSet,)

    def _schedule(self, ctx: Context, retailer: bytes) -> PriceSchedule:
        return ctx.storage.get_record(b"p" + retailer, PriceSchedule) or PriceSchedule(())

    @external
    def setExportPrice(self, ctx: Context, effectiveFrom: Uint32, mkopPerKwh: Uint64) -> None:
        """A retailer adds a version of its export price, in force from a date after its latest version."""
        require_role(ctx, ctx.sender, Role.RETAILER)
        year, rest = divmod(effectiveFrom, 10_000)
        require(year >= 2000 and 1 <= rest // 100 <= 12 and 1 <= rest % 100 <= 31,
                f"{effectiveFrom} is not a yyyymmdd date")
        schedule = self._schedule(ctx, ctx.sender)
        if schedule.prices:
            latest = schedule.prices[-1].effective_from
            require(latest < effectiveFrom, f"prices go forward: the latest version is in force from {latest}")
        require(len(schedule.prices) < MAX_PRICES, f"a retailer keeps at most {MAX_PRICES} price versions")
        ctx.storage.set_record(b"p" + ctx.sender,
                               PriceSchedule(schedule.prices + (ExportPrice(effectiveFrom, mkopPerKwh),)))
        ctx.emit(ExportPriceSet(retailer=ctx.sender, effective_from=effectiveFrom, mkop_per_kwh=mkopPerKwh))

    def _invoice_in_force(self, ctx: Context, account_number: int, period: int) -> invoices.Invoice:
        """The account's invoice for the period, following corrections to the latest revision."""
        try:
            invoice = ctx.call(invoices.ADDRESS, "getInvoice", invoices.invoice_id_of(account_number, period, 0))
        except Revert:
            raise Revert(f"account {account_number} has no invoice for {period}; issue it first") from None
        for _ in range(MAX_REVISIONS):
            if not invoice.superseded_by:
                return invoice
            invoice = ctx.call(invoices.ADDRESS, "getInvoice", invoice.superseded_by)
        raise Revert(f"invoice {invoice.invoice_id} has too many revisions")

    # --- views ----------------------------------------------------------------------------------------------

    @view
    def exportPrices(self, ctx: Context, retailer: Address) -> tuple[Uint64Array, Uint64Array]:
        """(effectiveFrom dates, milli-kopecks per kWh) of a retailer's export price versions."""
        prices = self._schedule(ctx, retailer).prices
        return tuple(p.effective_from for p in prices), tuple(p.mkop_per_kwh for p in prices)

    @internal
    def exportPriceOf(self, ctx: Context, retailer: bytes, period: int) -> int:
        """For the invoices contract: the retailer's export price in force for a period, 0 when it buys none."""
        return price_on(self._schedule(ctx, retailer), period) or 0

    @view
    def exportQuote(self, ctx: Context, accountNumber: Uint64, period: Uint64) -> tuple[Uint256, Uint64, Uint256]:
        """(exportWh, milli-kopecks per kWh, credit) that issuing the month's invoice now would net."""
        account = ctx.call(registry.ADDRESS, "getAccount", accountNumber)
        export_wh = invoices.metered_export_wh(ctx, accountNumber, period)
        price = price_in_force(self._schedule(ctx, account.retailer), period)
        return export_wh, price, export_credit(export_wh, price)

    @view
    def exportStatement(self, ctx: Context, accountNumber: Uint64, period: Uint64) -> tuple[
            Address, Uint256, Uint256, Uint256, Uint256, Uint64, Uint256, Uint256, Uint256, Uint64]:
        """Both sides of a billed month, from the invoice in force: (consumer, invoiceId, importWh, charges,
        exportWh, mkopPerKwh, credit, netDue, payout, issuedAt)."""
        i = self._invoice_in_force(ctx, accountNumber, period)
        e = i.export
        return (i.consumer, i.invoice_id, i.volume_wh, i.charges, e.export_wh, e.mkop_per_kwh, e.credit, i.due,
                e.payout, i.issued_at)
