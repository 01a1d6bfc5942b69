"""Prosumer settlement: the retailer buys a consumer's export at an effective-dated price, paid next to the
import invoice, through `execute_call` on an in-memory chain (`World` from test_billing_world)."""

import eth_abi
import pytest

from contracts_py import invoices, payments, prosumer, readings, registry, ruble
from contracts_py.billing.periods import MOSCOW_UTC_OFFSET, period_start
from test_billing_world import APRIL, BANK, CONSUMER, GATEWAY, GRID, MAY, OTHER_RETAILER, RETAILER, World

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


def test_prosumer_month_with_import_and_export_end_to_end(world):
    """April: the invoice bills the import, the retailer buys the export, the consumer pays the invoice from a
    wallet that the credit topped up; the statement and the event show both sides and the net."""
    post_prosumer_month(world, world.meter, APRIL)
    invoice_id = world.ok(RETAILER, invoices.ADDRESS, "issueInvoice", 1001, APRIL).value
    assert world.ok(CONSUMER, prosumer.ADDRESS, "exportQuote", 1001, APRIL).value == (216_000, APRIL_PRICE, 50_666)
    retailer_before = world.balance(RETAILER)
    settled = world.ok(RETAILER, prosumer.ADDRESS, "settleExport", 1001, APRIL)
    # 30 days x 12 half hours x 600 Wh = 216,000 Wh x 234,567 mkop/kWh = 50,666.472 -> 50,666 kopecks.
    assert settled.value == 50_666
    assert logs_of(settled, prosumer.ExportSettled) == [(invoice_id, 182_400, TWO_ZONE_APRIL_TOTAL, 216_000,
                                                         APRIL_PRICE, 50_666, 107_476, 0)]
    assert world.balance(CONSUMER) == 50_666 and retailer_before - world.balance(RETAILER) == 50_666
    statement = world.ok(CONSUMER, prosumer.ADDRESS, "exportStatement", 1001, APRIL).value
    assert statement == (CONSUMER, invoice_id, 182_400, TWO_ZONE_APRIL_TOTAL, 216_000, APRIL_PRICE, 50_666,
                         107_476, 0, world.now)
    world.ok(BANK, ruble.ADDRESS, "transfer", CONSUMER, 107_476)  # the net, topped up at the bank
    world.ok(CONSUMER, payments.ADDRESS, "payInvoice", invoice_id, TWO_ZONE_APRIL_TOTAL, 1)
    assert world.balance(CONSUMER) == 0
    assert world.ok(CONSUMER, invoices.ADDRESS, "invoice", invoice_id).value[3] == invoices.Status.PAID


def test_the_price_in_force_on_the_first_day_applies_and_a_large_export_leaves_credit_over(world):
    registers = post_prosumer_month(world, world.meter, APRIL)
    world.ok(RETAILER, invoices.ADDRESS, "issueInvoice", 1001, APRIL)
    world.ok(RETAILER, prosumer.ADDRESS, "settleExport", 1001, APRIL)
    post_prosumer_month(world, world.meter, MAY, registers, sun_wh=9_000)
    may_invoice = world.ok(RETAILER, invoices.ADDRESS, "issueInvoice", 1001, MAY).value
    may_total = world.ok(CONSUMER, invoices.ADDRESS, "invoice", may_invoice).value[6]
    settled = world.ok(RETAILER, prosumer.ADDRESS, "settleExport", 1001, MAY)
    export_wh = 31 * 12 * 9_000
    assert settled.value == export_wh * MAY_PRICE // 1_000_000 == 840_348
    assert logs_of(settled, prosumer.ExportSettled)[0][4:] == (MAY_PRICE, 840_348, 0, 840_348 - may_total)


def test_transformer_ratios_scale_the_export(world):
    world.ok(GRID, registry.ADDRESS, "configureMeter", world.meter, 2, 5, 1, 0, True, False, 20_000,
             MOSCOW_UTC_OFFSET)
    post_prosumer_month(world, world.meter, APRIL)
    world.ok(RETAILER, invoices.ADDRESS, "issueInvoice", 1001, APRIL)
    assert world.ok(RETAILER, prosumer.ADDRESS, "settleExport", 1001, APRIL).value == 5 * 216_000 * APRIL_PRICE \
        // 1_000_000


def test_a_month_is_settled_once_and_in_order(world):
    registers = post_prosumer_month(world, world.meter, APRIL)
    world.ok(RETAILER, invoices.ADDRESS, "issueInvoice", 1001, APRIL)
    post_prosumer_month(world, world.meter, MAY, registers)
    world.ok(RETAILER, invoices.ADDRESS, "issueInvoice", 1001, MAY)
    world.ok(RETAILER, prosumer.ADDRESS, "settleExport", 1001, MAY)
    before = dict(world.state.data)
    again = world.call(RETAILER, prosumer.ADDRESS, "settleExport", 1001, MAY)
    assert not again.success and "export for 202605 is already settled" in again.revert_reason
    earlier = world.call(RETAILER, prosumer.ADDRESS, "settleExport", 1001, APRIL)
    assert not earlier.success and "settled up to 202605; periods go in order" in earlier.revert_reason
    assert world.state.data == before


@pytest.mark.parametrize("case, reason", [
    ("foreign", "account 1001 belongs to another retailer"),
    ("consumer", "lacks the retailer role"),
    ("no_invoice", "account 1001 has no invoice for 202604; issue it first"),
    ("not_final", "meter 1001's readings are not final for 202604"),
    ("not_ended", "period 202604 has not ended"),
    ("poor", "insufficient balance"),
])
def test_settlement_refusals_change_nothing(world, case, reason):
    if case == "not_final":
        world.now = period_start(MAY, MOSCOW_UTC_OFFSET) + 3_600
        world.ok(GATEWAY, readings.ADDRESS, "postReading", world.meter, period_start(APRIL, MOSCOW_UTC_OFFSET),
                 1_000_100, 500)
    elif case == "not_ended":
        world.now = period_start(MAY, MOSCOW_UTC_OFFSET) - 3_600
    else:
        post_prosumer_month(world, world.meter, APRIL)
        if case != "no_invoice":
            world.ok(RETAILER, invoices.ADDRESS, "issueInvoice", 1001, APRIL)
    if case == "poor":
        world.ok(RETAILER, ruble.ADDRESS, "transfer", BANK, world.balance(RETAILER) - 50_665)
    sender = {"foreign": OTHER_RETAILER, "consumer": CONSUMER}.get(case, RETAILER)
    before = dict(world.state.data)
    result = world.call(sender, prosumer.ADDRESS, "settleExport", 1001, APRIL)
    assert not result.success and reason in result.revert_reason
    assert world.state.data == before


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
