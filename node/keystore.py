"""Keys live only in Ethereum V3 keystores (eth-keyfile), decrypted with a password read from a file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import eth_keyfile

from node.crypto import private_key_to_address

SCRYPT_N = 1 << 14
"""scrypt cost: geth's "light" setting is 4096; 16384 keeps unlocking under a second on a Raspberry Pi."""


class KeystoreError(ValueError):
    """A keystore that cannot be read or decrypted."""


def write_keystore(path: Path, private_key: bytes, password: bytes) -> bytes:
    """Encrypt a key into a V3 keystore file (mode 0600); returns its address."""
    document = eth_keyfile.create_keyfile_json(private_key, password, kdf="scrypt", iterations=SCRYPT_N)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(document, handle)
    return private_key_to_address(private_key)


def read_password(path: Path) -> bytes:
    try:
        return Path(path).read_bytes().rstrip(b"\r\n")
    except OSError as exc:
        raise KeystoreError(f"cannot read password file {path}: {exc.strerror}") from exc


def load_keystore(path: Path, password: bytes) -> bytes:
    """The private key in a V3 keystore; KeystoreError with the reason otherwise."""
    try:
        document = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise KeystoreError(f"cannot read keystore {path}: {exc}") from exc
    try:
        return bytes(eth_keyfile.decode_keyfile_json(document, password))
    except ValueError as exc:
        raise KeystoreError(f"cannot decrypt {path}: {exc}") from exc


def keystore_address(path: Path) -> bytes:
    """The address a keystore declares, without decrypting it."""
    try:
        return bytes.fromhex(json.loads(Path(path).read_text())["address"].removeprefix("0x"))
    except (OSError, json.JSONDecodeError, KeyError, ValueError) as exc:
        raise KeystoreError(f"keystore {path} has no readable address: {exc}") from exc
