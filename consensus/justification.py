"""The QBFT justification rules: when a round change or a proposal after a round change may be believed.

These keep a block that may have been committed from being replaced: whoever proposes in round r > 0 must show a
quorum of round changes for r, and if any of them reports a prepared block, must propose the block of the highest
prepared round, proving with a quorum of prepares that it was prepared (the "Justify" predicate of the QBFT
specification and of Besu's QBFT). All functions are pure and raise `Unjustified` with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from consensus.messages import Message, Prepare, PreparedRound, Proposal, RoundChange, Signed
from consensus.validators import quorum


class Unjustified(ValueError):
    """A round change or proposal whose justification does not hold."""


@dataclass(frozen=True)
class PreparedCertificate:
    """A validator's latest prepared round: the block and the quorum of prepares that prepared it."""

    round: int
    block_hash: bytes
    block: bytes
    prepares: tuple[Signed, ...]

    @property
    def metadata(self) -> PreparedRound:
        return PreparedRound(self.round, self.block_hash)


def distinct_validator_senders(entries: Iterable[Signed], validators: tuple[bytes, ...], what: str) -> int:
    """How many distinct validators signed `entries`; a non-validator or a repeated sender is unjustified."""
    senders: set[bytes] = set()
    members = set(validators)
    for entry in entries:
        if entry.sender not in members:
            raise Unjustified(f"{what} signed by non-validator {entry.sender.hex()}")
        if entry.sender in senders:
            raise Unjustified(f"{what} has two entries from {entry.sender.hex()}")
        senders.add(entry.sender)
    return len(senders)


def check_prepare_certificate(
    prepares: tuple[Signed, ...], height: int, round_number: int, block_hash: bytes, validators: tuple[bytes, ...]
) -> None:
    """`prepares` holds a quorum of distinct validators' prepares for exactly (height, round, block hash)."""
    expected = Prepare(height, round_number, block_hash)
    for entry in prepares:
        if entry.body != expected:
            raise Unjustified(f"prepare certificate entry {entry.body} does not match {expected}")
    count = distinct_validator_senders(prepares, validators, "prepare certificate")
    if count < quorum(len(validators)):
        raise Unjustified(f"prepare certificate has {count} prepares, {quorum(len(validators))} needed")


def justify_round_change(message: Message, validators: tuple[bytes, ...], prepared_block_hash: bytes | None) -> None:
    """A ROUND-CHANGE is believable: a reported prepared round is earlier than the new round and proven by prepares.

    `prepared_block_hash` is the hash the block source computed for the carried block (None if none carried).
    """
    body = message.body
    if not isinstance(body, RoundChange):
        raise Unjustified(f"expected a round change, got {type(body).__name__}")
    if body.prepared is None:
        return
    if body.prepared.round >= body.round:
        raise Unjustified(f"prepared round {body.prepared.round} is not before round {body.round}")
    if prepared_block_hash != body.prepared.block_hash:
        raise Unjustified("the carried block is not the reported prepared block")
    check_prepare_certificate(message.prepares, body.height, body.prepared.round, body.prepared.block_hash, validators)


def highest_prepared(round_changes: Iterable[Signed]) -> PreparedRound | None:
    """The prepared round reported with the highest round number among `round_changes`, if any."""
    best: PreparedRound | None = None
    for entry in round_changes:
        prepared = entry.body.prepared
        if prepared is not None and (best is None or prepared.round > best.round):
            best = prepared
    return best


def justify_proposal(message: Message, validators: tuple[bytes, ...]) -> None:
    """A PROPOSAL is believable: round 0 needs nothing; a later round needs a quorum of round changes for it, and
    the block of the highest prepared round they report, proven by a quorum of prepares."""
    body = message.body
    if not isinstance(body, Proposal):
        raise Unjustified(f"expected a proposal, got {type(body).__name__}")
    if body.round == 0:
        if message.round_changes or message.prepares:
            raise Unjustified("a round 0 proposal carries a justification")
        return
    for entry in message.round_changes:
        if not isinstance(entry.body, RoundChange) or (entry.body.height, entry.body.round) != (
            body.height,
            body.round,
        ):
            raise Unjustified(f"justification round change {entry.body} is not for this height and round")
    count = distinct_validator_senders(message.round_changes, validators, "round change justification")
    if count < quorum(len(validators)):
        raise Unjustified(f"{count} round changes justify the proposal, {quorum(len(validators))} needed")
    best = highest_prepared(message.round_changes)
    if best is None:
        if message.prepares:
            raise Unjustified("prepares carried though no round change reports a prepared block")
        return
    reported = {entry.body.prepared for entry in message.round_changes if entry.body.prepared is not None}
    if PreparedRound(best.round, body.block_hash) not in reported:
        raise Unjustified(f"proposal is not the block prepared in the highest round {best.round}")
    check_prepare_certificate(message.prepares, body.height, best.round, body.block_hash, validators)
