"""The node: chain store, state, mempool and contracts wired together.

Consensus engines (solo or QBFT) build, validate and commit blocks through this class; RPC reads through it.
Block execution and commits are serialized by one lock; all of it is synchronous, callers on the asyncio loop
run it in a worker thread."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from consensus.seals import BftExtraData
from consensus.validators import Vote, make_snapshot
from contracts_py.catalog import CONTRACTS
from contracts_py.runtime import BlockInfo, CallResult, execute_call
from genesis.build import genesis_block, genesis_state
from genesis.config import Genesis, parse_genesis
from node import mpt
from node.blocks import Block, Header, Receipt
from node.chain import ChainStore
from node.exceptions import InvalidBlock, InvalidTransaction, NonceTooLow
from node.execution import (
    BlockOutput,
    ChainRules,
    apply_transaction,
    block_output,
    check_nonce_and_funds,
    state_transition,
)
from node.finality import check_final, decode_snapshot, encode_snapshot, snapshot_after
from node.mempool import Mempool
from node.state import Account, State
from node.transactions import Transaction, decode_transaction

log = logging.getLogger("energy.node")

MAX_FUTURE_DRIFT_S = 15
"""How far ahead of this node's clock a proposed block's timestamp may be."""

MAX_BLOCK_TRANSACTION_BYTES = 1024 * 1024
"""A proposer stops adding transactions at this many bytes, so a proposal always fits a consensus message
(3 MiB) and a network frame (4 MiB) with room for its justification."""


@dataclass(frozen=True)
class ExecutedBlock:
    """A block whose transactions ran on the head state, waiting for its seals."""

    block: Block
    output: BlockOutput
    state: State


def init_datadir(datadir: Path, genesis_path: Path) -> Header:
    """Create the chain database of a node with block 0 of `genesis_path`; idempotent for the same genesis."""
    genesis_bytes = Path(genesis_path).read_bytes()
    genesis = parse_genesis(genesis_bytes)
    store = ChainStore(Path(datadir) / "chain", create=True)
    try:
        state = genesis_state(genesis, store.read_node)
        block = genesis_block(genesis, state.root)
        existing = store.genesis_json()
        if existing is not None:
            if store.header_by_number(0).hash != block.hash:
                raise InvalidBlock(f"{datadir} already holds a chain with another genesis")
            return store.header_by_number(0)
        store.commit_block(block, (), state.written, encode_snapshot(make_snapshot(genesis.validators)),
                           genesis_json=genesis_bytes)
        return block.header
    finally:
        store.close()


class Node:
    """One participant's view of the ledger."""

    def __init__(self, store: ChainStore, *, mempool: Mempool | None = None) -> None:
        genesis_json = store.genesis_json()
        if genesis_json is None:
            raise InvalidBlock("the chain database has no genesis")
        self.store = store
        self.genesis: Genesis = parse_genesis(genesis_json)
        self.rules = ChainRules(chain_id=self.genesis.chain_id, block_gas_limit=self.genesis.gas_limit)
        store.set_chain_id(self.genesis.chain_id)
        self.contracts = CONTRACTS
        self.mempool = mempool if mempool is not None else Mempool()
        self.lock = threading.RLock()
        self._listeners: list[Callable[[Block, tuple[Receipt, ...]], None]] = []
        self._executed: dict[bytes, ExecutedBlock] = {}
        self._node_cache = mpt.NodeCache()
        self._head_state: tuple[bytes, State] | None = None
        """(head hash, its state) for reads (admission, nonces): one per block, so each account is read from the
        trie once per block rather than once per transaction, and what it caches goes with the block. Never
        written: blocks execute on a fresh State."""

    @classmethod
    def open(cls, datadir: Path) -> Node:
        return cls(ChainStore(Path(datadir) / "chain"))

    def close(self) -> None:
        with self.lock:
            self.store.close()

    # --- reading -------------------------------------------------------------------------------------------
    @property
    def head(self) -> Header:
        return self.store.head

    def state_at(self, header: Header | None = None) -> State:
        return State(self.store.read_node, (header or self.head).state_root, self._node_cache)

    def validator_snapshot(self, header: Header | None = None):
        """The validator set (and standing votes) for the block after `header` (default: the head)."""
        data = self.store.validator_snapshot((header or self.head).hash)
        if data is None:
            raise InvalidBlock("no validator snapshot stored for that block")
        return decode_snapshot(data)

    def head_account(self, address: bytes) -> Account:
        """An account as the head block left it."""
        head = self.head
        cached = self._head_state
        if cached is None or cached[0] != head.hash:
            cached = self._head_state = (head.hash, self.state_at(head))
        return cached[1].get_account(address)

    def account_nonce(self, address: bytes) -> int:
        return self.head_account(address).nonce

    def call(self, to: bytes, data: bytes, sender: bytes = bytes(20), gas: int | None = None,
             header: Header | None = None) -> CallResult:
        """eth_call: run a call against a block's state and throw the writes away."""
        header = header or self.head
        state = self.state_at(header)
        block = BlockInfo(header.number, header.timestamp, header.proposer, self.rules.chain_id)
        return execute_call(self.contracts, state, block, to=to, sender=sender, data=data,
                            gas_limit=gas or self.rules.block_gas_limit, read_only=False)

    def add_block_listener(self, listener: Callable[[Block, tuple[Receipt, ...]], None]) -> None:
        self._listeners.append(listener)

    # --- transactions --------------------------------------------------------------------------------------
    def submit_transaction(self, raw: bytes) -> Transaction:
        """Validate a raw transaction and put it in the mempool; raises InvalidTransaction with the reason."""
        tx = decode_transaction(raw, self.rules.chain_id, self.rules.block_gas_limit)
        return self.admit(tx)

    def admit(self, tx: Transaction) -> Transaction:
        if tx.data and tx.to not in self.contracts:
            raise InvalidTransaction(f"no contract at 0x{tx.to.hex()}")
        if tx.value and tx.to in self.contracts:
            raise InvalidTransaction("native contracts do not accept value")
        # No node lock: the head state is immutable once committed and the mempool locks itself, so RPC threads
        # keep admitting while a block executes.
        account = self.head_account(tx.sender)
        if tx.nonce < account.nonce:
            raise NonceTooLow(f"nonce {tx.nonce} already used by 0x{tx.sender.hex()} (next is {account.nonce})")
        cost = tx.value + tx.gas * tx.max_fee_per_gas
        if account.balance < cost:
            raise InvalidTransaction(f"insufficient funds: 0x{tx.sender.hex()} has {account.balance}, needs {cost}")
        self.mempool.add(tx, account.nonce)
        return tx

    def pending_nonce(self, address: bytes) -> int:
        return self.mempool.pending_nonce(address, self.account_nonce(address))

    # --- blocks --------------------------------------------------------------------------------------------
    def build_block(self, proposer: bytes, *, timestamp: int | None = None, vote: Vote | None = None,
                    max_transactions: int = 5_000) -> ExecutedBlock:
        """Execute the ready mempool transactions on the head state into an unsealed block."""
        with self.lock:
            parent = self.head
            timestamp = max(parent.timestamp, int(time.time()) if timestamp is None else timestamp)
            state = self.state_at(parent)
            info = BlockInfo(parent.number + 1, timestamp, proposer, self.rules.chain_id)
            chosen: list[Transaction] = []
            receipts: list[Receipt] = []
            gas_used = 0
            size = 0
            for tx in self.mempool.ready(lambda a: state.get_account(a).nonce, max_transactions):
                if gas_used + tx.gas > self.rules.block_gas_limit or size + len(tx.raw) > MAX_BLOCK_TRANSACTION_BYTES:
                    break
                try:
                    check_nonce_and_funds(state, tx)
                except InvalidTransaction as exc:
                    log.info("dropping 0x%s from the mempool: %s", tx.hash.hex(), exc)
                    self.mempool.remove(tx)
                    continue
                receipt = apply_transaction(state, self.contracts, info, tx, gas_used)
                gas_used = receipt.cumulative_gas_used
                size += len(tx.raw)
                chosen.append(tx)
                receipts.append(receipt)
            extra = BftExtraData(bytes(32), self.validator_snapshot(parent).validators, vote, 0, ())
            output = block_output(state, chosen, receipts, gas_used)
            header = Header(parent.hash, parent.number + 1, timestamp, proposer, output.state_root,
                            output.transactions_root, output.receipts_root, output.logs_bloom,
                            self.rules.block_gas_limit, gas_used, extra.encode())
            executed = ExecutedBlock(Block(header, tuple(chosen)), output, state)
            self._executed[header.hash] = executed
            return executed

    def validate_block(self, block: Block, *, check_clock: bool = True) -> ExecutedBlock:
        """Re-execute a proposed block on the head state; raises InvalidBlock."""
        cached = self._executed.get(block.hash)
        if cached is not None:
            return cached
        with self.lock:
            parent = self.head
            if check_clock and block.header.timestamp > time.time() + MAX_FUTURE_DRIFT_S:
                raise InvalidBlock(f"block {block.number}: timestamp {block.header.timestamp} is in the future")
            snapshot = self.validator_snapshot(parent)
            if block.header.bft.validators != snapshot.validators:
                raise InvalidBlock(f"block {block.number}: header lists validators other than the chain's")
            if block.header.proposer not in snapshot.validators:
                raise InvalidBlock(f"block {block.number}: proposer 0x{block.header.proposer.hex()} is not a validator")
            state = self.state_at(parent)
            output = state_transition(state, self.contracts, self.rules, parent, block)
            executed = ExecutedBlock(block, output, state)
            self._executed[block.hash] = executed
            return executed

    def commit(self, sealed_header: Header) -> Block:
        """Commit a block executed earlier once its header carries a quorum of seals."""
        with self.lock:
            executed = self._executed.get(sealed_header.hash)
            if executed is None:
                raise InvalidBlock(f"block 0x{sealed_header.hash.hex()} was not executed here")
            snapshot = self.validator_snapshot()
            check_final(sealed_header, snapshot)
            block = Block(sealed_header, executed.block.transactions)
            self.store.commit_block(block, executed.output.receipts, executed.state.written,
                                    encode_snapshot(snapshot_after(sealed_header, snapshot)))
            self._executed.clear()
            self.mempool.remove_included(block.transactions)
        for listener in self._listeners:
            try:
                listener(block, executed.output.receipts)
            except Exception:  # a listener's failure must never undo or stop a commit
                log.exception("block listener failed")
        return block

    def import_final_block(self, block: Block) -> Block:
        """Check the seals of a block from sync, execute it and commit it."""
        with self.lock:
            check_final(block.header, self.validator_snapshot())
            self.validate_block(block, check_clock=False)
            return self.commit(block.header)

    def receipts_of(self, block_hash: bytes) -> tuple[Receipt, ...]:
        return self.store.receipts(block_hash)
