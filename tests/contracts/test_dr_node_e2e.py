"""A demand-response event through a real node process, from announcement to rewards and penalties.

Readings can be posted for past intervals only while an event is announced for the future, and the chain's clock
is the node's: the node runs with `--dev-time` and the test moves its clock past the event (`evm_mine` at a
timestamp), as Hardhat and Anvil tests do. Every figure is asserted in rubles on the chain, its arithmetic in
the comments (the rules themselves are pinned by tests/data/dr/evening_peak.json)."""

from __future__ import annotations

import asyncio
import secrets
import time

import pytest

from contracts_py.billing.periods import MOSCOW_UTC_OFFSET
from genesis.chain_client import ChainClient, ChainClientError
from genesis.generate import new_network
from node.runner import RunConfig, run_node
from node.service import init_datadir
from node_harness import Network, NodeProcess, rpc
from node_market import Participants

DAY, HOUR, HALF_HOUR = 86_400, 3_600, 1_800
RATES = (5_000_000, 2_500_000, 3_000_000, 500_000)
"""Reward 50 RUB/kWh, bonus 25 RUB/kWh beyond the obligation, penalty 30 RUB/kWh short, below 50% delivered."""
BUDGET = 1_000_000
TRADE_PRICE = 5_000
A, B = 5001, 5002


def start_dev_node(network, datadir) -> NodeProcess:
    """`energy-node run --dev-time` for the network's one validator."""
    return NodeProcess(network, datadir, extra_args=("--dev-time",)).start(wait=60)


@pytest.fixture(scope="module")
def network(tmp_path_factory) -> Network:
    """One single-validator network for the module (as conftest's `solo_network`, generated once)."""
    directory = tmp_path_factory.mktemp("dr") / "net"
    _, keys = new_network(1, directory, block_period_ms=200, empty_block_period_s=3600)
    return Network(directory, (directory / "password").read_bytes().strip(), {k.name: k.keystore for k in keys})


def fresh_datadir(network: Network, name: str):
    datadir = network.directory.parent / name
    init_datadir(datadir, network.directory / "genesis.json")
    return datadir


@pytest.fixture(scope="module")
def dev_node(network):
    node = start_dev_node(network, fresh_datadir(network, "dev-node"))
    yield node
    node.stop()


