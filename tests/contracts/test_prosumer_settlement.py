"""Prosumer settlement: the retailer buys a consumer's export at an effective-dated price, netted on the import
invoice, through `execute_call` on an in-memory chain (`World` from test_billing_world)."""

import eth_abi
import pytest

from contracts_py import invoices, payments, prosumer, readings, registry, ruble
from contracts_py.billing.periods import MOSCOW_UTC_OFFSET, period_start
from test_billing_world import APRIL, BANK, CONSUMER, GATEWAY, GRID, INFRA, MAY, RETAILER, World

TWO_ZONE_APRIL_TOTAL = 158_142
"""The invoice of day 150 Wh and night 80 Wh per half hour in April 2026 (tests/data/billing/two_zone.json)."""
APRIL_PRICE, MAY_PRICE = 234_567, 251_000
"""Export prices in milli-kopecks per kWh (2.35 and 2.51 RUB/kWh)."""


def logs_of(result, event_cls):
    spec = event_cls.__event_spec__
    data_types = [t for t, i in zip(spec.field_types, spec.indexed) if not i]
    return [eth_abi.decode(data_types, log.data) for log in result.logs if log.topics[0] == spec.topic]


def post_prosumer_month(world, meter_id, period, registers=(1_000_000, 0), sun_wh=600):
    """Import as in `World.post_month` (day 150, night 80 Wh per half hour) and export of `sun_wh` per half hour
    from 10:00 to 16:00 Moscow time."""
    first = period_start(period, MOSCOW_UTC_OFFSET)
    last = period_start(period + 1 if period % 100 < 12 else period + 89, MOSCOW_UTC_OFFSET)
    world.now = max(world.now, last + 3_600)
    imported, exported = registers
    starts, imports, exports = [], [], []
    for start in range(first, last, 1_800):
        half_hour = (start + MOSCOW_UTC_OFFSET) // 1_800 % 48
        imported += 150 if 14 <= half_hour < 46 else 80
        exported += sun_wh if 20 <= half_hour < 32 else 0
        starts.append(start)
        imports.append(imported)
        exports.append(exported)
    world.ok(GATEWAY, readings.ADDRESS, "postReadings", meter_id, starts, imports, exports)
    return imported, exported


@pytest.fixture
def world():
    w = World()
    w.tariff_group()
    w.meter = w.account(1001)
    w.ok(RETAILER, prosumer.ADDRESS, "setExportPrice", 20260101, APRIL_PRICE)
    w.ok(RETAILER, prosumer.ADDRESS, "setExportPrice", 20260501, MAY_PRICE)
    w.ok(BANK, ruble.ADDRESS, "transfer", RETAILER, 10_000_000)
    return w


def balances(world, *who):
    return tuple(world.balance(w) for w in who)


def test_export_is_a_credit_line_on_the_invoice_and_paying_the_net_settles_it(world):
    """April: the invoice bills the import and nets the export bought at the April price; the credit fits in the
    retailer's own lines, so no money moves at issuance; the consumer pays the net and every payee gets its line."""
    post_prosumer_month(world, world.meter, APRIL)
    assert world.ok(CONSUMER, prosumer.ADDRESS, "exportQuote", 1001, APRIL).value == (216_000, APRIL_PRICE, 50_666)
    before = balances(world, RETAILER, CONSUMER, GRID, INFRA)
    issued = world.ok(RETAILER, invoices.ADDRESS, "issueInvoice", 1001, APRIL)
    invoice_id = issued.value
    assert balances(world, RETAILER, CONSUMER, GRID, INFRA) == before
    # 30 days x 12 half hours x 600 Wh = 216,000 Wh x 234,567 mkop/kWh = 50,666.472 -> 50,666 kopecks, set against
    # the retailer's energy (105,876) and markup (11,649) lines: 45,644 + 5,022 by the largest remainder.
    assert world.ok(CONSUMER, invoices.ADDRESS, "invoiceExport", invoice_id).value == (
        216_000, APRIL_PRICE, 50_666, TWO_ZONE_APRIL_TOTAL, 107_476, 0, (45_644, 0, 5_022, 0))
    assert logs_of(issued, invoices.InvoiceIssued)[0][1] == 107_476
    assert logs_of(issued, invoices.InvoiceLine)[-1] == (8, 216_000, 50_666, 0)
    assert logs_of(issued, invoices.ExportNetted) == [(216_000, APRIL_PRICE, 50_666, TWO_ZONE_APRIL_TOTAL, 107_476, 0)]
    view = world.ok(CONSUMER, invoices.ADDRESS, "invoice", invoice_id).value
    assert (view[3], view[6], view[7]) == (invoices.Status.ISSUED, 107_476, 0)
    statement = world.ok(CONSUMER, prosumer.ADDRESS, "exportStatement", 1001, APRIL).value
    assert statement == (CONSUMER, invoice_id, 182_400, TWO_ZONE_APRIL_TOTAL, 216_000, APRIL_PRICE, 50_666,
                         107_476, 0, world.now)
    world.ok(BANK, ruble.ADDRESS, "transfer", CONSUMER, 107_476)
    world.ok(CONSUMER, invoices.ADDRESS, "confirmInvoice", invoice_id)
    world.ok(CONSUMER, payments.ADDRESS, "payInvoice", invoice_id, 107_476, 1)
    # Transmission 40,330 to the grid company, infrastructure 287, the retailer's lines less the credit: 66,859.
    assert balances(world, RETAILER, CONSUMER, GRID, INFRA) == (before[0] + 66_859, 0, before[2] + 40_330,
                                                                before[3] + 287)
    view = world.ok(CONSUMER, invoices.ADDRESS, "invoice", invoice_id).value
    assert (view[3], view[6], view[7]) == (invoices.Status.PAID, 107_476, 107_476)


