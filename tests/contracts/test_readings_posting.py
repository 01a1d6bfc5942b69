"""Readings: postings by the bound gateway, the rules on values, conflicts, backfill and the billing interface."""

from datetime import datetime, timedelta, timezone

import eth_abi
import pytest

from contracts_py import participants, readings, registry
from contracts_py.catalog import CONTRACTS
from contracts_py.runtime import BlockInfo, Context, GasMeter
from test_registry_contract import CONSUMER, GATEWAY, GRID, MSK, OTHER_GATEWAY, REPLACE, STRANGER, T0, Market

POST = "postReading(uint64,uint64,uint256,uint256)"
POST_MANY = "postReadings(uint64,uint64[],uint256[],uint256[])"
POST_METERS = "postMeterReadings(uint64[],uint64[],uint256[],uint256[])"
MANUAL = "postManualReading(uint64,uint256,uint256)"
EVENT = "postMeterEvent(uint64,uint8,uint64)"
MONTH_VIEW = ("meterMonth(uint64,uint64)", ["uint256", "uint256", "uint64", "uint64", "uint64", "uint64",
                                             "uint256[]", "uint256[]", "uint256[]", "uint256[]"])
STATE_VIEW = ("meterState(uint64)", ["address", "bool", "bool", "uint64", "uint64", "uint64", "uint64", "uint256",
                                     "uint256", "uint64", "uint64", "uint64"])
HH = 1800


@pytest.fixture
def market():
    m = Market(now=T0 + HH)  # registered in the first half hour of March (Moscow): baseline interval = T0
    m.with_account()
    m.with_meter(501)
    m.now = T0 + 40 * 86_400
    return m


def month(market, meter_id=501, yyyymm=202603):
    return market.view(readings.ADDRESS, MONTH_VIEW[0], MONTH_VIEW[1], meter_id, yyyymm)


def state(market, meter_id=501):
    return market.view(readings.ADDRESS, STATE_VIEW[0], STATE_VIEW[1], meter_id)


def logs_of(result, event_cls):
    spec = event_cls.__event_spec__
    data_types = [t for t, i in zip(spec.field_types, spec.indexed) if not i]
    return [eth_abi.decode(data_types, log.data) for log in result.logs if log.topics[0] == spec.topic]


def post(market, start, import_wh, export_wh=0, meter_id=501, sender=GATEWAY):
    return market.call(readings.ADDRESS, sender, POST, meter_id, start, import_wh, export_wh)


def test_local_month_arithmetic_matches_the_calendar():
    assert datetime.fromtimestamp(T0, timezone(timedelta(hours=3))) == datetime(2026, 3, 1, tzinfo=timezone(
        timedelta(hours=3)))
    assert readings.month_of(T0, MSK) == 202603 and readings.month_of(T0 - 1, MSK) == 202602
    assert readings.month_bounds(202603, MSK) == (T0, T0 + 31 * 86_400)
    assert readings.month_bounds(202412, 0)[1] == int(datetime(2025, 1, 1, tzinfo=timezone.utc).timestamp())
    for days in range(-800, 40_000, 97):
        assert readings.days_from_civil(*readings.civil_from_days(days)) == days


def test_in_order_readings_fill_month_totals_and_half_hour_buckets(market):
    assert state(market)[6] == T0
    first = post(market, T0 + HH, 1_000_500)
    assert first.success and eth_abi.decode(["uint8"], first.return_data) == (0,)
    assert logs_of(first, readings.ReadingRecorded) == [(1_000_500, 0, 500, 0, False)]
    assert post(market, T0 + 2 * HH, 1_001_200).success
    imp, exp, expected, recorded, start, end, half_hours, _, hourly, _ = month(market)
    assert (imp, exp, expected, recorded, start, end) == (1_200, 0, 31 * 48, 2, T0, T0 + 31 * 86_400)
    assert half_hours[1] == 500 and half_hours[2] == 700 and sum(half_hours) == 1_200 and hourly == ()


def test_gateway_not_bound_to_the_meter_is_refused(market):
    result = post(market, T0 + HH, 1_000_500, sender=OTHER_GATEWAY)
    assert not result.success and "not the gateway bound to meter 501" in result.revert_reason
    assert month(market)[3] == 0


def test_unknown_meter_is_refused(market):
    result = post(market, T0 + HH, 10, meter_id=999)
    assert not result.success and result.revert_reason == "unknown meter 999"


