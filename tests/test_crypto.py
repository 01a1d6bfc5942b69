import os

import pytest

from node.crypto import (
    InvalidSignature,
    keccak256,
    private_key_to_address,
    recover_from_bytes,
    sign_recoverable_bytes,
)


def test_keccak_matches_ethereum_empty_hash():
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


def test_signature_recovers_signer():
    key = os.urandom(32)
    digest = keccak256(b"reading")
    assert recover_from_bytes(digest, sign_recoverable_bytes(key, digest)) == private_key_to_address(key)


def test_high_s_signature_is_rejected():
    key = os.urandom(32)
    digest = keccak256(b"reading")
    sig = sign_recoverable_bytes(key, digest)
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    high_s = (n - int.from_bytes(sig[32:64], "big")).to_bytes(32, "big")
    with pytest.raises(InvalidSignature):
        recover_from_bytes(digest, sig[:32] + high_s + bytes([sig[64] ^ 1]))


def test_wrong_length_signature_is_rejected():
    with pytest.raises(InvalidSignature):
        recover_from_bytes(keccak256(b""), b"\x00" * 64)
