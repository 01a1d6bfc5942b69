"""The native contract runtime: declarations, call context, storage, events, gas and reverts.

A contract is a class of stateless methods; all its state lives in its storage trie, reached through
`ctx.storage`. Methods are declared with `@external`, `@view` (also answers `eth_call`) or `@internal` (callable
only by other native contracts through `ctx.call`). Selectors, topics and the ABI JSON follow Solidity, so any
Ethereum library talks to a native contract by its ABI."""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import eth_abi
from eth_abi.exceptions import DecodingError, EncodingError

from contracts_py.abi import (
    abi_name,
    abi_type_of,
    decode_words,
    encode_word,
    is_indexed,
    normalize_decoded,
    output_types,
    resolved_hints,
    static_words,
)
from contracts_py.codec import Record, decode_record, encode_record
from eth_hash.auto import keccak as keccak256

CALL_BASE_GAS = 2_000
STORAGE_READ_GAS = 800
STORAGE_WRITE_GAS = 5_000
LOG_GAS = 375
LOG_TOPIC_GAS = 375
LOG_DATA_BYTE_GAS = 8
MAX_CALL_DEPTH = 8

REVERT_SELECTOR = keccak256(b"Error(string)")[:4]


class Revert(Exception):
    """A call that fails on purpose: its writes are rolled back and the reason goes into the receipt."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OutOfGas(Revert):
    """The transaction's gas limit does not cover the work asked for."""


def require(condition: bool, reason: str) -> None:
    """Revert with `reason` unless `condition` holds (the contracts' `require`)."""
    if not condition:
        raise Revert(reason)


def encode_revert_reason(reason: str) -> bytes:
    """Solidity's `Error(string)` encoding, as eth_call returns it."""
    return REVERT_SELECTOR + eth_abi.encode(["string"], [reason])


@dataclass(frozen=True, slots=True)
class Log:
    """An event emitted by a contract, as it appears in receipts."""

    address: bytes
    topics: tuple[bytes, ...]
    data: bytes


@dataclass(frozen=True, slots=True)
class BlockInfo:
    """What a contract may know of the block it runs in: no clocks, only the header."""

    number: int
    timestamp: int
    proposer: bytes
    chain_id: int


class StateAccess(Protocol):
    """The node's state as contracts see it: one key-value storage per contract address."""

    def storage_get(self, address: bytes, key: bytes) -> bytes | None: ...

    def storage_set(self, address: bytes, key: bytes, value: bytes | None) -> None: ...


class GasMeter:
    """Counts gas against the transaction's limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def charge(self, amount: int, what: str) -> None:
        self.used += amount
        if self.used > self.limit:
            self.used = self.limit
            raise OutOfGas(f"out of gas ({what})")


class ContractStorage:
    """One contract's storage, metered. Values are bytes; helpers store integers and records."""

    def __init__(self, state: StateAccess, address: bytes, gas: GasMeter) -> None:
        self._state = state
        self._address = address
        self._gas = gas

    def get(self, key: bytes) -> bytes | None:
        self._gas.charge(STORAGE_READ_GAS, "storage read")
        return self._state.storage_get(self._address, key)

    def set(self, key: bytes, value: bytes | None) -> None:
        """Store `value` under `key`; None or empty bytes delete the key."""
        self._gas.charge(STORAGE_WRITE_GAS, "storage write")
        self._state.storage_set(self._address, key, value or None)

    def get_int(self, key: bytes) -> int:
        value = self.get(key)
        return int.from_bytes(value, "big") if value else 0

    def set_int(self, key: bytes, value: int) -> None:
        if value < 0:
            raise Revert("negative value cannot be stored")
        self.set(key, value.to_bytes((value.bit_length() + 7) // 8, "big") if value else None)

    def get_record(self, key: bytes, cls: type[Record]) -> Record | None:
        value = self.get(key)
        return None if value is None else decode_record(cls, value)

    def set_record(self, key: bytes, record: Any) -> None:
        self.set(key, encode_record(record))


@dataclass(frozen=True)
class FunctionSpec:
    """A contract function as the ABI sees it."""

    name: str
    method: Callable[..., Any]
    input_names: tuple[str, ...]
    input_types: tuple[str, ...]
    output_types: tuple[str, ...]
    mutability: str
    """'view', 'nonpayable' or 'internal'."""

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.input_types)})"

    @functools.cached_property
    def selector(self) -> bytes:
        return keccak256(self.signature.encode())[:4]

    @functools.cached_property
    def static_inputs(self) -> bool:
        return static_words(self.input_types)

    @functools.cached_property
    def static_outputs(self) -> bool:
        return static_words(self.output_types)


