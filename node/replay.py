"""Audit replay: re-execute every block from genesis into a fresh state and check everything stored.

For each block: the stored bytes hash to the key they are filed under, every transaction signature recovers,
the commit seals are a quorum of the validators of that height, execution reproduces the header's roots, the
stored receipts equal the recomputed ones, and every trie node the block created equals the node stored under
its hash (so one flipped byte in any stored trie node names the block that wrote it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from consensus.validators import make_snapshot
from genesis.build import genesis_block, genesis_state
from genesis.config import parse_genesis
from node.chain import ChainStore
from node.exceptions import InvalidBlock, InvalidTransaction, MissingBlock
from node.execution import ChainRules, state_transition
from node.finality import check_final, snapshot_after
from node.state import State
from contracts_py.catalog import CONTRACTS


@dataclass(frozen=True)
class ReplayReport:
    blocks_checked: int
    head_number: int
    first_bad_block: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad_block is None


class ReplayMismatch(InvalidBlock):
    pass


def _compare_nodes(store: ChainStore, written: dict[bytes, bytes], number: int) -> None:
    for node_hash, node in written.items():
        stored = store.read_node(node_hash)
        if stored != node:
            what = "missing" if stored is None else "differs"
            raise ReplayMismatch(f"block {number}: stored trie node 0x{node_hash.hex()[:16]}… {what}")


def replay_chain(store: ChainStore, progress: Callable[[int], None] = lambda n: None) -> ReplayReport:
    """Check the whole stored chain; the report names the first bad block and what differs."""
    genesis_bytes = store.genesis_json()
    if genesis_bytes is None:
        return ReplayReport(0, -1, 0, "no genesis stored")
    genesis = parse_genesis(genesis_bytes)
    store.set_chain_id(genesis.chain_id)
    rules = ChainRules(genesis.chain_id, genesis.gas_limit)
    head_number = store.head.number
    number = 0
    try:
        state = genesis_state(genesis, store.read_node)
        expected = genesis_block(genesis, state.root)
        if store.hash_by_number(0) != expected.hash:
            raise ReplayMismatch("block 0: stored genesis block differs from the genesis file")
        _check_stored_hash(store, 0)
        _compare_nodes(store, state.written, 0)
        parent = expected.header
        snapshot = make_snapshot(genesis.validators)
        progress(1)
        for number in range(1, head_number + 1):
            block_hash = _check_stored_hash(store, number)
            block = store.block_by_hash(block_hash, verify_signatures=True)
            stored_senders = [tx.sender for tx in store.block_by_hash(block_hash).transactions]
            if stored_senders != [tx.sender for tx in block.transactions]:
                raise ReplayMismatch(f"block {number}: stored senders differ from the signatures")
            check_final(block.header, snapshot)
            state = State(store.read_node, parent.state_root)
            output = state_transition(state, CONTRACTS, rules, parent, block)
            if output.receipts != store.receipts(block_hash):
                raise ReplayMismatch(f"block {number}: stored receipts differ from re-execution")
            _compare_nodes(store, state.written, number)
            snapshot = snapshot_after(block.header, snapshot)
            parent = block.header
            progress(1)
    except (InvalidBlock, InvalidTransaction, MissingBlock) as exc:
        message = str(exc)
        if isinstance(exc, InvalidTransaction):
            message = f"block {number}: {exc}"
        return ReplayReport(number, head_number, number, message)
    except Exception as exc:  # corrupt bytes can break any decoder; name the block instead of crashing
        return ReplayReport(number, head_number, number, f"block {number}: unreadable: {type(exc).__name__}: {exc}")
    return ReplayReport(head_number + 1, head_number)


def _check_stored_hash(store: ChainStore, number: int) -> bytes:
    block_hash = store.hash_by_number(number)
    header = store.header_by_hash(block_hash)
    if header.hash != block_hash or header.number != number:
        raise ReplayMismatch(f"block {number}: stored header does not hash to its key 0x{block_hash.hex()[:16]}…")
    return block_hash
