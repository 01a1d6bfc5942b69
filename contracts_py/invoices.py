"""Monthly invoices computed on-chain from the readings, confirmed or disputed by the consumer.

The retailer asks for an account's invoice for a closed billing period; the amounts are never typed in: the
contract reads each meter's month from the readings contract, applies transformer ratios and losses, substitutes a
volume when the month has no readings at all (reconciling it once real readings come back), and bills the usage by
the tariff in force (`contracts_py.billing`). Each line names its payee, so payments split by the lines. The
consumer confirms the invoice or disputes it with a reason; the retailer may then issue a corrected invoice that
supersedes the old one, linked both ways.

A prosumer's export is on the same invoice: when the account's retailer has an export price in force
(`contracts_py.prosumer`), issuing the invoice nets the month's exported Wh at that price against the lines
(`billing.netting`): the export shows as a credit line, the total is the net, and paying the net settles the
invoice. A credit beyond the bill is paid out to the consumer at issuance.

Per account a ledger (`billing.ledger`) keeps what billing carries from month to month. Periods are invoiced in
order; a correction applies to the latest period only and only before payment. A building's common-house needs
are shared among its premises once per period (`shareCommonHouse`, by the management company or the grid
company) before the apartments' invoices, which then carry their share in lines of its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from contracts_py import readings, registry, ruble, tariffs
from contracts_py.abi import Address, AddressArray, String, Uint8, Uint64, Uint64Array, Uint256, Uint256Array
from contracts_py.billing import bill as billing
from contracts_py.billing import optimizer, periods
from contracts_py.billing.common_house import Premises, common_house_needs
from contracts_py.billing.components import BillLine
from contracts_py.billing.errors import BillingError
from contracts_py.billing.ledger import EMPTY_LEDGER, AccountLedger, AccountMonth, bill_account_month
from contracts_py.billing.losses import LossAdjustment
from contracts_py.billing.netting import ExportNetting, net_export, no_export, paid_by_retailer
from contracts_py.invoice_records import (CommonHouseShare, CommonHouseShared, CommonHouseShares, ExportNetted,
                                          Invoice, InvoiceConfirmed, InvoiceDisputed, InvoiceIssued, InvoiceLine,
                                          InvoicePaid, InvoiceSuperseded, ResidentsSet, Status, invoice_id_of)
from contracts_py.participants import Role, has_role, require_role
from contracts_py.runtime import Context, NativeContract, Revert, external, internal, require, view

ADDRESS = bytes.fromhex("000000000000000000000000000000000000e007")
PAYMENTS_ADDRESS = bytes.fromhex("000000000000000000000000000000000000e008")
"""The payments contract (`contracts_py.payments.ADDRESS`), named here so the modules do not import in a cycle."""
PROSUMER_ADDRESS = bytes.fromhex("000000000000000000000000000000000000e00b")
"""The prosumer contract (`contracts_py.prosumer.ADDRESS`), which keeps the retailers' export prices."""

PAYMENT_DAY = 10
"""Invoices fall due at the end of this day of the month after the period (decree 354, item 66)."""
MAX_REASON = 512
MAX_COMPARED_MONTHS = 12


def _invoice_key(invoice_id: int) -> bytes:
    return b"i" + invoice_id.to_bytes(16, "big")


def _ledger_key(account_number: int) -> bytes:
    return b"l" + account_number.to_bytes(8, "big")


@contextmanager
def _rules(call: str) -> Iterator[None]:
    try:
        yield
    except BillingError as error:
        raise Revert(f"{call}: {error}") from error


