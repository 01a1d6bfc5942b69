"""Microbenchmark: reading transactions through `execute_call` against an in-memory state.

Many meters, each bound to a gateway, post one half-hourly reading per call in interval order, as gateways do.
Rates are per CPU second of this process (`time.process_time`), so other load on the machine skews them less.
Prints the rate of the whole call (ABI decode, contract work, event encoding, result encoding) and, for the
contract's own share, the rate of `record_reading` plus the one-record load and save it does.

    .venv/bin/python bench/reading_tx.py [calls] [meters]
"""

from __future__ import annotations

import sys
import time

import eth_abi
from eth_hash.auto import keccak

from contracts_py import participants, readings, registry
from contracts_py.catalog import CONTRACTS
from contracts_py.participants import Role
from contracts_py.runtime import BlockInfo, ContractStorage, GasMeter, execute_call

GRID = bytes.fromhex("61" * 20)
RETAILER = bytes.fromhex("52" * 20)
GATEWAY = bytes.fromhex("6a" * 20)
CONSUMER = bytes.fromhex("c0" * 20)
START = 1_772_312_400  # 2026-03-01 00:00 Moscow time
HALF_HOUR = 1_800


class DictState:
    def __init__(self) -> None:
        self.data: dict[tuple[bytes, bytes], bytes] = {}

    def storage_get(self, address: bytes, key: bytes) -> bytes | None:
        return self.data.get((address, key))

    def storage_set(self, address: bytes, key: bytes, value: bytes | None) -> None:
        if value is None:
            self.data.pop((address, key), None)
        else:
            self.data[(address, key)] = value


def calldata(signature: str, types: list[str], args: list) -> bytes:
    return keccak(signature.encode())[:4] + eth_abi.encode(types, args)


def setup(meters: int) -> DictState:
    state = DictState()
    roles = ContractStorage(state, participants.ADDRESS, GasMeter(10**12))
    for address, role in ((GRID, Role.GRID_COMPANY), (RETAILER, Role.RETAILER), (GATEWAY, Role.GATEWAY)):
        participants.grant_at_genesis(roles, address, role)
    block = BlockInfo(1, START + HALF_HOUR, bytes(20), 7)
    calls = [(RETAILER, calldata("saveAccount(uint64,uint64,uint64,address,string,uint8,uint64,uint64)",
                                 ["uint64", "uint64", "uint64", "address", "string", "uint8", "uint64", "uint64"],
                                 [1, 1, 1, CONSUMER, "Kazan", 1, 0, 0]))]
    for meter in range(1, meters + 1):
        calls += [
            (GRID, calldata("saveMeteringPoint(uint64,uint64,string,string)", ["uint64", "uint64", "string", "string"],
                            [meter, 1, "Kazan", ""])),
            (GRID, calldata("registerMeter(uint64,uint64,string,string,string,uint8,bool,bool,uint64,uint32,uint256,"
                            "uint256)", ["uint64", "uint64", "string", "string", "string", "uint8", "bool", "bool",
                                         "uint64", "uint32", "uint256", "uint256"],
                            [meter, meter, "Mercury 230", f"SN{meter}", "Kazan", 1, True, False, 15_000, 10_800,
                             1_000_000, 0])),
            (GRID, calldata("bindGateway(uint64,address)", ["uint64", "address"], [meter, GATEWAY])),
        ]
    for sender, data in calls:
        result = execute_call(CONTRACTS, state, block, to=registry.ADDRESS, sender=sender, data=data, gas_limit=10**8)
        if not result.success:
            raise SystemExit(f"setup failed: {result.revert_reason}")
    return state


def bench_calls(state: DictState, calls: int, meters: int) -> float:
    selector = keccak(b"postReading(uint64,uint64,uint256,uint256)")[:4]
    payloads = []
    for i in range(calls):
        meter, step = i % meters + 1, i // meters + 1
        payloads.append(selector + eth_abi.encode(["uint64", "uint64", "uint256", "uint256"],
                                                  [meter, START + step * HALF_HOUR, 1_000_000 + step * 200, 0]))
    block = BlockInfo(2, START + (calls // meters + 2) * HALF_HOUR, bytes(20), 7)
    began = time.process_time()
    for data in payloads:
        result = execute_call(CONTRACTS, state, block, to=readings.ADDRESS, sender=GATEWAY, data=data,
                              gas_limit=1_000_000)
        if not result.success:
            raise SystemExit(f"reading failed: {result.revert_reason}")
    return calls / (time.process_time() - began)


def bench_contract_work(state: DictState, calls: int, meters: int) -> float:
    """The contract's own work per reading: decode the meter record, apply the rules, encode it again."""
    key = readings._meter_key(1)
    stored = state.data[(readings.ADDRESS, key)]
    now = START + (calls + 10) * HALF_HOUR
    began = time.process_time()
    for step in range(1, calls + 1):
        meter = readings.decode_meter_state(stored)
        meter, _, _, _ = readings.record_reading(meter, meter.last_start + HALF_HOUR, meter.import_wh + 200, 0, now,
                                                 {}, lambda month: None)
        stored = readings.encode_meter_state(meter)
    return calls / (time.process_time() - began)


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    meters = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000
    state = setup(meters)
    work = bench_contract_work(state, min(calls, 1_400), meters)
    print(f"contract work (record decode, rules, record encode): {work:,.0f} readings/s")
    rate = bench_calls(state, calls, meters)
    print(f"reading call: {rate:.0f} calls/s")


if __name__ == "__main__":
    main()
