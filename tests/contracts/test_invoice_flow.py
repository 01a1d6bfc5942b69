"""Invoices computed on-chain from the readings: issue, confirm, dispute, correct, substitute, switch option."""

import eth_abi

from contracts_py import invoices, registry, tariffs
from contracts_py.billing.periods import MOSCOW_UTC_OFFSET, period_start
from test_billing_world import (APRIL, CONSUMER, GRID, INFRA, MAY, NEIGHBOUR, OTHER_RETAILER, RETAILER, World,
                                world)  # noqa: F401  (fixture)

TWO_ZONE_APRIL_TOTAL = 158_142
"""tests/data/billing/two_zone.json: day 150 Wh and night 80 Wh per half-hour in April 2026."""


def issue(world, account=1001, period=APRIL):
    return world.ok(RETAILER, invoices.ADDRESS, "issueInvoice", account, period)


def test_invoice_amounts_come_from_the_readings_and_match_the_golden_bill(world):
    world.post_month(world.account(1001))
    result = issue(world)
    invoice_id = result.value
    assert invoice_id == 1001_202604_000
    info = world.ok(CONSUMER, invoices.ADDRESS, "invoice", invoice_id).value
    account, period, revision, status, consumer, option, total, paid, volume, method, due_at = info[:11]
    assert (account, period, revision, status, consumer, option) == (1001, APRIL, 0, 1, CONSUMER, 1)
    assert (total, paid, volume, method) == (TWO_ZONE_APRIL_TOTAL, 0, 182_400, 0)
    assert due_at == period_start(MAY, MOSCOW_UTC_OFFSET) + 10 * 86_400
    components, payees, quantities, nets, vats, _ = world.ok(CONSUMER, invoices.ADDRESS, "invoiceLines",
                                                             invoice_id).value
    assert components == (1, 3, 5, 6) and payees == (RETAILER, GRID, RETAILER, INFRA)
    assert nets == (86_784, 33_057, 9_548, 235) and vats == (19_092, 7_273, 2_101, 52)
    issued = CONTRACT_EVENTS["InvoiceIssued"]
    assert [log.topics[0] for log in result.logs].count(issued) == 1
    assert [log.topics[0] for log in result.logs].count(CONTRACT_EVENTS["InvoiceLine"]) == 4


CONTRACT_EVENTS = {e.__name__: e.__event_spec__.topic for e in invoices.Invoices.EVENTS}


def test_an_invoice_for_someone_elses_account_is_rejected_and_changes_nothing(world):
    world.post_month(world.account(1001))
    before = dict(world.state.data)
    denied = world.call(OTHER_RETAILER, invoices.ADDRESS, "issueInvoice", 1001, APRIL)
    assert not denied.success and "belongs to another retailer" in denied.revert_reason
    assert world.state.data == before
    invoice_id = issue(world).value
    for function, args in (("confirmInvoice", ()), ("disputeInvoice", ("not mine",))):
        denied = world.call(NEIGHBOUR, invoices.ADDRESS, function, invoice_id, *args)
        assert not denied.success and "is not for an account of" in denied.revert_reason


def test_periods_are_invoiced_once_in_order_and_only_when_closed(world):
    meter = world.account(1001)
    world.now = period_start(APRIL, MOSCOW_UTC_OFFSET) + 86_400
    early = world.call(RETAILER, invoices.ADDRESS, "issueInvoice", 1001, APRIL)
    assert not early.success and "has not ended" in early.revert_reason
    world.post_month(meter)
    issue(world)
    again = world.call(RETAILER, invoices.ADDRESS, "issueInvoice", 1001, APRIL)
    assert not again.success and "invoiced up to 202604" in again.revert_reason
    skipped = world.call(RETAILER, invoices.ADDRESS, "issueInvoice", 1001, 202606)
    assert not skipped.success and "next is 202605" in skipped.revert_reason


