"""Ethereum JSON-RPC beyond the basics: block receipts, storage and proofs of native state, fee history,
polling filters, peer count.

Native storage through Ethereum's methods: a native contract's storage is a Merkle-Patricia trie whose paths are
keccak256(native storage key) and whose values are the stored bytes. So for `eth_getStorageAt(address, position)`
and `eth_getProof(address, [position])` the position is that 32-byte path, keccak256 of the contract's own key
(e.g. keccak256(b"role" + role byte + address) in the participant registry), and the value is the raw stored bytes
(not padded to 32 bytes), "0x" when absent. Proof nodes are RLP-encoded trie nodes, checkable against the block's
state root exactly as for Ethereum accounts."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import rlp
from trie import HexaryTrie

from node.crypto import keccak256
from node.state import EMPTY_ROOT
from rpc.eth import EthApi
from rpc.formats import block_receipts_json, data, parse_address, parse_data, parse_quantity, quantity
from rpc.jsonrpc import Dispatcher, RpcError, SERVER_ERROR, invalid_params

FILTER_IDLE_S = 300
"""A filter nobody polled for this long is dropped, as geth does."""
MAX_FILTERS = 1_000
MAX_FEE_HISTORY_BLOCKS = 1_024


@dataclass
class PollFilter:
    kind: str
    """'logs', 'blocks' or 'pending'."""
    criteria: dict
    next_block: int
    """The first block not yet reported by eth_getFilterChanges."""
    polled_at: float = field(default_factory=time.monotonic)


class StoredTrieNodes(Mapping):
    """The node's committed trie nodes as the read-only mapping py-trie reads (proofs walk committed state only)."""

    def __init__(self, read_node: Callable[[bytes], bytes | None]) -> None:
        self._read_node = read_node

    def __getitem__(self, node_hash: bytes) -> bytes:
        found = self._read_node(node_hash)
        if found is None:
            raise KeyError(node_hash)
        return found

    def __iter__(self):
        raise TypeError("the node's trie nodes cannot be listed")

    def __len__(self) -> int:
        raise TypeError("the node's trie nodes cannot be counted")


