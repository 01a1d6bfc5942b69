"""The header's BFT extra data and its commit seals: what makes a block final for anyone who checks.

A commit seal is a validator's signature over the block hash and the round it committed in. The block hash is taken
over the header whose extra data has round 0 and no seals (`BftExtraData.for_block_hash`), so it is the same in every
round and on every node, whichever seals each node happened to collect. A block is final when it carries seals from a
quorum of distinct validators of its height: `verify_commit_seals` checks that from the header and the validator set.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import rlp

from consensus.rlp_fields import MalformedField, read_bytes, read_int, read_list
from consensus.validators import ADDRESS_LENGTH, Vote, quorum
from node.crypto import InvalidSignature, keccak256, recover_from_bytes, sign_recoverable_bytes

VANITY_LENGTH = 32
SEAL_LENGTH = 65
HASH_LENGTH = 32
MAX_VALIDATORS = 1024
COMMIT_SEAL_DOMAIN = b"qbft-commit-seal"


class SealError(ValueError):
    """Commit seals that do not prove a block final."""


class InvalidSeal(SealError):
    """A seal that is malformed or does not recover to a signer."""


class DuplicateSeal(SealError):
    """Two seals by the same validator: each validator counts once."""


class NonValidatorSeal(SealError):
    """A seal by an address outside the validator set of the block's height."""


class InsufficientSeals(SealError):
    """Fewer distinct validator seals than the quorum."""


class InvalidExtraData(ValueError):
    """Extra data bytes that do not decode into `BftExtraData`."""


@dataclass(frozen=True)
class BftExtraData:
    """The consensus part of a block header, RLP-encoded into its extra data field."""

    vanity: bytes
    """32 bytes free for the proposer (client version, say); not interpreted."""
    validators: tuple[bytes, ...]
    """The validator set of this block's height, sorted."""
    vote: Vote | None
    """The proposer's vote on the validator set, if any."""
    round: int
    """The round the block was committed in; 0 in the form hashed for the block hash."""
    commit_seals: tuple[bytes, ...]
    """65-byte signatures of a quorum of validators over (block hash, round)."""

    def encode(self) -> bytes:
        """RLP: [vanity, [validators], [] or [candidate, add], round, [seals]]."""
        vote = [] if self.vote is None else [self.vote.candidate, 1 if self.vote.add else 0]
        return rlp.encode([self.vanity, list(self.validators), vote, self.round, list(self.commit_seals)])

    @classmethod
    def decode(cls, data: bytes) -> BftExtraData:
        """Parse extra data; raises InvalidExtraData on anything malformed."""
        try:
            fields = read_list(rlp.decode(data), "extra data", 5, exact=5)
            vanity = read_bytes(fields[0], "vanity", VANITY_LENGTH)
            validators = tuple(
                read_bytes(item, "validator", ADDRESS_LENGTH)
                for item in read_list(fields[1], "validators", MAX_VALIDATORS)
            )
            vote_fields = read_list(fields[2], "vote", 2)
            vote = None
            if vote_fields:
                read_list(vote_fields, "vote", 2, exact=2)
                add = read_int(vote_fields[1], "vote direction")
                if add > 1:
                    raise MalformedField(f"vote direction must be 0 or 1, got {add}")
                vote = Vote(read_bytes(vote_fields[0], "candidate", ADDRESS_LENGTH), add == 1)
            round_number = read_int(fields[3], "round")
            seals = tuple(
                read_bytes(item, "commit seal", SEAL_LENGTH)
                for item in read_list(fields[4], "commit seals", MAX_VALIDATORS)
            )
        except (rlp.exceptions.DecodingError, MalformedField) as exc:
            raise InvalidExtraData(str(exc)) from exc
        return cls(vanity, validators, vote, round_number, seals)

    def for_block_hash(self) -> BftExtraData:
        """The form hashed into the block hash: round 0 and no seals, so the hash is stable across rounds."""
        return replace(self, round=0, commit_seals=())


def commit_seal_hash(block_hash: bytes, round_number: int) -> bytes:
    """What a commit seal signs: keccak256(b"qbft-commit-seal" + block hash + round as 8 bytes big-endian)."""
    if len(block_hash) != HASH_LENGTH:
        raise InvalidSeal(f"block hash must be {HASH_LENGTH} bytes, got {len(block_hash)}")
    return keccak256(COMMIT_SEAL_DOMAIN + block_hash + round_number.to_bytes(8, "big"))


def sign_commit_seal(private_key: bytes, block_hash: bytes, round_number: int) -> bytes:
    """A validator's 65-byte commit seal for `block_hash` committed in `round_number`."""
    return sign_recoverable_bytes(private_key, commit_seal_hash(block_hash, round_number))


@lru_cache(maxsize=4096)
def recover_seal_signer(block_hash: bytes, round_number: int, seal: bytes) -> bytes:
    """The address that made `seal`; raises InvalidSeal.

    Cached: a node checks each seal when the COMMIT arrives and again in the decided header.
    """
    try:
        return recover_from_bytes(commit_seal_hash(block_hash, round_number), seal)
    except InvalidSignature as exc:
        raise InvalidSeal(str(exc)) from exc


def verify_commit_seals(
    block_hash: bytes, round_number: int, seals: tuple[bytes, ...], validators: tuple[bytes, ...]
) -> tuple[bytes, ...]:
    """The signers of `seals`, in seal order, once they prove the block final; raises a SealError otherwise.

    Every seal must recover to a distinct member of `validators` (the set of the block's height, which the checker
    takes from its trusted chain, not from the header under check), and there must be at least a quorum of them.
    """
    members = set(validators)
    signers: list[bytes] = []
    for seal in seals:
        signer = recover_seal_signer(block_hash, round_number, seal)
        if signer not in members:
            raise NonValidatorSeal(f"seal by {signer.hex()}, not a validator")
        if signer in signers:
            raise DuplicateSeal(f"two seals by {signer.hex()}")
        signers.append(signer)
    needed = quorum(len(members))
    if len(signers) < needed:
        raise InsufficientSeals(f"{len(signers)} seals, {needed} needed of {len(members)} validators")
    return tuple(signers)
