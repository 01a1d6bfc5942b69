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
