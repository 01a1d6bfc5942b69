"""The registry contract against an in-memory state: who may write what, and what the views return.

`Market` (a small world with a grid company, retailers, a gateway, a consumer, an account and a meter) is shared
by the readings tests too."""

import eth_abi
import pytest
from eth_hash.auto import keccak

from contracts_py import participants, readings, registry
from contracts_py.catalog import CONTRACTS
from contracts_py.participants import Role
from contracts_py.runtime import BlockInfo, ContractStorage, GasMeter, execute_call

GRID = bytes.fromhex("61" * 20)
RETAILER = bytes.fromhex("52" * 20)
OTHER_RETAILER = bytes.fromhex("53" * 20)
MANAGER = bytes.fromhex("4d" * 20)
GATEWAY = bytes.fromhex("6a" * 20)
OTHER_GATEWAY = bytes.fromhex("6b" * 20)
CONSUMER = bytes.fromhex("c0" * 20)
STRANGER = bytes.fromhex("ee" * 20)
T0 = 1_772_312_400
"""2026-03-01 00:00 Moscow time (UTC+3) = 2026-02-28 21:00 UTC."""
MSK = 10_800
INN, KPP, BIK, ACCOUNT = "1655000001", "165501001", "049205603", "40702810000000000001"


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


class Market:
    """An in-memory chain state with the roles granted at genesis, and a way to call functions by signature."""

    def __init__(self, now=T0 + 86_400 * 40):
        self.state = DictState()
        self.now = now
        storage = ContractStorage(self.state, participants.ADDRESS, GasMeter(10**9))
        for address, role in ((GRID, Role.GRID_COMPANY), (RETAILER, Role.RETAILER), (OTHER_RETAILER, Role.RETAILER),
                              (MANAGER, Role.MANAGEMENT_COMPANY), (GATEWAY, Role.GATEWAY),
                              (OTHER_GATEWAY, Role.GATEWAY), (CONSUMER, Role.CONSUMER)):
            participants.grant_at_genesis(storage, address, role)

    def call(self, to, sender, signature, *args, gas=50_000_000):
        types = signature[signature.index("(") + 1:-1]
        types = [t for t in types.split(",") if t]
        data = keccak(signature.encode())[:4] + eth_abi.encode(types, list(args))
        block = BlockInfo(number=1, timestamp=self.now, proposer=bytes(20), chain_id=7)
        before = dict(self.state.data)
        result = execute_call(CONTRACTS, self.state, block, to=to, sender=sender, data=data, gas_limit=gas)
        if not result.success:  # the node rolls a reverted call's writes back; so does this state
            self.state.data = before
        return result

    def ok(self, to, sender, signature, *args):
        result = self.call(to, sender, signature, *args)
        assert result.success, result.revert_reason
        return result

    def view(self, to, signature, out_types, *args):
        result = self.ok(to, STRANGER, signature, *args)
        return eth_abi.decode(out_types, result.return_data)

    def registry(self, sender, signature, *args):
        return self.call(registry.ADDRESS, sender, signature, *args)

    def readings(self, sender, signature, *args):
        return self.call(readings.ADDRESS, sender, signature, *args)

    def with_account(self, number=1001, building=0, area=0):
        self.ok(registry.ADDRESS, RETAILER, SAVE_ACCOUNT, number, 7, 3, CONSUMER, "Kazan, Baumana 1-5", 1, area,
                building)
        return number

    def with_meter(self, meter_id=501, account=1001, remote=True, hourly=False, max_power_w=15_000,
                   import_wh=1_000_000, export_wh=0, gateway=GATEWAY, point=None):
        point = point or meter_id + 10_000
        self.ok(registry.ADDRESS, GRID, SAVE_POINT, point, account, "Kazan, Baumana 1-5", "apartment input")
        self.ok(registry.ADDRESS, GRID, REGISTER_METER, meter_id, point, "Mercury 230", f"SN{meter_id}",
                "Kazan, Baumana 1-5", 1, remote, hourly, max_power_w, MSK, import_wh, export_wh)
        if remote and gateway:
            self.ok(registry.ADDRESS, GRID, BIND, meter_id, gateway)
        return meter_id


SAVE_PROFILE = "saveProfile(string,string,string,string,string,string,string,string,string)"
SAVE_CONTRACTOR = "saveContractor(uint64,string,string,string,string,string,string,string)"
SAVE_ACCOUNT = "saveAccount(uint64,uint64,uint64,address,string,uint8,uint64,uint64)"
SAVE_POINT = "saveMeteringPoint(uint64,uint64,string,string)"
REGISTER_METER = ("registerMeter(uint64,uint64,string,string,string,uint8,bool,bool,uint64,uint32,uint256,"
                  "uint256)")