def test_consumer_disputes_and_a_corrected_invoice_supersedes_it_with_links(world):
    meter = world.account(1001)
    world.post_month(meter)
    first = issue(world).value
    world.ok(CONSUMER, invoices.ADDRESS, "disputeInvoice", first, "the meter was replaced on 12 April")
    info = world.ok(CONSUMER, invoices.ADDRESS, "invoice", first).value
    assert info[3] == invoices.Status.DISPUTED and info[13] == "the meter was replaced on 12 April"
    world.ok(GRID, registry.ADDRESS, "configureMeter", meter, 1, 1, 1, 25_000, True, False, 20_000,
             MOSCOW_UTC_OFFSET)  # the grid company finds the meter off the balance boundary: 2.5% losses
    corrected = world.ok(RETAILER, invoices.ADDRESS, "correctInvoice", first).value
    assert corrected == 1001_202604_001
    old = world.ok(CONSUMER, invoices.ADDRESS, "invoice", first).value
    new = world.ok(CONSUMER, invoices.ADDRESS, "invoice", corrected).value
    assert old[3] == invoices.Status.SUPERSEDED and old[12] == corrected
    assert new[11] == first and new[2] == 1 and new[8] == 182_400 + 4_560
    again = world.call(RETAILER, invoices.ADDRESS, "correctInvoice", first)
    assert not again.success and "superseded" in again.revert_reason
    world.ok(CONSUMER, invoices.ADDRESS, "confirmInvoice", corrected)
    assert world.ok(CONSUMER, invoices.ADDRESS, "invoice", corrected).value[3] == invoices.Status.CONFIRMED


def test_a_month_without_readings_is_substituted_then_reconciled_when_readings_return(world):
    meter = world.account(1001)
    world.ok(RETAILER, invoices.ADDRESS, "setResidents", 1001, 2)
    world.now = period_start(MAY, MOSCOW_UTC_OFFSET) + 3_600
    april = world.ok(CONSUMER, invoices.ADDRESS, "invoice", issue(world).value).value
    assert april[8] == 2 * 87_000 and april[9] == 2  # normative x residents, Method.NORMATIVE
    assert world.ok(CONSUMER, invoices.ADDRESS, "ledger", 1001).value == (APRIL, 1, 174_000, 2)
    world.post_month(meter, period=MAY)  # May's readings: the increase covers only May (registers from 1,000,000)
    may = world.ok(CONSUMER, invoices.ADDRESS, "invoice", issue(world, period=MAY).value).value
    may_metered = 31 * (32 * 150 + 16 * 80)
    assert may[9] == 0 and may[8] == may_metered - 174_000
    assert world.ok(CONSUMER, invoices.ADDRESS, "ledger", 1001).value == (MAY, 0, 0, 2)


def test_switching_option_applies_from_the_next_period(world):
    meter = world.account(1001)
    world.now = period_start(APRIL, MOSCOW_UTC_OFFSET) + 5 * 86_400
    switched = world.ok(CONSUMER, tariffs.ADDRESS, "chooseOption", 1001, 2)
    assert switched.value == MAY
    denied = world.call(NEIGHBOUR, tariffs.ADDRESS, "chooseOption", 1001, 2)
    assert not denied.success and "is not the consumer of account 1001" in denied.revert_reason
    register = world.post_month(meter)
    april = world.ok(CONSUMER, invoices.ADDRESS, "invoice", issue(world).value).value
    assert april[5] == 1 and april[6] == TWO_ZONE_APRIL_TOTAL
    world.post_month(meter, period=MAY, start_register=register)
    may = world.ok(CONSUMER, invoices.ADDRESS, "invoice", issue(world, period=MAY).value).value
    assert may[5] == 2


def test_optimizer_view_ranks_the_group_options_for_the_account(world):
    world.post_month(world.account(1001), day_wh=40, night_wh=400)
    option_ids, totals = world.ok(CONSUMER, invoices.ADDRESS, "compareOptions", 1001, APRIL, 1).value
    assert option_ids == (1, 2) and totals[0] < totals[1]
    assert totals[0] == world.ok(CONSUMER, invoices.ADDRESS, "invoice", issue(world).value).value[6]


def test_invoice_views_revert_for_unknown_ids(world):
    result = world.call(CONSUMER, invoices.ADDRESS, "invoice", 42)
    assert not result.success and result.revert_reason == "unknown invoice 42"
    assert eth_abi.decode(["string"], result.return_data[4:]) == ("unknown invoice 42",)
