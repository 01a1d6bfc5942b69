"""Readings: postings by the bound gateway, the rules on values, and the billing interface."""

import eth_abi
import pytest

from contracts_py import readings
from test_registry_contract import GATEWAY, MSK, T0, Market

POST = "postReading(uint64,uint64,uint256,uint256)"
POST_MANY = "postReadings(uint64,uint64[],uint256[],uint256[])"
MONTH_VIEW = ("meterMonth(uint64,uint64)", ["uint256", "uint256", "uint64", "uint64", "uint64", "uint64",
                                             "uint256[]", "uint256[]", "uint256[]", "uint256[]"])


@pytest.fixture
def market():
    m = Market()
    m.with_account()
    m.with_meter(501)
    return m


def month(market, meter_id=501, yyyymm=202603):
    return market.view(readings.ADDRESS, MONTH_VIEW[0], MONTH_VIEW[1], meter_id, yyyymm)


def test_in_order_readings_fill_the_month_totals_and_half_hour_buckets(market):
    # registered at T0 + 40 days; readings from its baseline on
    state = market.view(readings.ADDRESS, "meterState(uint64)", ["address", "bool", "bool", "uint64", "uint64",
                        "uint64", "uint64", "uint256", "uint256", "uint64", "uint64", "uint64"], 501)
    assert state[0] == "0x" + GATEWAY.hex()
    base = state[6]
    market.now = base + 86_400
    r1 = market.ok(readings.ADDRESS, GATEWAY, POST, 501, base + 1800, 1_000_500, 0)
    assert eth_abi.decode(["uint8"], r1.return_data) == (0,)
    market.ok(readings.ADDRESS, GATEWAY, POST, 501, base + 3600, 1_001_200, 0)
    yyyymm = readings.month_of(base + 1800, MSK)
    imp, exp, expected, recorded, start, end, half_hours, _, hourly, _ = month(market, 501, yyyymm)
    assert (imp, exp, recorded) == (1_200, 0, 2)
    assert expected == (end - start) // 1800
    assert sum(half_hours) == 1_200 and len(half_hours) == 48 and hourly == ()
