"""Solidity-compatible ABI types for native contracts, declared as `typing.Annotated` aliases.

A contract writes `def transfer(self, ctx, to: Address, amount: Uint256) -> Bool`; the runtime reads the
annotations to derive the selector `transfer(address,uint256)`, the eth-abi codecs and the ABI JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, get_args, get_origin, get_type_hints


@dataclass(frozen=True)
class AbiType:
    """The Solidity type name that a Python annotation stands for."""

    name: str


@dataclass(frozen=True)
class IndexedMarker:
    """Marks an event field as indexed (a topic)."""


INDEXED = IndexedMarker()

Address = Annotated[bytes, AbiType("address")]
Bool = Annotated[bool, AbiType("bool")]
String = Annotated[str, AbiType("string")]
Bytes = Annotated[bytes, AbiType("bytes")]
Bytes32 = Annotated[bytes, AbiType("bytes32")]
Uint8 = Annotated[int, AbiType("uint8")]
Uint16 = Annotated[int, AbiType("uint16")]
Uint32 = Annotated[int, AbiType("uint32")]
Uint64 = Annotated[int, AbiType("uint64")]
Uint256 = Annotated[int, AbiType("uint256")]
Int64 = Annotated[int, AbiType("int64")]
Int256 = Annotated[int, AbiType("int256")]
AddressArray = Annotated[tuple, AbiType("address[]")]
Uint256Array = Annotated[tuple, AbiType("uint256[]")]
Uint64Array = Annotated[tuple, AbiType("uint64[]")]
Int64Array = Annotated[tuple, AbiType("int64[]")]
StringArray = Annotated[tuple, AbiType("string[]")]
Bytes32Array = Annotated[tuple, AbiType("bytes32[]")]


def Indexed(annotated: Any) -> Any:
    """`Indexed(Address)`: an event field that becomes a topic."""
    return Annotated[annotated, INDEXED]


def abi_type_of(annotation: Any) -> str:
    """The Solidity type name of an annotation, or TypeError for a type without one."""
    if get_origin(annotation) is Annotated:
        for meta in get_args(annotation)[1:]:
            if isinstance(meta, AbiType):
                return meta.name
    raise TypeError(f"{annotation!r} is not an ABI type: annotate with contracts_py.abi aliases")


def is_indexed(annotation: Any) -> bool:
    return get_origin(annotation) is Annotated and INDEXED in get_args(annotation)[1:]


def abi_name(python_name: str) -> str:
    """Python names that clash with keywords end in `_` (`from_`); the ABI uses the bare word."""
    return python_name[:-1] if python_name.endswith("_") else python_name


def output_types(return_annotation: Any) -> tuple[str, ...]:
    """ABI output types of a function's return annotation: none, one type, or `tuple[A, B, ...]`."""
    if return_annotation is None or return_annotation is type(None):
        return ()
    if get_origin(return_annotation) is tuple:
        return tuple(abi_type_of(arg) for arg in get_args(return_annotation))
    return (abi_type_of(return_annotation),)


def resolved_hints(obj: Any) -> dict[str, Any]:
    return get_type_hints(obj, include_extras=True)


def normalize_decoded(abi_type: str, value: Any) -> Any:
    """eth-abi decodes addresses as checksummed strings; contracts work with 20-byte values."""
    if abi_type == "address":
        return bytes.fromhex(value[2:])
    if abi_type.endswith("[]"):
        return tuple(normalize_decoded(abi_type[:-2], item) for item in value)
    return value


def _is_static_word(abi_type: str) -> bool:
    return abi_type in ("address", "bool", "bytes32") or (
        abi_type.startswith(("uint", "int")) and abi_type.lstrip("uint").isdigit())


def static_words(types: tuple[str, ...]) -> bool:
    """Whether every type is one 32-byte word: such calls and events skip eth-abi's generic codec."""
    return all(_is_static_word(t) for t in types)


def encode_word(abi_type: str, value: Any) -> bytes:
    """One static ABI word, byte-identical to eth-abi (tests compare them)."""
    if abi_type == "address":
        if not isinstance(value, bytes) or len(value) != 20:
            raise ValueError(f"address must be 20 bytes, got {value!r}")
        return bytes(12) + value
    if abi_type == "bool":
        return (1 if value else 0).to_bytes(32, "big")
    if abi_type == "bytes32":
        if not isinstance(value, bytes) or len(value) > 32:
            raise ValueError("bytes32 value must be at most 32 bytes")
        return value.ljust(32, b"\x00")
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{abi_type} needs an integer, got {type(value).__name__}")
    bits = int(abi_type.lstrip("uint"))
    if abi_type.startswith("u"):
        if not 0 <= value < 1 << bits:
            raise ValueError(f"{value} does not fit {abi_type}")
        return value.to_bytes(32, "big")
    if not -(1 << (bits - 1)) <= value < 1 << (bits - 1):
        raise ValueError(f"{value} does not fit {abi_type}")
    return value.to_bytes(32, "big", signed=True)


def decode_words(types: tuple[str, ...], data: bytes) -> list[Any]:
    """Decode static words with eth-abi's checks (padding, ranges); ValueError on bad input."""
    if len(data) < 32 * len(types):
        raise ValueError(f"need {32 * len(types)} bytes of arguments, got {len(data)}")
    values: list[Any] = []
    for index, abi_type in enumerate(types):
        word = data[32 * index:32 * index + 32]
        if abi_type == "address":
            if any(word[:12]):
                raise ValueError(f"argument {index}: address with non-zero padding")
            values.append(word[12:])
        elif abi_type == "bool":
            number = int.from_bytes(word, "big")
            if number > 1:
                raise ValueError(f"argument {index}: bool must be 0 or 1")
            values.append(number == 1)
        elif abi_type == "bytes32":
            values.append(word)
        else:
            bits = int(abi_type.lstrip("uint"))
            signed = not abi_type.startswith("u")
            number = int.from_bytes(word, "big", signed=signed)
            low, high = (-(1 << (bits - 1)), 1 << (bits - 1)) if signed else (0, 1 << bits)
            if not low <= number < high:
                raise ValueError(f"argument {index}: value out of range for {abi_type}")
            values.append(number)
    return values