@pytest.mark.parametrize("start, import_wh, export_wh, reason", [
    (T0 + HH, 999_999, 0, "registers decrease"),
    (T0 + HH, 1_000_000 + 7_501, 0, "implausible"),  # 15 kW over 30 min = 7,500 Wh at most
    (T0 + HH, 1_000_000, 7_501, "implausible"),
    (T0 + HH + 60, 1_000_100, 0, "not aligned to 30 minutes"),
    (T0 + 40 * 86_400, 1_000_100, 0, "in the future"),
])
def test_single_posting_breaking_a_rule_reverts_with_its_reason(market, start, import_wh, export_wh, reason):
    result = post(market, start, import_wh, export_wh)
    assert not result.success and reason in result.revert_reason
    assert state(market)[6:9] == (T0, 1_000_000, 0)


def test_interval_ending_within_the_clock_allowance_is_accepted(market):
    market.now = T0 + 2 * HH - readings.FUTURE_ALLOWANCE_S  # interval T0+HH ends exactly at now + allowance
    assert post(market, T0 + HH, 1_000_100).success


def test_same_value_again_is_a_no_op_and_a_different_one_a_conflict(market):
    assert post(market, T0 + HH, 1_000_500).success
    before = dict(market.state.data)
    again = post(market, T0 + HH, 1_000_500)
    assert eth_abi.decode(["uint8"], again.return_data) == (1,) and again.logs == ()
    assert market.state.data == before
    conflict = post(market, T0 + HH, 1_000_600)
    assert conflict.success and eth_abi.decode(["uint8"], conflict.return_data) == (2,)
    assert logs_of(conflict, readings.ReadingConflict) == [(1_000_600, 0, 1_000_500, 0)]
    assert state(market)[9] == 1 and month(market)[0] == 500


def test_batch_keeps_good_readings_and_reports_each_rejected_one(market):
    starts = [T0 + HH, T0 + 2 * HH, T0 + 2 * HH, T0 + 3 * HH, T0 + 4 * HH, T0 + 5 * HH + 7]
    imports = [1_000_100, 1_000_200, 1_000_250, 1_000_150, 1_000_400, 1_000_500]
    result = market.ok(readings.ADDRESS, GATEWAY, POST_MANY, 501, starts, imports, [0] * 6)
    assert eth_abi.decode(["uint64"] * 4, result.return_data) == (3, 0, 1, 2)
    rejected = logs_of(result, readings.ReadingRejectedEvent)
    assert [code for code, _ in rejected] == [readings.Rejection.DECREASING, readings.Rejection.MISALIGNED]
    assert month(market)[0] == 400 and month(market)[3] == 3 and state(market)[9] == 1


def test_batch_with_mismatched_arrays_or_foreign_meter_reverts_whole(market):
    market.with_meter(502, gateway=OTHER_GATEWAY)
    bad = market.call(readings.ADDRESS, GATEWAY, POST_MANY, 501, [T0 + HH], [1, 2], [0])
    assert not bad.success and "differ in length" in bad.revert_reason
    mixed = market.call(readings.ADDRESS, GATEWAY, POST_METERS, [501, 502], [T0 + HH, T0 + HH],
                        [1_000_100, 1_000_100], [0, 0])
    assert not mixed.success and "not the gateway bound to meter 502" in mixed.revert_reason
    assert month(market)[3] == 0


def test_gateway_batch_for_many_meters_groups_by_meter(market):
    market.now = T0 + HH
    market.with_meter(502, import_wh=5_000)
    market.now = T0 + 40 * 86_400
    result = market.ok(readings.ADDRESS, GATEWAY, POST_METERS, [501, 502, 501, 502],
                       [T0 + HH, T0 + HH, T0 + 2 * HH, T0 + 2 * HH], [1_000_100, 5_010, 1_000_300, 5_030], [0] * 4)
    assert eth_abi.decode(["uint64"] * 4, result.return_data) == (4, 0, 0, 0)
    assert month(market, 501)[0] == 300 and month(market, 502)[0] == 30


