"""An in-memory network of QBFT validators on a virtual clock, for tests and simulations.

Events (deliveries, timers, sync ticks) sit in one queue ordered by virtual time; a seeded RNG decides delays, drops
and duplicates, so a run is a pure function of its seed. Each `SimulatedNode` plays the node's part around a real
`QbftEngine`: it decodes bytes from its transport, executes the engine's actions, checks the seals of every decided
or synced block and starts the next height. Nodes can be killed and revived and the network partitioned.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import rlp

from consensus.abc import PayloadHandler, Transport
from consensus.events import Action, Broadcast, Decision, Equivocation, QbftConfig, Rejected, ScheduleTimer, TimerEvent
from consensus.messages import InvalidMessage, decode_message
from consensus.qbft import QbftEngine
from consensus.rlp_fields import MalformedField, read_bytes, read_int, read_list
from consensus.seals import verify_commit_seals
from consensus.validators import Vote, apply_header_vote, make_snapshot
from node.crypto import keccak256, private_key_to_address

SIMULATION_CONFIG = QbftConfig(round_timeout_ms=1_000, max_round_timeout_ms=16_000, retransmit_ms=500)
"""Shorter rounds than a production network: virtual time is free, but events are not."""


class InvalidSimBlock(ValueError):
    """A simulated block that is malformed or for another height."""


class SimBlockSource:
    """Blocks for simulations: RLP [height, round, builder, [] or [candidate, add]], hashed with keccak.

    The vote plays the part of the header's vote on the validator set; `ballot` says what the builder votes.
    """

    def __init__(self, builder: bytes, ballot: Callable[[], Vote | None] = lambda: None):
        self.builder = builder
        self.ballot = ballot

    def build_block(self, height: int, round_number: int) -> tuple[bytes, bytes]:
        vote = self.ballot()
        vote_fields = [] if vote is None else [vote.candidate, 1 if vote.add else 0]
        block = rlp.encode([height, round_number, self.builder, vote_fields])
        return keccak256(block), block

    def validate_block(self, height: int, block: bytes) -> bytes:
        block_height, _, _ = read_sim_block(block)
        if block_height != height:
            raise InvalidSimBlock(f"block for height {block_height}, expected {height}")
        return keccak256(block)


def read_sim_block(block: bytes) -> tuple[int, bytes, Vote | None]:
    """(height, builder, vote) of a simulated block; raises InvalidSimBlock."""
    try:
        fields = rlp.decode(block)
        read_list(fields, "block", 4, exact=4)
        vote_fields = read_list(fields[3], "vote", 2)
        vote = None
        if vote_fields:
            read_list(vote_fields, "vote", 2, exact=2)
            vote = Vote(read_bytes(vote_fields[0], "candidate", 20), read_int(vote_fields[1], "add") == 1)
        return read_int(fields[0], "height"), read_bytes(fields[2], "builder", 20), vote
    except (rlp.exceptions.DecodingError, MalformedField) as exc:
        raise InvalidSimBlock(str(exc)) from exc


@dataclass(frozen=True)
class NetworkConditions:
    """How the simulated links misbehave; rates are per mille, per delivery."""

    min_delay_ms: int = 1
    max_delay_ms: int = 50
    drop_per_mille: int = 0
    duplicate_per_mille: int = 0


@dataclass(frozen=True)
class DecidedBlock:
    height: int
    round: int
    block_hash: bytes
    block: bytes
    commit_seals: tuple[bytes, ...]


class MemoryTransport(Transport):
    """One node's end of the memory network."""

    def __init__(self, network: MemoryNetwork, address: bytes):
        self.network = network
        self.address = address
        self.handler: PayloadHandler | None = None

    def broadcast(self, payload: bytes) -> None:
        for peer in sorted(self.network.nodes):
            if peer != self.address:
                self.network.transmit(self.address, peer, payload)

    def send(self, validator: bytes, payload: bytes) -> None:
        self.network.transmit(self.address, validator, payload)

    def set_handler(self, handler: PayloadHandler) -> None:
        self.handler = handler


