"""`energy-node genesis new`: a fresh network with keys for validators, participants and a funded faucet."""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from genesis.config import Genesis, Participant
from node.keystore import write_keystore

FAUCET_KOPECKS = 100_000_000_00
"""One hundred million rubles for the faucet of a development network."""


@dataclass(frozen=True)
class GeneratedKey:
    name: str
    address: bytes
    keystore: Path


def _participant_keys(validators: int) -> list[tuple[str, tuple[str, ...]]]:
    named = [(f"validator-{i + 1}", ("validator",)) for i in range(validators)]
    return named + [
        ("grid-company", ("grid_company", "admin")),
        ("retailer-1", ("retailer",)),
        ("retailer-2", ("retailer",)),
        ("bank", ("issuer",)),
        ("auditor", ("auditor",)),
        ("faucet", ()),
    ]


def new_network(validators: int, out_dir: Path, *, chain_id: int = 7_7_0_0, observers: int = 0,
                block_period_ms: int = 1000, empty_block_period_s: int = 30) -> tuple[Genesis, list[GeneratedKey]]:
    """Write out_dir/genesis.json, out_dir/keys/*.json (V3 keystores) and out_dir/password."""
    if validators < 1:
        raise ValueError("a network needs at least one validator")
    out_dir.mkdir(parents=True, exist_ok=True)
    password_path = out_dir / "password"
    if not password_path.exists():
        fd = os.open(password_path, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(24) + "\n")
    password = password_path.read_bytes().rstrip(b"\r\n")
    keys: list[GeneratedKey] = []
    names = _participant_keys(validators) + [(f"observer-{i + 1}", ()) for i in range(observers)]
    participants = []
    for name, roles in names:
        private_key = secrets.token_bytes(32)
        path = out_dir / "keys" / f"{name}.json"
        address = write_keystore(path, private_key, password)
        keys.append(GeneratedKey(name, address, path))
        if roles:
            participants.append(Participant(address, name, roles))
    by_name = {key.name: key.address for key in keys}
    genesis = Genesis(
        chain_id=chain_id,
        timestamp=int(time.time()),
        validators=tuple(sorted(by_name[f"validator-{i + 1}"] for i in range(validators))),
        observers=tuple(sorted(by_name[f"observer-{i + 1}"] for i in range(observers))),
        block_period_ms=block_period_ms,
        empty_block_period_s=empty_block_period_s,
        gas_limit=1_000_000_000,
        participants=tuple(participants),
        rub_balances=((by_name["faucet"], FAUCET_KOPECKS),),
    )
    (out_dir / "genesis.json").write_bytes(genesis.encode())
    return genesis, keys


def address_hex(address: bytes) -> str:
    return "0x" + address.hex()