CONFIGURE_METER = "configureMeter(uint64,uint8,uint32,uint32,uint32,bool,bool,uint64,uint32)"
BIND = "bindGateway(uint64,address)"
REPLACE = "replaceMeter(uint64,string,string,uint64,uint256,uint256,uint256,uint256)"
SAVE_BUILDING = "saveBuilding(uint64,string,address,uint64)"
REGISTER_CONTRACT = "registerContract(uint64,uint64,bytes32,uint64)"
METER_VIEW = ("meter(uint64)", ["uint64", "uint64", "string", "string", "string", "uint8", "uint32", "uint32",
                                "uint32", "bool", "bool", "uint64", "uint32", "address"])
ACCOUNT_VIEW = ("account(uint64)", ["address", "uint64", "uint64", "uint64", "address", "string", "uint8",
                                    "uint64", "uint64", "uint64[]"])


@pytest.fixture
def market():
    return Market()


def profile_args(inn=INN, kpp=KPP, bik=BIK, account=ACCOUNT):
    return ("Grid of Kazan", "+7 843 000-00-00", "Ivanov Ivan Ivanovich", "Kazan, Pushkina 1", inn, kpp, bik,
            account, "Ak Bars Bank")


def test_a_company_writes_its_own_profile(market):
    market.ok(registry.ADDRESS, GRID, SAVE_PROFILE, *profile_args())
    market.ok(registry.ADDRESS, GRID, "attachRetailer(address)", RETAILER)
    market.ok(registry.ADDRESS, RETAILER, SAVE_PROFILE, *profile_args(inn="165500000112", kpp=""))
    view = market.view(registry.ADDRESS, "company(address)", ["uint8", "string", "string", "string", "string",
                       "string", "string", "string", "string", "string", "address"], RETAILER)
    assert view[0] == registry.CompanyKind.RETAILER and view[5:7] == ("165500000112", "")
    assert view[10] == "0x" + GRID.hex()
    manager = market.ok(registry.ADDRESS, MANAGER, SAVE_PROFILE, *profile_args())
    assert manager.logs[0].topics[1][-20:] == MANAGER


def test_profile_by_a_non_company_or_with_bad_requisites_is_refused(market):
    stranger = market.registry(STRANGER, SAVE_PROFILE, *profile_args())
    assert not stranger.success and "is not a grid company, retailer or management company" in stranger.revert_reason
    for bad, reason in [(dict(inn="12345"), "INN must be 10 or 12 digits"), (dict(kpp="16550100X"), "KPP"),
                        (dict(bik="04920560"), "BIK must be 9 digits"), (dict(account="4070"), "settlement account")]:
        result = market.registry(GRID, SAVE_PROFILE, *profile_args(**bad))
        assert not result.success and reason in result.revert_reason
    empty = market.registry(GRID, SAVE_PROFILE, "", *profile_args()[1:])
    assert not empty.success and "name is empty" in empty.revert_reason
    unknown = market.registry(STRANGER, "company(address)", GRID)
    assert not unknown.success and "unknown company" in unknown.revert_reason


def test_only_the_grid_company_attaches_retailers_and_keeps_contractors(market):
    denied = market.registry(RETAILER, "attachRetailer(address)", OTHER_RETAILER)
    assert not denied.success and "grid_company" in denied.revert_reason
    not_retailer = market.registry(GRID, "attachRetailer(address)", STRANGER)
    assert not not_retailer.success and "retailer role" in not_retailer.revert_reason
    market.ok(registry.ADDRESS, GRID, SAVE_CONTRACTOR, 7, "Energoremont LLC", "Kazan", INN, KPP, BIK, ACCOUNT, "Bank")
    assert market.view(registry.ADDRESS, "contractor(address,uint64)", ["string"] * 7, GRID, 7)[:3] == (
        "Energoremont LLC", "Kazan", INN)
    foreign = market.registry(RETAILER, SAVE_CONTRACTOR, 8, "X", "Y", INN, KPP, BIK, ACCOUNT, "Bank")
    assert not foreign.success and "grid_company" in foreign.revert_reason


