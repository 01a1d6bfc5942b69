"""The imported temperature series: CSV rows parsed in Moscow time, bad rows named by line, daily averages."""

import datetime as dt
import sqlite3

import pytest

from portal import weather


def test_rows_are_read_in_moscow_time_and_averaged_per_local_day():
    points = weather.parse_csv("date,temperature\n2026-10-01T00:00,-2.5\n2026-10-01 12:00;4,5\n2026-10-02,7\n")
    moscow = dt.timezone(dt.timedelta(hours=3))
    assert points[0] == (int(dt.datetime(2026, 10, 1, tzinfo=moscow).timestamp()), -25)
    assert points[1] == (int(dt.datetime(2026, 10, 1, 12, tzinfo=moscow).timestamp()), 45)
    db = sqlite3.connect(":memory:")
    weather.save(db, points)
    day = points[0][0]
    assert weather.averages(db, day, day + 2 * 86400, 86400) == {day: 1.0, day + 86400: 7.0}


@pytest.mark.parametrize("text, line", [("2026-10-01,warm\n", 1), ("date,t\n2026-10-01,1\n2026-13-01,2\n", 3),
                                        ("2026-10-01,1\n'; DROP TABLE weather;--,1\n", 2)])
def test_a_bad_row_is_refused_with_its_line_number(text, line):
    with pytest.raises(weather.WeatherError, match=f"line {line}"):
        weather.parse_csv(text)
