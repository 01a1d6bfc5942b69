"""QBFT messages: PROPOSAL, PREPARE, COMMIT and ROUND-CHANGE, their signatures and their wire encoding.

Each message has a signed body (`Proposal`, `Prepare`, `Commit`, `RoundChange`): the validator signs
keccak256(domain + RLP(body)), and the receiver recovers the sender from that signature. Besides its signed body a
message may carry material that is checked on its own rather than signed again, as in Besu's QBFT:
- a PROPOSAL carries the block and, from round 1 on, its justification: a quorum of signed round changes and, when
  one of them reports a prepared block, the signed prepares that prove it;
- a ROUND-CHANGE that reports a prepared block carries that block and its signed prepares.

Wire form: RLP [signed, block, [signed round changes], [signed prepares]], signed = [body, signature],
body = [kind, height, round, ...].
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property, lru_cache
from typing import Any

import rlp

from consensus.rlp_fields import MalformedField, read_bytes, read_int, read_list
from consensus.seals import HASH_LENGTH, SEAL_LENGTH, sign_commit_seal
from node.crypto import InvalidSignature, keccak256, private_key_to_address, recover_from_bytes, sign_recoverable_bytes

MAX_MESSAGE_BYTES = 3 * 1024 * 1024
"""Larger messages are refused before decoding: a block plus its justification fits well under this."""
MAX_CERTIFICATE_ENTRIES = 256
"""Signed entries per justification list: a quorum of a set of up to 256 validators (we run a few dozen). Each entry
costs a signature recovery while decoding, so the bound also bounds the work one message can cause."""
MESSAGE_DOMAIN = b"energy-ledger/qbft-message/v1"
"""Prefix of every signed message hash, so a message signature can never pass for a seal or a transaction."""


class InvalidMessage(ValueError):
    """Bytes that are not a well-formed, correctly signed consensus message."""


class MessageKind(IntEnum):
    PROPOSAL = 0
    PREPARE = 1
    COMMIT = 2
    ROUND_CHANGE = 3


@dataclass(frozen=True)
class Proposal:
    """The proposer of (height, round) proposes the block with `block_hash`."""

    height: int
    round: int
    block_hash: bytes


@dataclass(frozen=True)
class Prepare:
    """The sender accepted the proposal of `block_hash` in (height, round)."""

    height: int
    round: int
    block_hash: bytes


@dataclass(frozen=True)
class Commit:
    """The sender saw a quorum of prepares and commits `block_hash`, with its commit seal for the header."""

    height: int
    round: int
    block_hash: bytes
    commit_seal: bytes


@dataclass(frozen=True)
class PreparedRound:
    """The latest round in which the sender saw a quorum of prepares, and the block they prepared."""

    round: int
    block_hash: bytes


@dataclass(frozen=True)
class RoundChange:
    """The sender moves to `round` of `height`, reporting its latest prepared round, if any."""

    height: int
    round: int
    prepared: PreparedRound | None


Body = Proposal | Prepare | Commit | RoundChange

_KIND_OF_BODY = {
    Proposal: MessageKind.PROPOSAL,
    Prepare: MessageKind.PREPARE,
    Commit: MessageKind.COMMIT,
    RoundChange: MessageKind.ROUND_CHANGE,
}


@dataclass(frozen=True)
class Signed:
    """A body with its signature and the sender the signature recovers to."""

    body: Body
    signature: bytes
    sender: bytes


@dataclass(frozen=True)
class Message:
    """What travels between validators: a signed body plus the unsigned material it carries."""

    signed: Signed
    block: bytes = b""
    """PROPOSAL: the proposed block. ROUND-CHANGE: the prepared block, if any. Otherwise empty."""
    round_changes: tuple[Signed, ...] = ()
    """PROPOSAL from round 1 on: a quorum of signed round changes for its round."""
    prepares: tuple[Signed, ...] = ()
    """A quorum of signed prepares for the prepared round reported (ROUND-CHANGE) or re-proposed (PROPOSAL)."""

    @property
    def body(self) -> Body:
        return self.signed.body

    @property
    def sender(self) -> bytes:
        return self.signed.sender

    @property
    def kind(self) -> MessageKind:
        return _KIND_OF_BODY[type(self.signed.body)]

    @cached_property
    def wire(self) -> bytes:
        """`encode_message(self)`, computed once: a message is broadcast to every peer and retransmitted."""
        return encode_message(self)


def _int_bytes(value: int) -> bytes:
    """An integer as RLP encodes it: big-endian, no leading zeros, empty for 0."""
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def _body_fields(body: Body) -> list:
    """The body as an RLP item of bytes and lists (encoded with `rlp.encode_raw`, which skips sedes inference)."""
    kind = _KIND_OF_BODY[type(body)]
    fields: list[Any] = [_int_bytes(kind), _int_bytes(body.height), _int_bytes(body.round)]
    if isinstance(body, RoundChange):
        prepared = body.prepared
        fields.append([] if prepared is None else [_int_bytes(prepared.round), prepared.block_hash])
    else:
        fields.append(body.block_hash)
    if isinstance(body, Commit):
        fields.append(body.commit_seal)
    return fields


def signing_hash(body: Body) -> bytes:
    """The 32-byte hash a validator signs for `body`."""
    return keccak256(MESSAGE_DOMAIN + rlp.codec.encode_raw(_body_fields(body)))


def sign(private_key: bytes, body: Body) -> Signed:
    """`body` signed with `private_key`."""
    return Signed(body, sign_recoverable_bytes(private_key, signing_hash(body)), _address_of(private_key))


_address_of = lru_cache(maxsize=64)(private_key_to_address)
"""Deriving an address costs as much as a signature; a node signs with the same key all day."""


def make_proposal(
    private_key: bytes,
    height: int,
    round_number: int,
    block_hash: bytes,
    block: bytes,
    round_changes: tuple[Signed, ...] = (),
    prepares: tuple[Signed, ...] = (),
) -> Message:
    return Message(sign(private_key, Proposal(height, round_number, block_hash)), block, round_changes, prepares)


def make_prepare(private_key: bytes, height: int, round_number: int, block_hash: bytes) -> Message:
    return Message(sign(private_key, Prepare(height, round_number, block_hash)))


def make_commit(private_key: bytes, height: int, round_number: int, block_hash: bytes) -> Message:
    """A COMMIT carrying the sender's commit seal over (block hash, round)."""
    seal = sign_commit_seal(private_key, block_hash, round_number)
    return Message(sign(private_key, Commit(height, round_number, block_hash, seal)))