class EveningPeak(Participants):
    """Two households with hourly meters in a programme; the event is tomorrow 18:00-20:00 Moscow time."""

    def __init__(self, node) -> None:
        super().__init__(node)
        c = self.client
        self.aggregator = c.signer(secrets.token_bytes(32), "aggregator")
        self.gateway = c.signer(secrets.token_bytes(32), "gateway")
        self.consumers = {A: c.signer(secrets.token_bytes(32), "a"), B: c.signer(secrets.token_bytes(32), "b")}
        today = (c.latest_timestamp() + MOSCOW_UTC_OFFSET) // DAY
        self.event_start = (today + 1) * DAY - MOSCOW_UTC_OFFSET + 18 * HOUR
        self.event_end = self.event_start + 2 * HOUR
        self.history_start = (today - 3) * DAY - MOSCOW_UTC_OFFSET
        """Local midnight four days before the event day: the baseline's three days and one day more."""
        self.posted_to = {A: self.history_start, B: self.history_start}
        self.registers = {A: 1_000_000, B: 1_000_000}

    def dr(self, signer, function, *args, gas=5_000_000) -> dict:
        return self.ok(signer, "DemandResponse", function, *args, gas=gas)

    def dr_rejected(self, signer, function, *args) -> str:
        return self.rejected(signer, "DemandResponse", function, *args)

    def set_up(self) -> None:
        g, r, b, a = self.grid, self.retailer, self.bank, self.consumers
        calls = [
            (g, "ParticipantRegistry", "grantRole", (self.gateway.address, "gateway")),
            (b, "RubleToken", "mint", (b.address, 10_000_000)),
            (b, "RubleToken", "transfer", (g.address, BUDGET)),
            (b, "RubleToken", "transfer", (a[B].address, 20_000)),
            (r, "Tariffs", "saveGroup", (1, "Households")),
        ]
        for number, consumer in a.items():
            calls += [
                (g, "ParticipantRegistry", "grantRole", (consumer.address, "consumer")),
                (r, "Registry", "saveAccount", (number, 1, 1, consumer.address, "Kazan, Baumana 5", 1, 5_430, 0)),
                (g, "Registry", "saveMeteringPoint", (number, number, "Kazan, Baumana 5", "apartment")),
                (g, "Registry", "registerInstalledMeter",
                 (number, number, "Mercury 234", f"SN{number}", "Kazan, Baumana 5", 1, True, True, 20_000,
                  MOSCOW_UTC_OFFSET, 1_000_000, 0, self.history_start - HALF_HOUR)),
                (g, "Registry", "bindGateway", (number, self.gateway.address)),
            ]
        self.client.wait(self.client.send_many((s, c, f, args, 1_000_000) for s, c, f, args in calls))

    def wh(self, meter: int, start: int) -> int:
        """200 Wh per half hour, but 2,000 on the evenings 18:00-20:00 before the event day; on the event's
        evening A consumes 400 and B 1,800 per half hour."""
        half_hour = (start + MOSCOW_UTC_OFFSET) % DAY // HALF_HOUR
        if not 36 <= half_hour < 40:
            return 200
        if self.event_start <= start < self.event_end:
            return 400 if meter == A else 1_800
        return 2_000

    def post_until(self, end: int) -> None:
        """The gateway posts both meters' half hours up to `end` (which must have passed on the chain's clock)."""
        calls = []
        for meter in (A, B):
            starts = list(range(self.posted_to[meter], end, HALF_HOUR))
            registers = []
            for start in starts:
                self.registers[meter] += self.wh(meter, start)
                registers.append(self.registers[meter])
            calls.append((self.gateway, "Readings", "postReadings", (meter, starts, registers, [0] * len(starts)),
                          20_000_000))
            self.posted_to[meter] = end
        self.client.wait(self.client.send_many(calls))


@pytest.fixture
def peak(dev_node) -> EveningPeak:
    p = EveningPeak(dev_node)
    p.set_up()
    return p


