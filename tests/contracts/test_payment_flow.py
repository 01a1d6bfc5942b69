"""Payments: bank top-ups, invoice payment split among the payees to the kopeck, auto-debit, overpayment refund."""

from contracts_py import invoices, payments, ruble
from test_billing_world import (APRIL, BANK, CONSUMER, GRID, INFRA, NEIGHBOUR, OTHER_RETAILER, RETAILER, World,
                                world)  # noqa: F401  (fixture)

TOTAL = 158_142
BY_PAYEE = {RETAILER: 86_784 + 19_092 + 9_548 + 2_101, GRID: 33_057 + 7_273, INFRA: 235 + 52}
REF = bytes.fromhex("ab" * 32)


def invoiced(world):
    world.post_month(world.account(1001))
    return world.ok(RETAILER, invoices.ADDRESS, "issueInvoice", 1001, APRIL).value


def top_up(world, amount, reference=REF, consumer=CONSUMER):
    return world.ok(BANK, payments.ADDRESS, "topUp", consumer, amount, reference, payments.Source.BANK)


def balances(world):
    return {who: world.balance(who) for who in (CONSUMER, RETAILER, GRID, INFRA)}


def test_bank_top_up_is_recorded_once_per_reference_and_only_by_the_bank(world):
    top_up(world, 200_000)
    assert world.balance(CONSUMER) == 200_000
    assert world.ok(CONSUMER, payments.ADDRESS, "topUpRecorded", REF).value == CONSUMER
    again = world.call(BANK, payments.ADDRESS, "topUp", CONSUMER, 200_000, REF, 1)
    assert not again.success and "already recorded" in again.revert_reason
    forged = world.call(CONSUMER, payments.ADDRESS, "topUp", CONSUMER, 1, bytes(32), 1)
    assert not forged.success and "lacks the issuer role" in forged.revert_reason
    assert world.balance(CONSUMER) == 200_000


def test_full_payment_goes_to_each_payee_exactly_by_the_invoice_lines(world):
    invoice_id = invoiced(world)
    top_up(world, 200_000)
    world.ok(CONSUMER, invoices.ADDRESS, "confirmInvoice", invoice_id)
    result = world.ok(CONSUMER, payments.ADDRESS, "payInvoice", invoice_id, TOTAL, payments.Source.CARD)
    assert result.value == invoice_id * 1_000 + 1
    after = balances(world)
    assert after == {CONSUMER: 200_000 - TOTAL, **BY_PAYEE}
    topics = [log.topics[0] for log in result.logs]
    assert topics.count(payments.PaymentSplit.__event_spec__.topic) == 4
    assert topics.count(payments.PaymentConfirmed.__event_spec__.topic) == 1
    assert topics.count(invoices.InvoicePaid.__event_spec__.topic) == 1
    info = world.ok(CONSUMER, invoices.ADDRESS, "invoice", invoice_id).value
    assert info[3] == invoices.Status.PAID and info[7] == TOTAL
    record = world.ok(CONSUMER, payments.ADDRESS, "payment", result.value).value
    assert record[:6] == (invoice_id, 1001, CONSUMER, TOTAL, TOTAL, payments.Source.CARD)
    assert sum(record[7]) == TOTAL
    paid_again = world.call(CONSUMER, payments.ADDRESS, "payInvoice", invoice_id, 1, 1)
    assert not paid_again.success and "not payable" in paid_again.revert_reason


def test_part_payments_split_to_the_kopeck_and_complete_each_line(world):
    invoice_id = invoiced(world)
    top_up(world, 200_000)
    for amount in (10_001, 77_777, TOTAL - 10_001 - 77_777):
        world.ok(CONSUMER, payments.ADDRESS, "payInvoice", invoice_id, amount, payments.Source.CASH_DESK)
    assert balances(world) == {CONSUMER: 200_000 - TOTAL, **BY_PAYEE}
    _, _, _, nets, vats, paid = world.ok(CONSUMER, invoices.ADDRESS, "invoiceLines", invoice_id).value
    assert paid == tuple(n + v for n, v in zip(nets, vats))


