"""Strict readers for decoded RLP items, shared by the message and extra-data codecs.

`rlp.decode` without sedes yields nested lists of bytes; these helpers turn one item into a checked Python value or
raise `MalformedField`, which each codec rewraps into its own typed error.
"""

from __future__ import annotations

from typing import Any

MAX_INT_BYTES = 8
"""Heights and rounds fit in 64 bits; a longer integer is malformed, not merely large."""


class MalformedField(ValueError):
    """An RLP item that is not what the format says it should be."""


def read_int(item: Any, what: str) -> int:
    """A canonical RLP integer: big-endian bytes without leading zeros, at most 8 bytes."""
    if not isinstance(item, bytes):
        raise MalformedField(f"{what} must be an integer, got a list")
    if len(item) > MAX_INT_BYTES:
        raise MalformedField(f"{what} is longer than {MAX_INT_BYTES} bytes")
    if item[:1] == b"\x00":
        raise MalformedField(f"{what} has leading zero bytes")
    return int.from_bytes(item, "big")


def read_bytes(item: Any, what: str, length: int | None = None) -> bytes:
    """A byte string, of exactly `length` bytes when given."""
    if not isinstance(item, bytes):
        raise MalformedField(f"{what} must be a byte string, got a list")
    if length is not None and len(item) != length:
        raise MalformedField(f"{what} must be {length} bytes, got {len(item)}")
    return item


def read_list(item: Any, what: str, max_items: int, exact: int | None = None) -> list:
    """A list of at most `max_items` items (exactly `exact` when given)."""
    if not isinstance(item, list):
        raise MalformedField(f"{what} must be a list, got a byte string")
    if exact is not None and len(item) != exact:
        raise MalformedField(f"{what} must have {exact} items, got {len(item)}")
    if len(item) > max_items:
        raise MalformedField(f"{what} has {len(item)} items, more than {max_items}")
    return item