def metered_usage(ctx: Context, account_number: int, period: int, option: billing.TariffOption | None) -> tuple[
        billing.MonthUsage, int, int]:
    """(usage after ratios and losses, intervals recorded, maximum capacity in W) of an account's meters.

    With an option, each meter's local time must be the option's and hourly options need hourly profiles."""
    meter_ids = ctx.call(registry.ADDRESS, "getAccountMeters", account_number)
    require(meter_ids, f"account {account_number} has no meters")
    usages, recorded, capacity = [], 0, 0
    for meter_id in meter_ids:
        meter = ctx.call(registry.ADDRESS, "getMeter", meter_id)
        month = ctx.call(readings.ADDRESS, "monthConsumption", meter_id, period)
        if option is not None:
            require(month.utc_offset_s == option.utc_offset,
                    f"meter {meter_id} keeps local time UTC+{month.utc_offset_s}s, the tariff UTC+{option.utc_offset}s")
            require(option.kind != billing.OptionKind.HOURLY or month.hourly_import_wh,
                    f"meter {meter_id} keeps no hourly profile for an hourly tariff")
        ratio = meter.ct_ratio * meter.vt_ratio
        usage = billing.MonthUsage(period, tuple(wh * ratio for wh in month.half_hour_import_wh),
                                   tuple(wh * ratio for wh in month.hourly_import_wh))
        usages.append(billing.with_losses(usage, LossAdjustment(meter.loss_ppm, 0, False)))
        recorded += month.intervals_recorded
        capacity += meter.max_power_w
    return billing.combine(period, usages), recorded, capacity


def metered_export_wh(ctx: Context, account_number: int, period: int) -> int:
    """The account's exported (A-) Wh in a period, after each meter's CT x VT ratios."""
    total = 0
    for meter_id in ctx.call(registry.ADDRESS, "getAccountMeters", account_number):
        meter = ctx.call(registry.ADDRESS, "getMeter", meter_id)
        total += ctx.call(readings.ADDRESS, "monthConsumption", meter_id, period).export_wh * meter.ct_ratio \
            * meter.vt_ratio
    return total


def _shares_key(building_id: int, period: int) -> bytes:
    return b"h" + building_id.to_bytes(8, "big") + period.to_bytes(4, "big")


