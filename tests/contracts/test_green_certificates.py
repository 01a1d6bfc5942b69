"""Green certificates: facilities, issuance from final export readings with carried remainders, transfer, sale
for rubles and retirement, through `execute_call` on an in-memory chain (`World` from test_billing_world)."""

import eth_abi
import pytest

from contracts_py import green, readings, registry, ruble
from contracts_py.billing.periods import MOSCOW_UTC_OFFSET, period_start
from test_billing_world import APRIL, BANK, CONSUMER, GATEWAY, GRID, MAY, NEIGHBOUR, RETAILER, World

OWNER = CONSUMER
"""The facility's owner: a consumer with a rooftop plant (a prosumer)."""
BUYER = NEIGHBOUR
SUN_WH = 250_123
"""Export per half hour from 10:00 to 16:00 Moscow time: 3,001,476 Wh a day."""
SERIAL_BASE = green.SERIALS_PER_ISSUANCE


def logs_of(result, event_cls):
    spec = event_cls.__event_spec__
    data_types = [t for t, i in zip(spec.field_types, spec.indexed) if not i]
    return [eth_abi.decode(data_types, log.data) for log in result.logs if log.topics[0] == spec.topic]


def post_exports(world, meter_id, period, register=0, sun_wh=SUN_WH, last_interval=True):
    """A month of half-hourly readings of a generator: export in the sunny hours, nothing imported."""
    first = period_start(period, MOSCOW_UTC_OFFSET)
    last = period_start(period + 1 if period % 100 < 12 else period + 89, MOSCOW_UTC_OFFSET)
    world.now = max(world.now, last + 3_600)
    starts, exports = [], []
    end = last if last_interval else last - 1_800
    for start in range(first, end, 1_800):
        half_hour = (start + MOSCOW_UTC_OFFSET) // 1_800 % 48
        register += sun_wh if 20 <= half_hour < 32 else 0
        starts.append(start)
        exports.append(register)
    world.ok(GATEWAY, readings.ADDRESS, "postReadings", meter_id, starts, [1_000_000] * len(starts), exports)
    return register


@pytest.fixture
def world():
    w = World()
    w.meter = w.account(2001, consumer=OWNER, max_power_w=1_000_000)
    w.ok(GRID, green.ADDRESS, "registerFacility", 7, OWNER, green.Technology.SOLAR, 600_000, 20260315, w.meter,
         "Rooftop PV, Kazan")
    return w


def certificate(world, serial):
    return world.ok(BUYER, green.ADDRESS, "certificate", serial).value


def test_issuance_certifies_whole_mwh_and_carries_the_remainder(world):
    register = post_exports(world, world.meter, APRIL)
    april = world.ok(OWNER, green.ADDRESS, "issue", 7, APRIL)
    assert april.value == 90  # 30 days x 3,001,476 Wh = 90,044,280 Wh
    assert logs_of(april, green.CertificatesIssued) == [(1, green.Technology.SOLAR, SERIAL_BASE + 1, 90,
                                                        90_044_280, 0, 44_280)]
    post_exports(world, world.meter, MAY, register)
    may = world.ok(GRID, green.ADDRESS, "issue", 7, MAY)
    assert may.value == 93  # 31 x 3,001,476 + 44,280 carried = 93,090,036 Wh
    assert world.ok(BUYER, green.ADDRESS, "issuance", 7, MAY).value[:6] == (
        2, 93_045_756, 44_280, 93, 90_036, 2 * SERIAL_BASE + 1)
    assert world.ok(BUYER, green.ADDRESS, "facility", 7).value[7:] == (MAY, 90_036)
    assert certificate(world, 2 * SERIAL_BASE + 93) == (7, green.Technology.SOLAR, MAY, 2, OWNER,
                                                        green.Status.ACTIVE, 0, 0)


