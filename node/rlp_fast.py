"""A small RLP codec for byte strings and lists, for the hot path (trie nodes, receipts, headers).

`rlp.encode` infers a serializer for every item and dominates a block's profile; the chain only ever encodes
byte strings, lists of them and non-negative integers, which this does directly. Trees of byte strings (trie
nodes, most of a block's encoding work) go to `rusty_rlp`, the Rust encoder that pyrlp itself offers as its
optional backend, about fifteen times faster than Python; integers are converted here first. Output is
identical to `rlp.encode` (tests compare them)."""

from __future__ import annotations

from rusty_rlp import EncodingError, encode_raw


def _length_prefix(length: int, offset: int) -> bytes:
    if length < 56:
        return bytes([offset + length])
    length_bytes = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([offset + 55 + len(length_bytes)]) + length_bytes


def uint(value: int) -> bytes:
    """The big-endian bytes RLP encodes a non-negative integer as (empty for zero): lets a hot caller hand
    `encode` a tree of bytes only."""
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def encode(item) -> bytes:
    """RLP of bytes, a non-negative int, or a (nested) list/tuple of those."""
    try:
        return encode_raw(item)
    except EncodingError:  # integers in the tree (or a type no encoder takes: the Python path says which)
        return _encode(item)


def _encode(item) -> bytes:
    if isinstance(item, (bytes, bytearray)):
        if len(item) == 1 and item[0] < 0x80:
            return bytes(item)
        return _length_prefix(len(item), 0x80) + item
    if isinstance(item, (list, tuple)):
        payload = b"".join([_encode(sub) for sub in item])
        return _length_prefix(len(payload), 0xC0) + payload
    if isinstance(item, int) and not isinstance(item, bool) and item >= 0:
        return _encode(item.to_bytes((item.bit_length() + 7) // 8, "big") if item else b"")
    raise TypeError(f"cannot RLP-encode {type(item).__name__}")


class RlpDecodeError(ValueError):
    """Bytes that are not canonical RLP."""


def decode(data: bytes):
    """Decode canonical RLP into bytes and lists; raises RlpDecodeError."""
    item, end = _decode_at(data, 0)
    if end != len(data):
        raise RlpDecodeError("trailing bytes after the RLP item")
    return item


def _decode_at(data: bytes, position: int):
    if position >= len(data):
        raise RlpDecodeError("unexpected end of RLP data")
    first = data[position]
    if first < 0x80:
        return data[position:position + 1], position + 1
    if first < 0xB8:
        end = position + 1 + first - 0x80
        if end > len(data):
            raise RlpDecodeError("string runs past the end")
        if first == 0x81 and data[position + 1] < 0x80:
            raise RlpDecodeError("single byte below 0x80 must not be prefixed")
        return data[position + 1:end], end
    if first < 0xC0:
        length, start = _long_length(data, position, first - 0xB7)
        if start + length > len(data):
            raise RlpDecodeError("string runs past the end")
        return data[start:start + length], start + length
    if first < 0xF8:
        start, end = position + 1, position + 1 + first - 0xC0
    else:
        length, start = _long_length(data, position, first - 0xF7)
        end = start + length
    if end > len(data):
        raise RlpDecodeError("list runs past the end")
    items = []
    while start < end:
        item, start = _decode_at(data, start)
        items.append(item)
    if start != end:
        raise RlpDecodeError("list payload length mismatch")
    return items, end


def _long_length(data: bytes, position: int, size: int) -> tuple[int, int]:
    start = position + 1 + size
    if start > len(data) or data[position + 1] == 0:
        raise RlpDecodeError("bad long length prefix")
    length = int.from_bytes(data[position + 1:start], "big")
    if length < 56:
        raise RlpDecodeError("long form used for a short length")
    return length, start
