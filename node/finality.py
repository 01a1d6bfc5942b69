"""Finality of a header from the validator set alone: what observers, gateways and auditors check."""

from __future__ import annotations

from node import rlp_fast

from consensus.seals import InvalidExtraData, SealError, verify_commit_seals
from consensus.validators import CastVote, InvalidVote, ValidatorSnapshot, apply_header_vote
from node.blocks import Header
from node.exceptions import InvalidBlock


def encode_snapshot(snapshot: ValidatorSnapshot) -> bytes:
    return rlp_fast.encode([list(snapshot.validators),
                       [[v.voter, v.candidate, 1 if v.add else 0] for v in snapshot.votes]])


def decode_snapshot(data: bytes) -> ValidatorSnapshot:
    validators, votes = rlp_fast.decode(data)
    return ValidatorSnapshot(tuple(validators),
                             tuple(CastVote(v[0], v[1], v[2] == b"\x01") for v in votes))


def check_final(header: Header, snapshot: ValidatorSnapshot) -> None:
    """Raise InvalidBlock unless `header` carries a quorum of commit seals by the validators of its height."""
    try:
        extra = header.bft
    except InvalidExtraData as exc:
        raise InvalidBlock(f"block {header.number}: bad extra data: {exc}") from exc
    if extra.validators != snapshot.validators:
        raise InvalidBlock(f"block {header.number}: header lists validators other than the chain's")
    if header.proposer not in snapshot.validators:
        raise InvalidBlock(f"block {header.number}: proposer 0x{header.proposer.hex()} is not a validator")
    try:
        verify_commit_seals(header.hash, extra.round, extra.commit_seals, snapshot.validators)
    except SealError as exc:
        raise InvalidBlock(f"block {header.number}: {exc}") from exc


def snapshot_after(header: Header, snapshot: ValidatorSnapshot) -> ValidatorSnapshot:
    """The validator set of the next height, once this header's vote is counted."""
    try:
        return apply_header_vote(snapshot, header.proposer, header.bft.vote)
    except InvalidVote as exc:
        raise InvalidBlock(f"block {header.number}: {exc}") from exc
