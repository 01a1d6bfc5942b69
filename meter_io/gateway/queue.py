"""The gateway's durable queue: readings, meter events and signed transactions in one SQLite file.

SQLite in WAL mode with `synchronous=FULL`: a committed write survives power loss. The order of writes is
what makes duplicates impossible:

1. a poll stores its readings and the meter's last interval in one commit;
2. signing assigns readings to a transaction with the next nonce and stores the raw signed bytes, in one
   commit, *before* anything is sent; a reading is assigned to at most one live transaction;
3. sending and resending always use those stored raw bytes, so after a crash or a restart the network only ever
   sees the same transaction again (same hash, same nonce), never a second one for the same readings;
4. only when the transaction is seen final are its readings deleted.

A transaction that the chain reverted gives its readings back (held for a while, then signed again in a
transaction of their own meter); readings are never dropped without a final block saying what became of them.
"""
from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS meters (
    meter_id INTEGER PRIMARY KEY,
    last_interval INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS readings (
    meter_id INTEGER NOT NULL,
    interval_start INTEGER NOT NULL,
    import_wh INTEGER NOT NULL,
    export_wh INTEGER NOT NULL,
    tx_nonce INTEGER,
    held_until REAL NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (meter_id, interval_start)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS readings_by_tx ON readings (tx_nonce);
CREATE TABLE IF NOT EXISTS meter_events (
    meter_id INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    at INTEGER NOT NULL,
    tx_nonce INTEGER,
    done INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (meter_id, kind, at)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS transactions (
    nonce INTEGER PRIMARY KEY,
    hash BLOB NOT NULL,
    raw BLOB,
    entries INTEGER NOT NULL,
    state TEXT NOT NULL,
    signed_at REAL NOT NULL,
    sent_at REAL NOT NULL DEFAULT 0,
    block_number INTEGER,
    status INTEGER
);
CREATE TABLE IF NOT EXISTS checked_blocks (
    number INTEGER PRIMARY KEY,
    hash BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS chain_state (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
"""

PENDING = "pending"
"""Signed and stored; sent or about to be sent; not seen in a block yet."""
MINED = "mined"
"""A node reports a receipt; not yet checked final by the gateway."""
FINAL = "final"
"""In a block the gateway checked itself (seals of the validator set, transactions root)."""


KEEP_CHECKED_BLOCKS = 100_000
"""Hashes of checked blocks kept to confirm receipts that arrive late (a few MB at most)."""


class QueueError(RuntimeError):
    """The queue file cannot be opened or is not a gateway queue."""


@dataclass(frozen=True)
class Reading:
    """Registers of one meter at the end of one half hour, as posted to the readings contract."""

    meter_id: int
    interval_start: int
    import_wh: int
    export_wh: int


@dataclass(frozen=True)
class QueuedEvent:
    meter_id: int
    kind: int
    """`contracts_py.readings.MeterEventKind` number."""
    at: int


@dataclass(frozen=True)
class StoredTransaction:
    nonce: int
    hash: bytes
    raw: bytes | None
    entries: int
    state: str
    sent_at: float
    block_number: int | None
    status: int | None


class DurableQueue:
    """The queue file, opened by one gateway process (the journal is only safe with a single writer)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise QueueError(f"cannot open queue {path}: {exc}") from exc

    def close(self) -> None:
        self.db.close()

    def _commit(self, statements) -> list[int]:
        """Run (sql, params) pairs as one atomic, durable commit; returns the rows each statement changed."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            return [self.db.execute(sql, params).rowcount for sql, params in statements]

    # --- readings and events -------------------------------------------------------------------------------

    def last_interval(self, meter_id: int) -> int | None:
        row = self.db.execute("SELECT last_interval FROM meters WHERE meter_id = ?", (meter_id,)).fetchone()
        return row[0] if row else None

    def store_poll(self, meter_id: int, readings: list[Reading], events: list[QueuedEvent]) -> int:
        """Store a poll's readings and events and move the meter's last interval, in one commit.

        Returns how many events were new (an event already stored, e.g. the same cover opening read again, is
        not stored twice)."""
        statements = []
        if readings:
            statements.append(("INSERT INTO meters VALUES (?, ?) ON CONFLICT(meter_id) DO UPDATE SET "
                               "last_interval = MAX(last_interval, excluded.last_interval)",
                               (meter_id, max(r.interval_start for r in readings))))
        statements += [("INSERT OR IGNORE INTO readings (meter_id, interval_start, import_wh, export_wh) "
                        "VALUES (?, ?, ?, ?)", (r.meter_id, r.interval_start, r.import_wh, r.export_wh))
                       for r in readings]
        statements += [("INSERT OR IGNORE INTO meter_events (meter_id, kind, at) VALUES (?, ?, ?)",
                        (e.meter_id, e.kind, e.at)) for e in events]
        changed = self._commit(statements)
        return sum(changed[len(changed) - len(events):]) if events else 0

    def unassigned_readings(self, limit: int, now: float) -> list[tuple[Reading, int]]:
        """Readings in no live transaction, each meter's oldest first, with how often they were tried."""
        rows = self.db.execute(
            "SELECT meter_id, interval_start, import_wh, export_wh, attempts FROM readings "
            "WHERE tx_nonce IS NULL AND held_until <= ? ORDER BY meter_id, interval_start LIMIT ?",
            (now, limit)).fetchall()
        return [(Reading(*row[:4]), row[4]) for row in rows]

    def unassigned_events(self) -> list[QueuedEvent]:
        rows = self.db.execute("SELECT meter_id, kind, at FROM meter_events WHERE tx_nonce IS NULL AND done = 0 "
                               "ORDER BY at, meter_id, kind").fetchall()
        return [QueuedEvent(*row) for row in rows]

    def counts(self) -> dict[str, int]:
        """Sizes of the queue for the log and `energy-gateway status`."""
        one = lambda sql: self.db.execute(sql).fetchone()[0]  # noqa: E731
        return {"readings_waiting": one("SELECT COUNT(*) FROM readings WHERE tx_nonce IS NULL"),
                "readings_in_transactions": one("SELECT COUNT(*) FROM readings WHERE tx_nonce IS NOT NULL"),
                "events_waiting": one("SELECT COUNT(*) FROM meter_events WHERE done = 0"),
                "transactions_open": one(f"SELECT COUNT(*) FROM transactions WHERE state IN "
                                         f"('{PENDING}', '{MINED}')"),
                "transactions_final": one(f"SELECT COUNT(*) FROM transactions WHERE state = '{FINAL}'")}

    # --- transactions --------------------------------------------------------------------------------------

    def next_nonce(self) -> int | None:
        """The nonce the next signed transaction takes; None until the chain's account nonce was learned."""
        value = self.get_state("next_nonce")
        return None if value is None else int(value)

    def set_next_nonce(self, nonce: int) -> None:
        self._commit([("INSERT OR REPLACE INTO chain_state VALUES ('next_nonce', ?)", (str(nonce).encode(),))])

    def store_signed(self, nonce: int, tx_hash: bytes, raw: bytes, readings: list[Reading],
                     event: QueuedEvent | None = None) -> None:
        """Keep a signed transaction and mark what it carries, before it is ever sent (one commit)."""
        if nonce != self.next_nonce():
            raise QueueError(f"nonce {nonce} is not the next one ({self.next_nonce()})")
        statements = [("INSERT INTO transactions (nonce, hash, raw, entries, state, signed_at) VALUES "
                       "(?, ?, ?, ?, ?, ?)", (nonce, tx_hash, raw, len(readings) or 1, PENDING, time.time())),
                      ("INSERT OR REPLACE INTO chain_state VALUES ('next_nonce', ?)", (str(nonce + 1).encode(),))]
        statements += [("UPDATE readings SET tx_nonce = ? WHERE meter_id = ? AND interval_start = ? "
                        "AND tx_nonce IS NULL", (nonce, r.meter_id, r.interval_start)) for r in readings]
        if event is not None:
            statements.append(("UPDATE meter_events SET tx_nonce = ? WHERE meter_id = ? AND kind = ? AND at = ?",
                               (nonce, event.meter_id, event.kind, event.at)))
        self._commit(statements)

    def open_transactions(self) -> list[StoredTransaction]:
        rows = self.db.execute(
            "SELECT nonce, hash, raw, entries, state, sent_at, block_number, status FROM transactions "
            f"WHERE state IN ('{PENDING}', '{MINED}') ORDER BY nonce").fetchall()
        return [StoredTransaction(*row) for row in rows]

    def mark_sent(self, nonce: int) -> None:
        self._commit([("UPDATE transactions SET sent_at = ? WHERE nonce = ?", (time.time(), nonce))])

    def mark_mined(self, nonce: int, block_number: int, status: int) -> None:
        self._commit([(f"UPDATE transactions SET state = '{MINED}', block_number = ?, status = ? WHERE nonce = ?",
                       (block_number, status, nonce))])

    def mark_unmined(self, nonce: int) -> None:
        """A receipt a node showed is not in the block the gateway checked: wait for the truth again."""
        self._commit([(f"UPDATE transactions SET state = '{PENDING}', block_number = NULL, status = NULL, "
                       "sent_at = 0 WHERE nonce = ?", (nonce,))])

    def finish(self, nonce: int, succeeded: bool, hold_s: float) -> None:
        """The transaction is final: drop what it delivered, or give its readings back if it reverted."""
        statements = [(f"UPDATE transactions SET state = '{FINAL}', raw = NULL WHERE nonce = ?", (nonce,))]
        if succeeded:
            statements += [("DELETE FROM readings WHERE tx_nonce = ?", (nonce,)),
                           ("UPDATE meter_events SET done = 1 WHERE tx_nonce = ?", (nonce,))]
        else:
            statements += self._release(nonce, hold_s)
        self._commit(statements)

    @staticmethod
    def _release(nonce: int, hold_s: float) -> list:
        until = time.time() + hold_s
        return [("UPDATE readings SET tx_nonce = NULL, held_until = ?, attempts = attempts + 1 WHERE tx_nonce = ?",
                 (until, nonce)),
                ("UPDATE meter_events SET tx_nonce = NULL, done = 1 WHERE tx_nonce = ?", (nonce,))]

    # --- finality checkpoint -------------------------------------------------------------------------------

    def checkpoint(self) -> tuple[int, bytes, bytes] | None:
        """(height, hash, encoded validator snapshot) of the newest header the gateway checked."""
        height, block_hash, snapshot = (self.get_state(k) for k in ("final_height", "final_hash", "final_snapshot"))
        return None if height is None else (int(height), block_hash, snapshot)

    def save_checkpoint(self, height: int, block_hash: bytes, snapshot: bytes,
                        checked: list[tuple[int, bytes]]) -> None:
        """Move the checkpoint and remember the checked hashes (the last `KEEP_CHECKED_BLOCKS` of them)."""
        statements = [("INSERT OR REPLACE INTO chain_state VALUES (?, ?)", (k, v)) for k, v in
                      (("final_height", str(height).encode()), ("final_hash", block_hash),
                       ("final_snapshot", snapshot))]
        statements += [("INSERT OR REPLACE INTO checked_blocks VALUES (?, ?)", row) for row in checked]
        statements.append(("DELETE FROM checked_blocks WHERE number < ?", (height - KEEP_CHECKED_BLOCKS,)))
        self._commit(statements)

    def checked_hash(self, number: int) -> bytes | None:
        row = self.db.execute("SELECT hash FROM checked_blocks WHERE number = ?", (number,)).fetchone()
        return None if row is None else bytes(row[0])

    def get_state(self, key: str) -> bytes | None:
        row = self.db.execute("SELECT value FROM chain_state WHERE key = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

