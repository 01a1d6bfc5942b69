"""The native contracts of the chain: one mapping address -> contract, like Ethereum's precompiles."""

from __future__ import annotations

from types import MappingProxyType

from contracts_py import participants, ruble
from contracts_py import notary, readings, registry
from contracts_py import invoices, payments, tariffs
from contracts_py import demand_response, green, prosumer
from contracts_py.runtime import NativeContract

CONTRACTS: MappingProxyType[bytes, NativeContract] = MappingProxyType({
    participants.ADDRESS: participants.ParticipantRegistry(),
    ruble.ADDRESS: ruble.RubleToken(),
    registry.ADDRESS: registry.Registry(),
    readings.ADDRESS: readings.Readings(),
    notary.ADDRESS: notary.Notary(),
    tariffs.ADDRESS: tariffs.Tariffs(),
    invoices.ADDRESS: invoices.Invoices(),
    payments.ADDRESS: payments.Payments(),
    green.ADDRESS: green.GreenCertificates(),
    demand_response.ADDRESS: demand_response.DemandResponse(),
    prosumer.ADDRESS: prosumer.ProsumerSettlement(),
})
"""Every native contract by address. A new contract is added here and nowhere else."""

CODE_MARKER_PREFIX = b"\xfe" + b"native:"
"""What eth_getCode returns for a native contract: INVALID opcode, then its name, so no EVM would run it."""


def contract_by_name(name: str) -> tuple[bytes, NativeContract]:
    """Find a contract by its NAME, case-insensitively; KeyError lists the names."""
    for address, contract in CONTRACTS.items():
        if contract.NAME.lower() == name.lower():
            return address, contract
    raise KeyError(f"no contract named {name!r}; contracts: {', '.join(c.NAME for c in CONTRACTS.values())}")


def code_marker(contract: NativeContract) -> bytes:
    return CODE_MARKER_PREFIX + contract.NAME.encode()