def test_a_credit_beyond_the_bill_settles_every_line_and_is_paid_out(world):
    """May at 9,000 Wh per sunny half hour and the May price: the retailer pays the grid company's and the
    infrastructure lines for the consumer and the rest of the credit to the consumer; the invoice is paid."""
    registers = post_prosumer_month(world, world.meter, APRIL)
    world.ok(RETAILER, invoices.ADDRESS, "issueInvoice", 1001, APRIL)
    post_prosumer_month(world, world.meter, MAY, registers, sun_wh=9_000)
    before = balances(world, RETAILER, CONSUMER, GRID, INFRA)
    may = world.ok(RETAILER, invoices.ADDRESS, "issueInvoice", 1001, MAY).value
    export_wh, price, credit, charges, net_due, payout, applied = world.ok(
        CONSUMER, invoices.ADDRESS, "invoiceExport", may).value
    lines = world.ok(CONSUMER, invoices.ADDRESS, "invoiceLines", may).value
    # 31 x 12 x 9,000 = 3,348,000 Wh x 251,000 mkop/kWh = 840,348 kopecks exactly.
    assert (export_wh, price, credit, net_due) == (31 * 12 * 9_000, MAY_PRICE, 840_348, 0)
    totals = [net + vat for net, vat in zip(lines[3], lines[4])]
    assert applied == tuple(totals) == lines[5] and payout == 840_348 - charges == 840_348 - sum(totals)
    grid_line, infra_line = totals[1], totals[3]
    assert balances(world, RETAILER, CONSUMER, GRID, INFRA) == (
        before[0] - grid_line - infra_line - payout, payout, before[2] + grid_line, before[3] + infra_line)
    view = world.ok(CONSUMER, invoices.ADDRESS, "invoice", may).value
    assert (view[3], view[6], view[7]) == (invoices.Status.PAID, 0, 0)
    refused = world.call(CONSUMER, payments.ADDRESS, "payInvoice", may, 1, 1)
    assert not refused.success and "is paid, not payable" in refused.revert_reason
    correction = world.call(RETAILER, invoices.ADDRESS, "correctInvoice", may)
    assert not correction.success and "is paid and cannot be corrected" in correction.revert_reason


def test_a_credit_beyond_the_retailers_lines_pays_part_of_the_others_and_the_consumer_pays_the_rest(world):
    """1,500 Wh per sunny half hour: 540,000 Wh -> 126,666 kopecks, more than the retailer's lines (117,525): the
    retailer pays the grid company 9,076 and the infrastructure payee 65 at issuance (tests/data/prosumer), the
    consumer pays the net 31,476; such an invoice cannot be corrected, since money moved on it."""
    post_prosumer_month(world, world.meter, APRIL, sun_wh=1_500)
    before = balances(world, RETAILER, GRID, INFRA)
    invoice_id = world.ok(RETAILER, invoices.ADDRESS, "issueInvoice", 1001, APRIL).value
    assert world.ok(CONSUMER, invoices.ADDRESS, "invoiceExport", invoice_id).value == (
        540_000, APRIL_PRICE, 126_666, TWO_ZONE_APRIL_TOTAL, 31_476, 0, (105_876, 9_076, 11_649, 65))
    assert balances(world, RETAILER, GRID, INFRA) == (before[0] - 9_141, before[1] + 9_076, before[2] + 65)
    refused = world.call(RETAILER, invoices.ADDRESS, "correctInvoice", invoice_id)
    assert not refused.success and "export credit was paid out beyond the retailer's lines" in refused.revert_reason
    world.ok(BANK, ruble.ADDRESS, "transfer", CONSUMER, 31_476)
    world.ok(CONSUMER, payments.ADDRESS, "payInvoice", invoice_id, 31_476, 1)
    assert balances(world, RETAILER, GRID, INFRA) == (before[0] - 9_141, before[1] + 40_330, before[2] + 287)
    assert world.ok(CONSUMER, invoices.ADDRESS, "invoice", invoice_id).value[3] == invoices.Status.PAID