def test_event_from_announcement_to_rewards_and_penalties(peak):
    p, c = peak, peak.client
    g, agg, a, b = p.grid, p.aggregator, p.consumers[A], p.consumers[B]
    p.post_until((c.latest_timestamp() - 60) // HALF_HOUR * HALF_HOUR)  # the history the gateway has so far
    p.dr(g, "createProgramme", 1, agg.address, "Evening peak, Kazan", 3, False, *RATES)
    p.dr(g, "fundProgramme", 1, BUDGET)
    p.dr(agg, "enrol", 1, A, 3_000)
    p.dr(agg, "enrol", 1, B, 3_000)
    p.dr(agg, "announceEvent", 1, p.event_start, p.event_end, [A, B], [2_000, 3_000])
    assert c.call("DemandResponse", "eventOf", 1) == (1, p.event_start, p.event_end, (A, B))
    # Before the start B hands 1,000 W of its 3,000 W to A for 50 RUB; a second offer stays open.
    p.dr(a, "offerToTake", 1, A, 1_000, TRADE_PRICE)
    p.dr(b, "handOver", 1, B)
    p.dr(b, "offerToTake", 1, B, 500, 1_000)
    assert (c.call("DemandResponse", "share", 1, A)[0], c.call("DemandResponse", "share", 1, B)[0]) == (3_000, 2_000)

    c.request("evm_mine", hex(p.event_start))  # the event starts: obligations are fixed
    assert c.latest_timestamp() == p.event_start
    assert p.dr_rejected(a, "handOver", 2, A) == "event 1 has started; obligations are fixed"
    assert p.dr_rejected(b, "offerToTake", 1, B, 100, 1) == "event 1 has started; obligations are fixed"
    assert p.dr_rejected(agg, "settle", 1, [A, B]) == "event 1 has not ended"

    c.request("evm_mine", hex(p.event_end + HOUR))
    p.post_until(p.event_end + HOUR)
    # Baseline: three evenings of 4 x 2,000 = 8,000 Wh. A: 4 x 400 = 1,600 Wh, reduced 6,400 against 3,000 W x
    # 2 h = 6,000 Wh: 6,000 x 50 + 400 x 25 RUB/kWh = 310 RUB. B: 4 x 1,800 = 7,200 Wh, reduced 800 of
    # 2,000 W x 2 h = 4,000 Wh, under half: reward 800 x 50 = 40 RUB, penalty 3,200 x 30 = 96 RUB, 56 RUB due.
    assert c.call("DemandResponse", "baseline", 1, A) == (8_000, 1_600)
    p.dr(agg, "settle", 1, [A, B], gas=20_000_000)
    assert c.call("DemandResponse", "share", 1, A) == (3_000, True, 8_000, 1_600, 31_000, 0, 0)
    assert c.call("DemandResponse", "share", 1, B) == (2_000, True, 8_000, 7_200, 4_000, 9_600, 5_600)
    p.dr(b, "payPenalty", 1, B)
    assert (p.balance(a.address), p.balance(b.address)) == (TRADE_PRICE + 31_000, 20_000 - TRADE_PRICE - 5_600)
    assert c.call("DemandResponse", "programme", 1)[9] == BUDGET - 31_000 + 5_600
    assert p.dr_rejected(agg, "settle", 1, [A]) == "meter 5001 is already settled for event 1"


def test_time_control_moves_the_clock_forward_only_and_blocks_stay_strictly_increasing(dev_node):
    c = ChainClient(dev_node.url)
    head, wall = c.latest_timestamp(), int(time.time())
    offset = int(c.request("evm_increaseTime", 3 * HOUR))
    assert offset >= 3 * HOUR
    c.request("evm_mine")
    after = c.latest_timestamp()
    assert after > head and after >= wall + offset
    with pytest.raises(ChainClientError, match=f"must be after the head's {after}"):
        c.request("evm_setNextBlockTimestamp", after)
    with pytest.raises(ChainClientError, match="time only moves forward"):
        c.request("evm_increaseTime", -1)
    c.request("evm_setNextBlockTimestamp", hex(after + 1))
    c.request("evm_mine")
    c.request("evm_mine")
    assert c.latest_timestamp() > after + 1


def test_time_control_is_refused_without_the_flag(network):
    node = NodeProcess(network, fresh_datadir(network, "plain-node")).start(wait=60)
    try:
        answer = rpc(node.url, "evm_increaseTime", 60)
        assert answer["error"]["code"] == -32601
        assert "dev time control is off" in answer["error"]["message"]
        assert "--dev-time" in answer["error"]["message"]
        assert rpc(node.url, "evm_mine")["error"]["code"] == -32601
    finally:
        node.stop()


@pytest.mark.parametrize("who", ["observer", "qbft validator", "not a validator"])
def test_the_flag_is_refused_on_a_node_that_is_not_a_single_validator(network, who):
    key = {"observer": None, "qbft validator": network.private_key("validator-1"),
           "not a validator": network.private_key("grid-company")}[who]
    p2p = "/ip4/127.0.0.1/tcp/0" if who == "qbft validator" else None
    config = RunConfig(fresh_datadir(network, who.replace(" ", "-")), rpc_port=0, private_key=key, p2p_listen=p2p,
                       dev_time=True)
    with pytest.raises(SystemExit, match="--dev-time is for a single-validator dev network"):
        asyncio.run(run_node(config))
