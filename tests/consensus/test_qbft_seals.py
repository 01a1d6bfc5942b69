import pytest

from consensus.seals import (
    BftExtraData,
    DuplicateSeal,
    InsufficientSeals,
    InvalidExtraData,
    InvalidSeal,
    NonValidatorSeal,
    commit_seal_hash,
    sign_commit_seal,
    verify_commit_seals,
)
from consensus.validators import Vote, quorum
from node.crypto import keccak256, private_key_to_address

KEYS = [bytes([index + 1]) * 32 for index in range(4)]
VALIDATORS = tuple(sorted(private_key_to_address(key) for key in KEYS))
BLOCK_HASH = keccak256(b"block")


def seals_by(keys, round_number=1, block_hash=BLOCK_HASH):
    return tuple(sign_commit_seal(key, block_hash, round_number) for key in keys)


def test_quorum_is_ceiling_of_two_thirds():
    assert [quorum(n) for n in (1, 2, 3, 4, 5, 6, 7, 10)] == [1, 2, 2, 3, 4, 4, 5, 7]


def test_commit_seal_hash_follows_the_documented_formula():
    assert commit_seal_hash(BLOCK_HASH, 3) == keccak256(b"qbft-commit-seal" + BLOCK_HASH + (3).to_bytes(8, "big"))


def test_quorum_of_seals_verifies_and_names_signers():
    signers = verify_commit_seals(BLOCK_HASH, 1, seals_by(KEYS[:3]), VALIDATORS)
    assert signers == tuple(private_key_to_address(key) for key in KEYS[:3])


def test_too_few_seals_are_insufficient():
    with pytest.raises(InsufficientSeals):
        verify_commit_seals(BLOCK_HASH, 1, seals_by(KEYS[:2]), VALIDATORS)


def test_duplicate_signer_counts_once_and_is_refused():
    seals = seals_by(KEYS[:2])
    with pytest.raises(DuplicateSeal):
        verify_commit_seals(BLOCK_HASH, 1, seals + seals[:1], VALIDATORS)


def test_seal_by_outsider_is_refused():
    with pytest.raises(NonValidatorSeal):
        verify_commit_seals(BLOCK_HASH, 1, seals_by(KEYS[:2] + [b"\x09" * 32]), VALIDATORS)


def test_seal_for_another_round_does_not_count():
    seals = seals_by(KEYS[:2]) + seals_by(KEYS[2:3], round_number=0)
    with pytest.raises(NonValidatorSeal):
        verify_commit_seals(BLOCK_HASH, 1, seals, VALIDATORS)


def test_garbage_seal_is_invalid():
    with pytest.raises(InvalidSeal):
        verify_commit_seals(BLOCK_HASH, 1, seals_by(KEYS[:2]) + (b"\x00" * 65,), VALIDATORS)


def extra(vote=None, round_number=2, seals=()):
    return BftExtraData(b"\x00" * 32, VALIDATORS, vote, round_number, seals)


@pytest.mark.parametrize("vote", [None, Vote(b"\x05" * 20, True), Vote(b"\x05" * 20, False)])
def test_extra_data_roundtrips(vote):
    data = extra(vote, seals=seals_by(KEYS[:3]))
    assert BftExtraData.decode(data.encode()) == data


def test_hashed_form_has_round_zero_and_no_seals():
    data = extra(seals=seals_by(KEYS[:3]))
    assert data.for_block_hash() == extra(round_number=0)
    assert data.for_block_hash().encode() == extra(round_number=5).for_block_hash().encode()


@pytest.mark.parametrize(
    "data",
    [
        b"\xc0",
        b"junk",
        BftExtraData(b"\x00" * 31, VALIDATORS, None, 0, ()).encode(),
        BftExtraData(b"\x00" * 32, (b"\x01" * 19,), None, 0, ()).encode(),
        BftExtraData(b"\x00" * 32, VALIDATORS, None, 0, (b"\x01" * 64,)).encode(),
    ],
)
def test_malformed_extra_data_is_refused(data):
    with pytest.raises(InvalidExtraData):
        BftExtraData.decode(data)
