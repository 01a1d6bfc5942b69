"""A small in-memory chain for the billing contracts' tests: participants, a retailer's tariffs, accounts with
meters posting a month of half-hourly readings. Other test_{tariff,invoice,payment}_*.py files import `World`."""

import eth_abi
import pytest

from contracts_py import invoices, participants, payments, readings, registry, ruble, tariffs
from contracts_py.abi import normalize_decoded
from contracts_py.billing import zones
from contracts_py.billing.periods import MOSCOW_UTC_OFFSET, period_start
from contracts_py.billing.substitute import HouseholdRule, LegalEntityRule
from contracts_py.catalog import CONTRACTS
from contracts_py.runtime import BlockInfo, ContractStorage, GasMeter, execute_call

ADMIN, GRID, RETAILER, OTHER_RETAILER = (bytes([b]) * 20 for b in (0xAD, 0x61, 0x5E, 0x5F))
CONSUMER, NEIGHBOUR, GATEWAY, BANK, INFRA = (bytes([b]) * 20 for b in (0xC1, 0xC2, 0x6A, 0xBA, 0x1F))
APRIL, MAY = 202604, 202605
PRICES = {"day": 520_000, "night": 310_000, "single": 412_345, "transmission": 181_234, "markup": 52_345,
          "infrastructure": 1_287}


class Failed(Exception):
    """A call that reverted where the test expected success."""


class DictState:
    def __init__(self):
        self.data = {}

    def storage_get(self, address, key):
        return self.data.get((address, key))

    def storage_set(self, address, key, value):
        if value is None:
            self.data.pop((address, key), None)
        else:
            self.data[(address, key)] = value


