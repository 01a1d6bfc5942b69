"""Prosumer settlement: the retailer buys the energy a consumer's premises export (A-) at a price given as data,
and the month's statement shows both sides - the invoice for the import and the credit for the export.

Prices. Each retailer keeps an effective-dated schedule of export prices in milli-kopecks per kWh
(`setExportPrice`); the price of a month is the one in force on its first day. Dates only go forward, so a
settled month's price never changes (the settlement also records the price it used).

Settlement (`settleExport`, signed by the account's retailer). For a closed month whose readings are final
(every meter of the account has its newest interval ending at or after the month end) and whose import invoice
is issued, the contract sums the account's export Wh from `monthConsumption` (times each meter's CT x VT
ratios), computes the credit (Wh x price / 10^6, rounded down to kopecks) and pays it at once from the retailer's
wallet to the consumer's with `chargeOrigin`. Months are settled in order, each once; energy a later backfill
moves between months is counted in the month that held it at settlement, so no Wh is paid twice.

Netting. The invoice is not changed: the import invoice stays as billed (payments split it among its payees by
its lines), and the credit arrives in the consumer's wallet in the same ledger, from which the consumer (or the
auto-debit) pays the invoice. `ExportSettled` and `exportStatement` carry both sides and the net: what the consumer
owes beyond the credit, or what the credit leaves over. (Netting inside the invoice would need a negative line in
`invoices`; this design keeps every invoice line payable to its payee.)"""

from __future__ import annotations

from dataclasses import dataclass

from contracts_py import invoices, readings, registry, ruble
from contracts_py.abi import Address, Indexed, Uint32, Uint64, Uint64Array, Uint256
from contracts_py.participants import Role, require_role
from contracts_py.runtime import Context, NativeContract, Revert, event, external, require, view

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


@dataclass(frozen=True, slots=True)
class ExportSettlement:
    account_number: int
    period: int
    consumer: bytes
    export_wh: int
    mkop_per_kwh: int
    credit: int
    """Kopecks paid to the consumer."""
    invoice_id: int
    import_wh: int
    invoice_total: int
    settled_at: int


@event
class ExportPriceSet:
    retailer: Indexed(Address)
    effective_from: Indexed(Uint32)
    mkop_per_kwh: Uint64


@event
class ExportSettled:
    account_number: Indexed(Uint64)
    period: Indexed(Uint64)
    consumer: Indexed(Address)
    invoice_id: Uint256
    import_wh: Uint256
    invoice_total: Uint256
    export_wh: Uint256
    mkop_per_kwh: Uint64
    credit: Uint256
    net_due: Uint256
    """Kopecks the consumer owes beyond the credit (0 when the credit covers the invoice)."""
    net_credit: Uint256
    """Kopecks of credit left over after the invoice (0 when the invoice exceeds the credit)."""


def price_in_force(schedule: PriceSchedule, period: int) -> int:
    """The export price (milli-kopecks per kWh) in force on the first day of a yyyymm period."""
    first_day = period * 100 + 1
    in_force = [p for p in schedule.prices if p.effective_from <= first_day]
    if not in_force:
        raise Revert(f"no export price is in force on {first_day}")
    return in_force[-1].mkop_per_kwh


def export_credit(export_wh: int, mkop_per_kwh: int) -> int:
    """Kopecks for exported Wh: Wh x milli-kopecks per kWh / 10^6, rounded down."""
    return export_wh * mkop_per_kwh // 1_000_000


def _settlement_key(account_number: int, period: int) -> bytes:
    return b"s" + account_number.to_bytes(8, "big") + period.to_bytes(4, "big")