def test_transformer_ratios_scale_the_certified_energy(world):
    world.ok(GRID, registry.ADDRESS, "configureMeter", world.meter, 2, 10, 1, 0, True, False, 1_000_000,
             MOSCOW_UTC_OFFSET)
    post_exports(world, world.meter, APRIL, sun_wh=2_001)  # 30 x 12 x 2,001 x 10 = 7,203,600 Wh
    assert world.ok(OWNER, green.ADDRESS, "issue", 7, APRIL).value == 7
    assert world.ok(BUYER, green.ADDRESS, "facility", 7).value[8] == 203_600


def test_the_same_month_is_never_certified_twice(world):
    post_exports(world, world.meter, APRIL)
    world.ok(OWNER, green.ADDRESS, "issue", 7, APRIL)
    before = dict(world.state.data)
    again = world.call(OWNER, green.ADDRESS, "issue", 7, APRIL)
    assert not again.success and "already certified for 202604" in again.revert_reason
    earlier = world.call(OWNER, green.ADDRESS, "issue", 7, 202603)
    assert not earlier.success and "certified up to 202604; periods go in order" in earlier.revert_reason
    before_commissioning = world.call(OWNER, green.ADDRESS, "issue", 7, 202602)
    assert not before_commissioning.success and "precedes the facility's commissioning" in \
        before_commissioning.revert_reason
    assert world.state.data == before


@pytest.mark.parametrize("case, reason", [
    ("not_ended", "has not ended"),
    ("not_final", "not final for 202604"),
    ("stranger", "may not issue for facility 7"),
    ("unknown", "unknown facility 8"),
])
def test_issuance_refusals(world, case, reason):
    if case == "not_final":
        post_exports(world, world.meter, APRIL, last_interval=False)
    elif case == "not_ended":
        world.now = period_start(MAY, MOSCOW_UTC_OFFSET) - 3_600
    before = dict(world.state.data)
    result = world.call(RETAILER if case == "stranger" else OWNER, green.ADDRESS, "issue",
                        8 if case == "unknown" else 7, APRIL)
    assert not result.success and reason in result.revert_reason
    assert world.state.data == before


def test_output_beyond_installed_capacity_is_refused(world):
    world.ok(GRID, green.ADDRESS, "registerFacility", 8, OWNER, green.Technology.WIND, 1_000, 20260101,
             world.account(2002, consumer=OWNER, max_power_w=1_000_000), "Small wind")
    post_exports(world, 2002, APRIL)
    result = world.call(OWNER, green.ADDRESS, "issue", 8, APRIL)
    assert not result.success and "exceeds the installed capacity's 720000 Wh" in result.revert_reason


def test_an_owner_registers_only_a_meter_on_its_own_account(world):
    meter = world.account(2004, consumer=BUYER, max_power_w=1_000_000)
    result = world.call(OWNER, green.ADDRESS, "registerFacility", 9, OWNER, green.Technology.SOLAR, 5_000,
                        20250101, meter, "Not mine")
    assert not result.success and f"meter {meter} is not on an account of 0x{OWNER.hex()}" in result.revert_reason


def test_owner_registration_waits_for_the_grid_company(world):
    meter = world.account(2003, consumer=OWNER, max_power_w=1_000_000)
    world.ok(OWNER, green.ADDRESS, "registerFacility", 9, OWNER, green.Technology.HYDRO, 600_000, 20250101,
             meter, "Mill pond")
    post_exports(world, meter, APRIL)
    pending = world.call(OWNER, green.ADDRESS, "issue", 9, APRIL)
    assert not pending.success and "awaits the grid company's confirmation" in pending.revert_reason
    refused = world.call(RETAILER, green.ADDRESS, "confirmFacility", 9)
    assert not refused.success and "lacks the grid_company role" in refused.revert_reason
    world.ok(GRID, green.ADDRESS, "confirmFacility", 9)
    assert world.ok(OWNER, green.ADDRESS, "issue", 9, APRIL).value == 90


