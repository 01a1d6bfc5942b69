"""The settlement cycle end to end through a real node process: half-hourly readings -> invoice -> confirmation
-> payment -> the payees' balances, every figure asserted; and bad input rejected with a reason in the receipt
and no state change. The billing engineer's April 2026 recipe (tests/contracts/test_payment_flow.py has the same
figures in-process)."""

from __future__ import annotations

import secrets

import pytest

from contracts_py.billing.periods import MOSCOW_UTC_OFFSET, period_start
from genesis.chain_client import ChainClient, TransactionFailed

APRIL, MAY = 202604, 202605
INVOICE_ID = 1001202604000
TOTAL = 158_142
PAID = 5
CONFIRMED = 2
REFERENCE = bytes.fromhex("ab" * 32)
INFRA = bytes.fromhex("1f" * 20)
"""The infrastructure payee (system and market operators): any address can receive rubles."""


class Market:
    """The participants of the recipe on a solo node: genesis keys plus a consumer and gateways granted here."""

    def __init__(self, node) -> None:
        self.client = ChainClient(node.url)
        network = node.network
        self.admin = self.grid = self.client.signer(network.private_key("grid-company"), "grid company")
        self.retailer = self.client.signer(network.private_key("retailer-1"), "retailer-1")
        self.other_retailer = self.client.signer(network.private_key("retailer-2"), "retailer-2")
        self.bank = self.client.signer(network.private_key("bank"), "bank")
        self.consumer = self.client.signer(secrets.token_bytes(32), "consumer")
        self.neighbour = self.client.signer(secrets.token_bytes(32), "neighbour")
        self.gateway = self.client.signer(secrets.token_bytes(32), "gateway")
        self.stranger_gateway = self.client.signer(secrets.token_bytes(32), "unbound gateway")

    def ok(self, signer, contract, function, *args, gas=5_000_000) -> dict:
        return self.client.transact(signer, contract, function, *args, execution_gas=gas)

    def rejected(self, signer, contract, function, *args) -> str:
        """Send a call that must revert; returns the reason from its receipt."""
        receipt = self.client.transact(signer, contract, function, *args, check=False)
        assert receipt["status"] == "0x0", f"{function} should have been rejected"
        return receipt["revertReason"]

    def balance(self, who: bytes) -> int:
        return self.client.call("RubleToken", "balanceOf", who)


def april_readings(day_wh: int = 150, night_wh: int = 80, start_register: int = 1_000_000):
    """April 2026 as cumulative A+ registers: `day_wh` per half hour 07-23 Moscow time, `night_wh` otherwise."""
    first, last = period_start(APRIL, MOSCOW_UTC_OFFSET), period_start(MAY, MOSCOW_UTC_OFFSET)
    starts, registers, register = [], [], start_register
    for start in range(first, last, 1_800):
        half_hour = (start + MOSCOW_UTC_OFFSET) // 1_800 % 48
        register += day_wh if 14 <= half_hour < 46 else night_wh
        starts.append(start)
        registers.append(register)
    return starts, registers


def set_up(market: Market) -> None:
    """Genesis-time law and roles, the bank's reserve, the retailer's two-zone tariff, one account with a meter
    on a gateway."""
    m, c = market, market.client
    calls = [
        (m.admin, "Tariffs", "setVatRate", (20190101, 2000), 1_000_000),
        (m.admin, "Tariffs", "setVatRate", (20260101, 2200), 1_000_000),
        (m.admin, "ParticipantRegistry", "grantRole", (m.consumer.address, "consumer"), 1_000_000),
        (m.admin, "ParticipantRegistry", "grantRole", (m.neighbour.address, "consumer"), 1_000_000),
        (m.admin, "ParticipantRegistry", "grantRole", (m.gateway.address, "gateway"), 1_000_000),
        (m.admin, "ParticipantRegistry", "grantRole", (m.stranger_gateway.address, "gateway"), 1_000_000),
        # The settlement bank issues the rubles it holds for consumers' top-ups.
        (m.bank, "RubleToken", "mint", (m.bank.address, 10_000_000), 1_000_000),
        (m.retailer, "Tariffs", "saveGroup", (1, "Households"), 1_000_000),
        (m.retailer, "Tariffs", "saveOption", (1, 1, 2, 20260101, MOSCOW_UTC_OFFSET, m.retailer.address,
                                               [420, 1380], [1380, 420], [1, 2], [520_000, 310_000], [], [], 0, 0,
                                               [3, 5, 6], [m.grid.address, m.retailer.address, INFRA],
                                               [181_234, 52_345, 1_287]), 1_000_000),
        (m.retailer, "Registry", "saveAccount", (1001, 1, 1, m.consumer.address, "Kazan, Baumana 1", 1, 5_430, 0),
         1_000_000),
        (m.grid, "Registry", "saveMeteringPoint", (1001, 1001, "Kazan, Baumana 1", "apartment"), 1_000_000),
        # Registers of 1,000,000 Wh at 00:00 Moscow on April 1: the end of the half hour starting 20:30 UTC.
        (m.grid, "Registry", "registerInstalledMeter",
         (1001, 1001, "Mercury 230", "SN1", "Kazan, Baumana 1", 1, True, False, 20_000, MOSCOW_UTC_OFFSET,
          1_000_000, 0, period_start(APRIL, MOSCOW_UTC_OFFSET) - 1_800), 1_000_000),
        (m.grid, "Registry", "bindGateway", (1001, m.gateway.address), 1_000_000),
    ]
    c.wait(c.send_many(calls))