@dataclass(frozen=True)
class EventSpec:
    """An event's ABI: its name, fields and topic."""

    name: str
    python_names: tuple[str, ...]
    field_names: tuple[str, ...]
    field_types: tuple[str, ...]
    indexed: tuple[bool, ...]

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.field_types)})"

    @functools.cached_property
    def topic(self) -> bytes:
        return keccak256(self.signature.encode())

    @functools.cached_property
    def all_static(self) -> bool:
        return static_words(self.field_types)


def _declare(mutability: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def mark(method: Callable[..., Any]) -> Callable[..., Any]:
        method.__contract_mutability__ = mutability
        return method

    return mark


external = _declare("nonpayable")
"""A function that transactions call; it may write storage and emit events."""
view = _declare("view")
"""A read-only function: answers eth_call; writes inside it revert."""
internal = _declare("internal")
"""A function only other native contracts call, through `ctx.call`; not in the ABI."""


def event(cls: type) -> type:
    """Declare an event: a dataclass whose fields carry ABI types, `Indexed(...)` for topics."""
    cls = dataclass(frozen=True)(cls)
    hints = resolved_hints(cls)
    names = tuple(f.name for f in dataclasses.fields(cls))
    cls.__event_spec__ = EventSpec(
        name=cls.__name__,
        python_names=names,
        field_names=tuple(abi_name(n) for n in names),
        field_types=tuple(abi_type_of(hints[n]) for n in names),
        indexed=tuple(is_indexed(hints[n]) for n in names),
    )
    return cls


def _function_spec(name: str, method: Callable[..., Any]) -> FunctionSpec:
    params = list(inspect.signature(method).parameters)[2:]  # self, ctx
    if method.__contract_mutability__ == "internal":  # plain Python types: never ABI-encoded
        return FunctionSpec(name, method, tuple(params), (), (), "internal")
    hints = resolved_hints(method)
    return FunctionSpec(
        name=abi_name(name),
        method=method,
        input_names=tuple(abi_name(p) for p in params),
        input_types=tuple(abi_type_of(hints[p]) for p in params),
        output_types=output_types(hints.get("return")),
        mutability=method.__contract_mutability__,
    )


class NativeContract:
    """Base of native contracts. Subclasses set NAME and EVENTS and declare their functions."""

    NAME: ClassVar[str] = ""
    EVENTS: ClassVar[tuple[type, ...]] = ()
    functions: ClassVar[dict[str, FunctionSpec]]
    by_selector: ClassVar[dict[bytes, FunctionSpec]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        specs = {}
        for name, member in inspect.getmembers(cls, inspect.isfunction):
            if hasattr(member, "__contract_mutability__"):
                spec = _function_spec(name, member)
                specs[spec.name] = spec
        cls.functions = specs
        cls.by_selector = {s.selector: s for s in specs.values() if s.mutability != "internal"}
        if len(cls.by_selector) != sum(1 for s in specs.values() if s.mutability != "internal"):
            raise TypeError(f"{cls.__name__}: two functions share a selector")

    @classmethod
    def abi(cls) -> list[dict[str, Any]]:
        """The Solidity-style ABI JSON of this contract."""
        entries: list[dict[str, Any]] = []
        for spec in sorted(cls.functions.values(), key=lambda s: s.name):
            if spec.mutability == "internal":
                continue
            entries.append({
                "type": "function",
                "name": spec.name,
                "inputs": [{"name": n, "type": t} for n, t in zip(spec.input_names, spec.input_types)],
                "outputs": [{"name": "", "type": t} for t in spec.output_types],
                "stateMutability": spec.mutability,
            })
        for event_cls in cls.EVENTS:
            ev: EventSpec = event_cls.__event_spec__
            entries.append({
                "type": "event",
                "name": ev.name,
                "anonymous": False,
                "inputs": [
                    {"name": n, "type": t, "indexed": i}
                    for n, t, i in zip(ev.field_names, ev.field_types, ev.indexed)
                ],
            })
        return entries


def encode_event(address: bytes, instance: Any) -> Log:
    """The log of an event instance: topic 0 is the signature hash, indexed fields follow, the rest is data."""
    spec: EventSpec = type(instance).__event_spec__
    values = [getattr(instance, name) for name in spec.python_names]
    if spec.all_static:
        topics = [spec.topic]
        data = []
        for abi_type, indexed, value in zip(spec.field_types, spec.indexed, values):
            (topics if indexed else data).append(encode_word(abi_type, value))
        return Log(address, tuple(topics), b"".join(data))
    topics = [spec.topic]
    data_types, data_values = [], []
    for abi_type, indexed, value in zip(spec.field_types, spec.indexed, values):
        if indexed:
            dynamic = abi_type in ("string", "bytes") or abi_type.endswith("[]")
            topics.append(keccak256(eth_abi.encode([abi_type], [value])) if dynamic
                          else eth_abi.encode([abi_type], [value]))
        else:
            data_types.append(abi_type)
            data_values.append(value)
    return Log(address, tuple(topics), eth_abi.encode(data_types, data_values))


class ReadOnlyState:
    """Wraps a state so that any write reverts: what `view` functions and eth_call run against."""

    def __init__(self, state: StateAccess) -> None:
        self._state = state

    def storage_get(self, address: bytes, key: bytes) -> bytes | None:
        return self._state.storage_get(address, key)

    def storage_set(self, address: bytes, key: bytes, value: bytes | None) -> None:
        raise Revert("state write in a view call")


@dataclass
class Context:
    """What a contract function sees: who calls, in which block, its storage, and a way to emit and call."""

    contracts: Mapping[bytes, NativeContract]
    state: StateAccess
    block: BlockInfo
    address: bytes
    """This contract's address."""
    sender: bytes
    """The immediate caller: the transaction's signer, or the calling contract."""
    origin: bytes
    """The transaction's signer."""
    tx_hash: bytes
    gas: GasMeter
    logs: list[Log] = field(default_factory=list)
    depth: int = 0

    @property
    def storage(self) -> ContractStorage:
        return ContractStorage(self.state, self.address, self.gas)

    def emit(self, instance: Any) -> None:
        log = encode_event(self.address, instance)
        self.gas.charge(LOG_GAS + LOG_TOPIC_GAS * len(log.topics) + LOG_DATA_BYTE_GAS * len(log.data), "log")
        self.logs.append(log)

    def call(self, address: bytes, function: str, *args: Any) -> Any:
        """Call another native contract's function (internal ones included) as this contract."""
        if self.depth + 1 >= MAX_CALL_DEPTH:
            raise Revert("call depth exceeded")
        contract = self.contracts.get(address)
        if contract is None:
            raise Revert(f"no contract at 0x{address.hex()}")
        spec = contract.functions.get(function)
        if spec is None:
            raise Revert(f"{contract.NAME} has no function {function}")
        self.gas.charge(CALL_BASE_GAS, "call")
        inner = dataclasses.replace(self, address=address, sender=self.address, depth=self.depth + 1,
                                    logs=self.logs)
        if spec.mutability == "view":
            inner.state = ReadOnlyState(self.state)
        return spec.method(contract, inner, *args)


@dataclass(frozen=True)
class CallResult:
    """The outcome of one call: return data or a revert reason, the logs and the gas used."""

    success: bool
    return_data: bytes
    logs: tuple[Log, ...]
    gas_used: int
    revert_reason: str = ""


def execute_call(
    contracts: Mapping[bytes, NativeContract],
    state: StateAccess,
    block: BlockInfo,
    *,
    to: bytes,
    sender: bytes,
    data: bytes,
    gas_limit: int,
    tx_hash: bytes = b"",
    read_only: bool = False,
) -> CallResult:
    """Run one call to a native contract. Reverts are results, not exceptions: the caller rolls back state."""
    gas = GasMeter(gas_limit)
    logs: list[Log] = []
    try:
        gas.charge(CALL_BASE_GAS, "call")
        contract = contracts.get(to)
        if contract is None:
            raise Revert(f"no contract at 0x{to.hex()}")
        if len(data) < 4:
            raise Revert("call data shorter than a 4-byte selector")
        spec = contract.by_selector.get(data[:4])
        if spec is None:
            raise Revert(f"{contract.NAME}: unknown selector 0x{data[:4].hex()}")
        try:
            if spec.static_inputs:
                args = decode_words(spec.input_types, data[4:])
            else:
                decoded = eth_abi.decode(list(spec.input_types), data[4:], strict=False)
                args = [normalize_decoded(t, v) for t, v in zip(spec.input_types, decoded)]
        except (DecodingError, OverflowError, ValueError) as exc:
            raise Revert(f"{contract.NAME}.{spec.signature}: badly encoded arguments: {exc}") from exc
        view_only = read_only or spec.mutability == "view"
        ctx = Context(contracts, ReadOnlyState(state) if view_only else state, block, to, sender, sender,
                      tx_hash, gas, logs)
        result = spec.method(contract, ctx, *args)
        outputs = spec.output_types
        values = () if not outputs else (result if len(outputs) > 1 else (result,))
        try:
            if spec.static_outputs:
                encoded = b"".join(encode_word(t, v) for t, v in zip(outputs, values))
            else:
                encoded = eth_abi.encode(list(outputs), list(values))
        except (EncodingError, TypeError, ValueError) as exc:
            raise Revert(f"{contract.NAME}.{spec.signature}: result does not encode: {exc}") from exc
        return CallResult(True, encoded, tuple(logs), gas.used)
    except Revert as exc:
        return CallResult(False, encode_revert_reason(exc.reason), (), gas.used, exc.reason)
