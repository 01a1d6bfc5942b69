"""Pending transactions: per-sender nonce order, replacement by a higher fee, bounded per sender and in total."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from node.exceptions import InvalidTransaction, NonceTooLow
from node.transactions import Transaction

REPLACEMENT_BUMP_PERCENT = 10


class MempoolRejection(InvalidTransaction):
    """A valid transaction the pool will not take now."""


class AlreadyKnown(MempoolRejection):
    pass


class ReplacementUnderpriced(MempoolRejection):
    pass


class PoolFull(MempoolRejection):
    pass


class NonceTooFarAhead(MempoolRejection):
    pass


@dataclass
class _SenderQueue:
    by_nonce: dict[int, Transaction] = field(default_factory=dict)


class Mempool:
    """Transactions waiting for a block, indexed by sender and nonce and by hash."""

    def __init__(self, max_per_sender: int = 8192, max_total: int = 200_000) -> None:
        self._pool_lock = threading.RLock()
        """RPC threads admit while the block builder reads: every method holds this briefly."""
        self.max_per_sender = max_per_sender
        self.max_total = max_total
        self._senders: dict[bytes, _SenderQueue] = {}
        self._by_hash: dict[bytes, Transaction] = {}

    def __len__(self) -> int:
        return len(self._by_hash)

    def __contains__(self, tx_hash: bytes) -> bool:
        return tx_hash in self._by_hash

    def get(self, tx_hash: bytes) -> Transaction | None:
        return self._by_hash.get(tx_hash)

    def pending_nonce(self, sender: bytes, account_nonce: int) -> int:
        """The next nonce a sender should use, counting its consecutive pending transactions."""
        with self._pool_lock:
            queue = self._senders.get(sender)
            nonce = account_nonce
            while queue is not None and nonce in queue.by_nonce:
                nonce += 1
            return nonce

    def add(self, tx: Transaction, account_nonce: int) -> Transaction | None:
        """Admit `tx`; returns the transaction it replaced, if any. Raises a MempoolRejection or NonceTooLow."""
        with self._pool_lock:
            if tx.hash in self._by_hash:
                raise AlreadyKnown(f"transaction 0x{tx.hash.hex()} is already pending")
            if tx.nonce < account_nonce:
                raise NonceTooLow(f"nonce {tx.nonce} already used by 0x{tx.sender.hex()} (next is {account_nonce})")
            if tx.nonce >= account_nonce + self.max_per_sender:
                raise NonceTooFarAhead(f"nonce {tx.nonce} is more than {self.max_per_sender} ahead of {account_nonce}")
            queue = self._senders.get(tx.sender)
            existing = queue.by_nonce.get(tx.nonce) if queue else None
            if existing is not None:
                if not _outbids(tx, existing):
                    raise ReplacementUnderpriced(
                        f"replacing nonce {tx.nonce} needs fees {REPLACEMENT_BUMP_PERCENT}% above the pending ones")
                del self._by_hash[existing.hash]
            elif len(self._by_hash) >= self.max_total:
                raise PoolFull(f"the pool holds its maximum of {self.max_total} transactions")
            self._senders.setdefault(tx.sender, _SenderQueue()).by_nonce[tx.nonce] = tx
            self._by_hash[tx.hash] = tx
            return existing

    def ready(self, account_nonce: Callable[[bytes], int], limit: int) -> list[Transaction]:
        """Up to `limit` transactions that can run in order now: each sender's run of consecutive nonces,
        taken round-robin across senders so no sender starves the others.

        Walks only as deep into each run as it takes: the cost follows `limit` and the number of senders, not the
        size of the pool (a proposer calls this for every block while thousands wait)."""
        with self._pool_lock:
            cursors = []
            for sender, queue in self._senders.items():
                nonce = account_nonce(sender)
                if nonce in queue.by_nonce:
                    cursors.append((queue.by_nonce, nonce))
            chosen: list[Transaction] = []
            while cursors and len(chosen) < limit:
                deeper = []
                for by_nonce, nonce in cursors:
                    chosen.append(by_nonce[nonce])
                    if len(chosen) == limit:
                        break
                    if nonce + 1 in by_nonce:
                        deeper.append((by_nonce, nonce + 1))
                cursors = deeper
            return chosen

    def remove(self, tx: Transaction) -> None:
        with self._pool_lock:
            if self._by_hash.pop(tx.hash, None) is None:
                return
            queue = self._senders[tx.sender]
            queue.by_nonce.pop(tx.nonce, None)
            if not queue.by_nonce:
                del self._senders[tx.sender]

    def remove_included(self, transactions: tuple[Transaction, ...]) -> None:
        """After a block: forget its transactions, and any other one holding a nonce the block used (a twin
        that lost the race). The pool admits no nonce below the sender's account nonce and only blocks move that
        nonce, so this leaves no stale transaction behind, in time proportional to the block, not the pool."""
        with self._pool_lock:
            for tx in transactions:
                queue = self._senders.get(tx.sender)
                held = queue.by_nonce.get(tx.nonce) if queue is not None else None
                if held is not None:
                    self.remove(held)


def _outbids(new: Transaction, old: Transaction) -> bool:
    def bumped(old_value: int) -> int:
        return old_value + (old_value * REPLACEMENT_BUMP_PERCENT + 99) // 100

    return (new.max_fee_per_gas >= max(bumped(old.max_fee_per_gas), old.max_fee_per_gas + 1)
            and new.max_priority_fee_per_gas >= bumped(old.max_priority_fee_per_gas))
