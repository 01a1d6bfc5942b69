"""The API's own SQLite file (`<datadir>/api.sqlite`): API tokens, webhook subscriptions and their deliveries.

Kept apart from the read model because it is not derived from the chain: reindexing must never lose it."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from contracts_py.participants import ROLE_BY_NAME

API_DB_FILE = "api.sqlite"
TOKEN_PREFIX = "elt_"

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_tokens (
    token_hash TEXT PRIMARY KEY, address TEXT NOT NULL, role TEXT NOT NULL, label TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, role TEXT NOT NULL, url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events TEXT NOT NULL, created_at INTEGER NOT NULL, active INTEGER NOT NULL DEFAULT 1);
-- one row per (subscription, event); attempts and next_attempt_at drive the retries, in id order per subscription
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT, webhook_id INTEGER NOT NULL, event_type TEXT NOT NULL,
    event_key TEXT NOT NULL, payload TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL, last_status_code INTEGER, last_error TEXT, created_at INTEGER NOT NULL,
    delivered_at INTEGER, UNIQUE (webhook_id, event_key));
CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries (status, webhook_id, id);
CREATE TABLE IF NOT EXISTS webhook_cursor (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class TokenError(ValueError):
    """A token that cannot be created as asked (unknown role, bad address)."""


@dataclass(frozen=True)
class TokenHolder:
    address: str
    role: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiDb:
    """One connection, serialized by a lock; every call is short."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)
        self.lock = threading.Lock()

    @classmethod
    def for_datadir(cls, datadir: Path) -> ApiDb:
        return cls(Path(datadir) / API_DB_FILE)

    def close(self) -> None:
        self.db.close()

    def execute(self, sql: str, params: tuple | list = ()) -> sqlite3.Cursor:
        with self.lock:
            return self.db.execute(sql, params)

    def query(self, sql: str, params: tuple | list = ()) -> list[dict]:
        with self.lock:
            return [dict(row) for row in self.db.execute(sql, params).fetchall()]

    # --- tokens --------------------------------------------------------------------------------------------
    def create_token(self, address: str, role: str, label: str = "") -> str:
        """A new random token for `address` acting as `role`; only its SHA-256 is stored."""
        role = role.strip().lower()
        if role not in ROLE_BY_NAME:
            raise TokenError(f"unknown role {role!r}; roles: {', '.join(ROLE_BY_NAME)}")
        if not (address.startswith("0x") and len(address) == 42 and all(c in "0123456789abcdefABCDEF"
                                                                        for c in address[2:])):
            raise TokenError(f"bad address {address!r}: expected 0x and 40 hex digits")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.execute("INSERT INTO api_tokens VALUES (?,?,?,?,?,0)",
                     (hash_token(token), address.lower(), role, label, int(time.time())))
        return token

    def token_holder(self, token: str) -> TokenHolder | None:
        rows = self.query("SELECT address, role FROM api_tokens WHERE token_hash=? AND revoked=0", (hash_token(token),))
        return TokenHolder(rows[0]["address"], rows[0]["role"]) if rows else None

    def revoke_token(self, token: str) -> bool:
        return self.execute("UPDATE api_tokens SET revoked=1 WHERE token_hash=?", (hash_token(token),)).rowcount == 1