class ProsumerSettlement(NativeContract):
    NAME = "ProsumerSettlement"
    EVENTS = (ExportPriceSet, ExportSettled)

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

    def _export_wh(self, ctx: Context, account_number: int, period: int) -> int:
        """The account's exported Wh in a closed month with final readings, after CT x VT ratios."""
        meter_ids = ctx.call(registry.ADDRESS, "getAccountMeters", account_number)
        require(meter_ids, f"account {account_number} has no meters")
        total = 0
        for meter_id in meter_ids:
            month = ctx.call(readings.ADDRESS, "monthConsumption", meter_id, period)
            require(ctx.block.timestamp >= month.period_end, f"period {period} has not ended")
            last_start = ctx.call(readings.ADDRESS, "meterState", meter_id)[6]
            require(last_start + readings.INTERVAL_S >= month.period_end,
                    f"meter {meter_id}'s readings are not final for {period}")
            meter = ctx.call(registry.ADDRESS, "getMeter", meter_id)
            total += month.export_wh * meter.ct_ratio * meter.vt_ratio
        return total

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

    @external
    def settleExport(self, ctx: Context, accountNumber: Uint64, period: Uint64) -> Uint256:
        """The account's retailer buys the month's export: pays the credit to the consumer, returns it."""
        require_role(ctx, ctx.sender, Role.RETAILER)
        require(ctx.sender == ctx.origin, "export is settled by the retailer signing the transaction")
        account = ctx.call(registry.ADDRESS, "getAccount", accountNumber)
        require(account.retailer == ctx.sender, f"account {accountNumber} belongs to another retailer")
        require(ctx.storage.get(_settlement_key(accountNumber, period)) is None,
                f"account {accountNumber}'s export for {period} is already settled")
        last = ctx.storage.get_int(b"l" + accountNumber.to_bytes(8, "big"))
        require(period > last, f"account {accountNumber}'s export is settled up to {last}; periods go in order")
        export_wh = self._export_wh(ctx, accountNumber, period)
        price = price_in_force(self._schedule(ctx, ctx.sender), period)
        invoice = self._invoice_in_force(ctx, accountNumber, period)
        credit = export_credit(export_wh, price)
        if credit:
            ctx.call(ruble.ADDRESS, "chargeOrigin", account.consumer, credit)
        settlement = ExportSettlement(accountNumber, period, account.consumer, export_wh, price, credit,
                                      invoice.invoice_id, invoice.volume_wh, invoice.total, ctx.block.timestamp)
        ctx.storage.set_record(_settlement_key(accountNumber, period), settlement)
        ctx.storage.set_int(b"l" + accountNumber.to_bytes(8, "big"), period)
        ctx.emit(ExportSettled(account_number=accountNumber, period=period, consumer=account.consumer,
                               invoice_id=invoice.invoice_id, import_wh=invoice.volume_wh,
                               invoice_total=invoice.total, export_wh=export_wh, mkop_per_kwh=price, credit=credit,
                               net_due=max(0, invoice.total - credit), net_credit=max(0, credit - invoice.total)))
        return credit

    # --- views ----------------------------------------------------------------------------------------------

    @view
    def exportPrices(self, ctx: Context, retailer: Address) -> tuple[Uint64Array, Uint64Array]:
        """(effectiveFrom dates, milli-kopecks per kWh) of a retailer's export price versions."""
        prices = self._schedule(ctx, retailer).prices
        return tuple(p.effective_from for p in prices), tuple(p.mkop_per_kwh for p in prices)

    @view
    def exportQuote(self, ctx: Context, accountNumber: Uint64, period: Uint64) -> tuple[Uint256, Uint64, Uint256]:
        """(exportWh, milli-kopecks per kWh, credit) that settling the month now would pay."""
        account = ctx.call(registry.ADDRESS, "getAccount", accountNumber)
        export_wh = self._export_wh(ctx, accountNumber, period)
        price = price_in_force(self._schedule(ctx, account.retailer), period)
        return export_wh, price, export_credit(export_wh, price)

    @view
    def exportStatement(self, ctx: Context, accountNumber: Uint64, period: Uint64) -> tuple[
            Address, Uint256, Uint256, Uint256, Uint256, Uint64, Uint256, Uint256, Uint256, Uint64]:
        """Both sides of a settled month: (consumer, invoiceId, importWh, invoiceTotal, exportWh, mkopPerKwh,
        credit, netDue, netCredit, settledAt)."""
        s = ctx.storage.get_record(_settlement_key(accountNumber, period), ExportSettlement)
        require(s is not None, f"account {accountNumber}'s export for {period} is not settled")
        return (s.consumer, s.invoice_id, s.import_wh, s.invoice_total, s.export_wh, s.mkop_per_kwh, s.credit,
                max(0, s.invoice_total - s.credit), max(0, s.credit - s.invoice_total), s.settled_at)
