"""Tariff groups and options: validated on save, owned by their retailer, dated versions, hourly prices, VAT."""

from contracts_py import tariffs
from contracts_py.billing import zones
from contracts_py.billing.periods import MOSCOW_UTC_OFFSET, days_in_period
from test_billing_world import ADMIN, CONSUMER, GRID, INFRA, OTHER_RETAILER, RETAILER, World, world  # noqa: F401

ADD_ONS = ([3, 5, 6], [GRID, RETAILER, INFRA], [181_234, 52_345, 1_287])


def save_zoned(world, starts, ends, zone_ids, prices, kind=2, option_id=3, effective_from=20260101,
               sender=RETAILER):
    return world.call(sender, tariffs.ADDRESS, "saveOption", 1, option_id, kind, effective_from, MOSCOW_UTC_OFFSET,
                      RETAILER, starts, ends, zone_ids, prices, [], [], 0, 0, *ADD_ONS)


def test_overlapping_or_missing_zones_are_rejected_with_the_reason_and_nothing_saved(world):
    before = dict(world.state.data)
    overlap = save_zoned(world, [420, 1320], [1380, 420], [1, 2], [520_000, 310_000])
    assert not overlap.success
    assert overlap.revert_reason == "tariff option rejected: zones overlap at minutes 1320-1380"
    gap = save_zoned(world, [420, 1380], [1320, 420], [1, 2], [520_000, 310_000])
    assert not gap.success and "minutes 1320-1380 belong to no zone" in gap.revert_reason
    wrong_kind = save_zoned(world, [0], [1440], [0], [412_345])
    assert not wrong_kind.success and "needs exactly the zones day, night" in wrong_kind.revert_reason
    assert world.state.data == before


def test_three_zone_and_banded_options_are_accepted_and_read_back(world):
    three = zones.THREE_ZONES
    saved = save_zoned(world, [s.start_minute for s in three], [s.end_minute for s in three],
                       [s.zone for s in three], [615_000, 470_000, 280_000], kind=3)
    assert saved.success, saved.revert_reason
    banded = world.call(RETAILER, tariffs.ADDRESS, "saveOption", 1, 4, 4, 20260101, MOSCOW_UTC_OFFSET, RETAILER,
                        [], [], [], [], [3_900_000, 6_000_000], [560_000, 890_000, 1_230_000], 1, 0, *ADD_ONS)
    assert banded.success, banded.revert_reason
    retailer, _, option_ids = world.ok(CONSUMER, tariffs.ADDRESS, "group", 1).value
    assert retailer == RETAILER and option_ids == (1, 2, 3, 4)
    read = world.ok(CONSUMER, tariffs.ADDRESS, "option", 1, 3, 202604).value
    assert read[0] == 3 and read[6] == tuple(s.zone for s in three) and read[7] == (615_000, 470_000, 280_000)


def test_a_new_version_applies_from_its_date_and_the_kind_cannot_change(world):
    later = save_zoned(world, [420, 1380], [1380, 420], [1, 2], [600_000, 300_000], option_id=1,
                       effective_from=20260701)
    assert later.success
    assert world.ok(CONSUMER, tariffs.ADDRESS, "option", 1, 1, 202606).value[7] == (520_000, 310_000)
    assert world.ok(CONSUMER, tariffs.ADDRESS, "option", 1, 1, 202607).value[7] == (600_000, 300_000)
    before = world.call(CONSUMER, tariffs.ADDRESS, "option", 1, 1, 202512)
    assert not before.success and "no version is in force for period 202512" in before.revert_reason
    kind = save_zoned(world, [0], [1440], [0], [1], kind=1, option_id=1)
    assert not kind.success and "publish another kind as a new option" in kind.revert_reason


def test_only_the_owning_retailer_edits_or_deletes_a_group(world):
    other = world.call(OTHER_RETAILER, tariffs.ADDRESS, "saveGroup", 1, "Hijacked")
    assert not other.success and "belongs to another retailer" in other.revert_reason
    edit = save_zoned(world, [420, 1380], [1380, 420], [1, 2], [1, 1], sender=OTHER_RETAILER)
    assert not edit.success and "belongs to another retailer" in edit.revert_reason
    consumer = world.call(CONSUMER, tariffs.ADDRESS, "saveGroup", 9, "Mine")
    assert not consumer.success and "lacks the retailer role" in consumer.revert_reason
    world.ok(RETAILER, tariffs.ADDRESS, "removeOption", 1, 2)
    assert world.ok(CONSUMER, tariffs.ADDRESS, "group", 1).value[2] == (1,)
    world.ok(RETAILER, tariffs.ADDRESS, "deleteGroup", 1)
    gone = world.call(CONSUMER, tariffs.ADDRESS, "group", 1)
    assert not gone.success and gone.revert_reason == "unknown tariff group 1"


def test_hourly_prices_are_checked_against_the_month(world):
    saved = world.call(RETAILER, tariffs.ADDRESS, "saveOption", 1, 5, 5, 20260101, MOSCOW_UTC_OFFSET, RETAILER,
                       [], [], [], [], [], [], 0, 4, *ADD_ONS)
    assert saved.success, saved.revert_reason
    hours = days_in_period(202604) * 24
    short = world.call(RETAILER, tariffs.ADDRESS, "publishHourlyPrices", 1, 5, 202604, [400_000] * (hours - 1),
                       [10], 101_234_567, 8, 21, 98_765_432)
    assert not short.success and "has 720 hours, got 719 prices" in short.revert_reason
    ok = world.call(RETAILER, tariffs.ADDRESS, "publishHourlyPrices", 1, 5, 202604, [400_000] * hours,
                    [10, 34], 101_234_567, 8, 21, 98_765_432)
    assert ok.success, ok.revert_reason
    not_hourly = world.call(RETAILER, tariffs.ADDRESS, "publishHourlyPrices", 1, 1, 202604, [1] * hours, [10], 1,
                            8, 21, 1)
    assert not not_hourly.success and "is not hourly" in not_hourly.revert_reason


def test_vat_is_set_by_the_admin_as_dated_versions(world):
    assert world.ok(CONSUMER, tariffs.ADDRESS, "vatRate", 202512).value == 2000
    assert world.ok(CONSUMER, tariffs.ADDRESS, "vatRate", 202601).value == 2200
    denied = world.call(RETAILER, tariffs.ADDRESS, "setVatRate", 20270101, 2500)
    assert not denied.success and "lacks the admin role" in denied.revert_reason
    world.ok(ADMIN, tariffs.ADDRESS, "setVatRate", 20270101, 2500)
    assert world.ok(CONSUMER, tariffs.ADDRESS, "vatRate", 202701).value == 2500