def post_april(market: Market) -> tuple[int, int, int, int]:
    """The gateway posts April in two halves: 1,440 intervals exceed the node's 128 KiB transaction limit."""
    starts, registers = april_readings()
    half = len(starts) // 2
    pending = market.client.send_many(
        (market.gateway, "Readings", "postReadings", (1001, starts[i:i + half], registers[i:i + half], [0] * half),
         20_000_000) for i in (0, half))
    market.client.wait(pending)
    return market.client.call("Readings", "meterMonth", 1001, APRIL)[:4]


@pytest.fixture
def market(solo_node) -> Market:
    market = Market(solo_node)
    set_up(market)
    return market


def test_readings_to_invoice_to_payment_split_among_the_payees(market):
    m, c = market, market.client
    volume, exported, _, recorded = post_april(m)
    assert (volume, exported, recorded) == (182_400, 0, 1_440)

    receipt = m.ok(m.retailer, "Invoices", "issueInvoice", 1001, APRIL, gas=20_000_000)
    assert receipt["status"] == "0x1"
    invoice = c.call("Invoices", "invoice", INVOICE_ID)
    assert (invoice[0], invoice[1], invoice[3], invoice[4]) == (1001, APRIL, 1, m.consumer.address)
    assert (invoice[6], invoice[7], invoice[8]) == (TOTAL, 0, 182_400)

    m.ok(m.consumer, "Invoices", "confirmInvoice", INVOICE_ID)
    assert c.call("Invoices", "invoice", INVOICE_ID)[3] == CONFIRMED
    m.ok(m.bank, "Payments", "topUp", m.consumer.address, 200_000, REFERENCE, 1)
    assert m.balance(m.consumer.address) == 200_000
    m.ok(m.consumer, "Payments", "payInvoice", INVOICE_ID, TOTAL, 2)

    assert m.balance(m.retailer.address) == 117_525
    assert m.balance(m.grid.address) == 40_330
    assert m.balance(INFRA) == 287
    assert m.balance(m.consumer.address) == 41_858
    assert 117_525 + 40_330 + 287 == TOTAL
    invoice = c.call("Invoices", "invoice", INVOICE_ID)
    assert (invoice[3], invoice[7]) == (PAID, TOTAL)


def test_a_reading_from_a_gateway_not_bound_to_the_meter_is_rejected_and_changes_nothing(market):
    before = market.client.call("Readings", "meterState", 1001)
    may_first = period_start(MAY, MOSCOW_UTC_OFFSET)
    reason = market.rejected(market.stranger_gateway, "Readings", "postReading", 1001, may_first, 1_000_200, 0)
    assert reason == f"0x{market.stranger_gateway.address.hex()} is not the gateway bound to meter 1001"
    assert market.client.call("Readings", "meterState", 1001) == before


def test_an_invoice_for_another_retailers_account_is_rejected_and_none_is_issued(market):
    post_april(market)
    reason = market.rejected(market.other_retailer, "Invoices", "issueInvoice", 1001, APRIL)
    assert reason == "account 1001 belongs to another retailer"
    with pytest.raises(Exception, match="unknown invoice"):
        market.client.call("Invoices", "invoice", INVOICE_ID)
    market.ok(market.retailer, "Invoices", "issueInvoice", 1001, APRIL, gas=20_000_000)
    reason = market.rejected(market.neighbour, "Invoices", "confirmInvoice", INVOICE_ID)
    assert reason == f"invoice {INVOICE_ID} is not for an account of 0x{market.neighbour.address.hex()}"
    assert market.client.call("Invoices", "invoice", INVOICE_ID)[3] == 1


def test_paying_more_than_the_balance_is_rejected_and_no_money_moves(market):
    m = market
    post_april(m)
    m.ok(m.retailer, "Invoices", "issueInvoice", 1001, APRIL, gas=20_000_000)
    m.ok(m.bank, "Payments", "topUp", m.consumer.address, 100_000, REFERENCE, 1)
    reason = m.rejected(m.consumer, "Payments", "payInvoice", INVOICE_ID, TOTAL, 2)
    assert reason.startswith("insufficient balance: has 100000, needs "), reason
    assert m.balance(m.consumer.address) == 100_000
    assert [m.balance(who) for who in (m.retailer.address, m.grid.address, INFRA)] == [0, 0, 0]
    assert m.client.call("Invoices", "invoice", INVOICE_ID)[3] == 1


def test_a_failed_transaction_raises_with_the_contracts_reason(market):
    with pytest.raises(TransactionFailed, match="lacks the retailer role"):
        market.ok(market.consumer, "Tariffs", "saveGroup", 9, "Mine")
