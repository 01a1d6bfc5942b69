"""Enrolling a gateway on the chain, done by the grid company with its own key:

1. `grantRole(gateway, "gateway")` in the participant registry;
2. per meter: `saveMeteringPoint` (point id = meter id unless given) and `registerInstalledMeter` with the
   meter's registers at the end of its installation half hour;
3. `bindGateway(meterId, gateway)`.

`send_calls` signs them with consecutive nonces and waits for each receipt (a revert stops with its reason).
A meter the registry already knows is only bound.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import eth_abi

from contracts_py import participants, registry
from meter_io.gateway.nodes import NodePool, NodeRejected
from node.crypto import keccak256, private_key_to_address
from node.transactions import sign_fee_market_transaction


class EnrollError(RuntimeError):
    """A registration transaction failed or was not mined in time."""


@dataclass(frozen=True)
class Call:
    to: bytes
    signature: str
    types: tuple[str, ...]
    args: tuple

    @property
    def data(self) -> bytes:
        return keccak256(self.signature.encode())[:4] + eth_abi.encode(list(self.types), list(self.args))


@dataclass(frozen=True)
class MeterEnrollment:
    meter_id: int
    serial: str
    model: str
    installation_address: str
    import_wh: int
    """A+ register at the end of the half hour starting `installed_at`."""
    export_wh: int
    installed_at: int = 0
    """Start of the installation half hour (aligned, in the past); 0 = the last whole half hour."""
    account_number: int = 0
    point_id: int = 0
    """0: the meter id is used as the metering point id."""
    max_power_w: int = 15_000
    utc_offset_s: int = 3 * 3600


def grant_gateway_role(gateway: bytes) -> Call:
    return Call(participants.ADDRESS, "grantRole(address,string)", ("address", "string"), (gateway, "gateway"))


def register_meter(meter: MeterEnrollment) -> list[Call]:
    point = meter.point_id or meter.meter_id
    return [
        Call(registry.ADDRESS, "saveMeteringPoint(uint64,uint64,string,string)",
             ("uint64", "uint64", "string", "string"),
             (point, meter.account_number, meter.installation_address, f"meter {meter.serial}")),
        Call(registry.ADDRESS, "registerInstalledMeter(uint64,uint64,string,string,string,uint8,bool,bool,uint64,"
                               "uint32,uint256,uint256,uint64)",
             ("uint64", "uint64", "string", "string", "string", "uint8", "bool", "bool", "uint64", "uint32",
              "uint256", "uint256", "uint64"),
             (meter.meter_id, point, meter.model, meter.serial, meter.installation_address, 1, True, False,
              meter.max_power_w, meter.utc_offset_s, meter.import_wh, meter.export_wh, meter.installed_at)),
    ]


def bind_gateway(meter_id: int, gateway: bytes) -> Call:
    return Call(registry.ADDRESS, "bindGateway(uint64,address)", ("uint64", "address"), (meter_id, gateway))


def meter_registered(pool: NodePool, meter_id: int) -> bool:
    """Whether the registry knows the meter (its `meter` view does not revert)."""
    call = Call(registry.ADDRESS, "meter(uint64)", ("uint64",), (meter_id,))
    try:
        pool.call("eth_call", {"to": "0x" + call.to.hex(), "data": "0x" + call.data.hex()}, "latest",
                  rejected_is_final=True)
        return True
    except NodeRejected:
        return False


def send_calls(pool: NodePool, private_key: bytes, chain_id: int, calls: list[Call], timeout: float = 60.0) -> int:
    """Sign and send `calls` in order from `private_key`'s account and wait until every one is mined.

    Returns the number of the block of the last one; EnrollError names the first call that reverted."""
    sender = "0x" + private_key_to_address(private_key).hex()
    nonce = pool.call("eth_getTransactionCount", sender, "pending", check=lambda v: int(v, 16))
    hashes = []
    for offset, call in enumerate(calls):
        raw = sign_fee_market_transaction(private_key, chain_id=chain_id, nonce=nonce + offset, to=call.to,
                                          data=call.data, gas=2_000_000)
        hashes.append((call, pool.call("eth_sendRawTransaction", "0x" + raw.hex(), rejected_is_final=True)))
    deadline = time.monotonic() + timeout
    block = 0
    for call, tx_hash in hashes:
        while (receipt := pool.call("eth_getTransactionReceipt", tx_hash)) is None:
            if time.monotonic() > deadline:
                raise EnrollError(f"{call.signature} ({tx_hash}) not mined in {timeout:.0f} s")
            time.sleep(0.1)
        if int(receipt["status"], 16) != 1:
            reason = _revert_reason(pool, sender, call, int(receipt["blockNumber"], 16) - 1)
            raise EnrollError(f"{call.signature} with {call.args} reverted: {reason}")
        block = int(receipt["blockNumber"], 16)
    return block


def _revert_reason(pool: NodePool, sender: str, call: Call, block: int) -> str:
    try:
        pool.call("eth_call", {"from": sender, "to": "0x" + call.to.hex(), "data": "0x" + call.data.hex()},
                  hex(block), rejected_is_final=True)
    except NodeRejected as exc:
        return exc.message
    return "unknown reason"