@pytest.mark.parametrize("sender, args, reason", [
    (RETAILER, (10, OWNER, 1, 1_000, 20260101, 2001, "x"), "neither the grid company nor the facility's owner"),
    (GRID, (10, OWNER, 1, 1_000, 20260101, 2001, "x"), "meter 2001 already measures facility 7"),
    (GRID, (10, OWNER, 1, 1_000, 20260101, 0, "x"), "needs the meter that measures its output"),
    (GRID, (10, OWNER, 1, 1_000, 20260101, 4040, "x"), "unknown meter 4040"),
    (GRID, (10, OWNER, 99, 1_000, 20260101, 2001, "x"), "unknown technology 99"),
    (GRID, (10, OWNER, 1, 1_000, 20261301, 2001, "x"), "not a yyyymmdd date"),
    (GRID, (7, OWNER, 1, 1_000, 20260101, 2001, "x"), "facility 7 already exists"),
])
def test_facility_registration_refusals(world, sender, args, reason):
    result = world.call(sender, green.ADDRESS, "registerFacility", *args)
    assert not result.success and reason in result.revert_reason


@pytest.fixture
def issued(world):
    post_exports(world, world.meter, APRIL)
    world.ok(OWNER, green.ADDRESS, "issue", 7, APRIL)
    return world


def test_transfer_moves_certificates_and_only_the_holder_may(issued):
    serials = [SERIAL_BASE + 1, SERIAL_BASE + 2]
    result = issued.ok(OWNER, green.ADDRESS, "transfer", BUYER, serials)
    assert len(logs_of(result, green.CertificateTransferred)) == 2
    assert certificate(issued, SERIAL_BASE + 1)[4] == BUYER
    to_self = issued.call(BUYER, green.ADDRESS, "transfer", BUYER, [SERIAL_BASE + 1])
    assert not to_self.success and "to oneself" in to_self.revert_reason
    foreign = issued.call(OWNER, green.ADDRESS, "transfer", RETAILER, [SERIAL_BASE + 1])
    assert not foreign.success and f"certificate {SERIAL_BASE + 1} is not held by" in foreign.revert_reason
    beyond = issued.call(OWNER, green.ADDRESS, "transfer", BUYER, [SERIAL_BASE + 91])
    assert not beyond.success and f"unknown certificate {SERIAL_BASE + 91}" in beyond.revert_reason
    twice = issued.call(OWNER, green.ADDRESS, "transfer", BUYER, [SERIAL_BASE + 3, SERIAL_BASE + 3])
    assert not twice.success and "named twice" in twice.revert_reason


def fund(world, who, kopecks):
    world.ok(BANK, ruble.ADDRESS, "transfer", who, kopecks)


def test_buy_pays_the_seller_and_delivers_in_one_transaction(issued):
    serials = [SERIAL_BASE + 5, SERIAL_BASE + 6, SERIAL_BASE + 7]
    offer_id = issued.ok(OWNER, green.ADDRESS, "offer", serials, 45_000).value
    locked = issued.call(OWNER, green.ADDRESS, "transfer", BUYER, [SERIAL_BASE + 5])
    assert not locked.success and "offered for sale" in locked.revert_reason
    fund(issued, BUYER, 134_999)
    before = dict(issued.state.data)
    poor = issued.call(BUYER, green.ADDRESS, "buy", offer_id)
    assert not poor.success and "insufficient balance: has 134999, needs 135000" in poor.revert_reason
    assert issued.state.data == before
    fund(issued, BUYER, 1)
    seller_before = issued.balance(OWNER)
    assert issued.ok(BUYER, green.ADDRESS, "buy", offer_id).value == 135_000
    assert issued.balance(OWNER) - seller_before == 135_000 and issued.balance(BUYER) == 0
    assert [certificate(issued, s)[4:6] for s in serials] == [(BUYER, green.Status.ACTIVE)] * 3
    closed = issued.call(BUYER, green.ADDRESS, "buy", offer_id)
    assert not closed.success and "is closed" in closed.revert_reason


