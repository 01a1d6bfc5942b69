"""An hourly (price category 4) invoice of a legal entity computed on-chain equals the golden bill."""

from contracts_py import invoices, tariffs
from contracts_py.billing.periods import MOSCOW_UTC_OFFSET, days_from_civil, days_in_period
from test_billing_world import APRIL, CONSUMER, GRID, INFRA, RETAILER, World, world  # noqa: F401

GOLDEN_TOTAL = 61_041_356
"""tests/data/billing/hourly_capacity.json."""
WORKING_DAYS = (1, 2, 3, 6, 7, 8, 9, 10, 13, 14, 15, 16, 17, 20, 21, 22, 23, 24, 27, 28, 29, 30)


def test_hourly_invoice_with_capacity_matches_the_golden_file(world):
    world.ok(RETAILER, tariffs.ADDRESS, "saveGroup", 7, "Legal entities, category 4")
    world.ok(RETAILER, tariffs.ADDRESS, "saveOption", 7, 1, 5, 20260101, MOSCOW_UTC_OFFSET, RETAILER,
             [], [], [], [], [], [], 0, 4, [3, 5, 6], [GRID, RETAILER, INFRA], [45_000, 32_100, 980])
    hours = days_in_period(APRIL) * 24
    energy = [250_000 if h % 24 < 7 or h % 24 == 23 else 480_000 for h in range(hours)]
    world.ok(RETAILER, tariffs.ADDRESS, "publishHourlyPrices", 7, 1, APRIL, energy,
             [(day - 1) * 24 + 10 for day in WORKING_DAYS], 101_234_567, 8, 21, 98_765_432)
    meter = world.account(2001, group_id=7, kind=2, hourly=True, max_power_w=500_000)
    extra = {days_from_civil(2026, 4, 7) * 86_400 + 10 * 3_600 - MOSCOW_UTC_OFFSET: 10_000}
    world.post_month(meter, day_wh=50_000, night_wh=20_000, extra=extra)
    invoice_id = world.ok(RETAILER, invoices.ADDRESS, "issueInvoice", 2001, APRIL).value
    info = world.ok(CONSUMER, invoices.ADDRESS, "invoice", invoice_id).value
    assert info[6] == GOLDEN_TOTAL and info[8] == 57_610_000
    components, payees, quantities, *_ = world.ok(CONSUMER, invoices.ADDRESS, "invoiceLines", invoice_id).value
    assert components == (1, 2, 4, 3, 5, 6) and quantities[1] == quantities[2] == 100_455


def test_an_hourly_tariff_needs_an_hourly_profiled_meter(world):
    world.ok(RETAILER, tariffs.ADDRESS, "saveGroup", 7, "Legal entities, category 3")
    world.ok(RETAILER, tariffs.ADDRESS, "saveOption", 7, 1, 5, 20260101, MOSCOW_UTC_OFFSET, RETAILER,
             [], [], [], [], [], [], 0, 3, [3], [GRID], [45_000])
    world.ok(RETAILER, tariffs.ADDRESS, "publishHourlyPrices", 7, 1, APRIL, [1] * 720, [10], 1, 0, 0, 0)
    meter = world.account(2002, group_id=7, kind=2, hourly=False, max_power_w=500_000)
    world.post_month(meter)
    result = world.call(RETAILER, invoices.ADDRESS, "issueInvoice", 2002, APRIL)
    assert not result.success and "keeps no hourly profile" in result.revert_reason
