"""A building's common-house needs shared among its apartments on-chain and billed on their invoices."""

from contracts_py import invoices, participants, readings, registry
from contracts_py.billing.periods import MOSCOW_UTC_OFFSET, period_start
from contracts_py.runtime import ContractStorage, GasMeter
from test_billing_world import APRIL, CONSUMER, GATEWAY, GRID, NEIGHBOUR, RETAILER, World, world  # noqa: F401

MANAGER = bytes([0x3C]) * 20


def building(world):
    """Building 5 with a house meter (id 500) counting 1,000 Wh every half-hour of April."""
    participants.grant_at_genesis(ContractStorage(world.state, participants.ADDRESS, GasMeter(10**9)), MANAGER,
                                  participants.Role.MANAGEMENT_COMPANY)
    world.ok(GRID, registry.ADDRESS, "saveMeteringPoint", 500, 0, "Kazan, Baumana 1", "house meter")
    world.now = period_start(APRIL, MOSCOW_UTC_OFFSET)
    world.ok(GRID, registry.ADDRESS, "registerMeter", 500, 500, "Mercury 234", "SN500", "Kazan, Baumana 1", 1,
             True, False, 200_000, MOSCOW_UTC_OFFSET, 0, 0)
    world.ok(GRID, registry.ADDRESS, "bindGateway", 500, GATEWAY)
    world.ok(GRID, registry.ADDRESS, "saveBuilding", 5, "Kazan, Baumana 1", MANAGER, 500)
    world.post_month(500, day_wh=1_000, night_wh=1_000, start_register=0)


def test_common_house_needs_are_shared_by_area_and_billed_to_each_apartment(world):
    building(world)
    world.post_month(world.account(1001, area_dm2=5_430, building_id=5))
    world.post_month(world.account(1002, consumer=NEIGHBOUR, area_dm2=4_215, building_id=5), day_wh=100,
                     night_wh=50)
    denied = world.call(CONSUMER, invoices.ADDRESS, "shareCommonHouse", 5, APRIL)
    assert not denied.success and "may not share" in denied.revert_reason
    common = world.ok(MANAGER, invoices.ADDRESS, "shareCommonHouse", 5, APRIL).value
    assert common == 1_440_000 - 182_400 - 120_000
    house_wh, premises_wh, common_wh, accounts, shares = world.ok(
        CONSUMER, invoices.ADDRESS, "commonHouse", 5, APRIL).value
    assert (house_wh, premises_wh, common_wh) == (1_440_000, 302_400, 1_137_600)
    assert accounts == (1001, 1002) and shares == (640_453, 497_147)  # 640,452.88 and 497,147.12: .88 gets the Wh
    again = world.call(MANAGER, invoices.ADDRESS, "shareCommonHouse", 5, APRIL)
    assert not again.success and "already shared" in again.revert_reason
    invoice_id = world.ok(RETAILER, invoices.ADDRESS, "issueInvoice", 1001, APRIL).value
    components, payees, quantities, nets, vats, _ = world.ok(CONSUMER, invoices.ADDRESS, "invoiceLines",
                                                             invoice_id).value
    assert components == (1, 3, 5, 6, 7, 3, 5, 6)
    assert quantities[4:] == (640_453,) * 4
    # 640,453 Wh spread evenly: 37 half-hours of 13,343 Wh and 11 of 13,342 (earliest first), so day 426,967 Wh
    # and night 213,486 Wh: 426,967 x 520,000 + 213,486 x 310,000 = 288,203,500,000 micro-kopecks.
    assert nets[4] == 288_204
    total = world.ok(CONSUMER, invoices.ADDRESS, "invoice", invoice_id).value[6]
    assert total == 158_142 + sum(nets[4:]) + sum(vats[4:])