def test_retailer_owns_its_accounts_and_contracts(market):
    market.with_account(1001)
    account = market.view(registry.ADDRESS, *ACCOUNT_VIEW, 1001)
    assert account[0] == "0x" + RETAILER.hex() and account[4] == "0x" + CONSUMER.hex() and account[6] == 1
    taken = market.registry(OTHER_RETAILER, SAVE_ACCOUNT, 1001, 1, 1, STRANGER, "x", 1, 0, 0)
    assert not taken.success and "belongs to another retailer" in taken.revert_reason
    by_grid = market.registry(GRID, SAVE_ACCOUNT, 1002, 1, 1, CONSUMER, "x", 1, 0, 0)
    assert not by_grid.success and "retailer role" in by_grid.revert_reason
    for args, reason in [((1003, 1, 1, CONSUMER, "x", 3, 0, 0), "unknown consumer kind 3"),
                         ((1003, 1, 1, CONSUMER, "x", 1, 0, 77), "unknown building 77"),
                         ((0, 1, 1, CONSUMER, "x", 1, 0, 0), "account number 0")]:
        result = market.registry(RETAILER, SAVE_ACCOUNT, *args)
        assert not result.success and reason in result.revert_reason
    document = b"\x11" * 32
    market.ok(registry.ADDRESS, RETAILER, REGISTER_CONTRACT, 9001, 1001, document, T0)
    assert market.view(registry.ADDRESS, "consumerContract(uint64)", ["address", "uint64", "bytes32", "uint64"],
                       9001) == ("0x" + RETAILER.hex(), 1001, document, T0)
    assert market.view(registry.ADDRESS, *ACCOUNT_VIEW, 1001)[3] == 9001
    twice = market.registry(RETAILER, REGISTER_CONTRACT, 9001, 1001, document, T0)
    assert not twice.success and "already exists" in twice.revert_reason
    foreign = market.registry(OTHER_RETAILER, REGISTER_CONTRACT, 9002, 1001, document, T0)
    assert not foreign.success and "belongs to another retailer" in foreign.revert_reason


def test_grid_company_registers_and_configures_meters(market):
    market.with_account(1001)
    market.with_meter(501)
    meter = market.view(registry.ADDRESS, *METER_VIEW, 501)
    assert meter[:4] == (10_501, 1001, "Mercury 230", "SN501") and meter[13] == "0x" + GATEWAY.hex()
    assert market.view(registry.ADDRESS, *ACCOUNT_VIEW, 1001)[9] == (501,)
    market.ok(registry.ADDRESS, GRID, CONFIGURE_METER, 501, 3, 40, 100, 12_500, True, True, 2_000_000, MSK)
    assert market.view(registry.ADDRESS, *METER_VIEW, 501)[5:12] == (3, 40, 100, 12_500, True, True, 2_000_000)
    assert market.view(readings.ADDRESS, "meterState(uint64)", ["address", "bool", "bool", "uint64"], 501)[3] == (
        2_000_000)
    for args, reason in [((501, 3, 0, 1, 0, True, False, 1, MSK), "transformer ratios"),
                         ((501, 9, 1, 1, 0, True, False, 1, MSK), "unknown calculation scheme"),
                         ((501, 1, 1, 1, 1_000_000, True, False, 1, MSK), "not below 100%"),
                         ((501, 1, 1, 1, 0, True, False, 0, MSK), "maximum plausible power"),
                         ((501, 1, 1, 1, 0, True, False, 1, 15 * 3600), "UTC offset"),
                         ((599, 1, 1, 1, 0, True, False, 1, MSK), "unknown meter 599")]:
        result = market.registry(GRID, CONFIGURE_METER, *args)
        assert not result.success and reason in result.revert_reason, result.revert_reason
    by_retailer = market.registry(RETAILER, CONFIGURE_METER, 501, 1, 1, 1, 0, True, False, 1, MSK)
    assert not by_retailer.success and "grid_company" in by_retailer.revert_reason


def test_meter_registration_refusals(market):
    market.with_account(1001)
    market.with_meter(501)
    args = (501, 10_501, "M", "S", "A", 1, True, False, 1_000, MSK, 0, 0)
    assert "already exists" in market.registry(GRID, REGISTER_METER, *args).revert_reason
    assert "unknown metering point 4" in market.registry(GRID, REGISTER_METER, 502, 4, *args[2:]).revert_reason
    assert "grid_company" in market.registry(RETAILER, REGISTER_METER, 502, *args[1:]).revert_reason
    assert "unknown calculation scheme" in market.registry(GRID, REGISTER_METER, 502, 10_501, "M", "S", "A", 0,
                                                           *args[6:]).revert_reason
    assert "unknown account 5" in market.registry(GRID, SAVE_POINT, 9, 5, "A", "").revert_reason
    market.with_account(1002)
    moved = market.registry(GRID, SAVE_POINT, 10_501, 1002, "A", "")
    assert not moved.success and "account of metering point 10501 is fixed" in moved.revert_reason
    assert market.registry(GRID, SAVE_POINT, 10_501, 1001, "New address", "").success


