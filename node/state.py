"""The world state: an account trie and one storage trie per contract, over a node store (LevelDB in a node).

Reads and writes of a block go through caches; each changed key reaches its trie once per block, when
`compute_state_root` runs. Transactions are journaled: `begin_transaction`, `commit_transaction`,
`rollback_transaction`, as in the execution specs, so a reverted call leaves no trace but its nonce."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from node import mpt, rlp_fast
from node.crypto import keccak256
from node.exceptions import InvalidBlock

EMPTY_ROOT = mpt.BLANK_ROOT
EMPTY_CODE_HASH = keccak256(b"")
_MISSING = object()


@dataclass(frozen=True, slots=True)
class Account:
    """An account as the account trie stores it (Ethereum's four fields)."""

    nonce: int = 0
    balance: int = 0
    storage_root: bytes = EMPTY_ROOT
    code_hash: bytes = EMPTY_CODE_HASH

    def encode(self) -> bytes:
        return rlp_fast.encode([rlp_fast.uint(self.nonce), rlp_fast.uint(self.balance), self.storage_root,
                                self.code_hash])

    @classmethod
    def decode(cls, data: bytes) -> Account:
        nonce, balance, storage_root, code_hash = rlp_fast.decode(data)
        return cls(int.from_bytes(nonce, "big"), int.from_bytes(balance, "big"), storage_root, code_hash)


EMPTY_ACCOUNT = Account()


@lru_cache(maxsize=1 << 16)
def trie_key(key: bytes) -> bytes:
    """The secure trie's path for an address or storage key: its keccak, cached, as a block reads each key and
    then writes it, and busy senders and balances recur block after block."""
    return keccak256(key)


class State:
    """The state at one block, with the pending changes of the block being executed on top of it."""

    def __init__(self, read_node: Callable[[bytes], bytes | None], root: bytes,
                 cache: mpt.NodeCache | None = None) -> None:
        self._read_node = read_node
        self._cache = cache if cache is not None else mpt.NodeCache()
        self.written: dict[bytes, bytes] = {}
        """Trie nodes this block created: exactly what its commit adds to the store."""
        self.root = root
        self._accounts: dict[bytes, Account] = {}
        self._storage: dict[bytes, dict[bytes, bytes | None]] = {}
        self._dirty_accounts: set[bytes] = set()
        self._dirty_storage: dict[bytes, set[bytes]] = {}
        self._journal: list[tuple] | None = None

    # --- accounts -------------------------------------------------------------------------------------------
    def get_account(self, address: bytes) -> Account:
        account = self._accounts.get(address)
        if account is None:
            encoded = self._trie_get(self.root, trie_key(address))
            account = Account.decode(encoded) if encoded else EMPTY_ACCOUNT
            self._accounts[address] = account
        return account

    def set_account(self, address: bytes, account: Account) -> None:
        if self._journal is not None:
            self._journal.append(("account", address, self.get_account(address), address in self._dirty_accounts))
        self._accounts[address] = account
        self._dirty_accounts.add(address)

    # --- storage (the contracts' StateAccess) --------------------------------------------------------------
    def storage_get(self, address: bytes, key: bytes) -> bytes | None:
        slots = self._storage.setdefault(address, {})
        value = slots.get(key, _MISSING)
        if value is _MISSING:
            storage_root = self.get_account(address).storage_root
            value = self._trie_get(storage_root, trie_key(key))
            slots[key] = value
        return value  # type: ignore[return-value]

    def storage_set(self, address: bytes, key: bytes, value: bytes | None) -> None:
        old = self.storage_get(address, key)
        dirty = self._dirty_storage.setdefault(address, set())
        if self._journal is not None:
            self._journal.append(("storage", address, key, old, key in dirty))
        self._storage[address][key] = value
        dirty.add(key)

    # --- transactions ---------------------------------------------------------------------------------------
    def begin_transaction(self) -> None:
        if self._journal is not None:
            raise RuntimeError("transactions do not nest")
        self._journal = []

    def commit_transaction(self) -> None:
        self._journal = None

    def rollback_transaction(self) -> None:
        journal, self._journal = self._journal or [], None
        for entry in reversed(journal):
            if entry[0] == "account":
                _, address, old, was_dirty = entry
                self._accounts[address] = old
                if not was_dirty:
                    self._dirty_accounts.discard(address)
            else:
                _, address, key, old, was_dirty = entry
                self._storage[address][key] = old
                if not was_dirty:
                    self._dirty_storage[address].discard(key)

    # --- block end ------------------------------------------------------------------------------------------
    def _trie_get(self, root: bytes, key: bytes) -> bytes | None:
        return mpt.get(self._read_node_or_written, self._cache, root, key)

    def _read_node_or_written(self, node_hash: bytes) -> bytes | None:
        return self.written.get(node_hash) or self._read_node(node_hash)

    def compute_state_root(self) -> bytes:
        """Write every changed key into its trie once and return the new state root."""
        if self._journal is not None:
            raise RuntimeError("a transaction is still open")
        for address in sorted(self._dirty_storage):
            keys = self._dirty_storage[address]
            if not keys:
                continue
            account = self.get_account(address)
            slots = self._storage[address]
            storage_root = mpt.apply_changes(self._read_node_or_written, self._cache, account.storage_root,
                                             {trie_key(key): slots[key] for key in keys}, self.written)
            self._accounts[address] = Account(account.nonce, account.balance, storage_root, account.code_hash)
            self._dirty_accounts.add(address)
        self._dirty_storage.clear()
        self.root = mpt.apply_changes(self._read_node_or_written, self._cache, self.root,
                                      {trie_key(a): self._accounts[a].encode() for a in self._dirty_accounts},
                                      self.written)
        self._dirty_accounts.clear()
        return self.root

    def require_root(self, expected: bytes, where: str) -> None:
        if self.root != expected:
            raise InvalidBlock(f"{where}: state root 0x{self.root.hex()} != header 0x{expected.hex()}")