def make_round_change(
    private_key: bytes,
    height: int,
    round_number: int,
    prepared: PreparedRound | None = None,
    prepared_block: bytes = b"",
    prepares: tuple[Signed, ...] = (),
) -> Message:
    return Message(sign(private_key, RoundChange(height, round_number, prepared)), prepared_block, (), prepares)


def _signed_fields(signed: Signed) -> list:
    return [_body_fields(signed.body), signed.signature]


def encode_message(message: Message) -> bytes:
    """The RLP wire form of `message`."""
    return rlp.codec.encode_raw(
        [
            _signed_fields(message.signed),
            message.block,
            [_signed_fields(entry) for entry in message.round_changes],
            [_signed_fields(entry) for entry in message.prepares],
        ]
    )


def decode_message(data: bytes) -> Message:
    """Parse and authenticate a wire message; raises InvalidMessage on anything malformed or badly signed."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise InvalidMessage(f"message of {len(data)} bytes exceeds {MAX_MESSAGE_BYTES}")
    try:
        fields = read_list(rlp.decode(data), "message", 4, exact=4)
        signed = _read_signed(fields[0], "message")
        block = read_bytes(fields[1], "block")
        round_changes = tuple(
            _read_signed(item, "justification round change", RoundChange)
            for item in read_list(fields[2], "round changes", MAX_CERTIFICATE_ENTRIES)
        )
        prepares = tuple(
            _read_signed(item, "certificate prepare", Prepare)
            for item in read_list(fields[3], "prepares", MAX_CERTIFICATE_ENTRIES)
        )
    except (rlp.exceptions.DecodingError, MalformedField) as exc:
        raise InvalidMessage(str(exc)) from exc
    message = Message(signed, block, round_changes, prepares)
    _check_shape(message)
    return message


def _check_shape(message: Message) -> None:
    """Which kinds may carry which material."""
    body = message.body
    carries_prepared = isinstance(body, RoundChange) and body.prepared is not None
    if isinstance(body, (Prepare, Commit)) and (message.block or message.round_changes or message.prepares):
        raise InvalidMessage(f"{message.kind.name} carries a block or certificates")
    if isinstance(body, RoundChange) and message.round_changes:
        raise InvalidMessage("ROUND_CHANGE carries round changes")
    if isinstance(body, RoundChange) and not carries_prepared and (message.block or message.prepares):
        raise InvalidMessage("ROUND_CHANGE without a prepared round carries a block or prepares")
    if carries_prepared and not message.block:
        raise InvalidMessage("ROUND_CHANGE reports a prepared round but carries no block")
    if isinstance(body, Proposal) and not message.block:
        raise InvalidMessage("PROPOSAL carries no block")


def _read_signed(item: Any, what: str, expected: type | None = None) -> Signed:
    fields = read_list(item, what, 2, exact=2)
    body = _read_body(fields[0], what)
    if expected is not None and not isinstance(body, expected):
        raise MalformedField(f"{what} must be a {expected.__name__}, got a {type(body).__name__}")
    signature = read_bytes(fields[1], f"{what} signature", 65)
    try:
        sender = recover_from_bytes(signing_hash(body), signature)
    except InvalidSignature as exc:
        raise MalformedField(f"{what} signature: {exc}") from exc
    return Signed(body, signature, sender)


def _read_body(item: Any, what: str) -> Body:
    fields = read_list(item, what, 5)
    if len(fields) < 4:
        raise MalformedField(f"{what} body has {len(fields)} fields")
    kind_number = read_int(fields[0], f"{what} kind")
    if kind_number not in MessageKind._value2member_map_:
        raise MalformedField(f"{what} has unknown kind {kind_number}")
    kind = MessageKind(kind_number)
    read_list(fields, what, 5, exact=5 if kind == MessageKind.COMMIT else 4)
    height = read_int(fields[1], f"{what} height")
    round_number = read_int(fields[2], f"{what} round")
    if kind == MessageKind.ROUND_CHANGE:
        prepared_fields = read_list(fields[3], f"{what} prepared round", 2)
        prepared = None
        if prepared_fields:
            read_list(prepared_fields, f"{what} prepared round", 2, exact=2)
            prepared = PreparedRound(
                read_int(prepared_fields[0], f"{what} prepared round"),
                read_bytes(prepared_fields[1], f"{what} prepared block hash", HASH_LENGTH),
            )
        return RoundChange(height, round_number, prepared)
    block_hash = read_bytes(fields[3], f"{what} block hash", HASH_LENGTH)
    if kind == MessageKind.PROPOSAL:
        return Proposal(height, round_number, block_hash)
    if kind == MessageKind.PREPARE:
        return Prepare(height, round_number, block_hash)
    return Commit(height, round_number, block_hash, read_bytes(fields[4], f"{what} commit seal", SEAL_LENGTH))