class EthExtras:
    """The extra methods, sharing the block resolution and log search of `EthApi`."""

    def __init__(self, eth: EthApi, peer_count: Callable[[], int] = lambda: 0) -> None:
        self.eth = eth
        self.node = eth.node
        self.peer_count = peer_count
        self.filters: dict[str, PollFilter] = {}
        self.trie_nodes = StoredTrieNodes(self.node.store.read_node)

    def register(self, dispatcher: Dispatcher) -> None:
        for name in dir(self):
            if name.startswith(("eth_", "net_")):
                dispatcher.register(name, getattr(self, name))

    def net_peerCount(self) -> str:
        return quantity(self.peer_count())

    def eth_getBlockReceipts(self, tag: Any) -> list[dict] | None:
        try:
            header = self.eth._header(tag)
        except RpcError:
            return None
        block = self.node.store.block_by_hash(header.hash)
        receipts = self.node.receipts_of(header.hash)
        return block_receipts_json(block, receipts)

    def eth_getStorageAt(self, address: str, position: str, tag: Any = "latest") -> str:
        state = self.node.state_at(self.eth._header(tag))
        root = state.get_account(parse_address(address)).storage_root
        if root == EMPTY_ROOT:
            return "0x"
        return data(HexaryTrie(self.trie_nodes, root).get(_slot(position)))

    def eth_getProof(self, address: str, positions: list, tag: Any = "latest") -> dict:
        if not isinstance(positions, list):
            raise invalid_params("storage keys must be a list")
        who = parse_address(address)
        header = self.eth._header(tag)
        state = self.node.state_at(header)
        account = state.get_account(who)
        account_trie = HexaryTrie(self.trie_nodes, header.state_root)
        storage_trie = HexaryTrie(self.trie_nodes, account.storage_root)
        storage_proof = []
        for position in positions:
            slot = _slot(position)
            found = storage_trie.get(slot) if account.storage_root != EMPTY_ROOT else b""
            proof = storage_trie.get_proof(slot) if account.storage_root != EMPTY_ROOT else ()
            storage_proof.append({"key": data(slot), "value": data(found), "proof": [data(rlp.encode(n))
                                                                                     for n in proof]})
        return {
            "address": data(who),
            "accountProof": [data(rlp.encode(n)) for n in account_trie.get_proof(keccak256(who))],
            "balance": quantity(account.balance),
            "codeHash": data(account.code_hash),
            "nonce": quantity(account.nonce),
            "storageHash": data(account.storage_root),
            "storageProof": storage_proof,
        }

    def eth_feeHistory(self, count: Any, newest: Any, percentiles: list | None = None) -> dict:
        """Gas is free on this chain: every base fee and reward is zero; gas used ratios are real."""
        blocks = min(parse_quantity(count, "blockCount") if isinstance(count, str) else int(count),
                     MAX_FEE_HISTORY_BLOCKS)
        last = self.eth._header(newest).number
        first = max(0, last - blocks + 1)
        headers = [self.node.store.header_by_number(n) for n in range(first, last + 1)]
        return {
            "oldestBlock": quantity(first),
            "baseFeePerGas": ["0x0"] * (len(headers) + 1),
            "gasUsedRatio": [h.gas_used / h.gas_limit if h.gas_limit else 0.0 for h in headers],
            "reward": [["0x0"] * len(percentiles or []) for _ in headers],
        }

    # --- polling filters -----------------------------------------------------------------------------------
    def _install(self, kind: str, criteria: dict) -> str:
        self._expire()
        if len(self.filters) >= MAX_FILTERS:
            raise RpcError(SERVER_ERROR, f"too many filters (limit {MAX_FILTERS})")
        filter_id = quantity(int.from_bytes(secrets.token_bytes(16), "big"))
        self.filters[filter_id] = PollFilter(kind, criteria, self.node.head.number + 1)
        return filter_id

    def _expire(self) -> None:
        cutoff = time.monotonic() - FILTER_IDLE_S
        for filter_id in [f for f, flt in self.filters.items() if flt.polled_at < cutoff]:
            del self.filters[filter_id]

    def _get(self, filter_id: Any) -> PollFilter:
        found = self.filters.get(filter_id) if isinstance(filter_id, str) else None
        if found is None:
            raise RpcError(SERVER_ERROR, "filter not found")
        found.polled_at = time.monotonic()
        return found

    def eth_newFilter(self, criteria: Any) -> str:
        if not isinstance(criteria, dict):
            raise invalid_params("filter object expected")
        self.eth._header(criteria.get("fromBlock", "latest"))  # a bad tag fails now, not at the first poll
        return self._install("logs", dict(criteria))

    def eth_newBlockFilter(self) -> str:
        return self._install("blocks", {})

    def eth_newPendingTransactionFilter(self) -> str:
        return self._install("pending", {})

    def eth_uninstallFilter(self, filter_id: Any) -> bool:
        return self.filters.pop(filter_id, None) is not None if isinstance(filter_id, str) else False

    async def eth_getFilterLogs(self, filter_id: Any) -> list[dict]:
        flt = self._get(filter_id)
        if flt.kind != "logs":
            raise RpcError(SERVER_ERROR, "not a log filter")
        return await asyncio.to_thread(self.eth.find_logs, flt.criteria)

    async def eth_getFilterChanges(self, filter_id: Any) -> list:
        flt = self._get(filter_id)
        head = self.node.head.number
        if flt.kind == "pending":
            return []
        first, flt.next_block = flt.next_block, head + 1
        if first > head:
            return []
        if flt.kind == "blocks":
            return [data(self.node.store.hash_by_number(n)) for n in range(first, head + 1)]
        criteria = {k: v for k, v in flt.criteria.items() if k != "blockHash"}
        start = max(first, self.eth._header(criteria.get("fromBlock", "earliest")).number)
        end = min(head, self.eth._header(criteria.get("toBlock", "latest")).number)
        if start > end:
            return []
        criteria.update(fromBlock=quantity(start), toBlock=quantity(end))
        return await asyncio.to_thread(self.eth.find_logs, criteria)


def _slot(position: Any) -> bytes:
    """A storage position as the 32-byte trie path; shorter quantities are left-padded like Ethereum slots."""
    raw = parse_data(position, "position") if isinstance(position, str) else b""
    if not isinstance(position, str) or len(raw) > 32:
        raise invalid_params("storage position: expected up to 32 bytes of 0x-hex")
    return raw.rjust(32, b"\x00")


