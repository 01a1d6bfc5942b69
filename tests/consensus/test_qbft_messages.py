import pytest
import rlp

from consensus.messages import (
    MAX_MESSAGE_BYTES,
    Commit,
    InvalidMessage,
    Message,
    MessageKind,
    Prepare,
    PreparedRound,
    Proposal,
    RoundChange,
    decode_message,
    encode_message,
    make_commit,
    make_prepare,
    make_proposal,
    make_round_change,
    sign,
)
from consensus.seals import recover_seal_signer
from node.crypto import private_key_to_address

KEYS = [bytes([index + 1]) * 32 for index in range(4)]
ADDRESSES = [private_key_to_address(key) for key in KEYS]
HASH = b"\x11" * 32


def roundtrip(message: Message) -> Message:
    decoded = decode_message(encode_message(message))
    assert decoded == message
    return decoded


def test_prepare_roundtrips_and_recovers_its_sender():
    decoded = roundtrip(make_prepare(KEYS[1], 7, 2, HASH))
    assert decoded.body == Prepare(7, 2, HASH)
    assert decoded.sender == ADDRESSES[1]
    assert decoded.kind == MessageKind.PREPARE


def test_commit_carries_a_seal_by_its_sender():
    decoded = roundtrip(make_commit(KEYS[2], 7, 0, HASH))
    assert isinstance(decoded.body, Commit)
    assert recover_seal_signer(HASH, 0, decoded.body.commit_seal) == ADDRESSES[2]


def test_round_change_without_and_with_a_prepared_block():
    plain = roundtrip(make_round_change(KEYS[0], 3, 1))
    assert plain.body == RoundChange(3, 1, None)
    prepares = tuple(make_prepare(key, 3, 0, HASH).signed for key in KEYS[:3])
    prepared = roundtrip(make_round_change(KEYS[0], 3, 1, PreparedRound(0, HASH), b"block", prepares))
    assert prepared.body.prepared == PreparedRound(0, HASH)
    assert [entry.sender for entry in prepared.prepares] == ADDRESSES[:3]


def test_proposal_with_justification_roundtrips():
    round_changes = tuple(make_round_change(key, 3, 2).signed for key in KEYS[:3])
    decoded = roundtrip(make_proposal(KEYS[1], 3, 2, HASH, b"block", round_changes))
    assert decoded.body == Proposal(3, 2, HASH)
    assert decoded.block == b"block"
    assert [entry.sender for entry in decoded.round_changes] == ADDRESSES[:3]


def test_round_zero_is_distinct_from_no_prepared_round():
    decoded = roundtrip(make_round_change(KEYS[0], 1, 1, PreparedRound(0, HASH), b"block"))
    assert decoded.body.prepared == PreparedRound(0, HASH)


def test_tampered_body_recovers_another_sender():
    encoded = bytearray(encode_message(make_prepare(KEYS[0], 7, 2, HASH)))
    encoded[encoded.index(HASH)] ^= 1
    decoded = decode_message(bytes(encoded))
    assert decoded.sender != ADDRESSES[0]


def test_signature_depends_on_every_field():
    assert sign(KEYS[0], Prepare(1, 0, HASH)).signature != sign(KEYS[0], Prepare(1, 1, HASH)).signature
    assert sign(KEYS[0], Prepare(1, 0, HASH)).signature != sign(KEYS[0], Proposal(1, 0, HASH)).signature


def test_oversized_message_is_refused_before_decoding():
    with pytest.raises(InvalidMessage, match="exceeds"):
        decode_message(b"\x00" * (MAX_MESSAGE_BYTES + 1))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\x00",
        rlp.encode(b"not a list"),
        rlp.encode([b"a", b"b", [], []]),
        rlp.encode([[[9, 1, 0, HASH], b"\x00" * 65], b"", [], []]),  # unknown kind
        rlp.encode([[[b"\x01", b"\x00\x01", b"", HASH], b"\x00" * 65], b"", [], []]),  # leading zero
        rlp.encode([[[1, 1, 0, HASH[:31]], b"\x00" * 65], b"", [], []]),  # short hash
        rlp.encode([[[1, 1, 0, HASH], b"\x00" * 64], b"", [], []]),  # short signature
        rlp.encode([[[1, 1, 0, HASH], b"\x00" * 65], b"", [], []]),  # unrecoverable signature
    ],
)
def test_malformed_bytes_raise_invalid_message(data):
    with pytest.raises(InvalidMessage):
        decode_message(data)


def test_trailing_bytes_are_malformed():
    with pytest.raises(InvalidMessage):
        decode_message(encode_message(make_prepare(KEYS[0], 1, 0, HASH)) + b"\x00")


def test_prepare_carrying_a_block_is_refused():
    prepare = make_prepare(KEYS[0], 1, 0, HASH)
    with pytest.raises(InvalidMessage, match="carries"):
        decode_message(encode_message(Message(prepare.signed, block=b"extra")))


def test_proposal_without_block_is_refused():
    proposal = make_proposal(KEYS[0], 1, 0, HASH, b"x")
    with pytest.raises(InvalidMessage, match="no block"):
        decode_message(encode_message(Message(proposal.signed)))


def test_round_change_reporting_a_prepared_round_must_carry_the_block():
    round_change = make_round_change(KEYS[0], 1, 1, PreparedRound(0, HASH), b"x")
    with pytest.raises(InvalidMessage, match="no block"):
        decode_message(encode_message(Message(round_change.signed)))


def test_certificate_entries_must_have_the_right_kind():
    wrong = (make_prepare(KEYS[1], 1, 1, HASH).signed,)
    proposal = make_proposal(KEYS[0], 1, 1, HASH, b"x", round_changes=wrong)
    with pytest.raises(InvalidMessage, match="RoundChange"):
        decode_message(encode_message(proposal))
