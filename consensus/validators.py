"""The validator set: proposer rotation, quorum, changes by vote, and signer metrics.

Validators change only by vote, Besu-style: each block's proposer may put one vote (add or remove a candidate) in the
block's extra data. `apply_header_vote` folds one block's vote into a `ValidatorSnapshot`; the snapshot after block N
is the validator set of block N+1, so a change takes effect at a block boundary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ADDRESS_LENGTH = 20


class InvalidVote(ValueError):
    """A vote that cannot be applied: cast by a non-validator, or a malformed address."""


@dataclass(frozen=True)
class Vote:
    """A proposer's vote carried in a block's extra data."""

    candidate: bytes
    """The 20-byte address to add to or remove from the validator set."""
    add: bool
    """True to add the candidate, False to remove it."""


@dataclass(frozen=True)
class CastVote:
    """One validator's standing vote on one candidate."""

    voter: bytes
    candidate: bytes
    add: bool


@dataclass(frozen=True)
class ValidatorSnapshot:
    """The validator set after some block, with the votes that have not yet reached a majority."""

    validators: tuple[bytes, ...]
    """Sorted, distinct 20-byte addresses."""
    votes: tuple[CastVote, ...] = ()
    """Standing votes, at most one per (voter, candidate), sorted by (candidate, voter)."""


def make_snapshot(validators: Iterable[bytes]) -> ValidatorSnapshot:
    """A snapshot with no standing votes (genesis), with the validators sorted and checked."""
    members = tuple(sorted(set(validators)))
    if not members:
        raise InvalidVote("a validator set cannot be empty")
    for address in members:
        _check_address(address)
    return ValidatorSnapshot(validators=members)


def quorum(validator_count: int) -> int:
    """Votes needed to prepare or commit: ceil(2n/3), which is 2f+1 when n = 3f+1."""
    return (2 * validator_count + 2) // 3


def max_faulty(validator_count: int) -> int:
    """f, the number of faulty validators that n = 3f+1 validators tolerate."""
    return (validator_count - 1) // 3


def proposer_for(validators: tuple[bytes, ...], height: int, round_number: int) -> bytes:
    """The proposer of (height, round): index (height + round) mod n over the sorted validator list."""
    ordered = sorted(validators)
    return ordered[(height + round_number) % len(ordered)]


def apply_header_vote(snapshot: ValidatorSnapshot, proposer: bytes, vote: Vote | None) -> ValidatorSnapshot:
    """The snapshot after one block whose proposer cast `vote` (or none).

    A voter's new vote on a candidate replaces its earlier one. Once more than half of the current validators vote
    the same way on a candidate, the change applies and every vote on that candidate is cleared; a removed validator's
    own standing votes are cleared too. A vote that would change nothing (adding a validator, removing a non-validator,
    removing the last validator) is ignored, so a stale vote can never invalidate a block.
    """
    if proposer not in snapshot.validators:
        raise InvalidVote(f"proposer {proposer.hex()} is not a validator")
    if vote is None:
        return snapshot
    _check_address(vote.candidate)
    is_member = vote.candidate in snapshot.validators
    if vote.add == is_member or (not vote.add and len(snapshot.validators) == 1):
        return snapshot
    others = [cast for cast in snapshot.votes if (cast.voter, cast.candidate) != (proposer, vote.candidate)]
    votes = others + [CastVote(voter=proposer, candidate=vote.candidate, add=vote.add)]
    in_favour = sum(
        1
        for cast in votes
        if cast.candidate == vote.candidate and cast.add == vote.add and cast.voter in snapshot.validators
    )
    if 2 * in_favour <= len(snapshot.validators):
        return ValidatorSnapshot(snapshot.validators, _sorted_votes(votes))
    if vote.add:
        validators = tuple(sorted(snapshot.validators + (vote.candidate,)))
    else:
        validators = tuple(address for address in snapshot.validators if address != vote.candidate)
    remaining = [cast for cast in votes if cast.candidate != vote.candidate and cast.voter in validators]
    return ValidatorSnapshot(validators, _sorted_votes(remaining))


def _sorted_votes(votes: list[CastVote]) -> tuple[CastVote, ...]:
    return tuple(sorted(votes, key=lambda cast: (cast.candidate, cast.voter)))


def _check_address(address: bytes) -> None:
    if not isinstance(address, bytes) or len(address) != ADDRESS_LENGTH:
        raise InvalidVote(f"an address must be {ADDRESS_LENGTH} bytes, got {address!r}")


@dataclass(frozen=True)
class SignerMetric:
    """What Besu's `qbft_getSignerMetrics` reports for one validator over a range of blocks."""

    address: bytes
    proposed_block_count: int
    last_proposed_block_number: int | None
    """None when the validator proposed no block in the range."""


def signer_metrics(proposed: Iterable[tuple[int, bytes]], validators: Iterable[bytes] = ()) -> tuple[SignerMetric, ...]:
    """Blocks proposed and the last one proposed, per address, from (block number, proposer) pairs.

    Addresses in `validators` that proposed nothing are listed with a count of zero. Sorted by address.
    """
    counts: dict[bytes, int] = {address: 0 for address in validators}
    last: dict[bytes, int] = {}
    for number, proposer in proposed:
        counts[proposer] = counts.get(proposer, 0) + 1
        last[proposer] = max(number, last.get(proposer, number))
    return tuple(SignerMetric(address, counts[address], last.get(address)) for address in sorted(counts))