class Invoices(NativeContract):
    NAME = "Invoices"
    EVENTS = (InvoiceIssued, InvoiceLine, ExportNetted, InvoiceConfirmed, InvoiceDisputed, InvoiceSuperseded,
              InvoicePaid, CommonHouseShared, CommonHouseShare, ResidentsSet)

    def _own_account(self, ctx: Context, account_number: int) -> registry.Account:
        require_role(ctx, ctx.sender, Role.RETAILER)
        account = ctx.call(registry.ADDRESS, "getAccount", account_number)
        require(account.retailer == ctx.sender, f"account {account_number} belongs to another retailer")
        return account

    def _ledger(self, ctx: Context, account_number: int) -> AccountLedger:
        return ctx.storage.get_record(_ledger_key(account_number), AccountLedger) or EMPTY_LEDGER

    def _issue(self, ctx: Context, account: registry.Account, period: int, ledger: AccountLedger, revision: int,
               supersedes: int) -> int:
        terms = ctx.call(tariffs.ADDRESS, "billingTerms", account.number, period)
        next_start = periods.period_start(periods.next_period(period), terms.option.utc_offset)
        require(ctx.block.timestamp >= next_start, f"period {period} has not ended")
        usage, recorded, capacity = metered_usage(ctx, account.number, period, terms.option)
        month = AccountMonth(usage, recorded, account.consumer_kind == registry.ConsumerKind.LEGAL_ENTITY, capacity,
                             self._common_house_share(ctx, account, period))
        rules = None if recorded else ctx.call(tariffs.ADDRESS, "substituteRules", period)
        with _rules(f"account {account.number} cannot be billed for {period}"):
            computed = bill_account_month(month, ledger, terms.option, terms.vat_rates, terms.hourly_prices, rules)
        invoice_id = invoice_id_of(account.number, period, revision)
        due_at = next_start + PAYMENT_DAY * 86_400
        lines = computed.bill.lines
        netting = self._net_export(ctx, account, period, lines)
        invoice = Invoice(invoice_id, account.number, period, revision, account.retailer, account.consumer,
                          terms.option_id, computed.method, computed.metered_wh, computed.bill.volume_wh,
                          lines, netting.applied, Status.ISSUED, ctx.block.timestamp, due_at, supersedes, 0, "",
                          ledger, netting)
        if netting.credit and invoice.outstanding == 0:
            invoice = replace(invoice, status=Status.PAID)
        ctx.storage.set_record(_invoice_key(invoice_id), invoice)
        ctx.storage.set_record(_ledger_key(account.number), computed.ledger)
        ctx.emit(InvoiceIssued(invoice_id=invoice_id, account_number=account.number, period=period,
                               consumer=account.consumer, total=invoice.due, volume_wh=invoice.volume_wh,
                               method=invoice.method, supersedes=supersedes, due_at=due_at))
        for line in invoice.lines:
            ctx.emit(InvoiceLine(invoice_id=invoice_id, payee=line.payee, component=line.component,
                                 quantity=line.quantity, net=line.net, vat=line.vat))
        credit_line = invoice.export_line
        if credit_line is not None:
            # Events carry unsigned amounts: the credit's magnitude, its component code saying it is a credit.
            ctx.emit(InvoiceLine(invoice_id=invoice_id, payee=credit_line.payee, component=credit_line.component,
                                 quantity=credit_line.quantity, net=-credit_line.net, vat=credit_line.vat))
            ctx.emit(ExportNetted(invoice_id=invoice_id, account_number=account.number, consumer=account.consumer,
                                  export_wh=netting.export_wh, mkop_per_kwh=netting.mkop_per_kwh,
                                  credit=netting.credit, charges=invoice.charges, net_due=invoice.due,
                                  payout=netting.payout))
        if invoice.status == Status.PAID:
            ctx.emit(InvoicePaid(invoice_id=invoice_id, account_number=account.number, total=0))
        return invoice_id

    def _net_export(self, ctx: Context, account: registry.Account, period: int,
                    lines: tuple[BillLine, ...]) -> ExportNetting:
        """Net the month's export at the retailer's price in force against the lines; the retailer (who signs
        the issue) pays the other payees' lines the credit settled and the credit beyond the bill."""
        export_wh = metered_export_wh(ctx, account.number, period)
        price = ctx.call(PROSUMER_ADDRESS, "exportPriceOf", account.retailer, period) if export_wh else 0
        if not price:
            return no_export(len(lines))
        with _rules(f"account {account.number}'s export for {period}"):
            netting = net_export(lines, account.retailer, export_wh, price)
        payments = paid_by_retailer(lines, account.retailer, netting)
        if payments or netting.payout:
            require(ctx.origin == account.retailer, "an invoice whose export credit moves money is issued by the "
                    "retailer signing the transaction")
        for payee, kopecks in payments:
            ctx.call(ruble.ADDRESS, "chargeOrigin", payee, kopecks)
        if netting.payout:
            ctx.call(ruble.ADDRESS, "chargeOrigin", account.consumer, netting.payout)
        return netting

    # --- the retailer ---------------------------------------------------------------------------------------

    @external
    def issueInvoice(self, ctx: Context, accountNumber: Uint64, period: Uint64) -> Uint256:
        """Issue the account's invoice for a closed period, computed from its readings; returns the invoice id."""
        account = self._own_account(ctx, accountNumber)
        ledger = self._ledger(ctx, accountNumber)
        with _rules("bad period"):
            periods.check_period(period)
        require(ledger.last_period == 0 or period == periods.next_period(ledger.last_period),
                f"account {accountNumber} is invoiced up to {ledger.last_period}; next is "
                f"{periods.next_period(ledger.last_period) if ledger.last_period else period}")
        return self._issue(ctx, account, period, ledger, 0, 0)

    @external
    def correctInvoice(self, ctx: Context, invoiceId: Uint256) -> Uint256:
        """Bill the period again from the current readings and tariffs; the new invoice supersedes the old one."""
        old = self.getInvoice(ctx, invoiceId)
        account = self._own_account(ctx, old.account_number)
        require(old.status in (Status.ISSUED, Status.CONFIRMED, Status.DISPUTED),
                f"invoice {invoiceId} is {Status(old.status).name.lower()} and cannot be corrected")
        require(old.paid_by_consumer == 0, f"invoice {invoiceId} is partly paid; refund before correcting")
        require(not paid_by_retailer(old.lines, old.retailer, old.export) and not old.export.payout,
                f"invoice {invoiceId}'s export credit was paid out beyond the retailer's lines; it cannot be "
                f"corrected")
        ledger = self._ledger(ctx, old.account_number)
        require(ledger.last_period == old.period, f"only the latest period ({ledger.last_period}) can be corrected")
        before = replace(old.ledger_before, residents=ledger.residents)
        new_id = self._issue(ctx, account, old.period, before, old.revision + 1, invoiceId)
        ctx.storage.set_record(_invoice_key(invoiceId), replace(old, status=Status.SUPERSEDED, superseded_by=new_id))
        ctx.emit(InvoiceSuperseded(invoice_id=invoiceId, superseded_by=new_id, account_number=old.account_number))
        return new_id

    @external
    def setResidents(self, ctx: Context, accountNumber: Uint64, residents: Uint8) -> None:
        """The retailer records the residents of a household, for substitute volumes by the normative."""
        self._own_account(ctx, accountNumber)
        ctx.storage.set_record(_ledger_key(accountNumber),
                               replace(self._ledger(ctx, accountNumber), residents=residents))
        ctx.emit(ResidentsSet(account_number=accountNumber, residents=residents))

    # --- common-house needs (the building's management company or grid company) ------------------------------

    @external
    def shareCommonHouse(self, ctx: Context, buildingId: Uint64, period: Uint64) -> Uint256:
        """Share a closed period's common-house needs of a building among its premises by floor area, once;
        invoices issued afterwards bill each premises' share. Returns the common volume in Wh."""
        building = ctx.call(registry.ADDRESS, "getBuilding", buildingId)
        require(ctx.sender == building.management_company or has_role(ctx, ctx.sender, Role.GRID_COMPANY),
                f"0x{ctx.sender.hex()} may not share building {buildingId}'s common-house needs")
        require(building.house_meter_id, f"building {buildingId} has no house meter")
        require(ctx.storage.get(_shares_key(buildingId, period)) is None,
                f"building {buildingId}'s common-house needs for {period} are already shared")
        house = ctx.call(readings.ADDRESS, "monthConsumption", building.house_meter_id, period)
        require(ctx.block.timestamp >= house.period_end, f"period {period} has not ended")
        meter = ctx.call(registry.ADDRESS, "getMeter", building.house_meter_id)
        premises = []
        for number in ctx.call(registry.ADDRESS, "getBuildingAccounts", buildingId):
            account = ctx.call(registry.ADDRESS, "getAccount", number)
            premises.append(Premises(str(number), account.floor_area_dm2,
                                     metered_usage(ctx, number, period, None)[0].volume_wh,
                                     account.consumer_kind == registry.ConsumerKind.HOUSEHOLD))
        with _rules(f"building {buildingId}"):
            needs = common_house_needs(house.import_wh * meter.ct_ratio * meter.vt_ratio, premises)
        shares = tuple((int(p), wh) for p, wh in needs.shares)
        ctx.storage.set_record(_shares_key(buildingId, period),
                               CommonHouseShares(needs.house_wh, needs.premises_wh, needs.common_wh, shares))
        ctx.emit(CommonHouseShared(building_id=buildingId, period=period, house_wh=needs.house_wh,
                                   premises_wh=needs.premises_wh, common_wh=needs.common_wh))
        for number, wh in shares:
            ctx.emit(CommonHouseShare(building_id=buildingId, period=period, account_number=number, share_wh=wh))
        return needs.common_wh

    def _common_house_share(self, ctx: Context, account: registry.Account, period: int) -> int:
        if not account.building_id:
            return 0
        shared = ctx.storage.get_record(_shares_key(account.building_id, period), CommonHouseShares)
        return dict(shared.shares).get(account.number, 0) if shared else 0

    # --- the consumer ---------------------------------------------------------------------------------------

    def _consumers_open_invoice(self, ctx: Context, invoice_id: int) -> Invoice:
        invoice = self.getInvoice(ctx, invoice_id)
        require(invoice.consumer == ctx.sender,
                f"invoice {invoice_id} is not for an account of 0x{ctx.sender.hex()}")
        return invoice

    @external
    def confirmInvoice(self, ctx: Context, invoiceId: Uint256) -> None:
        invoice = self._consumers_open_invoice(ctx, invoiceId)
        require(invoice.status in (Status.ISSUED, Status.DISPUTED),
                f"invoice {invoiceId} is {Status(invoice.status).name.lower()}")
        ctx.storage.set_record(_invoice_key(invoiceId), replace(invoice, status=Status.CONFIRMED))
        ctx.emit(InvoiceConfirmed(invoice_id=invoiceId, account_number=invoice.account_number, consumer=ctx.sender))

    @external
    def disputeInvoice(self, ctx: Context, invoiceId: Uint256, reason: String) -> None:
        invoice = self._consumers_open_invoice(ctx, invoiceId)
        require(invoice.status == Status.ISSUED, f"invoice {invoiceId} is {Status(invoice.status).name.lower()}")
        require(0 < len(reason) <= MAX_REASON, f"a dispute needs a reason of 1 to {MAX_REASON} characters")
        ctx.storage.set_record(_invoice_key(invoiceId), replace(invoice, status=Status.DISPUTED,
                                                                dispute_reason=reason))
        ctx.emit(InvoiceDisputed(invoice_id=invoiceId, account_number=invoice.account_number, consumer=ctx.sender,
                                 reason=reason))

    # --- for the payments contract --------------------------------------------------------------------------

    @internal
    def getInvoice(self, ctx: Context, invoice_id: int) -> Invoice:
        invoice = ctx.storage.get_record(_invoice_key(invoice_id), Invoice)
        if invoice is None:
            raise Revert(f"unknown invoice {invoice_id}")
        return invoice

    @internal
    def recordPayment(self, ctx: Context, invoice_id: int, parts: tuple[int, ...]) -> Invoice:
        """The payments contract records kopecks paid against each line; a fully paid invoice becomes PAID."""
        require(ctx.sender == PAYMENTS_ADDRESS, "only the payments contract records payments")
        invoice = self.getInvoice(ctx, invoice_id)
        paid = tuple(p + part for p, part in zip(invoice.paid, parts, strict=True))
        require(all(p <= line.total for p, line in zip(paid, invoice.lines)), "a payment exceeds a line")
        invoice = replace(invoice, paid=paid)
        if invoice.outstanding == 0:
            invoice = replace(invoice, status=Status.PAID)
        ctx.storage.set_record(_invoice_key(invoice_id), invoice)
        if invoice.status == Status.PAID:
            ctx.emit(InvoicePaid(invoice_id=invoice_id, account_number=invoice.account_number, total=invoice.due))
        return invoice

    # --- views ----------------------------------------------------------------------------------------------

    @view
    def invoice(self, ctx: Context, invoiceId: Uint256) -> tuple[
            Uint64, Uint64, Uint8, Uint8, Address, Uint64, Uint256, Uint256, Uint256, Uint8, Uint64, Uint256,
            Uint256, String]:
        """(accountNumber, period, revision, status, consumer, optionId, total, paid, volumeWh, method, dueAt,
        supersedes, supersededBy, disputeReason); total is what the consumer owes after any export credit
        (`invoiceExport`), paid what the consumer has paid of it."""
        i = self.getInvoice(ctx, invoiceId)
        return (i.account_number, i.period, i.revision, i.status, i.consumer, i.option_id, i.due, i.paid_by_consumer,
                i.volume_wh, i.method, i.due_at, i.supersedes, i.superseded_by, i.dispute_reason)

    @view
    def invoiceLines(self, ctx: Context, invoiceId: Uint256) -> tuple[
            Uint64Array, AddressArray, Uint256Array, Uint256Array, Uint256Array, Uint256Array]:
        """(components, payees, quantities, nets, vats, paid), one entry per charged line; paid includes the
        export credit settling the line. The export credit line itself is in `invoiceExport`."""
        i = self.getInvoice(ctx, invoiceId)
        return (tuple(l.component for l in i.lines), tuple(l.payee for l in i.lines),
                tuple(l.quantity for l in i.lines), tuple(l.net for l in i.lines), tuple(l.vat for l in i.lines),
                i.paid)

    @view
    def invoiceExport(self, ctx: Context, invoiceId: Uint256) -> tuple[
            Uint256, Uint64, Uint256, Uint256, Uint256, Uint256, Uint256Array]:
        """The export credit line and the net: (exportWh, mkopPerKwh, credit, charges, netDue, payout,
        creditAppliedPerLine); all zero for an invoice without export."""
        i = self.getInvoice(ctx, invoiceId)
        e = i.export
        return e.export_wh, e.mkop_per_kwh, e.credit, i.charges, i.due, e.payout, e.applied

    @view
    def ledger(self, ctx: Context, accountNumber: Uint64) -> tuple[Uint64, Uint64, Uint256, Uint8]:
        """(lastPeriod, monthsWithoutReadingsInRow, unreconciledWh, residents)."""
        ledger = self._ledger(ctx, accountNumber)
        return ledger.last_period, ledger.missing_in_row, ledger.unreconciled_wh, ledger.residents

    @view
    def commonHouse(self, ctx: Context, buildingId: Uint64, period: Uint64) -> tuple[
            Uint256, Uint256, Uint256, Uint64Array, Uint256Array]:
        """(houseWh, premisesWh, commonWh, accountNumbers, sharesWh) of a shared period."""
        shared = ctx.storage.get_record(_shares_key(buildingId, period), CommonHouseShares)
        require(shared is not None, f"building {buildingId}'s common-house needs for {period} are not shared")
        return (shared.house_wh, shared.premises_wh, shared.common_wh, tuple(a for a, _ in shared.shares),
                tuple(wh for _, wh in shared.shares))

    @view
    def compareOptions(self, ctx: Context, accountNumber: Uint64, lastPeriod: Uint64,
                       months: Uint8) -> tuple[Uint64Array, Uint256Array]:
        """The tariff optimizer: (optionIds, totals in kopecks) of the `months` periods up to `lastPeriod` under
        every option of the account's group open to it, cheapest first."""
        require(0 < months <= MAX_COMPARED_MONTHS, f"compare 1 to {MAX_COMPARED_MONTHS} months")
        account = ctx.call(registry.ADDRESS, "getAccount", accountNumber)
        group = ctx.call(tariffs.ADDRESS, "getGroup", account.tariff_group)
        with _rules("bad period"):
            compared = [periods.add_months(lastPeriod, -back) for back in range(months - 1, -1, -1)]
        usages = [metered_usage(ctx, accountNumber, p, None)[0] for p in compared]
        versions, prices, vat = {}, {}, ()
        for option_id in group.option_ids:
            for p in compared:
                try:
                    terms = ctx.call(tariffs.ADDRESS, "billingTerms", accountNumber, p, option_id)
                except Revert:
                    continue
                versions.setdefault(option_id, []).append(terms.option)
                vat = terms.vat_rates
                if terms.hourly_prices is not None:
                    prices[(option_id, p)] = terms.hourly_prices
        ranked = []
        for option_id, options in versions.items():
            option_prices = {p: prices[(option_id, p)] for p in compared if (option_id, p) in prices}
            with _rules("optimizer"):
                ranked.extend(optimizer.compare_options(usages, {option_id: options}, vat, option_prices))
        ranked.sort(key=lambda cost: (cost.total, cost.option_id))
        return tuple(c.option_id for c in ranked), tuple(c.total for c in ranked)
