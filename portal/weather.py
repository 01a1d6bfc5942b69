"""The outdoor air temperature series shown beside consumption: imported from CSV into the participant's
off-chain database (`energy-node portal import-weather`), never on chain."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3

SCHEMA = "CREATE TABLE IF NOT EXISTS weather (at INTEGER PRIMARY KEY, tenths_c INTEGER NOT NULL)"
MOSCOW = dt.timezone(dt.timedelta(hours=3))
ROW = re.compile(r"\s*(\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2})?)\s*[,;]\s*(-?\d{1,2}(?:[.,]\d)?)\s*")


class WeatherError(ValueError):
    """A CSV row that is not `date[ time],temperature`."""


def parse_csv(text: str) -> list[tuple[int, int]]:
    """Rows `2026-10-01,5.3` or `2026-10-01T13:30,5.3` (Moscow time, °C) as (unix seconds, tenths of °C).

    A header line is allowed; any other row that does not parse raises WeatherError with its line number."""
    points = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or (number == 1 and not line.strip()[0].isdigit()):
            continue
        match = ROW.fullmatch(line)
        if match is None:
            raise WeatherError(f"line {number}: expected date[Thh:mm],temperature, got {line[:60]!r}")
        try:
            moment = dt.datetime.fromisoformat(match.group(1).replace(" ", "T")).replace(tzinfo=MOSCOW)
        except ValueError:
            raise WeatherError(f"line {number}: {match.group(1)!r} is not a date") from None
        points.append((int(moment.timestamp()), round(float(match.group(2).replace(",", ".")) * 10)))
    return points


def save(db: sqlite3.Connection, points: list[tuple[int, int]]) -> None:
    with db:
        db.execute(SCHEMA)
        db.executemany("INSERT OR REPLACE INTO weather VALUES (?, ?)", points)


def averages(db: sqlite3.Connection, start: int, end: int, bucket_s: int, offset_s: int = 3 * 3600) -> dict[int, float]:
    """Mean temperature (°C) per bucket start, buckets of `bucket_s` aligned to local midnight."""
    db.execute(SCHEMA)
    rows = db.execute("SELECT ((at + ?) / ?) * ? - ? AS bucket, avg(tenths_c) FROM weather WHERE at >= ? AND at < ? "
                      "GROUP BY bucket", (offset_s, bucket_s, bucket_s, offset_s, start, end)).fetchall()
    return {bucket: value / 10 for bucket, value in rows}