def test_transformer_ratios_scale_the_export(world):
    world.ok(GRID, registry.ADDRESS, "configureMeter", world.meter, 2, 5, 1, 0, True, False, 20_000,
             MOSCOW_UTC_OFFSET)
    post_prosumer_month(world, world.meter, APRIL)
    invoice_id = world.ok(RETAILER, invoices.ADDRESS, "issueInvoice", 1001, APRIL).value
    # CT 5 x VT 1 on import and on export: 1,080,000 Wh x 234,567 = 253,332.36 -> 253,332 kopecks.
    assert world.ok(CONSUMER, invoices.ADDRESS, "invoiceExport", invoice_id).value[:3] == (
        1_080_000, APRIL_PRICE, 253_332)


def test_a_correction_nets_the_export_again_from_the_current_readings(world):
    """A credit that stayed within the retailer's lines moved no money, so the invoice can be corrected; the new
    invoice nets the export as it stands then, and the statement follows the correction."""
    post_prosumer_month(world, world.meter, APRIL)
    first = world.ok(RETAILER, invoices.ADDRESS, "issueInvoice", 1001, APRIL).value
    second = world.ok(RETAILER, invoices.ADDRESS, "correctInvoice", first).value
    assert world.ok(CONSUMER, invoices.ADDRESS, "invoiceExport", second).value[:5] == (
        216_000, APRIL_PRICE, 50_666, TWO_ZONE_APRIL_TOTAL, 107_476)
    assert world.ok(CONSUMER, prosumer.ADDRESS, "exportStatement", 1001, APRIL).value[1] == second


def test_no_export_price_in_force_means_no_credit_line(world):
    """The retailer buys export only under a price in force on the month's first day."""
    other = World()
    other.tariff_group()
    other.account(1001)
    other.ok(RETAILER, prosumer.ADDRESS, "setExportPrice", 20260501, MAY_PRICE)
    post_prosumer_month(other, 1001, APRIL)
    issued = other.ok(RETAILER, invoices.ADDRESS, "issueInvoice", 1001, APRIL)
    assert other.ok(CONSUMER, invoices.ADDRESS, "invoiceExport", issued.value).value == (
        0, 0, 0, TWO_ZONE_APRIL_TOTAL, TWO_ZONE_APRIL_TOTAL, 0, (0, 0, 0, 0))
    assert logs_of(issued, invoices.ExportNetted) == []
    quote = other.call(CONSUMER, prosumer.ADDRESS, "exportQuote", 1001, APRIL)
    assert not quote.success and "no export price is in force on 20260401" in quote.revert_reason


def test_a_retailer_that_cannot_pay_the_credit_beyond_its_lines_cannot_issue_and_nothing_changes(world):
    registers = post_prosumer_month(world, world.meter, APRIL)
    world.ok(RETAILER, invoices.ADDRESS, "issueInvoice", 1001, APRIL)
    post_prosumer_month(world, world.meter, MAY, registers, sun_wh=9_000)
    world.ok(RETAILER, ruble.ADDRESS, "transfer", BANK, world.balance(RETAILER) - 1_000)
    before = dict(world.state.data)
    result = world.call(RETAILER, invoices.ADDRESS, "issueInvoice", 1001, MAY)
    assert not result.success and "insufficient balance" in result.revert_reason
    assert world.state.data == before


def test_the_statement_needs_an_issued_invoice(world):
    post_prosumer_month(world, world.meter, APRIL)
    result = world.call(CONSUMER, prosumer.ADDRESS, "exportStatement", 1001, APRIL)
    assert not result.success and "account 1001 has no invoice for 202604; issue it first" in result.revert_reason


def test_prices_are_set_by_retailers_and_only_go_forward(world):
    back = world.call(RETAILER, prosumer.ADDRESS, "setExportPrice", 20260401, 1)
    assert not back.success and "latest version is in force from 20260501" in back.revert_reason
    consumer = world.call(CONSUMER, prosumer.ADDRESS, "setExportPrice", 20270101, 1)
    assert not consumer.success and "lacks the retailer role" in consumer.revert_reason
    bad_date = world.call(RETAILER, prosumer.ADDRESS, "setExportPrice", 20271301, 1)
    assert not bad_date.success and "not a yyyymmdd date" in bad_date.revert_reason
    assert world.ok(CONSUMER, prosumer.ADDRESS, "exportPrices", RETAILER).value == (
        (20260101, 20260501), (APRIL_PRICE, MAY_PRICE))
    assert prosumer.price_in_force(prosumer.PriceSchedule((prosumer.ExportPrice(20260102, 5),)), 202602) == 5
    with pytest.raises(prosumer.Revert, match="no export price is in force on 20260101"):
        prosumer.price_in_force(prosumer.PriceSchedule((prosumer.ExportPrice(20260102, 5),)), 202601)