def test_paying_more_than_the_balance_is_rejected_and_nothing_moves(world):
    invoice_id = invoiced(world)
    top_up(world, 1_000)
    before = dict(world.state.data)
    result = world.call(CONSUMER, payments.ADDRESS, "payInvoice", invoice_id, TOTAL, payments.Source.BANK)
    assert not result.success and "insufficient balance" in result.revert_reason
    assert world.state.data == before


def test_overpayment_is_held_for_the_account_and_refunded_to_the_consumer(world):
    invoice_id = invoiced(world)
    top_up(world, 200_000)
    world.ok(CONSUMER, payments.ADDRESS, "payInvoice", invoice_id, 170_000, payments.Source.BANK)
    assert world.ok(CONSUMER, payments.ADDRESS, "overpayment", 1001).value == 170_000 - TOTAL
    assert world.balance(payments.ADDRESS) == 170_000 - TOTAL
    denied = world.call(NEIGHBOUR, payments.ADDRESS, "refundOverpayment", 1001)
    assert not denied.success and "neither the consumer nor the retailer" in denied.revert_reason
    assert world.ok(RETAILER, payments.ADDRESS, "refundOverpayment", 1001).value == 170_000 - TOTAL
    assert world.balance(CONSUMER) == 200_000 - TOTAL and world.balance(payments.ADDRESS) == 0


def test_auto_debit_takes_a_due_invoice_within_the_consumers_mandate(world):
    invoice_id = invoiced(world)
    top_up(world, 200_000)
    not_due = world.call(RETAILER, payments.ADDRESS, "autoDebit", invoice_id)
    assert not not_due.success and "is not due" in not_due.revert_reason
    world.ok(CONSUMER, invoices.ADDRESS, "confirmInvoice", invoice_id)
    no_mandate = world.call(RETAILER, payments.ADDRESS, "autoDebit", invoice_id)
    assert not no_mandate.success and "balance does not cover" in no_mandate.revert_reason
    world.ok(CONSUMER, ruble.ADDRESS, "approve", payments.ADDRESS, 1_000_000)
    payment_id = world.ok(OTHER_RETAILER, payments.ADDRESS, "autoDebit", invoice_id).value
    assert balances(world) == {CONSUMER: 200_000 - TOTAL, **BY_PAYEE}
    assert world.ok(CONSUMER, payments.ADDRESS, "payment", payment_id).value[5] == payments.Source.AUTO_DEBIT


def test_auto_debit_uses_the_overpayment_first_and_a_past_due_date(world):
    meter = world.account(1001)
    register = world.post_month(meter)
    april = world.ok(RETAILER, invoices.ADDRESS, "issueInvoice", 1001, APRIL).value
    top_up(world, 400_000)
    world.ok(CONSUMER, payments.ADDRESS, "payInvoice", april, TOTAL + 50_000, payments.Source.BANK)
    world.post_month(meter, period=202605, start_register=register)
    may = world.ok(RETAILER, invoices.ADDRESS, "issueInvoice", 1001, 202605).value
    may_total = world.ok(CONSUMER, invoices.ADDRESS, "invoice", may).value[6]
    world.now = world.ok(CONSUMER, invoices.ADDRESS, "invoice", may).value[10]
    world.ok(CONSUMER, ruble.ADDRESS, "approve", payments.ADDRESS, may_total - 50_000)
    world.ok(RETAILER, payments.ADDRESS, "autoDebit", may)
    assert world.ok(CONSUMER, payments.ADDRESS, "overpayment", 1001).value == 0
    assert world.balance(CONSUMER) == 400_000 - TOTAL - may_total


def test_a_disputed_invoice_is_not_payable(world):
    invoice_id = invoiced(world)
    top_up(world, 200_000)
    world.ok(CONSUMER, invoices.ADDRESS, "disputeInvoice", invoice_id, "reading on 3 April is wrong")
    result = world.call(CONSUMER, payments.ADDRESS, "payInvoice", invoice_id, TOTAL, payments.Source.BANK)
    assert not result.success and "disputed, not payable" in result.revert_reason
