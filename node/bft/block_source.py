"""The node as the QBFT engine's block source: builds blocks from the mempool and checks proposed ones.

Empty blocks only at the empty-block period, by a rule every validator applies to every proposal (so it does not
depend on anyone's clock or mempool): a block without transactions is valid only if its timestamp is at least
`parent.timestamp + empty_block_period_s`. The proposer side of the rule (wait for transactions or for that
moment before building) lives in the driver.
"""

from __future__ import annotations

import threading

from node.blocks import Block, decode_block
from node.crypto import keccak256
from node.exceptions import InvalidBlock
from node.service import Node
from node.bft.votes import PendingVotes


MAX_BLOCK_TRANSACTIONS = 1_000
"""Transactions per block: every validator re-executes the block inside the round timeout, so a block must stay
well under it (about a second of execution on one core of a small server)."""


class EmptyBlockTooEarly(InvalidBlock):
    """An empty block proposed before the empty-block period since its parent elapsed."""


class WrongHeight(InvalidBlock):
    """A block for another height than the one being decided, or not on this node's head."""


def empty_block_allowed_at(node: Node) -> int:
    """The first timestamp (seconds) at which an empty block may follow the head."""
    return node.head.timestamp + node.genesis.empty_block_period_s


def has_ready_transactions(node: Node) -> bool:
    """Whether a block built now would hold a transaction: one waits whose nonce is next for its sender.

    Transactions with a nonce gap (their predecessors still travelling by gossip) do not count, or a proposer would
    build an empty block that the rule above makes every validator refuse."""
    if len(node.mempool) == 0:
        return False
    with node.lock:
        return bool(node.mempool.ready(node.account_nonce, 1))


class NodeBlockSource:
    """`consensus.abc.BlockSource` over a `Node`; called from the driver's consensus thread only."""

    def __init__(self, node: Node, proposer: bytes, votes: PendingVotes,
                 max_transactions: int = MAX_BLOCK_TRANSACTIONS) -> None:
        self.node = node
        self.max_transactions = max_transactions
        self.proposer = proposer
        self.votes = votes
        self._blocks: dict[bytes, Block] = {}
        """Decoded blocks by keccak of their bytes: a block arrives again in commits' round changes and proposals."""
        self._lock = threading.Lock()

    def build_block(self, height: int, round_number: int) -> tuple[bytes, bytes]:
        with self.node.lock:
            self._check_height(height)
            vote = self.votes.choose(self.node.validator_snapshot(), self.proposer, height)
            executed = self.node.build_block(self.proposer, vote=vote, max_transactions=self.max_transactions)
        data = executed.block.encode()
        self._remember(data, executed.block)
        return executed.block.hash, data

    def validate_block(self, height: int, data: bytes) -> bytes:
        block = self.decoded(data)
        if block.number != height:
            raise WrongHeight(f"block {block.number} proposed for height {height}")
        with self.node.lock:
            self._check_height(height)
            if not block.transactions and block.header.timestamp < empty_block_allowed_at(self.node):
                raise EmptyBlockTooEarly(
                    f"empty block {height} at {block.header.timestamp}, before {empty_block_allowed_at(self.node)}")
            self.node.validate_block(block)
        return block.hash

    def decoded(self, data: bytes) -> Block:
        """The block of these bytes, decoded (senders recovered) once."""
        key = keccak256(data)
        with self._lock:
            cached = self._blocks.get(key)
        if cached is not None:
            return cached
        block = decode_block(data, self.node.rules.chain_id, self.node.mempool.get)
        self._remember(data, block)
        return block

    def forget(self) -> None:
        """Drop the decoded blocks of finished heights."""
        with self._lock:
            self._blocks.clear()

    def _remember(self, data: bytes, block: Block) -> None:
        with self._lock:
            self._blocks[keccak256(data)] = block

    def _check_height(self, height: int) -> None:
        if self.node.head.number + 1 != height:
            raise WrongHeight(f"height {height} does not follow this node's head {self.node.head.number}")