class SimulatedNode:
    """A validator node reduced to its consensus duties: engine, transport, chain of decided blocks, sync."""

    def __init__(self, network: MemoryNetwork, private_key: bytes):
        self.network = network
        self.private_key = private_key
        self.address = private_key_to_address(private_key)
        self.transport = MemoryTransport(network, self.address)
        self.transport.set_handler(self.receive)
        self.chain: dict[int, DecidedBlock] = {}
        self.snapshot = make_snapshot(network.validators)
        """The validator set (and standing votes) after the head: the set that decides the next height."""
        self.pending_vote: Vote | None = None
        """What this node votes in the blocks it builds, while the vote would still change the set."""
        self.alive = True
        self.epoch = 0
        """Bumped on kill and revive, so timers set before are ignored."""
        self.engine = self._new_engine()
        self.rejected: list[Rejected] = []
        self.equivocations: list[Equivocation] = []

    def _new_engine(self) -> QbftEngine:
        return QbftEngine(self.private_key, SimBlockSource(self.address, self._ballot), self.network.config)

    def _ballot(self) -> Vote | None:
        vote = self.pending_vote
        if vote is None or (vote.candidate in self.snapshot.validators) == vote.add:
            return None
        return vote

    @property
    def head(self) -> int:
        return max(self.chain, default=0)

    def start(self) -> None:
        self.execute(self.engine.start_height(self.head + 1, self.snapshot.validators))

    def receive(self, payload: bytes) -> None:
        try:
            message = self.network.decode(payload)
        except InvalidMessage:
            self.network.invalid_payloads += 1
            return
        self.execute(self.engine.on_message(message))

    def fire(self, event: TimerEvent) -> None:
        self.execute(self.engine.on_timer(event))

    def execute(self, actions: list[Action]) -> None:
        """Do what the engine asked, in order."""
        for action in actions:
            if isinstance(action, Broadcast):
                self.transport.broadcast(action.message.wire)
            elif isinstance(action, ScheduleTimer):
                self.network.schedule_timer(self, action.event, action.delay_ms)
            elif isinstance(action, Decision):
                block = DecidedBlock(action.height, action.round, action.block_hash, action.block, action.commit_seals)
                self.commit(block)
            elif isinstance(action, Equivocation):
                self.equivocations.append(action)
            else:
                self.rejected.append(action)

    def commit(self, block: DecidedBlock) -> None:
        """Check the seals as any observer would, apply the block's vote, keep it and start the next height."""
        verify_commit_seals(block.block_hash, block.round, block.commit_seals, self.snapshot.validators)
        _, builder, vote = read_sim_block(block.block)
        self.snapshot = apply_header_vote(self.snapshot, builder, vote)
        self.chain[block.height] = block
        self.network.record_decision(self.address, block)
        self.execute(self.engine.on_block_imported(block.height, self.snapshot.validators))

    def sync_from(self, peer: SimulatedNode) -> None:
        """Fetch decided blocks from `peer` that this node lacks, as the node's sync does."""
        while self.head + 1 in peer.chain and self.alive:
            self.commit(peer.chain[self.head + 1])


