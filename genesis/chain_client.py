"""A small JSON-RPC client that calls the native contracts with signed EIP-1559 transactions.

Used by `energy-node seed-demo` and the end-to-end tests. Contracts and functions are named as in their ABI
(`client.send(retailer, "Invoices", "issueInvoice", 1001, 202604)`); arguments are ABI-encoded from the
contract's own declaration, so a wrong argument fails here, before anything is signed. Each key tracks its next
nonce locally, so many transactions can be sent before waiting for any of them; `wait` then polls the receipts
in JSON-RPC batches and raises `TransactionFailed` with the contract's revert reason."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import eth_abi

from contracts_py.abi import normalize_decoded
from contracts_py.catalog import contract_by_name
from contracts_py.runtime import FunctionSpec
from node.crypto import private_key_to_address
from node.transactions import intrinsic_gas, sign_fee_market_transaction

DEFAULT_EXECUTION_GAS = 5_000_000
"""Gas for a contract call beyond its intrinsic gas; readings batches ask for more (see `send`)."""
MAX_REQUEST_BYTES = 4 * 1024 * 1024
"""Keep one HTTP request below the node's 5 MiB limit."""
MAX_BATCH_ITEMS = 500
"""Requests in one JSON-RPC batch (the node accepts 1,000)."""


class ChainClientError(RuntimeError):
    """The node refused a request or did not answer; the message says which and why."""


class TransactionFailed(ChainClientError):
    """A mined transaction reverted; `reason` is the revert reason from its receipt."""

    def __init__(self, label: str, reason: str, receipt: dict) -> None:
        super().__init__(f"{label} reverted: {reason}")
        self.label = label
        self.reason = reason
        self.receipt = receipt


@dataclass
class Signer:
    """A private key and the next nonce it will use (read from the node once, then counted here)."""

    private_key: bytes = field(repr=False)
    name: str = ""
    next_nonce: int | None = None

    @property
    def address(self) -> bytes:
        return private_key_to_address(self.private_key)


@dataclass(frozen=True)
class PendingTransaction:
    tx_hash: str
    label: str
    """`Contract.function` and the signer's name, for error messages."""


def function_spec(contract: str, function: str) -> tuple[bytes, FunctionSpec]:
    address, native = contract_by_name(contract)
    try:
        return address, native.functions[function]
    except KeyError:
        raise ChainClientError(f"{contract} has no function {function!r}") from None


def encode_call(contract: str, function: str, *args: Any) -> tuple[bytes, bytes]:
    """(contract address, ABI call data) of `contract.function(*args)`."""
    address, spec = function_spec(contract, function)
    if len(args) != len(spec.input_types):
        raise ChainClientError(f"{contract}.{function} takes {len(spec.input_types)} arguments "
                               f"({', '.join(spec.input_names)}), got {len(args)}")
    try:
        encoded = eth_abi.encode(list(spec.input_types), list(args))
    except Exception as exc:  # eth-abi raises several unrelated types for a bad value
        raise ChainClientError(f"{contract}.{function}: cannot encode arguments: {exc}") from exc
    return address, spec.selector + encoded


