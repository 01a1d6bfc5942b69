"""`energy-node portal import-peak-hours`: the system operator's table into the portal's database, all or nothing."""

import sqlite3

from click.testing import CliRunner

from node.cli import cli
from portal import capacity
from portal.serve import USERS_FILE


def import_peak_hours(datadir, text: str | bytes):
    path = datadir / "peak-hours.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return CliRunner().invoke(cli, ["portal", "import-peak-hours", "--datadir", str(datadir), str(path)])


def peak_hours(datadir, period: int) -> list[tuple[int, int]]:
    with sqlite3.connect(datadir / USERS_FILE) as db:
        return capacity.month_peak_hours(db, period)


def test_peak_hours_are_imported_and_replace_a_days_earlier_hour(tmp_path):
    result = import_peak_hours(tmp_path, "date,hour\n2026-10-01,18\n2026-10-02;10\n\n2026-10-05, 9\n")
    assert result.exit_code == 0 and "imported 3 peak hours" in result.output
    result = import_peak_hours(tmp_path, "2026-10-02,11\n")
    assert result.exit_code == 0
    assert peak_hours(tmp_path, 202610) == [(1, 18), (2, 11), (5, 9)]


def test_a_bad_line_is_named_and_nothing_of_the_file_is_imported(tmp_path):
    assert import_peak_hours(tmp_path, "2026-10-01,18\n").exit_code == 0
    for text, problem in (("date,hour\n2026-10-01,10\n2026-10-02,ten\n", "line 3: expected date,hour"),
                          ("2026-10-01,10\n2026-10-32,10\n", "line 2: '2026-10-32' is not a date"),
                          ("2026-10-01,10\n2026-10-02,24\n", "line 2: hour 24 is not 0 to 23"),
                          ("date,hour\n", "no peak hours in the file"),
                          (b"2026-10-01,10\n\xff\n", "can't decode byte 0xff")):
        result = import_peak_hours(tmp_path, text)
        assert result.exit_code == 1 and problem in result.output, result.output
    assert peak_hours(tmp_path, 202610) == [(1, 18)]