def test_backfill_inside_a_gap_moves_its_share_to_the_late_interval(market):
    assert post(market, T0 + HH, 1_000_100).success
    assert post(market, T0 + 4 * HH, 1_000_700).success  # skips intervals 2 and 3: all 600 Wh go to interval 4
    assert month(market)[6][4] == 600 and state(market)[11] == 1
    assert post(market, T0 + 3 * HH, 1_000_450).success  # late, fits between 1,000,100 and 1,000,700
    imp, _, _, recorded, _, _, half_hours, *_ = month(market)
    assert imp == 700 and recorded == 3 and half_hours[3:5] == (350, 250)
    assert state(market)[11] == 1  # gap (1, 3) remains
    out_of_range = post(market, T0 + 2 * HH, 1_000_500)
    assert not out_of_range.success and "does not fit between the known registers" in out_of_range.revert_reason
    assert post(market, T0 + 2 * HH, 1_000_200).success and state(market)[11] == 0
    assert month(market)[6][1:5] == (100, 100, 250, 250)
    seen = post(market, T0 + 2 * HH, 1_000_200)
    assert not seen.success and "recorded before" in seen.revert_reason
    assert eth_abi.decode(["uint8"], post(market, T0 + 4 * HH, 1_000_700).return_data) == (1,)


def test_backfill_checks_plausibility_on_both_sides(market):
    assert post(market, T0 + 3 * HH, 1_010_000).success  # 10,000 Wh over 1.5 h is within 15 kW
    result = post(market, T0 + HH, 1_009_000)  # 9,000 Wh in the first half hour is not
    assert not result.success and "implausible" in result.revert_reason


def test_reading_before_the_baseline_is_refused(market):
    result = post(market, T0 - HH, 999_000)
    assert not result.success and "before the meter's baseline" in result.revert_reason


def test_new_month_archives_the_closed_one_and_late_readings_reach_it(market):
    last_march = T0 + 31 * 86_400 - HH
    assert post(market, last_march - HH, 1_100_000).success
    result = post(market, last_march + 2 * HH, 1_100_900)  # skips the month's last interval
    assert logs_of(result, readings.MonthArchived) == [(100_000, 0, 1)]
    assert month(market, yyyymm=202604)[0] == 900
    assert post(market, last_march, 1_100_300).success  # backfill into the archived month
    march, april = month(market, yyyymm=202603), month(market, yyyymm=202604)
    assert (march[0], march[3], april[0], april[3]) == (100_300, 2, 600, 1)
    assert month(market, yyyymm=202605)[:4] == (0, 0, 31 * 48, 0)


def test_hourly_meter_keeps_a_bucket_per_local_hour_of_the_month():
    market = Market(now=T0 + HH)
    market.with_account()
    market.with_meter(503, hourly=True)
    market.now = T0 + 10 * 86_400
    market.ok(readings.ADDRESS, GATEWAY, POST_MANY, 503, [T0 + HH, T0 + 2 * HH, T0 + 3 * HH],
              [1_000_100, 1_000_300, 1_000_600], [0, 0, 0])
    hourly = month(market, 503)[8]
    assert len(hourly) == 31 * 24 and hourly[:2] == (100, 500) and sum(hourly) == 600


def test_zone_consumption_sums_half_hours_by_schedule(market):
    night = [1] * 14 + [0] * 32 + [1] * 2  # day 07-23, night 23-07
    market.ok(readings.ADDRESS, GATEWAY, POST_MANY, 501, [T0 + HH, T0 + 15 * HH], [1_000_100, 1_002_100], [0, 0])
    zones = market.view(readings.ADDRESS, "zoneConsumption(uint64,uint64,uint64[])", ["uint256[]", "uint256[]"],
                        501, 202603, night)
    assert zones == ((2_000, 100), (0, 0))
    wrong = market.call(readings.ADDRESS, STRANGER, "zoneConsumption(uint64,uint64,uint64[])", 501, 202603, [0])
    assert not wrong.success and "48 half hours" in wrong.revert_reason


def test_billing_interface_returns_month_consumption_to_other_contracts(market):
    assert post(market, T0 + HH, 1_000_250, 0).success
    block = BlockInfo(number=2, timestamp=market.now, proposer=bytes(20), chain_id=7)
    ctx = Context(CONTRACTS, market.state, block, registry.ADDRESS, STRANGER, STRANGER, b"", GasMeter(10**7))
    usage = ctx.call(readings.ADDRESS, "monthConsumption", 501, 202603)
    assert (usage.import_wh, usage.intervals_recorded, usage.intervals_missing, usage.complete) == (
        250, 1, 31 * 48 - 1, False)
    assert (usage.period_start, usage.period_end, usage.utc_offset_s) == (T0, T0 + 31 * 86_400, MSK)


