"""The world state: an account trie and one storage trie per contract, over a node store (LevelDB in a node).

Reads and writes of a block go through caches; each changed key reaches its trie once per block, when
`compute_state_root` runs. Transactions are journaled: `begin_transaction`, `commit_transaction`,
`rollback_transaction`, as in the execution specs, so a reverted call leaves no trace but its nonce."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass

import rlp
from trie import HexaryTrie

from node.crypto import keccak256
from node.exceptions import InvalidBlock

EMPTY_ROOT = keccak256(rlp.encode(b""))
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
        return rlp.encode([self.nonce, self.balance, self.storage_root, self.code_hash])

    @classmethod
    def decode(cls, data: bytes) -> Account:
        nonce, balance, storage_root, code_hash = rlp.decode(data)
        return cls(int.from_bytes(nonce, "big"), int.from_bytes(balance, "big"), storage_root, code_hash)


EMPTY_ACCOUNT = Account()


class NodeOverlay(MutableMapping):
    """Trie nodes: new ones of this block in memory, older ones read through from the store.

    Nodes are keyed by their hash, so they are immutable: `written` is exactly what a block commit adds."""

    def __init__(self, read_node: Callable[[bytes], bytes | None]) -> None:
        self._read_node = read_node
        self.written: dict[bytes, bytes] = {}

    def __getitem__(self, key: bytes) -> bytes:
        value = self.written.get(key)
        if value is None:
            value = self._read_node(key)
            if value is None:
                raise KeyError(key)
        return value

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.written[key] = value

    def __delitem__(self, key: bytes) -> None:
        self.written.pop(key, None)

    def __contains__(self, key: object) -> bool:
        return key in self.written or self._read_node(key) is not None  # type: ignore[arg-type]

    def __iter__(self):
        return iter(self.written)

    def __len__(self) -> int:
        return len(self.written)


class State:
    """The state at one block, with the pending changes of the block being executed on top of it."""

    def __init__(self, read_node: Callable[[bytes], bytes | None], root: bytes) -> None:
        self.nodes = NodeOverlay(read_node)
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
            encoded = HexaryTrie(self.nodes, self.root).get(keccak256(address))
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
            found = HexaryTrie(self.nodes, storage_root).get(keccak256(key)) if storage_root != EMPTY_ROOT else b""
            value = found or None
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
    def compute_state_root(self) -> bytes:
        """Write every changed key into its trie once and return the new state root."""
        if self._journal is not None:
            raise RuntimeError("a transaction is still open")
        for address in sorted(self._dirty_storage):
            keys = self._dirty_storage[address]
            if not keys:
                continue
            account = self.get_account(address)
            storage_trie = HexaryTrie(self.nodes, account.storage_root)
            slots = self._storage[address]
            with storage_trie.squash_changes() as batch:
                for key in sorted(keys):
                    value = slots[key]
                    if value is None:
                        batch.delete(keccak256(key))
                    else:
                        batch.set(keccak256(key), value)
            self._accounts[address] = Account(account.nonce, account.balance, storage_trie.root_hash,
                                              account.code_hash)
            self._dirty_accounts.add(address)
        self._dirty_storage.clear()
        account_trie = HexaryTrie(self.nodes, self.root)
        with account_trie.squash_changes() as batch:
            for address in sorted(self._dirty_accounts):
                batch.set(keccak256(address), self._accounts[address].encode())
        self._dirty_accounts.clear()
        self.root = account_trie.root_hash
        return self.root

    def require_root(self, expected: bytes, where: str) -> None:
        if self.root != expected:
            raise InvalidBlock(f"{where}: state root 0x{self.root.hex()} != header 0x{expected.hex()}")