def test_gateway_binding_needs_the_gateway_role_and_a_remote_meter(market):
    market.with_account(1001)
    market.with_meter(501, gateway=None)
    market.with_meter(502, remote=False)
    no_role = market.registry(GRID, BIND, 501, STRANGER)
    assert not no_role.success and "gateway role" in no_role.revert_reason
    manual = market.registry(GRID, BIND, 502, GATEWAY)
    assert not manual.success and "not read remotely" in manual.revert_reason
    by_retailer = market.registry(RETAILER, BIND, 501, GATEWAY)
    assert not by_retailer.success and "grid_company" in by_retailer.revert_reason
    market.ok(registry.ADDRESS, GRID, BIND, 501, GATEWAY)
    market.ok(registry.ADDRESS, GRID, BIND, 501, bytes(20))
    assert market.view(registry.ADDRESS, *METER_VIEW, 501)[13] == "0x" + "00" * 20


def test_buildings_with_house_meter_management_company_and_apartments(market):
    market.with_account(1001)
    market.with_meter(601, account=0, point=600)
    market.ok(registry.ADDRESS, GRID, SAVE_BUILDING, 42, "Kazan, Baumana 1", MANAGER, 601)
    market.with_account(1001, building=42, area=5_430)
    market.with_account(1002, building=42, area=7_010)
    assert market.view(registry.ADDRESS, "building(uint64)", ["string", "address", "uint64", "uint64[]"], 42) == (
        "Kazan, Baumana 1", "0x" + MANAGER.hex(), 601, (1001, 1002))
    market.with_account(1002, building=0)
    assert market.view(registry.ADDRESS, "building(uint64)", ["string", "address", "uint64", "uint64[]"], 42)[3] == (
        1001,)
    not_manager = market.registry(GRID, SAVE_BUILDING, 43, "x", RETAILER, 0)
    assert not not_manager.success and "management_company" in not_manager.revert_reason
    no_meter = market.registry(GRID, SAVE_BUILDING, 43, "x", MANAGER, 777)
    assert not no_meter.success and "unknown house meter 777" in no_meter.revert_reason
    by_manager = market.registry(MANAGER, SAVE_BUILDING, 43, "x", MANAGER, 0)
    assert not by_manager.success and "grid_company" in by_manager.revert_reason


def test_every_registry_write_emits_its_event(market):
    market.with_account(1001)
    result = market.ok(registry.ADDRESS, GRID, SAVE_POINT, 5, 1001, "A", "")
    assert [log.topics[0] for log in result.logs] == [registry.MeteringPointSaved.__event_spec__.topic]
    topics = {spec.__event_spec__.topic for spec in registry.Registry.EVENTS}
    result = market.ok(registry.ADDRESS, GRID, REGISTER_METER, 8, 5, "M", "S", "A", 1, True, False, 100, MSK, 0, 0)
    assert registry.MeterRegistered.__event_spec__.topic in [log.topics[0] for log in result.logs]
    assert all(log.topics[0] in topics or log.address == readings.ADDRESS for log in result.logs)


INSTALLED = ("registerInstalledMeter(uint64,uint64,string,string,string,uint8,bool,bool,uint64,uint32,uint256,"
             "uint256,uint64)")


def test_meter_installed_in_the_past_accepts_backfilled_history(market):
    market.with_account(1001)
    market.ok(registry.ADDRESS, GRID, SAVE_POINT, 9, 1001, "A", "")
    installed = (market.now // 1800 - 10) * 1800
    market.ok(registry.ADDRESS, GRID, INSTALLED, 9, 9, "M", "S", "A", 1, True, False, 10_000, MSK, 100, 0, installed)
    market.ok(registry.ADDRESS, GRID, BIND, 9, GATEWAY)
    market.ok(readings.ADDRESS, GATEWAY, "postReading(uint64,uint64,uint256,uint256)", 9, installed + 1800, 300, 0)
    future = (market.now // 1800 + 48) * 1800
    result = market.registry(GRID, INSTALLED, 10, 9, "M", "S", "A", 1, True, False, 10_000, MSK, 0, 0, future)
    assert "in the future" in result.revert_reason
