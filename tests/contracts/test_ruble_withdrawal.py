"""Top-up and withdrawal requests of the ruble token: requested by a holder, settled by the bank, once."""

import pytest

from contracts_py import ruble
from contracts_py.bank_sim import SimulatedBank, pending_requests
from contracts_py.ruble import (BankRequest, BankRequestError, RequestKind, RequestStatus, open_request, settle)
from test_billing_world import BANK, CONSUMER, NEIGHBOUR, World

BIK, ACCOUNT = "049205603", "40817810000000000001"
REF = bytes.fromhex("5a" * 32)


@pytest.fixture
def world():
    w = World()
    w.ok(BANK, ruble.ADDRESS, "transfer", CONSUMER, 100_000)
    return w


def request(world, function, *args, sender=CONSUMER):
    return world.ok(sender, ruble.ADDRESS, function, *args).value


def token_views(world):
    """The token's views as a bank adapter reads them: every output as a tuple."""
    def view(function, *args):
        value = request(world, function, *args)
        return value if len(ruble.RubleToken.functions[function].output_types) > 1 else (value,)
    return view


def test_top_up_request_is_paid_from_the_bank_float_once(world):
    supply, float_before = world.ok(BANK, ruble.ADDRESS, "totalSupply").value, world.balance(BANK)
    request_id = request(world, "requestTopUp", 250_000)
    assert world.balance(CONSUMER) == 100_000  # nothing moves until the bank has the rubles
    result = world.ok(BANK, ruble.ADDRESS, "fulfilTopUp", request_id, REF)
    assert [log.topics[0] for log in result.logs] == [ruble.Transfer.__event_spec__.topic,
                                                      ruble.TopUpFulfilled.__event_spec__.topic]
    assert world.balance(CONSUMER) == 350_000 and world.balance(BANK) == float_before - 250_000
    assert world.ok(BANK, ruble.ADDRESS, "totalSupply").value == supply
    again = world.call(BANK, ruble.ADDRESS, "fulfilTopUp", request_id, bytes.fromhex("5b" * 32))
    assert not again.success and "already done" in again.revert_reason
    other = request(world, "requestTopUp", 1_000)
    reused = world.call(BANK, ruble.ADDRESS, "fulfilTopUp", other, REF)
    assert not reused.success and "already recorded" in reused.revert_reason
    assert request(world, "bankRequest", request_id)[5] == RequestStatus.DONE


def test_withdrawal_locks_the_amount_at_once_and_the_bank_takes_it_when_paid(world):
    float_before = world.balance(BANK)
    request_id = request(world, "requestWithdrawal", 60_000, BIK, ACCOUNT)
    assert world.balance(CONSUMER) == 40_000 and world.balance(ruble.ADDRESS) == 60_000
    spend = world.call(CONSUMER, ruble.ADDRESS, "transfer", NEIGHBOUR, 40_001)
    assert not spend.success and "insufficient balance" in spend.revert_reason
    world.ok(BANK, ruble.ADDRESS, "confirmWithdrawal", request_id, REF)
    assert world.balance(ruble.ADDRESS) == 0 and world.balance(BANK) == float_before + 60_000
    kind, holder, amount, bik, account, status, reference = request(world, "bankRequest", request_id)
    assert (kind, holder, amount, bik, account, status, reference) == (
        RequestKind.WITHDRAWAL, CONSUMER, 60_000, BIK, ACCOUNT, RequestStatus.DONE, REF)


def test_rejected_withdrawal_is_refunded_and_cannot_be_paid_after(world):
    request_id = request(world, "requestWithdrawal", 70_000, BIK, ACCOUNT)
    world.ok(BANK, ruble.ADDRESS, "rejectRequest", request_id, "account closed")
    assert world.balance(CONSUMER) == 100_000 and world.balance(ruble.ADDRESS) == 0
    late = world.call(BANK, ruble.ADDRESS, "confirmWithdrawal", request_id, REF)
    assert not late.success and "already rejected" in late.revert_reason


