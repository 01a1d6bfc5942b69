"""Whole networks of validators on the virtual-clock memory network: safety always, progress when a quorum can talk.

Safety: no two nodes ever decide different blocks at one height. Progress: every height is decided while a quorum of
validators is alive and connected, even with random delays, reordering, duplicates and drops (round changes and
retransmission on round change recover from lost messages; sync hands laggards the decided blocks).
"""

import os
import random
import subprocess
import sys

import pytest
import rlp

from consensus.events import Action, Broadcast, QbftConfig
from consensus.memory_network import MemoryNetwork, NetworkConditions, SimulatedNode, read_sim_block
from consensus.messages import (
    Commit,
    Message,
    Prepare,
    Proposal,
    encode_message,
    make_commit,
    make_prepare,
    make_proposal,
)
from consensus.validators import Vote
from node.crypto import keccak256, private_key_to_address

KEYS = [bytes([n + 1]) * 32 for n in range(7)]
HOUR_MS = 3_600_000


def conditions_for(seed: int) -> NetworkConditions:
    """Different weather per seed: delays up to 20..600 ms, up to 15% drops, up to 10% duplicates."""
    rng = random.Random(seed ^ 0x5EED)
    return NetworkConditions(
        min_delay_ms=1,
        max_delay_ms=rng.randint(20, 600),
        drop_per_mille=rng.choice([0, 0, 20, 50, 100, 150]),
        duplicate_per_mille=rng.choice([0, 30, 100]),
    )


def network(validator_count: int, seed: int, conditions: NetworkConditions | None = None) -> MemoryNetwork:
    net = MemoryNetwork(KEYS[:validator_count], seed, conditions or conditions_for(seed))
    return net


def honest_forks(net: MemoryNetwork, byzantine: set[bytes] = frozenset()) -> dict[int, set[bytes]]:
    return {
        height: hashes
        for height, by_node in net.decisions.items()
        if len(hashes := {h for address, h in by_node.items() if address not in byzantine}) > 1
    }


def run_seeds(seeds, validator_count=4, heights=2):
    for seed in seeds:
        net = network(validator_count, seed)
        net.start()
        decided = net.run_until_height(heights, until_ms=HOUR_MS)
        assert net.forks() == {}, f"seed {seed}: fork"
        assert decided, f"seed {seed}: no progress, heads {[n.head for n in net.nodes.values()]}"


def test_two_thousand_seeds_decide_every_height_without_forks():
    run_seeds(range(2_000))


@pytest.mark.slow
def test_two_thousand_more_seeds_three_heights_each():
    run_seeds(range(10_000, 12_000), heights=3)


@pytest.mark.slow
def test_a_thousand_seeds_with_seven_validators():
    run_seeds(range(30_000, 31_000), validator_count=7, heights=3)


def test_one_of_four_down_still_decides():
    for seed in range(100):
        net = network(4, seed)
        net.kill(net.validators[seed % 4])
        net.start()
        assert net.run_until_height(3, until_ms=HOUR_MS), f"seed {seed}"
        assert net.forks() == {}


def test_two_of_seven_down_still_decides():
    for seed in range(50):
        net = network(7, seed)
        net.kill(net.validators[seed % 7])
        net.kill(net.validators[(seed + 3) % 7])
        net.start()
        assert net.run_until_height(3, until_ms=HOUR_MS), f"seed {seed}"
        assert net.forks() == {}


def test_two_of_four_down_stops_without_fork_and_resumes_when_one_returns():
    for seed in range(20):
        net = network(4, seed)
        down = net.validators[seed % 4], net.validators[(seed + 1) % 4]
        for address in down:
            net.kill(address)
        net.start()
        assert not net.run_until_height(1, until_ms=10 * 60_000)
        assert net.decisions == {}
        net.revive(down[0])
        assert net.run_until_height(2, until_ms=net.now_ms + HOUR_MS), f"seed {seed}"
        assert net.forks() == {}


def test_even_split_stops_and_heals_without_fork():
    for seed in range(20):
        net = network(4, seed)
        addresses = net.validators
        net.start()
        assert net.run_until_height(1, until_ms=HOUR_MS)
        net.partition({addresses[0], addresses[1]}, {addresses[2], addresses[3]})
        start = max(node.head for node in net.nodes.values())
        net.run(until_ms=net.now_ms + 5 * 60_000)
        assert max(node.head for node in net.nodes.values()) <= start + 1
        net.heal()
        assert net.run_until_height(start + 3, until_ms=net.now_ms + HOUR_MS), f"seed {seed}"
        assert net.forks() == {}


def test_minority_side_of_a_partition_catches_up_after_healing():
    for seed in range(50):
        net = network(4, seed)
        isolated = net.validators[seed % 4]
        net.partition({isolated}, set(net.validators) - {isolated})
        net.start()
        majority = [node for address, node in net.nodes.items() if address != isolated]
        assert net.run(until_ms=HOUR_MS, stop=lambda majority=majority: min(n.head for n in majority) >= 3)
        assert net.nodes[isolated].head == 0
        net.heal()
        assert net.run_until_height(4, until_ms=net.now_ms + HOUR_MS), f"seed {seed}"
        assert net.forks() == {}


