"""Decoding logs and transaction calls of the native contracts by their ABI (topics, selectors, eth-abi)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import eth_abi
import eth_abi.exceptions

from contracts_py.abi import decode_words, normalize_decoded
from contracts_py.catalog import CONTRACTS
from contracts_py.runtime import EventSpec, NativeContract


@dataclass(frozen=True)
class DecodedEvent:
    contract: str
    name: str
    args: dict[str, Any]
    """Field name (as in the ABI) -> value: addresses and bytes as bytes, integers as int, strings as str."""


@dataclass(frozen=True)
class DecodedCall:
    contract: str
    function: str
    args: dict[str, Any]


def _event_index(contracts: Mapping[bytes, NativeContract]) -> dict[tuple[bytes, bytes], tuple[str, EventSpec]]:
    index = {}
    for address, contract in contracts.items():
        for event_cls in contract.EVENTS:
            spec: EventSpec = event_cls.__event_spec__
            index[(address, spec.topic)] = (contract.NAME, spec)
    return index


EVENT_INDEX = _event_index(CONTRACTS)


def decode_log(address: bytes, topics: tuple[bytes, ...], payload: bytes) -> DecodedEvent | None:
    """The event a log stands for, or None for a log no native contract declares (or that does not decode)."""
    if not topics:
        return None
    found = EVENT_INDEX.get((address, topics[0]))
    if found is None:
        return None
    contract_name, spec = found
    data_types = [t for t, indexed in zip(spec.field_types, spec.indexed) if not indexed]
    try:
        if all(_is_static(t) for t in data_types) and len(payload) == 32 * len(data_types):
            data_values = [_static_word(t, payload[32 * i:32 * i + 32]) for i, t in enumerate(data_types)]
        else:
            data_values = list(eth_abi.decode(data_types, payload))
    except eth_abi.exceptions.DecodingError:
        return None
    args: dict[str, Any] = {}
    topic_values = iter(topics[1:])
    for name, abi_type, indexed in zip(spec.field_names, spec.field_types, spec.indexed):
        if indexed:
            topic = next(topic_values, None)
            if topic is None:
                return None
            dynamic = abi_type in ("string", "bytes") or abi_type.endswith("[]")
            args[name] = topic if dynamic else _static_word(abi_type, topic) if _is_static(abi_type) else \
                normalize_decoded(abi_type, eth_abi.decode([abi_type], topic)[0])
        else:
            value = data_values.pop(0)
            args[name] = value if _is_static(abi_type) else normalize_decoded(abi_type, value)
    return DecodedEvent(contract_name, spec.name, args)


def _is_static(abi_type: str) -> bool:
    return abi_type in ("bool", "address", "bytes32") or abi_type.startswith(("uint", "int")) and "[" not in abi_type


def _static_word(abi_type: str, word: bytes):
    """One 32-byte ABI word of a static type, decoded directly: eth-abi's general decoder costs 20 times more, and
    the indexer decodes every reading's log (values come from the chain's own contracts)."""
    if abi_type == "address":
        return word[12:]
    if abi_type == "bytes32":
        return word
    if abi_type == "bool":
        return word[-1] != 0
    if abi_type.startswith("int"):
        return int.from_bytes(word, "big", signed=True)
    return int.from_bytes(word, "big")


def decode_call(to: bytes, payload: bytes) -> DecodedCall | None:
    """The function and arguments of a call to a native contract, or None when it does not decode."""
    contract = CONTRACTS.get(to)
    if contract is None or len(payload) < 4:
        return None
    spec = contract.by_selector.get(payload[:4])
    if spec is None:
        return None
    try:
        if spec.static_inputs:  # the common case, decoded directly with eth-abi's checks (as the runtime does)
            args = dict(zip(spec.input_names, decode_words(spec.input_types, payload[4:])))
        else:
            values = eth_abi.decode(list(spec.input_types), payload[4:])
            args = {name: normalize_decoded(t, v) for name, t, v in zip(spec.input_names, spec.input_types, values)}
    except (eth_abi.exceptions.DecodingError, OverflowError, ValueError):
        return None
    return DecodedCall(contract.NAME, spec.name, args)


def decode_outputs(to: bytes, function: str, return_data: bytes) -> tuple[Any, ...]:
    """The return values of a view call, normalised like decoded arguments."""
    spec = CONTRACTS[to].functions[function]
    values = eth_abi.decode(list(spec.output_types), return_data)
    return tuple(normalize_decoded(t, v) for t, v in zip(spec.output_types, values))


def encode_call(to: bytes, function: str, *args: Any) -> bytes:
    spec = CONTRACTS[to].functions[function]
    return spec.selector + eth_abi.encode(list(spec.input_types), list(args))


def jsonable(value: Any) -> Any:
    """A decoded value as JSON: bytes as 0x-hex, tuples as lists."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (tuple, list)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value
