"""Decoding and validating signed transactions: every malformed or foreign input gets a precise error."""

import os

import pytest
import rlp
from eth_account import Account

from node.exceptions import (
    GasLimitExceeded,
    IntrinsicGasTooLow,
    InvalidTransaction,
    TransactionTooLarge,
    UnsupportedTransactionType,
    WrongChainId,
)
from node.crypto import private_key_to_address
from node.transactions import decode_transaction, sign_fee_market_transaction

CHAIN = 7700
KEY = os.urandom(32)
TO = bytes.fromhex("000000000000000000000000000000000000e002")


def signed(**overrides):
    fields = dict(chain_id=CHAIN, nonce=3, to=TO, data=b"\x01\x02", gas=100_000)
    fields.update(overrides)
    return sign_fee_market_transaction(KEY, **fields)


def test_eip1559_round_trip_recovers_sender_and_matches_eth_account():
    raw = signed()
    tx = decode_transaction(raw, CHAIN)
    assert tx.sender == private_key_to_address(KEY) and tx.nonce == 3 and tx.to == TO
    account_raw = Account.sign_transaction({"type": 2, "chainId": CHAIN, "nonce": 3, "to": "0x" + TO.hex(),
                                            "data": "0x0102", "gas": 100_000, "maxFeePerGas": 0,
                                            "maxPriorityFeePerGas": 0, "value": 0}, KEY).raw_transaction
    assert bytes(account_raw) == raw


def test_legacy_eip155_is_accepted_and_unprotected_legacy_refused():
    protected = Account.sign_transaction({"chainId": CHAIN, "nonce": 0, "to": "0x" + TO.hex(), "data": "0x01",
                                          "gas": 60_000, "gasPrice": 0, "value": 0}, KEY).raw_transaction
    assert decode_transaction(bytes(protected), CHAIN).sender == private_key_to_address(KEY)
    unprotected = Account.sign_transaction({"nonce": 0, "to": "0x" + TO.hex(), "data": "0x01", "gas": 60_000,
                                            "gasPrice": 0, "value": 0}, KEY).raw_transaction
    with pytest.raises(WrongChainId, match="EIP-155"):
        decode_transaction(bytes(unprotected), CHAIN)


@pytest.mark.parametrize("raw, error, message", [
    (b"", InvalidTransaction, "empty"),
    (b"\x02\xc2\x01\x02", InvalidTransaction, "12 fields"),
    (b"\x02\xff\xff", InvalidTransaction, "malformed RLP"),
    (b"\x01" + rlp.encode([1, 2]), UnsupportedTransactionType, "type 1"),
    (b"\xf8\x01", InvalidTransaction, "malformed RLP"),
])
def test_malformed_bytes_are_refused_with_a_reason(raw, error, message):
    with pytest.raises(error, match=message):
        decode_transaction(raw, CHAIN)


def test_wrong_chain_bad_signature_size_and_gas_are_refused():
    with pytest.raises(WrongChainId, match="chain id 1"):
        decode_transaction(signed(chain_id=1), CHAIN)
    fields = rlp.decode(signed()[1:])
    fields[10] = (int.from_bytes(fields[10], "big") ^ 1).to_bytes(32, "big")  # corrupt r
    tampered = b"\x02" + rlp.encode(fields)
    try:
        tx = decode_transaction(tampered, CHAIN)
    except InvalidTransaction as exc:
        assert "signature" in str(exc)
    else:
        assert tx.sender != private_key_to_address(KEY)
    with pytest.raises(TransactionTooLarge):
        decode_transaction(signed(data=b"\x01" * (130 * 1024), gas=10**8), CHAIN)
    with pytest.raises(IntrinsicGasTooLow):
        decode_transaction(signed(gas=21_000), CHAIN)
    with pytest.raises(GasLimitExceeded):
        decode_transaction(signed(gas=10**9), CHAIN, block_gas_limit=10**6)
    with pytest.raises(UnsupportedTransactionType, match="contract creation"):
        decode_transaction(b"\x02" + rlp.encode([CHAIN, 0, 0, 0, 100_000, b"", 0, b"", [], 0, 1, 1]), CHAIN)


def test_leading_zeros_in_integers_are_refused():
    fields = rlp.decode(signed()[1:])
    fields[1] = b"\x00\x03"
    with pytest.raises(InvalidTransaction, match="leading zero"):
        decode_transaction(b"\x02" + rlp.encode(fields), CHAIN)
