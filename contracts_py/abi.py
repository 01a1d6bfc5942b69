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