class EquivocatingNode(SimulatedNode):
    """A byzantine validator: whatever it broadcasts, it also signs a conflicting version.

    split: the first peer gets the honest message, the others the conflicting one (two blocks at one height and
    round, prepares and commits for a block nobody proposed). double: every peer gets both.
    """

    mode = "split"

    def execute(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Broadcast):
                self._equivocate(action.message)
            else:
                super().execute([action])

    def _equivocate(self, message: Message) -> None:
        other = self._conflicting(message)
        peers = sorted(address for address in self.network.nodes if address != self.address)
        for index, peer in enumerate(peers):
            if other is None:
                versions = [message]
            elif self.mode == "double":
                versions = [message, other]
            else:
                versions = [message] if index == 0 else [other]
            for version in versions:
                self.transport.send(peer, encode_message(version))

    def _conflicting(self, message: Message) -> Message | None:
        body = message.body
        if isinstance(body, Proposal):
            # A valid block that differs from the honest one: it carries a (no-op) vote for its builder.
            evil_block = rlp.encode([body.height, body.round, self.address, [self.address, 1]])
            return make_proposal(
                self.private_key,
                body.height,
                body.round,
                keccak256(evil_block),
                evil_block,
                message.round_changes,
                message.prepares,
            )
        evil_hash = keccak256(b"evil" + body.height.to_bytes(8, "big") + body.round.to_bytes(8, "big"))
        if isinstance(body, Prepare):
            return make_prepare(self.private_key, body.height, body.round, evil_hash)
        if isinstance(body, Commit):
            return make_commit(self.private_key, body.height, body.round, evil_hash)
        return None


def byzantine_network(seed: int, mode: str, validator_count: int = 4) -> tuple[MemoryNetwork, bytes]:
    net = network(validator_count, seed)
    liar = net.validators[seed % validator_count]
    node = EquivocatingNode(net, net.nodes[liar].private_key)
    node.mode = mode
    net.nodes[liar] = node
    return net, liar


@pytest.mark.parametrize("mode", ["split", "double"])
def test_one_equivocating_validator_breaks_neither_safety_nor_progress(mode):
    for seed in range(100):
        net, liar = byzantine_network(seed, mode)
        net.start()
        honest = [node for address, node in net.nodes.items() if address != liar]
        assert net.run(HOUR_MS, lambda honest=honest: all(node.head >= 3 for node in honest)), f"seed {seed}"
        assert honest_forks(net, {liar}) == {}
        if mode == "double":
            assert any(e.sender == liar for node in honest for e in node.equivocations)


def test_two_equivocators_among_seven_break_neither_safety_nor_progress():
    for seed in range(60):
        net, liar = byzantine_network(seed, "split", validator_count=7)
        second = net.validators[(seed + 2) % 7]
        net.nodes[second] = EquivocatingNode(net, net.nodes[second].private_key)
        honest = [node for address, node in net.nodes.items() if address not in (liar, second)]
        net.start()
        assert net.run(HOUR_MS, lambda honest=honest: all(node.head >= 3 for node in honest)), f"seed {seed}"
        assert honest_forks(net, {liar, second}) == {}


def test_garbage_on_the_wire_is_dropped_and_counted():
    net = network(4, seed=1, conditions=NetworkConditions())
    sender = net.nodes[net.validators[0]]
    for junk in (b"", b"\xff" * 10, b"\xc0", bytes(2_000_000)):
        sender.transport.broadcast(junk)
    net.start()
    assert net.run_until_height(2, until_ms=HOUR_MS)
    assert net.invalid_payloads == 12


def test_validator_joins_and_another_leaves_by_vote_while_blocks_are_decided():
    addresses = [private_key_to_address(key) for key in KEYS[:5]]
    newcomer, leaver = addresses[4], min(addresses[:4])
    for seed in range(30):
        net = MemoryNetwork(KEYS[:5], seed, conditions_for(seed), genesis_validators=tuple(addresses[:4]))
        nodes = list(net.nodes.values())
        for node in nodes:
            node.pending_vote = Vote(newcomer, True)
        net.start()
        assert net.run(HOUR_MS, lambda nodes=nodes: all(newcomer in n.snapshot.validators for n in nodes))
        for node in nodes:
            node.pending_vote = Vote(leaver, False)
        assert net.run(
            net.now_ms + HOUR_MS, lambda nodes=nodes: all(leaver not in n.snapshot.validators for n in nodes)
        )
        joined = max(node.head for node in nodes)
        assert net.run_until_height(joined + 4, until_ms=net.now_ms + HOUR_MS), f"seed {seed}"
        assert net.forks() == {}
        builders = {read_sim_block(block.block)[1] for block in net.nodes[newcomer].chain.values()}
        assert newcomer in builders, f"seed {seed}: the newcomer never proposed"


def test_block_period_longer_than_the_round_timeout_still_decides_in_round_zero():
    config = QbftConfig(round_timeout_ms=1_000, max_round_timeout_ms=16_000, retransmit_ms=500, block_period_ms=3_000)
    for seed in range(100):
        net = MemoryNetwork(KEYS[:4], seed, NetworkConditions(max_delay_ms=100), config)
        net.start()
        assert net.run_until_height(3, until_ms=HOUR_MS), f"seed {seed}"
        assert net.forks() == {}
        assert 9_000 <= net.now_ms < 10_000
        assert all(block.round == 0 for node in net.nodes.values() for block in node.chain.values())


DETERMINISM_SCRIPT = """
from consensus.memory_network import MemoryNetwork, NetworkConditions
net = MemoryNetwork([bytes([n + 1]) * 32 for n in range(4)], 7, NetworkConditions(1, 400, 100, 50))
net.kill(net.validators[2])
net.start()
net.run_until_height(4, until_ms=3_600_000)
print(net.now_ms, net.delivered, sorted((h, sorted(d.items())) for h, d in net.decisions.items()))
"""


def test_a_run_is_a_function_of_its_seed_alone():
    """Same seed, different hash randomization: the same run, event for event."""
    outputs = {
        subprocess.run(
            [sys.executable, "-c", DETERMINISM_SCRIPT],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            check=True,
            text=True,
            timeout=120,
        ).stdout
        for hash_seed in ("1", "2")
    }
    [output] = outputs
    assert "(4, [" in output  # the run got as far as height 4