@pytest.mark.parametrize("amount, bik, account, reason", [
    (100_001, BIK, ACCOUNT, "insufficient balance"),
    (0, BIK, ACCOUNT, "the amount must be"),
    (10, "04920560", ACCOUNT, "a BIK has 9 digits"),
    (10, BIK, "4081781000000000000x", "a bank account has 20 digits"),
])
def test_bad_withdrawal_reverts_and_moves_nothing(world, amount, bik, account, reason):
    result = world.call(CONSUMER, ruble.ADDRESS, "requestWithdrawal", amount, bik, account)
    assert not result.success and reason in result.revert_reason
    assert world.balance(CONSUMER) == 100_000 and world.ok(BANK, ruble.ADDRESS, "bankRequestCount").value == 0


def test_only_the_bank_settles_and_only_the_right_kind(world):
    top_up = request(world, "requestTopUp", 5_000)
    withdrawal = request(world, "requestWithdrawal", 5_000, BIK, ACCOUNT)
    forged = world.call(CONSUMER, ruble.ADDRESS, "fulfilTopUp", top_up, REF)
    assert not forged.success and "issuer" in forged.revert_reason.lower()
    wrong = world.call(BANK, ruble.ADDRESS, "confirmWithdrawal", top_up, REF)
    assert not wrong.success and "is a top_up request" in wrong.revert_reason
    missing = world.call(BANK, ruble.ADDRESS, "rejectRequest", 99, "no such")
    assert not missing.success and "no such request" in missing.revert_reason
    assert world.call(BANK, ruble.ADDRESS, "rejectRequest", withdrawal, "").revert_reason.startswith(
        "a rejection needs a reason")


def test_plain_transfers_cannot_reach_the_locked_balance(world):
    result = world.call(CONSUMER, ruble.ADDRESS, "transfer", ruble.ADDRESS, 1)
    assert not result.success and "withdrawals in progress" in result.revert_reason


def test_pure_transitions_keep_the_offending_value():
    pending = open_request(RequestKind.TOP_UP, CONSUMER, 10)
    with pytest.raises(BankRequestError) as error:
        open_request(RequestKind.TOP_UP, CONSUMER, 10, bank_account=ACCOUNT)
    assert error.value.value == ACCOUNT
    done = settle(pending, 7, RequestKind.TOP_UP, RequestStatus.DONE, REF)
    assert done == BankRequest(RequestKind.TOP_UP, CONSUMER, 10, "", "", RequestStatus.DONE, REF)
    with pytest.raises(BankRequestError) as error:
        settle(done, 7, RequestKind.TOP_UP, RequestStatus.REJECTED)
    assert error.value.request_id == 7 and error.value.value == RequestStatus.DONE
    with pytest.raises(BankRequestError):
        settle(pending, 7, RequestKind.TOP_UP, RequestStatus.DONE, b"short")


def test_simulated_bank_answers_each_pending_request(world):
    bank = SimulatedBank(closed_accounts=frozenset({"40817810000000000099"}))
    top_up = request(world, "requestTopUp", 9_000)
    paid = request(world, "requestWithdrawal", 10_000, BIK, ACCOUNT)
    closed = request(world, "requestWithdrawal", 20_000, BIK, "40817810000000000099")
    pending = pending_requests(token_views(world))
    assert [request_id for request_id, _ in pending] == [top_up, paid, closed]
    for request_id, pending_request in pending:
        function, args = bank.answer(request_id, pending_request)
        world.ok(BANK, ruble.ADDRESS, function, *args)
    assert world.balance(CONSUMER) == 100_000 + 9_000 - 10_000
    statuses = [request(world, "bankRequest", i)[5] for i in (top_up, paid, closed)]
    assert statuses == [RequestStatus.DONE, RequestStatus.DONE, RequestStatus.REJECTED]
    assert pending_requests(token_views(world)) == []
