"""A small market on a real chain for the integration tests: participants, an account with a meter, a month of
half-hourly readings, an invoice, a top-up and a payment. `Market` drives it through any transaction sender, so
the same scenario runs in-process (`LocalChain`) and against a node process over JSON-RPC (`RpcChain`)."""

from __future__ import annotations

import json
import urllib.error
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from contracts_py import invoices, notary, participants, payments, readings, registry, ruble, tariffs
from contracts_py.billing.periods import MOSCOW_UTC_OFFSET, add_months, period_of, period_start
from contracts_py.billing.zones import Zone
from indexer.decode import encode_call
from node.crypto import private_key_to_address
from node.service import Node, init_datadir
from node.solo import SoloEngine
from node.transactions import sign_fee_market_transaction
import node_harness as ROOT_CONFTEST

GAS = 400_000_000
CONSUMER_KEY = bytes.fromhex("c1" * 32)
GATEWAY_KEY = bytes.fromhex("6a" * 32)
INFRA = bytes.fromhex("1f" * 20)
ACCOUNT, METER = 1001, 1001
ADDRESS_TEXT = "Kazan, Baumana 1"


class LocalChain:
    """A node in this process; `seal()` makes a block of what waits in the mempool."""

    def __init__(self, network, datadir: Path) -> None:
        init_datadir(datadir, network.directory / "genesis.json")
        self.node = Node.open(datadir)
        self.engine = SoloEngine(self.node, network.private_key("validator-1"))
        self.nonces: dict[bytes, int] = {}

    def send(self, key: bytes, to: bytes, function: str, *args) -> bytes:
        sender = private_key_to_address(key)
        nonce = self.nonces.get(sender, self.node.account_nonce(sender))
        raw = sign_fee_market_transaction(key, chain_id=self.node.rules.chain_id, nonce=nonce, to=to,
                                          data=encode_call(to, function, *args), gas=GAS)
        self.nonces[sender] = nonce + 1
        return self.node.submit_transaction(raw).hash

    def seal(self) -> None:
        self.engine.produce_block()

    def receipt_ok(self, tx_hash: bytes) -> bool:
        number, index = self.node.store.transaction_location(tx_hash)
        return self.node.store.receipts(self.node.store.hash_by_number(number))[index].succeeded


def rpc_call(url: str, method: str, *params):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        reply = json.loads(response.read())
    if "error" in reply:
        raise RuntimeError(f"{method}: {reply['error']}")
    return reply["result"]


