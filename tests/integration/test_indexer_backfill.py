"""A late reading inside a gap takes its increase from the interval that closed the gap, as the contract does,
and the daily sums follow."""

import sqlite3

from indexer.apply import LogContext, MeterCache, apply_event
from indexer.decode import DecodedEvent
from indexer.store import schema_sql

START = 1_767_214_800  # 2026-01-01 00:00 Moscow


def reading(db, cache, start, register, delta):
    apply_event(db, LogContext(1, START, "0x00", start, lambda *a: None, cache), DecodedEvent(
        "Readings", "ReadingRecorded", {"meter_id": 7, "interval_start": start, "import_wh": register, "export_wh": 0,
                                        "delta_import_wh": delta, "delta_export_wh": 0, "manual": False}))


def test_backfill_moves_the_increase_and_keeps_daily_sums():
    db = sqlite3.connect(":memory:")
    db.executescript(schema_sql())
    db.execute("INSERT INTO meters (meter_id, point_id, account_number, model, serial, installation_address, "
               "utc_offset_s, registered_block) VALUES (7, 7, 7, 'M', 'S', 'A', 10800, 1)")
    cache = MeterCache()
    reading(db, cache, START, 1_100, 100)
    reading(db, cache, START + 3 * 1800, 1_700, 600)  # a gap of two intervals: the whole increase lands here
    reading(db, cache, START + 1800, 1_250, 150)  # backfill
    rows = db.execute("SELECT interval_start - ?, delta_import_wh FROM readings ORDER BY 1", (START,)).fetchall()
    assert rows == [(0, 100), (1800, 150), (5400, 450)]
    assert db.execute("SELECT day, import_wh, intervals FROM readings_daily").fetchall() == [(20260101, 700, 3)]
