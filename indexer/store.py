"""The read model's SQLite file: schema, WAL, the checkpoint, and read connections for the API threads."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

SCHEMA_VERSION = "1"
INDEX_FILE = "index.sqlite"


class ReadModelError(RuntimeError):
    """The read model cannot be used as it is (another chain, another schema): drop it and reindex."""


@dataclass(frozen=True)
class Checkpoint:
    number: int
    """The last block indexed, -1 before genesis."""
    block_hash: str


def schema_sql() -> str:
    return resources.files("indexer").joinpath("schema.sql").read_text()


def open_writer(path: Path) -> sqlite3.Connection:
    """The indexer's own connection: WAL so that readers never wait for it, NORMAL sync (rebuildable data)."""
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=OFF")
    db.executescript(schema_sql())
    row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    if row is None:
        db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
    elif row[0] != SCHEMA_VERSION:
        raise ReadModelError(f"{path} has schema {row[0]}, this node writes {SCHEMA_VERSION}: run `energy-node reindex`")
    return db


def read_checkpoint(db: sqlite3.Connection) -> Checkpoint:
    rows = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('last_block', 'last_hash')").fetchall())
    if "last_block" not in rows:
        return Checkpoint(-1, "")
    return Checkpoint(int(rows["last_block"]), rows["last_hash"])


def write_checkpoint(db: sqlite3.Connection, checkpoint: Checkpoint) -> None:
    db.execute("INSERT OR REPLACE INTO meta VALUES ('last_block', ?)", (str(checkpoint.number),))
    db.execute("INSERT OR REPLACE INTO meta VALUES ('last_hash', ?)", (checkpoint.block_hash,))


def drop(path: Path) -> None:
    """Delete the read model (and its WAL files); the next start rebuilds it from the chain."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


class Readers:
    """One read-only connection per thread (API handlers run queries in worker threads)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()

    def connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            db.row_factory = sqlite3.Row
            self._local.db = db
        return db

    def query(self, sql: str, params: tuple | list = ()) -> list[dict]:
        return [dict(row) for row in self.connection().execute(sql, params).fetchall()]

    def one(self, sql: str, params: tuple | list = ()) -> dict | None:
        row = self.connection().execute(sql, params).fetchone()
        return dict(row) if row is not None else None