class ChainClient:
    """Talks to one node over JSON-RPC (HTTP). The timeout is long: a node answers no RPC while it executes a
    block, and a block of history postings takes seconds."""

    def __init__(self, url: str, timeout_s: float = 120.0) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.chain_id = int(self.request("eth_chainId"), 16)

    # --- transport ------------------------------------------------------------------------------------------
    def _post(self, body: Any) -> Any:
        payload = json.dumps(body).encode()
        request = urllib.request.Request(self.url, payload, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return json.loads(response.read())
        except (urllib.error.URLError, OSError, json.JSONDecodeError) as exc:
            raise ChainClientError(f"node at {self.url} did not answer: {exc}") from exc

    def request(self, method: str, *params: Any) -> Any:
        answer = self._post({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
        if "error" in answer:
            raise ChainClientError(f"{method}: {answer['error'].get('message')}")
        return answer["result"]

    def batch(self, calls: Sequence[tuple[str, list]]) -> list[dict]:
        """Many JSON-RPC calls in as few HTTP requests as the size limits allow; answers in order (each
        a response object with `result` or `error`)."""
        answers: list[dict] = []
        chunk: list[dict] = []
        size = 0
        for method, params in calls:
            entry = {"jsonrpc": "2.0", "id": len(answers) + len(chunk), "method": method, "params": params}
            entry_size = len(json.dumps(entry))
            if chunk and (size + entry_size > MAX_REQUEST_BYTES or len(chunk) >= MAX_BATCH_ITEMS):
                answers += self._send_chunk(chunk)
                chunk, size = [], 0
                entry["id"] = len(answers)
            chunk.append(entry)
            size += entry_size
        if chunk:
            answers += self._send_chunk(chunk)
        return answers

    def _send_chunk(self, chunk: list[dict]) -> list[dict]:
        answer = self._post(chunk)
        if not isinstance(answer, list):
            raise ChainClientError(f"batch refused: {answer.get('error', {}).get('message', answer)}")
        return sorted(answer, key=lambda a: a["id"])

    # --- reading --------------------------------------------------------------------------------------------
    def call(self, contract: str, function: str, *args: Any, sender: bytes = bytes(20)) -> Any:
        """`eth_call` a view; returns the decoded value (a tuple when it has several outputs)."""
        address, spec = function_spec(contract, function)
        _, data = encode_call(contract, function, *args)
        answer = self._post({"jsonrpc": "2.0", "id": 1, "method": "eth_call",
                             "params": [{"to": _hex(address), "from": _hex(sender), "data": _hex(data)}, "latest"]})
        if "error" in answer:
            raise ChainClientError(f"{contract}.{function}: {answer['error'].get('message')}")
        raw = bytes.fromhex(answer["result"][2:])
        values = tuple(normalize_decoded(t, v) for t, v in
                       zip(spec.output_types, eth_abi.decode(list(spec.output_types), raw)))
        return values[0] if len(values) == 1 else values

    def latest_timestamp(self) -> int:
        return int(self.request("eth_getBlockByNumber", "latest", False)["timestamp"], 16)

    # --- transactions ---------------------------------------------------------------------------------------
    def signer(self, private_key: bytes, name: str = "") -> Signer:
        return Signer(private_key, name)

    def send(self, signer: Signer, contract: str, function: str, *args: Any,
             execution_gas: int = DEFAULT_EXECUTION_GAS) -> PendingTransaction:
        """Sign and submit one call; returns at once (see `wait`)."""
        return self.send_many([(signer, contract, function, args, execution_gas)])[0]

    def send_many(self, calls: Iterable[tuple[Signer, str, str, Sequence[Any], int]]) -> list[PendingTransaction]:
        """Sign and submit many calls in JSON-RPC batches; the node runs them in nonce order per signer."""
        raws: list[str] = []
        labels: list[str] = []
        for signer, contract, function, args, execution_gas in calls:
            address, data = encode_call(contract, function, *args)
            if signer.next_nonce is None:
                signer.next_nonce = int(self.request("eth_getTransactionCount", _hex(signer.address), "pending"), 16)
            raw = sign_fee_market_transaction(signer.private_key, chain_id=self.chain_id, nonce=signer.next_nonce,
                                              to=address, data=data, gas=intrinsic_gas(data) + execution_gas)
            signer.next_nonce += 1
            raws.append(_hex(raw))
            labels.append(f"{contract}.{function} by {signer.name or _hex(signer.address)}")
        pending = []
        for label, answer in zip(labels, self.batch([("eth_sendRawTransaction", [raw]) for raw in raws])):
            if "error" in answer:
                raise ChainClientError(f"{label} refused by the node: {answer['error'].get('message')}")
            pending.append(PendingTransaction(answer["result"], label))
        return pending

    def wait(self, pending: Sequence[PendingTransaction], timeout_s: float = 120.0,
             check: bool = True) -> list[dict]:
        """Poll until every transaction has a receipt; raises TransactionFailed for the first that reverted
        (unless `check` is false) and ChainClientError when `timeout_s` passes first."""
        receipts: dict[str, dict] = {}
        deadline = time.monotonic() + timeout_s
        delay = 0.05
        while True:
            waiting = [p for p in pending if p.tx_hash not in receipts]
            if waiting:
                answers = self.batch([("eth_getTransactionReceipt", [p.tx_hash]) for p in waiting])
                for p, answer in zip(waiting, answers):
                    if answer.get("result"):
                        receipts[p.tx_hash] = answer["result"]
            if len(receipts) == len({p.tx_hash for p in pending}):
                break
            if time.monotonic() > deadline:
                raise ChainClientError(f"{len(pending) - len(receipts)} of {len(pending)} transactions have no "
                                       f"receipt after {timeout_s:.0f} s (first: {waiting[0].label})")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
        ordered = [receipts[p.tx_hash] for p in pending]
        if check:
            for p, receipt in zip(pending, ordered):
                if receipt["status"] != "0x1":
                    raise TransactionFailed(p.label, receipt.get("revertReason", "(no reason)"), receipt)
        return ordered

    def wait_included(self, signers: Iterable[Signer], timeout_s: float = 300.0) -> None:
        """Poll until every transaction these signers sent is in a block (their account nonces caught up).

        Cheaper than receipts for heavy transactions: this node decodes a whole block's receipts to answer
        `eth_getTransactionReceipt`, so a caller that can check the outcome in the contracts' state may skip
        them. It does not tell success from revert."""
        waiting = {s.address: s for s in signers if s.next_nonce is not None}
        deadline = time.monotonic() + timeout_s
        delay = 0.1
        while waiting:
            answers = self.batch([("eth_getTransactionCount", [_hex(a), "latest"]) for a in waiting])
            for address, answer in zip(list(waiting), answers):
                if "result" in answer and int(answer["result"], 16) >= waiting[address].next_nonce:
                    del waiting[address]
            if not waiting:
                return
            if time.monotonic() > deadline:
                names = ", ".join(s.name or _hex(s.address) for s in waiting.values())
                raise ChainClientError(f"transactions of {names} are not in a block after {timeout_s:.0f} s")
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)

    def transact(self, signer: Signer, contract: str, function: str, *args: Any,
                 execution_gas: int = DEFAULT_EXECUTION_GAS, check: bool = True) -> dict:
        """Send one call and wait for its receipt."""
        return self.wait([self.send(signer, contract, function, *args, execution_gas=execution_gas)],
                         check=check)[0]


def _hex(value: bytes) -> str:
    return "0x" + value.hex()