class World:
    def __init__(self):
        self.state = DictState()
        self.now = period_start(APRIL, MOSCOW_UTC_OFFSET)
        self.block = 1
        gas = GasMeter(10**12)
        roles = ContractStorage(self.state, participants.ADDRESS, gas)
        for who, role in ((ADMIN, "ADMIN"), (GRID, "GRID_COMPANY"), (RETAILER, "RETAILER"),
                          (OTHER_RETAILER, "RETAILER"), (CONSUMER, "CONSUMER"), (NEIGHBOUR, "CONSUMER"),
                          (GATEWAY, "GATEWAY"), (BANK, "ISSUER")):
            participants.grant_at_genesis(roles, who, participants.Role[role])
        ruble.credit_at_genesis(ContractStorage(self.state, ruble.ADDRESS, gas), BANK, 10**12)
        law = ContractStorage(self.state, tariffs.ADDRESS, gas)
        tariffs.set_vat_at_genesis(law, 20190101, 2000)
        tariffs.set_vat_at_genesis(law, 20260101, 2200)
        tariffs.set_substitute_rules_at_genesis(law, HouseholdRule(20250101, 3, 6, 1, 87_000),
                                                LegalEntityRule(20250101, 2))

    def call(self, sender, address, function, *args, gas=50_000_000):
        """Run one transaction; returns the CallResult with `.value` decoded."""
        spec = CONTRACTS[address].functions[function]
        data = spec.selector + eth_abi.encode(list(spec.input_types), list(args))
        block = BlockInfo(number=self.block, timestamp=self.now, proposer=bytes(20), chain_id=7)
        snapshot = dict(self.state.data)
        result = execute_call(CONTRACTS, self.state, block, to=address, sender=sender, data=data, gas_limit=gas)
        self.block += 1
        if not result.success:
            self.state.data = snapshot  # the node rolls a reverted transaction back
            return result
        decoded = tuple(normalize_decoded(t, v) for t, v in
                        zip(spec.output_types, eth_abi.decode(list(spec.output_types), result.return_data)))
        object.__setattr__(result, "value", decoded[0] if len(decoded) == 1 else decoded)
        return result

    def ok(self, sender, address, function, *args):
        result = self.call(sender, address, function, *args)
        if not result.success:
            raise Failed(f"{function}: {result.revert_reason}")
        return result

    def balance(self, who):
        return self.ok(who, ruble.ADDRESS, "balanceOf", who).value

    # --- set-up -------------------------------------------------------------------------------------------

    def tariff_group(self, group_id=1, retailer=RETAILER):
        self.ok(retailer, tariffs.ADDRESS, "saveGroup", group_id, "Households, Kazan")
        add_ons = ([3, 5, 6], [GRID, retailer, INFRA],
                   [PRICES["transmission"], PRICES["markup"], PRICES["infrastructure"]])
        self.ok(retailer, tariffs.ADDRESS, "saveOption", group_id, 1, 2, 20260101, MOSCOW_UTC_OFFSET, retailer,
                [420, 1380], [1380, 420], [zones.Zone.DAY, zones.Zone.NIGHT], [PRICES["day"], PRICES["night"]],
                [], [], 0, 0, *add_ons)
        self.ok(retailer, tariffs.ADDRESS, "saveOption", group_id, 2, 1, 20260101, MOSCOW_UTC_OFFSET, retailer,
                [0], [1440], [zones.Zone.ALL_DAY], [PRICES["single"]], [], [], 0, 0, *add_ons)

    def account(self, number, consumer=CONSUMER, meter_id=None, retailer=RETAILER, group_id=1, kind=1,
                remote=True, hourly=False, max_power_w=20_000, area_dm2=5_430, building_id=0):
        """An account with one meter installed at the start of April, bound to the gateway."""
        meter_id = meter_id or number
        self.ok(retailer, registry.ADDRESS, "saveAccount", number, 1, group_id, consumer, "Kazan, Baumana 1", kind,
                area_dm2, building_id)
        self.ok(GRID, registry.ADDRESS, "saveMeteringPoint", number, number, "Kazan, Baumana 1", "apartment")
        saved_now = self.now
        self.now = period_start(APRIL, MOSCOW_UTC_OFFSET)
        self.ok(GRID, registry.ADDRESS, "registerMeter", meter_id, number, "Mercury 230", f"SN{meter_id}",
                "Kazan, Baumana 1", 1, remote, hourly, max_power_w, MOSCOW_UTC_OFFSET, 1_000_000, 0)
        self.now = saved_now
        if remote:
            self.ok(GRID, registry.ADDRESS, "bindGateway", meter_id, GATEWAY)
        return meter_id

    def post_month(self, meter_id, period=APRIL, day_wh=150, night_wh=80, start_register=1_000_000, extra=None):
        """A month of half-hourly readings: day (07-23 Moscow) and night volumes per half-hour, plus `extra`
        Wh in the intervals it maps by UTC start."""
        first = period_start(period, MOSCOW_UTC_OFFSET)
        last = period_start(period + 1 if period % 100 < 12 else period + 89, MOSCOW_UTC_OFFSET)
        self.now = max(self.now, last + 3_600)
        starts, registers = [], []
        register = start_register
        for start in range(first, last, 1_800):
            half_hour = (start + MOSCOW_UTC_OFFSET) // 1_800 % 48
            register += (day_wh if 14 <= half_hour < 46 else night_wh) + (extra or {}).get(start, 0)
            starts.append(start)
            registers.append(register)
        result = self.ok(GATEWAY, readings.ADDRESS, "postReadings", meter_id, starts, registers, [0] * len(starts))
        assert result.value == (len(starts), 0, 0, 0)
        return register


@pytest.fixture
def world():
    w = World()
    w.tariff_group()
    return w


def test_world_posts_a_month_of_readings_that_the_invoices_contract_sees(world):
    meter = world.account(1001)
    world.post_month(meter)
    usage = world.ok(RETAILER, readings.ADDRESS, "meterMonth", meter, APRIL).value
    assert usage[0] == 182_400 and usage[3] == 1_440


def test_contracts_are_registered_at_their_addresses():
    assert CONTRACTS[tariffs.ADDRESS].NAME == "Tariffs"
    assert CONTRACTS[invoices.ADDRESS].NAME == "Invoices"
    assert CONTRACTS[payments.ADDRESS].NAME == "Payments"
