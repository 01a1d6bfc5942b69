"""The genesis file: chain parameters, validators, participants with roles, initial balances."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from contracts_py.participants import ROLE_BY_NAME


class GenesisError(ValueError):
    """A genesis file that is malformed or inconsistent; the message names the field."""


@dataclass(frozen=True)
class Participant:
    address: bytes
    name: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Genesis:
    chain_id: int
    timestamp: int
    validators: tuple[bytes, ...]
    """Addresses of the initial validators (sorted)."""
    observers: tuple[bytes, ...]
    """Non-validator nodes allowed to connect."""
    block_period_ms: int
    """Time between blocks while transactions are waiting."""
    empty_block_period_s: int
    """Longest time without a block when nothing is waiting."""
    gas_limit: int
    participants: tuple[Participant, ...]
    rub_balances: tuple[tuple[bytes, int], ...]
    """Initial ruble balances in kopecks."""
    native_balances: tuple[tuple[bytes, int], ...] = field(default=())
    utc_offset_minutes: int = 180
    """Local time of the market (Europe/Moscow); billing zones are in local time."""

    def to_json(self) -> dict:
        return {
            "chainId": self.chain_id,
            "timestamp": self.timestamp,
            "validators": [_hex(a) for a in self.validators],
            "observers": [_hex(a) for a in self.observers],
            "blockPeriodMs": self.block_period_ms,
            "emptyBlockPeriodS": self.empty_block_period_s,
            "gasLimit": self.gas_limit,
            "utcOffsetMinutes": self.utc_offset_minutes,
            "participants": [{"address": _hex(p.address), "name": p.name, "roles": list(p.roles)}
                             for p in self.participants],
            "rubBalances": {_hex(a): v for a, v in self.rub_balances},
            "nativeBalances": {_hex(a): v for a, v in self.native_balances},
        }

    def encode(self) -> bytes:
        return json.dumps(self.to_json(), indent=2, sort_keys=True).encode()


def _hex(address: bytes) -> str:
    return "0x" + address.hex()


def _address(value: object, where: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) != 42:
        raise GenesisError(f"{where}: expected a 0x-prefixed 20-byte hex address, got {value!r}")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise GenesisError(f"{where}: {value!r} is not hex") from None


def _int(document: dict, key: str, minimum: int = 0) -> int:
    value = document.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise GenesisError(f"{key}: expected an integer >= {minimum}, got {value!r}")
    return value


def parse_genesis(data: bytes | str) -> Genesis:
    try:
        document = json.loads(data)
    except json.JSONDecodeError as exc:
        raise GenesisError(f"genesis is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise GenesisError("genesis must be a JSON object")
    validators = tuple(sorted(_address(v, "validators") for v in document.get("validators", [])))
    if not validators:
        raise GenesisError("validators: at least one validator is required")
    if len(set(validators)) != len(validators):
        raise GenesisError("validators: duplicate address")
    participants = []
    for i, entry in enumerate(document.get("participants", [])):
        roles = tuple(entry.get("roles", []))
        unknown = [r for r in roles if r not in ROLE_BY_NAME]
        if unknown:
            raise GenesisError(f"participants[{i}].roles: unknown {unknown}; known: {sorted(ROLE_BY_NAME)}")
        participants.append(Participant(_address(entry.get("address"), f"participants[{i}].address"),
                                        str(entry.get("name", "")), roles))
    balances = document.get("rubBalances", {})
    natives = document.get("nativeBalances", {})
    if not isinstance(balances, dict) or not isinstance(natives, dict):
        raise GenesisError("rubBalances and nativeBalances must be objects of address -> integer")
    for where, table in (("rubBalances", balances), ("nativeBalances", natives)):
        for address, amount in table.items():
            if not isinstance(amount, int) or amount < 0:
                raise GenesisError(f"{where}[{address}]: expected a non-negative integer")
    return Genesis(
        chain_id=_int(document, "chainId", 1),
        timestamp=_int(document, "timestamp"),
        validators=validators,
        observers=tuple(sorted(_address(v, "observers") for v in document.get("observers", []))),
        block_period_ms=_int(document, "blockPeriodMs", 1),
        empty_block_period_s=_int(document, "emptyBlockPeriodS", 1),
        gas_limit=_int(document, "gasLimit", 21_000),
        participants=tuple(participants),
        rub_balances=tuple(sorted((_address(a, "rubBalances"), v) for a, v in balances.items())),
        native_balances=tuple(sorted((_address(a, "nativeBalances"), v) for a, v in natives.items())),
        utc_offset_minutes=document.get("utcOffsetMinutes", 180),
    )


def load_genesis(path: Path) -> Genesis:
    try:
        return parse_genesis(Path(path).read_bytes())
    except OSError as exc:
        raise GenesisError(f"cannot read {path}: {exc.strerror}") from exc
