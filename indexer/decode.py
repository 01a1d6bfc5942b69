"""Decoding logs and transaction calls of the native contracts by their ABI (topics, selectors, eth-abi)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
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


def _is_dynamic(abi_type: str) -> bool:
    return abi_type in ("string", "bytes") or abi_type.endswith("[]")


def _is_static(abi_type: str) -> bool:
    return abi_type in ("bool", "address", "bytes32") or abi_type.startswith(("uint", "int")) and "[" not in abi_type


def _word_decoder(abi_type: str) -> Callable[[bytes], Any]:
    """How one 32-byte ABI word of a static type decodes, directly: eth-abi's general decoder costs 20 times more,
    and the indexer decodes every reading's log (values come from the chain's own contracts)."""
    if abi_type == "address":
        return _address_word
    if abi_type == "bytes32":
        return _same_word
    if abi_type == "bool":
        return _bool_word
    if abi_type.startswith("int"):
        return _int_word
    return _uint_word


def _static_word(abi_type: str, word: bytes) -> Any:
    return _word_decoder(abi_type)(word)


def _address_word(word: bytes) -> bytes:
    return word[12:]


def _same_word(word: bytes) -> bytes:
    return word


def _bool_word(word: bytes) -> bool:
    return word[-1] != 0


def _int_word(word: bytes) -> int:
    return int.from_bytes(word, "big", signed=True)


def _uint_word(word: bytes) -> int:
    return int.from_bytes(word, "big")


@dataclass(frozen=True)
class EventPlan:
    """How the logs of one contract's event decode, worked out once per (address, topic) instead of per log."""

    contract: str
    spec: EventSpec
    words: tuple[tuple[str, bool, Callable[[bytes], Any]], ...] | None
    """(field name, indexed, decoder of its 32-byte word or topic) per field, when every field is one word (a
    static type, or an indexed dynamic one whose topic is its hash); None sends the event to eth-abi."""
    data_length: int
    """The payload's length in bytes when `words` is set."""
    indexed_count: int


def _plan(contract_name: str, spec: EventSpec) -> EventPlan:
    words = []
    for name, abi_type, indexed in zip(spec.field_names, spec.field_types, spec.indexed):
        if indexed and _is_dynamic(abi_type):
            words.append((name, True, _same_word))
        elif _is_static(abi_type):
            words.append((name, indexed, _word_decoder(abi_type)))
        else:
            return EventPlan(contract_name, spec, None, 0, sum(spec.indexed))
    return EventPlan(contract_name, spec, tuple(words), 32 * spec.indexed.count(False), sum(spec.indexed))


def _event_plans(contracts: Mapping[bytes, NativeContract]) -> dict[tuple[bytes, bytes], EventPlan]:
    plans = {}
    for address, contract in contracts.items():
        for event_cls in contract.EVENTS:
            spec: EventSpec = event_cls.__event_spec__
            plans[(address, spec.topic)] = _plan(contract.NAME, spec)
    return plans


EVENT_PLANS = _event_plans(CONTRACTS)


def decode_log(address: bytes, topics: tuple[bytes, ...], payload: bytes) -> DecodedEvent | None:
    """The event a log stands for, or None for a log no native contract declares (or that does not decode)."""
    if not topics:
        return None
    plan = EVENT_PLANS.get((address, topics[0]))
    if plan is None:
        return None
    if plan.words is None or len(payload) != plan.data_length:
        return _decode_by_abi(plan, topics, payload)
    if len(topics) <= plan.indexed_count:
        return None
    args: dict[str, Any] = {}
    topic = offset = 0
    for name, indexed, decode in plan.words:
        if indexed:
            topic += 1
            args[name] = decode(topics[topic])
        else:
            args[name] = decode(payload[offset:offset + 32])
            offset += 32
    return DecodedEvent(plan.contract, plan.spec.name, args)


def _decode_by_abi(plan: EventPlan, topics: tuple[bytes, ...], payload: bytes) -> DecodedEvent | None:
    """Events with a dynamic or multi-word field, and payloads of an unexpected length."""
    spec = plan.spec
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
            args[name] = topic if _is_dynamic(abi_type) else _static_word(abi_type, topic) \
                if _is_static(abi_type) else normalize_decoded(abi_type, eth_abi.decode([abi_type], topic)[0])
        else:
            value = data_values.pop(0)
            args[name] = value if _is_static(abi_type) else normalize_decoded(abi_type, value)
    return DecodedEvent(plan.contract, spec.name, args)


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


_json_string = json.encoder.encode_basestring_ascii
"""How json.dumps (ensure_ascii, the default) writes a string."""
_JSON_KEYS: dict[str, str] = {}
"""Argument name -> its JSON key and separator (the names are the contracts' ABI's, a few hundred at most)."""


def args_json(args: dict[str, Any]) -> str:
    """`json.dumps(jsonable(args))`, the same text, built directly when every value is bytes, an int, a bool or a
    string (every transaction and log of a block goes through this)."""
    parts = []
    for name, value in args.items():
        kind = type(value)
        if kind is bytes:
            text = '"0x' + value.hex() + '"'
        elif kind is int:
            text = int.__repr__(value)
        elif kind is bool:
            text = "true" if value else "false"
        elif kind is str:
            text = _json_string(value)
        else:
            return json.dumps(jsonable(args))
        key = _JSON_KEYS.get(name)
        if key is None:
            key = _JSON_KEYS[name] = _json_string(name) + ": "
        parts.append(key + text)
    return "{" + ", ".join(parts) + "}"