class MemoryNetwork:
    """Validators connected by simulated links, driven by a virtual clock."""

    def __init__(
        self,
        private_keys: list[bytes],
        seed: int,
        conditions: NetworkConditions = NetworkConditions(),
        config: QbftConfig = SIMULATION_CONFIG,
        sync_interval_ms: int | None = 1_000,
        genesis_validators: tuple[bytes, ...] | None = None,
    ):
        """`private_keys` are the nodes'; `genesis_validators` (default: all of them) the first validator set."""
        self.rng = random.Random(seed)
        self.conditions = conditions
        self.config = config
        self.sync_interval_ms = sync_interval_ms
        self.now_ms = 0
        self._queue: list[tuple[int, int, Callable[[], None]]] = []
        self._sequence = 0
        self.nodes: dict[bytes, SimulatedNode] = {}
        everyone = tuple(private_key_to_address(key) for key in private_keys)
        self.validators = tuple(sorted(genesis_validators if genesis_validators is not None else everyone))
        """The genesis validator set; each node follows later changes in its own `snapshot`."""
        for key in private_keys:
            node = SimulatedNode(self, key)
            self.nodes[node.address] = node
        self.groups: list[set[bytes]] | None = None
        self.decisions: dict[int, dict[bytes, bytes]] = {}
        """Every block hash decided at each height, by node: more than one hash at a height is a fork."""
        self.invalid_payloads = 0
        self.delivered = 0
        self.decode = lru_cache(maxsize=1024)(decode_message)
        """Decoding is a pure function of the bytes, so nodes share it: a broadcast is decoded once, not n-1 times."""

    # ---- control ----

    def start(self) -> None:
        for address in sorted(self.nodes):
            node = self.nodes[address]
            if node.alive:
                node.start()
        if self.sync_interval_ms:
            self._at(self.sync_interval_ms, self._sync_tick)

    def kill(self, address: bytes) -> None:
        node = self.nodes[address]
        node.alive = False
        node.epoch += 1

    def revive(self, address: bytes) -> None:
        """Restart a killed node: its decided blocks survive, its in-memory consensus state does not."""
        node = self.nodes[address]
        node.alive = True
        node.epoch += 1
        node.engine = node._new_engine()
        node.start()

    def partition(self, *groups: set[bytes]) -> None:
        """Only nodes within one group reach each other until `heal`."""
        self.groups = [set(group) for group in groups]

    def heal(self) -> None:
        self.groups = None

    def can_reach(self, sender: bytes, receiver: bytes) -> bool:
        if self.groups is None:
            return True
        return any(sender in group and receiver in group for group in self.groups)

    def run(self, until_ms: int, stop: Callable[[], bool] = lambda: False, max_events: int = 1_000_000) -> bool:
        """Process events in time order until `stop()` holds (True), or time or events run out (False)."""
        for _ in range(max_events):
            if stop():
                return True
            if not self._queue or self._queue[0][0] > until_ms:
                break
            self.now_ms, _, callback = heapq.heappop(self._queue)
            callback()
        return stop()

    def run_until_height(self, height: int, until_ms: int) -> bool:
        """Run until every live node has `height` in its chain."""
        return self.run(until_ms, lambda: all(n.head >= height for n in self.nodes.values() if n.alive))

    # ---- what nodes call ----

    def transmit(self, sender: bytes, receiver: bytes, payload: bytes) -> None:
        if not self.can_reach(sender, receiver):
            return
        conditions = self.conditions
        copies = 2 if self.rng.randrange(1000) < conditions.duplicate_per_mille else 1
        for _ in range(copies):
            if self.rng.randrange(1000) < conditions.drop_per_mille:
                continue
            delay = self.rng.randint(conditions.min_delay_ms, conditions.max_delay_ms)
            self._at(self.now_ms + delay, lambda: self._deliver(receiver, payload))

    def schedule_timer(self, node: SimulatedNode, event: TimerEvent, delay_ms: int) -> None:
        epoch = node.epoch
        self._at(self.now_ms + delay_ms, lambda: node.alive and node.epoch == epoch and node.fire(event))

    def record_decision(self, address: bytes, block: DecidedBlock) -> None:
        self.decisions.setdefault(block.height, {})[address] = block.block_hash

    def forks(self) -> dict[int, set[bytes]]:
        """Heights at which nodes decided different blocks (empty when safe)."""
        return {
            height: set(hashes.values()) for height, hashes in self.decisions.items() if len(set(hashes.values())) > 1
        }

    # ---- internals ----

    def _at(self, time_ms: int, callback: Callable[[], None]) -> None:
        self._sequence += 1
        heapq.heappush(self._queue, (time_ms, self._sequence, callback))

    def _deliver(self, receiver: bytes, payload: bytes) -> None:
        node = self.nodes[receiver]
        if node.alive and node.transport.handler is not None:
            self.delivered += 1
            node.transport.handler(payload)

    def _sync_tick(self) -> None:
        """Each live node fetches missing decided blocks from the live peers it can reach."""
        for address in sorted(self.nodes):
            node = self.nodes[address]
            if not node.alive:
                continue
            for peer_address in sorted(self.nodes):
                peer = self.nodes[peer_address]
                if peer.alive and peer_address != address and self.can_reach(address, peer_address):
                    node.sync_from(peer)
        self._at(self.now_ms + self.sync_interval_ms, self._sync_tick)
