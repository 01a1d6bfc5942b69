"""The devnet demo's peak hours (`genesis.demo.peak_hours_csv`): one per working day of each month, the hour of the
demo's hourly prices, in the file format the portal imports."""

from genesis.demo import peak_hours_csv, working_days
from genesis.demo_market import HOURLY_RATES
from portal import capacity


def test_the_demo_names_a_peak_hour_on_every_working_day_and_the_portal_reads_it():
    rows = capacity.parse_csv(peak_hours_csv([202610, 202611]))
    november = [day % 100 for day, _ in rows if day // 100 == 202611]
    assert november[:3] == [2, 3, 5]  # Sunday the 1st off, National Unity Day on Wednesday the 4th
    assert len(november) == 20 and len(rows) == 22 + 20
    assert {hour for _, hour in rows} == {HOURLY_RATES[5].peak_hour}
    assert working_days(202611)[:3] == [1, 2, 4]  # the same days, counted from 0 as the hourly prices count them
