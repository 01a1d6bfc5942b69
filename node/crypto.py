"""Hashing, keys and recoverable secp256k1 signatures (coincurve), Ethereum-style."""

from __future__ import annotations

from coincurve import PrivateKey, PublicKey
from sha3 import keccak_256

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SECP256K1_HALF_N = SECP256K1_N // 2


class InvalidSignature(ValueError):
    """A signature that does not recover to a public key, or is not in canonical (low-s) form."""


def keccak256(data: bytes) -> bytes:
    """Keccak-256 as Ethereum uses it: pysha3's C implementation called directly, as eth-hash's dispatch layer
    costs as much again as the hash of a trie node, and a block hashes tens of thousands of them."""
    return keccak_256(data).digest()


def public_key_to_address(public_key: PublicKey) -> bytes:
    """The 20-byte Ethereum address of an uncompressed public key."""
    return keccak256(public_key.format(compressed=False)[1:])[12:]


def private_key_to_address(private_key: bytes) -> bytes:
    """The 20-byte address belonging to a 32-byte private key."""
    return public_key_to_address(PrivateKey(private_key).public_key)


def sign_hash(private_key: bytes, message_hash: bytes) -> tuple[int, int, int]:
    """Sign a 32-byte hash; returns (y_parity, r, s) with low s."""
    signature = PrivateKey(private_key).sign_recoverable(message_hash, hasher=None)
    r = int.from_bytes(signature[0:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    return signature[64], r, s


def recover_address(message_hash: bytes, y_parity: int, r: int, s: int) -> bytes:
    """The address that signed `message_hash`; raises InvalidSignature."""
    if y_parity not in (0, 1):
        raise InvalidSignature(f"y parity must be 0 or 1, got {y_parity}")
    if not (0 < r < SECP256K1_N):
        raise InvalidSignature("r out of range")
    if not (0 < s <= SECP256K1_HALF_N):
        raise InvalidSignature("s out of range or not low-s")
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([y_parity])
    try:
        public_key = PublicKey.from_signature_and_message(signature, message_hash, hasher=None)
    except Exception as exc:  # coincurve raises a bare Exception for unrecoverable signatures
        raise InvalidSignature(f"signature does not recover: {exc}") from exc
    return public_key_to_address(public_key)


def sign_recoverable_bytes(private_key: bytes, message_hash: bytes) -> bytes:
    """A 65-byte r || s || v(0/1) signature, the form used in commit seals and network messages."""
    y_parity, r, s = sign_hash(private_key, message_hash)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([y_parity])


def recover_from_bytes(message_hash: bytes, signature: bytes) -> bytes:
    """The address that made a 65-byte r || s || v signature; raises InvalidSignature."""
    if len(signature) != 65:
        raise InvalidSignature(f"signature must be 65 bytes, got {len(signature)}")
    return recover_address(
        message_hash,
        signature[64],
        int.from_bytes(signature[0:32], "big"),
        int.from_bytes(signature[32:64], "big"),
    )