class RpcChain:
    """A node process reached over JSON-RPC; `seal()` waits until every sent transaction has a receipt."""

    def __init__(self, url: str, chain_id: int = 7700) -> None:
        self.url = url
        self.chain_id = chain_id
        self.nonces: dict[bytes, int] = {}
        self.pending: list[bytes] = []
        self.receipts: dict[bytes, dict] = {}

    def send(self, key: bytes, to: bytes, function: str, *args) -> bytes:
        sender = private_key_to_address(key)
        nonce = self.nonces.get(sender)
        if nonce is None:
            nonce = int(rpc_call(self.url, "eth_getTransactionCount", "0x" + sender.hex(), "pending"), 16)
        raw = sign_fee_market_transaction(key, chain_id=self.chain_id, nonce=nonce, to=to,
                                          data=encode_call(to, function, *args), gas=GAS)
        self.nonces[sender] = nonce + 1
        tx_hash = bytes.fromhex(rpc_call(self.url, "eth_sendRawTransaction", "0x" + raw.hex())[2:])
        self.pending.append(tx_hash)
        return tx_hash

    def seal(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while self.pending:
            receipt = rpc_call(self.url, "eth_getTransactionReceipt", "0x" + self.pending[0].hex())
            if receipt is not None:
                self.receipts[self.pending.pop(0)] = receipt
                continue
            if time.monotonic() > deadline:
                raise TimeoutError("transactions not sealed in time")
            time.sleep(0.05)

    def receipt_ok(self, tx_hash: bytes) -> bool:
        return self.receipts[tx_hash]["status"] == "0x1"


@dataclass
class Market:
    """What `build_market` created, for the assertions."""

    period: int
    first_interval: int
    intervals: int
    consumer: bytes
    gateway: bytes
    retailer: bytes
    grid: bytes
    invoice_id: int = 0
    tx: dict[str, bytes] = field(default_factory=dict)


def build_market(chain, network) -> Market:
    """Roles, profiles, a tariff, one account with a meter and last month's readings, invoice, top-up, payment."""
    grid_key, retailer_key, bank_key = (network.private_key(n) for n in ("grid-company", "retailer-1", "bank"))
    grid, retailer = network.address("grid-company"), network.address("retailer-1")
    consumer, gateway = private_key_to_address(CONSUMER_KEY), private_key_to_address(GATEWAY_KEY)
    period = add_months(period_of(int(time.time()), MOSCOW_UTC_OFFSET), -1)
    first = period_start(period, MOSCOW_UTC_OFFSET)
    last = period_start(add_months(period, 1), MOSCOW_UTC_OFFSET)
    market = Market(period, first, (last - first) // 1800, consumer, gateway, retailer, grid)
    send = chain.send
    send(grid_key, participants.ADDRESS, "grantRole", gateway, "gateway")
    send(network.private_key("faucet"), ruble.ADDRESS, "transfer", network.address("bank"), 10_000_000)
    send(retailer_key, participants.ADDRESS, "grantRole", consumer, "consumer")
    send(grid_key, tariffs.ADDRESS, "setVatRate", 20260101, 2200)
    send(grid_key, tariffs.ADDRESS, "setSubstituteRules", 20250101, 3, 6, 1, 87_000, 2)
    bank = ("Sberbank", "1655000000", "165501001", "049205603", "40702810000000000001")
    send(grid_key, registry.ADDRESS, "saveProfile", "Grid Kazan", "+7 843 000", "I. Petrov", "Kazan, Lenina 1",
         bank[1], bank[2], bank[3], bank[4], bank[0])
    send(retailer_key, registry.ADDRESS, "saveProfile", "Retail Kazan", "+7 843 111", "A. Ivanova",
         "Kazan, Pushkina 2", "1655000001", "165501001", bank[3], "40702810000000000002", bank[0])
    send(retailer_key, tariffs.ADDRESS, "saveGroup", 1, "Households, Kazan")
    send(retailer_key, tariffs.ADDRESS, "saveOption", 1, 1, 1, 20260101, MOSCOW_UTC_OFFSET, retailer, [0], [1440],
         [Zone.ALL_DAY], [412_345], [], [], 0, 0, [3, 5, 6], [grid, retailer, INFRA], [181_234, 52_345, 1_287])
    chain.seal()
    send(retailer_key, registry.ADDRESS, "saveAccount", ACCOUNT, 7, 1, consumer, ADDRESS_TEXT, 1, 5_430, 0)
    send(grid_key, registry.ADDRESS, "saveMeteringPoint", ACCOUNT, ACCOUNT, ADDRESS_TEXT, "apartment")
    chain.seal()
    send(grid_key, registry.ADDRESS, "registerInstalledMeter", METER, ACCOUNT, "Mercury 230", "SN1001", ADDRESS_TEXT,
         1, True, False, 20_000, MOSCOW_UTC_OFFSET, 1_000_000, 0, first - 1800)
    chain.seal()
    send(grid_key, registry.ADDRESS, "bindGateway", METER, gateway)
    chain.seal()
    starts = [first + 1800 * i for i in range(market.intervals)]
    registers = [1_000_000 + 100 * (i + 1) for i in range(market.intervals)]
    half = len(starts) // 2  # a transaction holds at most 128 KiB
    for part, chunk in (("readings", slice(0, half)), ("readings-2", slice(half, None))):
        market.tx[part] = send(GATEWAY_KEY, readings.ADDRESS, "postReadings", METER, starts[chunk], registers[chunk],
                               [0] * len(starts[chunk]))
    send(GATEWAY_KEY, readings.ADDRESS, "postMeterEvent", METER, 1, first + 3600)
    send(bank_key, payments.ADDRESS, "topUp", consumer, 500_000, bytes.fromhex("ab" * 32), payments.Source.BANK)
    send(grid_key, notary.ADDRESS, "anchor", bytes.fromhex("cd" * 32), "act", period * 100 + 1, period * 100 + 28)
    chain.seal()
    market.tx["invoice"] = send(retailer_key, invoices.ADDRESS, "issueInvoice", ACCOUNT, period)
    chain.seal()
    return market


def pay_invoice(chain, invoice_id: int, amount: int) -> bytes:
    chain.send(CONSUMER_KEY, invoices.ADDRESS, "confirmInvoice", invoice_id)
    tx = chain.send(CONSUMER_KEY, payments.ADDRESS, "payInvoice", invoice_id, amount, payments.Source.CARD)
    chain.seal()
    return tx


@pytest.fixture
def local_chain(solo_network, tmp_path):
    chain = LocalChain(solo_network, tmp_path / "local")
    yield chain
    chain.node.close()



def new_solo_network(directory: Path):
    """The same network as the `solo_network` fixture, for module-scoped fixtures."""
    from genesis.generate import new_network  # noqa: PLC0415
    Network = ROOT_CONFTEST.Network
    _, keys = new_network(1, directory, block_period_ms=200, empty_block_period_s=3600)
    return Network(directory, (directory / "password").read_bytes().strip(), {k.name: k.keystore for k in keys})


@dataclass
class MarketNode:
    url: str
    process: object
    network: object
    market: Market
    chain: RpcChain
    datadir: Path


def start_market_node(directory: Path, api_settings: dict | None = None, *, pay: bool = True,
                      before_market=None) -> MarketNode:
    """A node process with the market built through JSON-RPC; `before_market(url, datadir, network)` runs first."""
    network = new_solo_network(directory / "net")
    datadir = directory / "node"
    init_datadir(datadir, network.directory / "genesis.json")
    if api_settings is not None:
        (datadir / "api.json").write_text(json.dumps(api_settings))
    process = ROOT_CONFTEST.NodeProcess(network, datadir).start()
    chain = RpcChain(process.url)
    try:
        if before_market is not None:
            before_market(process.url, datadir, network)
        market = build_market(chain, network)
        if pay:
            invoice_id, total = invoice_of(process.url)
            market.invoice_id = invoice_id
            market.tx["payment"] = pay_invoice(chain, invoice_id, total)
    except BaseException:
        process.stop()
        raise
    return MarketNode(process.url, process, network, market, chain, datadir)


def api_get(url: str, path: str, token: str | None = None) -> tuple[int, object]:
    request = urllib.request.Request(url + path, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if response.headers.get_content_type() == "application/json" \
                else raw
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def wait_indexed(url: str, timeout: float = 20.0) -> dict:
    """Until the read model holds the node's head."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = api_get(url, "/api/v1/status")
        if status == 200 and body["indexer_lag"] == 0:
            return body
        if time.monotonic() > deadline:
            raise TimeoutError(f"indexer did not catch up: {body}")
        time.sleep(0.05)


def invoice_of(url: str) -> tuple[int, int]:
    wait_indexed(url)
    _, page = api_get(url, "/api/v1/invoices")
    (invoice,) = page["items"]
    return invoice["invoice_id"], invoice["total"]


def free_port_for_tests() -> int:
    return ROOT_CONFTEST.free_port()