def test_withdrawn_offer_unlocks_its_certificates(issued):
    offer_id = issued.ok(OWNER, green.ADDRESS, "offer", [SERIAL_BASE + 9], 10_000).value
    other = issued.call(BUYER, green.ADDRESS, "withdrawOffer", offer_id)
    assert not other.success and "is not 0x" in other.revert_reason
    issued.ok(OWNER, green.ADDRESS, "withdrawOffer", offer_id)
    assert certificate(issued, SERIAL_BASE + 9)[5:7] == (green.Status.ACTIVE, 0)
    assert issued.ok(OWNER, green.ADDRESS, "offerOf", offer_id).value[3] is False


def test_retired_certificate_never_moves_again(issued):
    serial = SERIAL_BASE + 11
    retirement = issued.ok(OWNER, green.ADDRESS, "retire", [serial], BUYER, 0, "Green supply 2026", APRIL).value
    before = dict(issued.state.data)
    for function, args in (("transfer", (BUYER, [serial])), ("offer", ([serial], 1_000)),
                           ("retire", ([serial], BUYER, 0, "again", APRIL))):
        result = issued.call(OWNER, green.ADDRESS, function, *args)
        assert not result.success and "is retired and can never move" in result.revert_reason
    assert issued.state.data == before
    assert certificate(issued, serial)[5:] == (green.Status.RETIRED, 0, retirement)


def test_retirement_checks_the_beneficiary_account(issued):
    issued.account(3001, consumer=BUYER)
    wrong = issued.call(OWNER, green.ADDRESS, "retire", [SERIAL_BASE + 1], OWNER, 3001, "x", APRIL)
    assert not wrong.success and "account 3001 is not 0x" in wrong.revert_reason
    no_purpose = issued.call(OWNER, green.ADDRESS, "retire", [SERIAL_BASE + 1], BUYER, 3001, " ", APRIL)
    assert not no_purpose.success and "purpose must be" in no_purpose.revert_reason
    bad_period = issued.call(OWNER, green.ADDRESS, "retire", [SERIAL_BASE + 1], BUYER, 3001, "x", 202613)
    assert not bad_period.success and "consumption period 202613 is not a yyyymm month" in bad_period.revert_reason


def test_readings_to_certificates_to_sale_to_retirement_end_to_end():
    """A prosumer's plant exports in April; certificates are issued, sold to a neighbour, who retires them for
    its May consumption; the statement holds every fact the document prints."""
    world = World()
    meter = world.account(2001, consumer=OWNER, max_power_w=1_000_000)
    world.account(3001, consumer=BUYER)
    world.ok(OWNER, green.ADDRESS, "registerFacility", 7, OWNER, green.Technology.SOLAR, 600_000, 20260315, meter,
             "Rooftop PV, Kazan")
    world.ok(GRID, green.ADDRESS, "confirmFacility", 7)
    post_exports(world, meter, APRIL)
    issued = world.ok(OWNER, green.ADDRESS, "issue", 7, APRIL)
    first = logs_of(issued, green.CertificatesIssued)[0][2]
    lot = [first + n for n in range(10)]
    offer_id = world.ok(OWNER, green.ADDRESS, "offer", lot, 50_000).value
    fund(world, BUYER, 500_000)
    world.ok(BUYER, green.ADDRESS, "buy", offer_id)
    retired = world.ok(BUYER, green.ADDRESS, "retire", lot, BUYER, 3001, "Own consumption, May 2026", MAY)
    assert logs_of(retired, green.RetirementRecorded) == [(3001, MAY, 10, "Own consumption, May 2026")]
    statement = world.ok(OWNER, green.ADDRESS, "retirementStatement", retired.value).value
    (by, beneficiary, account, purpose, period, retired_at, block, _, serials, facilities, periods,
     technologies) = statement
    assert (by, beneficiary, account, purpose, period) == (BUYER, BUYER, 3001, "Own consumption, May 2026", MAY)
    assert retired_at == world.now and block == world.block - 2
    assert serials == tuple(lot) and facilities == (7,) * 10 and periods == (APRIL,) * 10
    assert technologies == (green.Technology.SOLAR,) * 10
    assert world.balance(OWNER) == 500_000
