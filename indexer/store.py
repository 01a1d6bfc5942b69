"""The read model's SQLite file: schema, WAL, the checkpoint, and read connections for the API threads."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

log = logging.getLogger("energy.indexer")

HANDLERS_REVISION = 2
"""Bump when an event handler changes what it writes into tables that already exist (a change of schema.sql
changes the schema version by itself)."""
INDEX_FILE = "index.sqlite"
WAL_CHECKPOINT_PAGES = 10_000
"""The WAL grows to about 40 MB (4 KiB pages) between checkpoints."""
CACHE_KIB = 32 * 1024
"""The writer's page cache (SQLite's default is 2 MiB)."""


class ReadModelError(RuntimeError):
    """The read model cannot be used as it is (it belongs to another chain): drop it and reindex."""


@dataclass(frozen=True)
class Checkpoint:
    number: int
    """The last block indexed, -1 before genesis."""
    block_hash: str


def schema_sql() -> str:
    return resources.files("indexer").joinpath("schema.sql").read_text()


def schema_version(sql: str, handlers_revision: int = HANDLERS_REVISION) -> str:
    """The handlers' revision and a digest of the schema: a table added to schema.sql (whose earlier events an
    existing read model never indexed) is a new version without anyone remembering to bump a number."""
    return f"{handlers_revision}.{hashlib.sha256(sql.encode()).hexdigest()[:12]}"


SCHEMA_VERSION = schema_version(schema_sql())


def open_writer(path: Path) -> sqlite3.Connection:
    """The indexer's own connection: WAL so that readers never wait for it, NORMAL sync (rebuildable data).
    A read model of another schema version is emptied in place and rebuilt from genesis by the indexer: it is
    derived data, and the file stays the same one that readers (the API, a portal process) have open.

    Following the head commits about once a block, and each commit writes every page it touched to the WAL: the
    random-key indexes (transaction hashes, token recipients) touch a page per row. A checkpoint every
    `WAL_CHECKPOINT_PAGES` instead of SQLite's 1000 copies a page written by several blocks to the file once, and
    a larger page cache keeps those indexes' pages in memory (about a tenth less CPU per transfer when following the
    head block by block)."""
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
    db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    db.execute("PRAGMA foreign_keys=OFF")
    found = stored_version(db)
    if found is not None and found != SCHEMA_VERSION:
        log.warning("%s has read-model schema %s, this node writes %s: rebuilding it from the chain",
                    path, found, SCHEMA_VERSION)
        _empty(db)
    db.executescript(schema_sql())
    db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
    return db


def stored_version(db: sqlite3.Connection) -> str | None:
    """The schema version a read model was written with; None for a new file, "" for one without a version."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        return None
    row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() if "meta" in tables else None
    return row[0] if row else ""


def _empty(db: sqlite3.Connection) -> None:
    """Drop every table (their indexes go with them) in one transaction, the checkpoint included."""
    db.execute("BEGIN")
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")\
            .fetchall():
        db.execute(f'DROP TABLE "{name}"')
    db.execute("COMMIT")


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
