"""The settlement cycle end to end through a real node process: half-hourly readings -> invoice -> confirmation
-> payment -> the payees' balances, every figure asserted; and bad input rejected with a reason in the receipt
and no state change. The billing engineer's April 2026 recipe (tests/contracts/test_payment_flow.py has the same
figures in-process)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import pytest

from node_harness import Network, NodeProcess
from contracts_py.billing.periods import MOSCOW_UTC_OFFSET, period_start
from genesis.chain_client import ChainClient, ChainClientError, Signer, TransactionFailed
from genesis.generate import new_network
from node.service import init_datadir

APRIL, MAY = 202604, 202605
INVOICE_ID = 1001202604000
TOTAL = 158_142
ISSUED, CONFIRMED, PAID = 1, 2, 5
INFRA = bytes.fromhex("1f" * 20)
"""The infrastructure payee (system and market operators): any address can receive rubles."""


class Market:
    """The participants of the recipe on one solo node: genesis keys plus gateways granted here, and a fresh
    consumer with an account for each test (tests share the node, never an account)."""

    def __init__(self, node: NodeProcess) -> None:
        self.client = ChainClient(node.url)
        network = node.network
        self.admin = self.grid = self.client.signer(network.private_key("grid-company"), "grid company")
        self.retailer = self.client.signer(network.private_key("retailer-1"), "retailer-1")
        self.other_retailer = self.client.signer(network.private_key("retailer-2"), "retailer-2")
        self.bank = self.client.signer(network.private_key("bank"), "bank")
        self.gateway = self.client.signer(secrets.token_bytes(32), "gateway")
        self.stranger_gateway = self.client.signer(secrets.token_bytes(32), "unbound gateway")
        self.next_account = 2001
        """Account numbers for the tests' accounts; 1001 is the recipe's."""

    def ok(self, signer, contract, function, *args, gas=5_000_000) -> dict:
        return self.client.transact(signer, contract, function, *args, execution_gas=gas)

    def rejected(self, signer, contract, function, *args) -> str:
        """Send a call that must revert; returns the reason from its receipt."""
        receipt = self.client.transact(signer, contract, function, *args, check=False)
        assert receipt["status"] == "0x0", f"{function} should have been rejected"
        return receipt["revertReason"]

    def balance(self, who: bytes) -> int:
        return self.client.call("RubleToken", "balanceOf", who)

    def payees(self) -> list[int]:
        return [self.balance(who) for who in (self.retailer.address, self.grid.address, INFRA)]


@dataclass(frozen=True)
class Account:
    number: int
    consumer: Signer

    @property
    def meter(self) -> int:
        return self.number

    @property
    def invoice_id(self) -> int:
        return self.number * 10**9 + APRIL * 1_000


def reference(account: Account) -> bytes:
    """The bank's payment reference of a top-up (recorded once only)."""
    return account.number.to_bytes(32, "big")


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


def set_up_market(m: Market) -> None:
    """Genesis-time law and roles, the bank's reserve, the retailer's two-zone tariff."""
    calls = [
        (m.admin, "Tariffs", "setVatRate", (20190101, 2000)),
        (m.admin, "Tariffs", "setVatRate", (20260101, 2200)),
        (m.admin, "ParticipantRegistry", "grantRole", (m.gateway.address, "gateway")),
        (m.admin, "ParticipantRegistry", "grantRole", (m.stranger_gateway.address, "gateway")),
        # The settlement bank issues the rubles it holds for consumers' top-ups.
        (m.bank, "RubleToken", "mint", (m.bank.address, 10_000_000)),
        (m.retailer, "Tariffs", "saveGroup", (1, "Households")),
        (m.retailer, "Tariffs", "saveOption", (1, 1, 2, 20260101, MOSCOW_UTC_OFFSET, m.retailer.address,
                                               [420, 1380], [1380, 420], [1, 2], [520_000, 310_000], [], [], 0, 0,
                                               [3, 5, 6], [m.grid.address, m.retailer.address, INFRA],
                                               [181_234, 52_345, 1_287])),
    ]
    m.client.wait(m.client.send_many((*call, 1_000_000) for call in calls))


def open_account(m: Market, number: int | None = None) -> Account:
    """A consumer's account (the next free number unless given) with one meter installed before April, bound to
    the gateway."""
    if number is None:
        number = m.next_account
        m.next_account += 1
    account = Account(number, m.client.signer(secrets.token_bytes(32), f"consumer of {number}"))
    n = account.number
    calls = [
        (m.retailer, "ParticipantRegistry", "grantRole", (account.consumer.address, "consumer")),
        (m.retailer, "Registry", "saveAccount", (n, 1, 1, account.consumer.address, "Kazan, Baumana 1", 1, 5_430, 0)),
        (m.grid, "Registry", "saveMeteringPoint", (n, n, "Kazan, Baumana 1", "apartment")),
        # Registers of 1,000,000 Wh at 00:00 Moscow on April 1: the end of the half hour starting 20:30 UTC.
        (m.grid, "Registry", "registerInstalledMeter",
         (n, n, "Mercury 230", f"SN{n}", "Kazan, Baumana 1", 1, True, False, 20_000, MOSCOW_UTC_OFFSET, 1_000_000, 0,
          period_start(APRIL, MOSCOW_UTC_OFFSET) - 1_800)),
        (m.grid, "Registry", "bindGateway", (n, m.gateway.address)),
    ]
    m.client.wait(m.client.send_many((*call, 1_000_000) for call in calls[:2]))
    m.client.wait(m.client.send_many((*call, 1_000_000) for call in calls[2:]))
    return account


