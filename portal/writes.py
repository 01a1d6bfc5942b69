"""Every write from the portal is a transaction signed with the user's own key and handed to the node.

The call is first run against the head state, so a write the contract would refuse gets its reason on the page
and nothing is sent."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import eth_abi
import eth_abi.exceptions

from contracts_py.abi import normalize_decoded
from contracts_py.catalog import CONTRACTS
from node.crypto import private_key_to_address
from node.exceptions import InvalidTransaction
from node.service import Node
from node.transactions import sign_fee_market_transaction

WRITE_GAS = 50_000_000
"""Gas limit of a portal transaction: ample for any single call the portals make."""


class WriteRejected(ValueError):
    """The contract or the node refused the write; `reason` is shown to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def encode_call(to: bytes, function: str, *args: Any) -> bytes:
    spec = CONTRACTS[to].functions[function]
    try:
        return spec.selector + eth_abi.encode(list(spec.input_types), list(args))
    except (eth_abi.exceptions.EncodingError, OverflowError, TypeError) as exc:
        raise WriteRejected(f"bad value for {function}: {exc}") from exc


def decode_result(to: bytes, function: str, return_data: bytes) -> tuple:
    spec = CONTRACTS[to].functions[function]
    values = eth_abi.decode(list(spec.output_types), return_data)
    return tuple(normalize_decoded(t, v) for t, v in zip(spec.output_types, values))


class ChainWriter:
    def __init__(self, node: Node, notify: Callable[[], None] = lambda: None) -> None:
        self.node = node
        self.notify = notify
        self._lock = threading.Lock()

    def view(self, to: bytes, function: str, *args: Any, sender: bytes = bytes(20)) -> tuple:
        """A read-only contract call on the head state (for views the read model does not hold)."""
        result = self.node.call(to, encode_call(to, function, *args), sender=sender)
        if not result.success:
            raise WriteRejected(result.revert_reason or f"{function} reverted")
        return decode_result(to, function, result.return_data)

    def send(self, private_key: bytes, to: bytes, function: str, *args: Any) -> str:
        """Check, sign and submit one call; returns the transaction hash as 0x-hex."""
        data = encode_call(to, function, *args)
        sender = private_key_to_address(private_key)
        with self._lock:  # one nonce at a time per portal
            trial = self.node.call(to, data, sender=sender)
            if not trial.success:
                raise WriteRejected(trial.revert_reason or f"{function} reverted")
            raw = sign_fee_market_transaction(private_key, chain_id=self.node.rules.chain_id,
                                              nonce=self.node.pending_nonce(sender), to=to, data=data,
                                              gas=WRITE_GAS)
            try:
                tx = self.node.submit_transaction(raw)
            except InvalidTransaction as exc:
                raise WriteRejected(str(exc)) from exc
        self.notify()
        return "0x" + tx.hash.hex()
