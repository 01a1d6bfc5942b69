"""RLP encoding of contract storage records: frozen dataclasses whose fields are int, bool, bytes, str,
nested records or tuples of these. Deterministic by construction: fields in declaration order."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

import rlp

Record = TypeVar("Record")


class RecordCodecError(ValueError):
    """Stored bytes that do not decode as the expected record type."""


def encode_record(record: Any) -> bytes:
    return rlp.encode(_to_rlp(record))


def decode_record(cls: type[Record], data: bytes) -> Record:
    try:
        return _from_rlp(cls, rlp.decode(data))
    except (rlp.exceptions.DecodingError, ValueError, TypeError, IndexError) as exc:
        raise RecordCodecError(f"cannot decode {cls.__name__}: {exc}") from exc


def _to_rlp(value: Any) -> Any:
    if isinstance(value, bool):
        return b"\x01" if value else b""
    if isinstance(value, int):
        if value < 0:
            raise ValueError("records store non-negative integers; use an offset or a sign field")
        return value
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, tuple):
        return [_to_rlp(item) for item in value]
    if dataclasses.is_dataclass(value):
        return [_to_rlp(getattr(value, field.name)) for field in dataclasses.fields(value)]
    raise TypeError(f"cannot store {type(value).__name__} in a record")


@functools.cache
def _field_types(cls: type) -> tuple[tuple[str, Any], ...]:
    hints = get_type_hints(cls)
    return tuple((field.name, hints[field.name]) for field in dataclasses.fields(cls))


def _from_rlp(annotation: Any, item: Any) -> Any:
    if annotation is bool:
        return item == b"\x01"
    if annotation is int:
        return int.from_bytes(item, "big")
    if annotation is bytes:
        return bytes(item)
    if annotation is str:
        return bytes(item).decode("utf-8")
    if get_origin(annotation) is tuple:
        args = get_args(annotation)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_from_rlp(args[0], sub) for sub in item)
        return tuple(_from_rlp(arg, sub) for arg, sub in zip(args, item, strict=True))
    if dataclasses.is_dataclass(annotation):
        fields = _field_types(annotation)
        if not isinstance(item, list) or len(item) != len(fields):
            raise ValueError(f"{annotation.__name__} expects {len(fields)} fields")
        return annotation(**{name: _from_rlp(hint, sub) for (name, hint), sub in zip(fields, item)})
    raise TypeError(f"unsupported record field type {annotation!r}")