def test_manual_reading_by_the_account_consumer_only(market):
    market.now = T0 + HH
    market.with_meter(504, remote=False, point=20_504)
    market.now = T0 + 30 * 86_400 + 600
    stranger = market.call(readings.ADDRESS, STRANGER, MANUAL, 504, 1_200_000, 0)
    assert not stranger.success and "not the consumer" in stranger.revert_reason
    result = market.ok(readings.ADDRESS, CONSUMER, MANUAL, 504, 1_200_000, 0)
    assert logs_of(result, readings.ReadingRecorded) == [(1_200_000, 0, 200_000, 0, True)]
    remote = market.call(readings.ADDRESS, CONSUMER, MANUAL, 501, 1_200_000, 0)
    assert not remote.success and "read remotely" in remote.revert_reason
    gateway = post(market, T0 + HH, 1_000_001, meter_id=504)
    assert not gateway.success and "not the gateway bound" in gateway.revert_reason


def test_meter_events_raise_and_clear_alarms(market):
    opened = market.ok(readings.ADDRESS, GATEWAY, EVENT, 501, readings.MeterEventKind.COVER_OPEN, T0 + 100)
    market.ok(readings.ADDRESS, GATEWAY, EVENT, 501, readings.MeterEventKind.FIRMWARE_INTEGRITY_FAILURE, T0 + 200)
    assert logs_of(opened, readings.MeterEventReported) == [(T0 + 100, 1)]
    assert state(market)[10] == 0b101
    market.ok(readings.ADDRESS, GATEWAY, EVENT, 501, readings.MeterEventKind.COVER_CLOSED, T0 + 300)
    assert state(market)[10] == 0b100
    unknown = market.call(readings.ADDRESS, GATEWAY, EVENT, 501, 99, T0)
    assert not unknown.success and "unknown meter event kind 99" in unknown.revert_reason
    foreign = market.call(readings.ADDRESS, OTHER_GATEWAY, EVENT, 501, 1, T0)
    assert not foreign.success and "not the gateway bound" in foreign.revert_reason


def test_replacement_records_final_registers_and_resets_the_baseline(market):
    assert post(market, T0 + HH, 1_000_100).success
    replaced = market.ok(registry.ADDRESS, GRID, REPLACE, 501, "Mercury 234", "NEW1", T0 + 3 * HH, 1_000_400, 0,
                         5, 0)
    assert logs_of(replaced, readings.MeterBaselineReset) == [(5, 0)]
    assert state(market)[5:9] == (T0 + 3 * HH, T0 + 3 * HH, 5, 0)
    assert post(market, T0 + 4 * HH, 205).success
    assert month(market)[0] == 100 + 300 + 200
    early = market.call(registry.ADDRESS, GRID, REPLACE, 501, "M", "S", T0 + HH, 1, 0, 0, 0)
    assert not early.success and "must not precede the last reading" in early.revert_reason
    denied = market.call(registry.ADDRESS, STRANGER, REPLACE, 501, "M", "S", T0 + 9 * HH, 300, 0, 0, 0)
    assert not denied.success and "grid_company" in denied.revert_reason


def test_readings_configuration_is_written_only_by_the_registry(market):
    block = BlockInfo(number=2, timestamp=market.now, proposer=bytes(20), chain_id=7)
    ctx = Context(CONTRACTS, market.state, block, STRANGER, STRANGER, STRANGER, b"", GasMeter(10**7))
    with pytest.raises(Exception, match="only the registry configures meters"):
        ctx.call(readings.ADDRESS, "bindGateway", 501, STRANGER)


def test_meter_record_packing_round_trips_with_gaps_and_hourly_buckets():
    month = readings.empty_month(202602, MSK, hourly=True)
    month = readings._attribute(month, month.start + 5 * HH, MSK, 300, 7, 1)
    gaps = tuple(readings.Gap(i, i + 5 * HH, 1, 2, 3, 4) for i in range(3))
    meter = readings.MeterState(GATEWAY, True, True, 15_000, MSK, 10, 20, 2**63, 5, 1, 0b11, gaps, month)
    assert readings.decode_meter_state(readings.encode_meter_state(meter)) == meter
    assert readings.decode_month(readings.encode_month(month)) == month
    assert len(month.hourly_import) == 28 * 24 * readings.BUCKET_BYTES


def test_register_values_beyond_eight_bytes_are_rejected(market):
    result = post(market, T0 + HH, 2**64)
    assert not result.success and "register value above" in result.revert_reason


def test_revoked_gateway_can_no_longer_post(market):
    from test_registry_contract import GRID as grid
    market.ok(participants.ADDRESS, grid, "revokeRole(address,string)", GATEWAY, "gateway")
    result = post(market, T0 + HH, 1_000_100)
    assert not result.success and "no longer holds the gateway role" in result.revert_reason