def post_april(m: Market, account: Account) -> tuple[int, int, int, int]:
    """The gateway posts April in two halves: 1,440 intervals exceed the node's 128 KiB transaction limit."""
    starts, registers = april_readings()
    half = len(starts) // 2
    pending = m.client.send_many(
        (m.gateway, "Readings", "postReadings",
         (account.meter, starts[i:i + half], registers[i:i + half], [0] * half), 20_000_000) for i in (0, half))
    m.client.wait(pending)
    return m.client.call("Readings", "meterMonth", account.meter, APRIL)[:4]


@pytest.fixture(scope="module")
def market(tmp_path_factory) -> Market:
    directory = tmp_path_factory.mktemp("settlement")
    _, keys = new_network(1, directory / "net", block_period_ms=200, empty_block_period_s=3600)
    network = Network(directory / "net", (directory / "net" / "password").read_bytes().strip(),
                      {k.name: k.keystore for k in keys})
    init_datadir(directory / "node", network.directory / "genesis.json")
    node = NodeProcess(network, directory / "node").start()
    try:
        market = Market(node)
        set_up_market(market)
        yield market
    finally:
        node.stop()


@pytest.fixture
def account(market) -> Account:
    return open_account(market)


def test_readings_to_invoice_to_payment_split_among_the_payees(market):
    m, c = market, market.client
    account = open_account(m, 1001)
    assert account.invoice_id == INVOICE_ID
    volume, exported, _, recorded = post_april(m, account)
    assert (volume, exported, recorded) == (182_400, 0, 1_440)

    m.ok(m.retailer, "Invoices", "issueInvoice", account.number, APRIL, gas=20_000_000)
    invoice = c.call("Invoices", "invoice", account.invoice_id)
    assert (invoice[0], invoice[1], invoice[3], invoice[4]) == (account.number, APRIL, ISSUED, account.consumer.address)
    assert (invoice[6], invoice[7], invoice[8]) == (TOTAL, 0, 182_400)

    m.ok(account.consumer, "Invoices", "confirmInvoice", account.invoice_id)
    assert c.call("Invoices", "invoice", account.invoice_id)[3] == CONFIRMED
    m.ok(m.bank, "Payments", "topUp", account.consumer.address, 200_000, reference(account), 1)
    assert m.balance(account.consumer.address) == 200_000
    before = m.payees()
    m.ok(account.consumer, "Payments", "payInvoice", account.invoice_id, TOTAL, 2)

    received = [after - was for after, was in zip(m.payees(), before)]
    assert received == [117_525, 40_330, 287] and sum(received) == TOTAL
    assert m.balance(account.consumer.address) == 41_858
    invoice = c.call("Invoices", "invoice", account.invoice_id)
    assert (invoice[3], invoice[7]) == (PAID, TOTAL)


def test_a_reading_from_a_gateway_not_bound_to_the_meter_is_rejected_and_changes_nothing(market, account):
    before = market.client.call("Readings", "meterState", account.meter)
    may_first = period_start(MAY, MOSCOW_UTC_OFFSET)
    reason = market.rejected(market.stranger_gateway, "Readings", "postReading", account.meter, may_first,
                             1_000_200, 0)
    assert reason == f"0x{market.stranger_gateway.address.hex()} is not the gateway bound to meter {account.meter}"
    assert market.client.call("Readings", "meterState", account.meter) == before


def test_an_invoice_for_someone_elses_account_is_rejected_and_none_is_issued(market, account):
    m = market
    post_april(m, account)
    reason = m.rejected(m.other_retailer, "Invoices", "issueInvoice", account.number, APRIL)
    assert reason == f"account {account.number} belongs to another retailer"
    with pytest.raises(ChainClientError, match="unknown invoice"):
        m.client.call("Invoices", "invoice", account.invoice_id)
    m.ok(m.retailer, "Invoices", "issueInvoice", account.number, APRIL, gas=20_000_000)
    neighbour = open_account(m).consumer
    reason = m.rejected(neighbour, "Invoices", "confirmInvoice", account.invoice_id)
    assert reason == f"invoice {account.invoice_id} is not for an account of 0x{neighbour.address.hex()}"
    assert m.client.call("Invoices", "invoice", account.invoice_id)[3] == ISSUED


def test_paying_more_than_the_balance_is_rejected_and_no_money_moves(market, account):
    m = market
    post_april(m, account)
    m.ok(m.retailer, "Invoices", "issueInvoice", account.number, APRIL, gas=20_000_000)
    m.ok(m.bank, "Payments", "topUp", account.consumer.address, 100_000, reference(account), 1)
    before = m.payees()
    reason = m.rejected(account.consumer, "Payments", "payInvoice", account.invoice_id, TOTAL, 2)
    assert reason.startswith("insufficient balance: has 100000, needs "), reason
    assert m.balance(account.consumer.address) == 100_000
    assert m.payees() == before
    assert m.client.call("Invoices", "invoice", account.invoice_id)[3:8:4] == (ISSUED, 0)


def test_a_failed_transaction_raises_with_the_contracts_reason(market, account):
    with pytest.raises(TransactionFailed, match="lacks the retailer role"):
        market.ok(account.consumer, "Tariffs", "saveGroup", 9, "Mine")
