"""The settlement bank's adapter as a running service: it follows the chain over JSON-RPC and answers the holders'
top-up and withdrawal requests with the bank's signed ruble calls (`energy-node bank run`).

Each step is bounded: it reads the token's request events of at most `MAX_BLOCKS_PER_STEP` new blocks
(`eth_getLogs`), checks the receipts of the answers it sent, and answers open requests while fewer than
`MAX_IN_FLIGHT` answers wait for receipts. What to answer is the bank's decision (`RequestAnswerer`): the
simulated bank of the demo pays every top-up in and every withdrawal out unless its account is closed; a real
bank's adapter decides from its statement (the rubles arrived, the payment order went out or bounced) and signs
the same three calls.

Nothing is lost on a failure: a request stays open until the chain shows it settled. Before every answer the
request's status is read back, so a restart (which rescans the events from `from_block`) or an answer sent twice
never settles a request twice (the contract would refuse it anyway). An answer that reverts (the bank's float is
short, say) is logged and retried after `retry_s`, up to `MAX_ATTEMPTS`, then parked with an error for a person;
an answer without a receipt after `receipt_timeout_s` is sent again with the nonce read afresh from the node.
With a checkpoint file the service resumes where it stopped (the next block to read, the requests still open or
parked) instead of rescanning the chain."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from contracts_py import ruble
from contracts_py.ruble import BankRequest, RequestStatus
from genesis.chain_client import ChainClient, ChainClientError, PendingTransaction, Signer

log = logging.getLogger("bank")

MAX_BLOCKS_PER_STEP = 500
"""Blocks whose logs one step reads (the node allows 10,000 a query; a small range keeps every step short)."""
MAX_IN_FLIGHT = 50
"""Answers waiting for their receipts at once: a step sends no more than this allows, the rest wait."""
MAX_ATTEMPTS = 5
"""Answers of one request that may revert before the service parks it and leaves it to a person."""
ANSWER_GAS = 500_000
REQUEST_EVENTS = (ruble.TopUpRequested.__event_spec__.topic, ruble.WithdrawalRequested.__event_spec__.topic)


class CheckpointError(ValueError):
    """A checkpoint file that is not the service's own JSON; names the file and what is wrong."""


@dataclass(frozen=True)
class Checkpoint:
    """Where the service stands, written after every step that moved it (atomically: a crash keeps the old one)."""

    from_block: int
    open: tuple[int, ...]
    parked: tuple[int, ...]

    @classmethod
    def load(cls, path: Path) -> Checkpoint | None:
        """The checkpoint in `path`, or None when there is none yet."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            checkpoint = cls(data["fromBlock"], tuple(data["open"]), tuple(data["parked"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CheckpointError(f"{path} is not a bank service checkpoint: {exc}") from exc
        numbers = (checkpoint.from_block, *checkpoint.open, *checkpoint.parked)
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in numbers):
            raise CheckpointError(f"{path}: block and request numbers must be whole numbers from 0")
        return checkpoint

    def save(self, path: Path) -> None:
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps({"fromBlock": self.from_block, "open": list(self.open),
                                         "parked": list(self.parked)}) + "\n", encoding="utf-8")
        os.replace(temporary, path)


class RequestAnswerer(Protocol):
    """The bank's decision on one pending request (`contracts_py.bank_sim.SimulatedBank` is one)."""

    def answer(self, request_id: int, request: BankRequest) -> tuple[str, tuple]:
        """The ruble function (`fulfilTopUp`, `confirmWithdrawal` or `rejectRequest`) and its arguments."""


@dataclass
class OpenRequest:
    """A request seen on chain and not yet seen settled."""

    request_id: int
    attempts: int = 0
    """Answers sent that reverted or were refused."""
    retry_at: float = 0.0
    """Monotonic time before which it is not answered again."""
    answer: PendingTransaction | None = None
    sent_at: float = 0.0


@dataclass(frozen=True)
class StepReport:
    """What one step did, for the log and the tests."""

    head: int
    scanned_to: int
    """The last block whose request events are read; below `head` while catching up."""
    found: int
    answered: int
    settled: int
    failed: int


@dataclass
class BankService:
    client: ChainClient
    signer: Signer
    """The bank's issuer key."""
    bank: RequestAnswerer
    from_block: int = 0
    retry_s: float = 30.0
    receipt_timeout_s: float = 60.0
    clock: Callable[[], float] = time.monotonic
    open: dict[int, OpenRequest] = field(default_factory=dict)
    parked: set[int] = field(default_factory=set)
    """Requests given up after `MAX_ATTEMPTS` failed answers (logged as errors)."""
    checkpoint_path: Path | None = None
    saved: Checkpoint | None = None

    @classmethod
    def resume(cls, client: ChainClient, signer: Signer, bank: RequestAnswerer, checkpoint_path: Path | None,
               saved: Checkpoint | None, from_block: int = 0, **options) -> BankService:
        """A service that continues from `saved` (`Checkpoint.load` of `checkpoint_path`), or starts at
        `from_block` when there is none; it keeps its checkpoint in `checkpoint_path` when one is given."""
        if saved is None:
            return cls(client, signer, bank, from_block, checkpoint_path=checkpoint_path, **options)
        return cls(client, signer, bank, saved.from_block, open={i: OpenRequest(i) for i in saved.open},
                   parked=set(saved.parked), checkpoint_path=checkpoint_path, saved=saved, **options)

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(self.from_block, tuple(sorted(self.open)), tuple(sorted(self.parked)))

    def step(self) -> StepReport:
        """Read new request events, check the answers in flight, answer what is open; raises ChainClientError
        only when the node does not answer (the caller retries the step)."""
        head, scanned_to, found = self.scan()
        settled, failed = self.check_answers()
        answered = self.answer_open()
        if self.checkpoint_path is not None and self.checkpoint() != self.saved:
            self.saved = self.checkpoint()
            self.saved.save(self.checkpoint_path)
        return StepReport(head, scanned_to, found, answered, settled, failed)

    # --- the three parts of a step --------------------------------------------------------------------------
    def scan(self) -> tuple[int, int, int]:
        """Open requests from the request events of the next blocks (at most `MAX_BLOCKS_PER_STEP`); returns
        (head, last block read, requests found)."""
        head = int(self.client.request("eth_blockNumber"), 16)
        if self.from_block > head:
            return head, head, 0
        last = min(head, self.from_block + MAX_BLOCKS_PER_STEP - 1)
        logs = self.client.request("eth_getLogs", {"address": "0x" + ruble.ADDRESS.hex(), "fromBlock": hex(
            self.from_block), "toBlock": hex(last), "topics": [["0x" + t.hex() for t in REQUEST_EVENTS]]})
        found = 0
        for entry in logs:
            request_id = int(entry["topics"][1], 16)
            if request_id not in self.open and request_id not in self.parked:
                self.open[request_id] = OpenRequest(request_id)
                found += 1
        self.from_block = last + 1
        return head, last, found

    def check_answers(self) -> tuple[int, int]:
        """Receipts of the answers in flight: a success settles, a revert counts an attempt, a long silence
        resends. Returns (settled, failed)."""
        flying = [r for r in self.open.values() if r.answer is not None]
        if not flying:
            return 0, 0
        answers = self.client.batch([("eth_getTransactionReceipt", [r.answer.tx_hash]) for r in flying])
        settled = failed = 0
        for request, answer in zip(flying, answers):
            receipt = answer.get("result")
            if receipt is None:
                if self.clock() - request.sent_at > self.receipt_timeout_s:
                    log.warning("request %d: no receipt for %s after %.0f s; sending again", request.request_id,
                                request.answer.tx_hash, self.receipt_timeout_s)
                    request.answer = None
                    self.signer.next_nonce = None  # the transaction may be gone: read the nonce afresh
                continue
            if receipt["status"] == "0x1":
                log.info("request %d settled by %s (%s)", request.request_id, request.answer.label,
                         request.answer.tx_hash)
                del self.open[request.request_id]
                settled += 1
            else:
                self.failed(request, f"{request.answer.label} reverted: {receipt.get('revertReason', '?')}")
                failed += 1
        return settled, failed

    def answer_open(self) -> int:
        """Sign and send the bank's answer to open requests not in flight, oldest first."""
        flying = sum(r.answer is not None for r in self.open.values())
        due = [r for r in sorted(self.open.values(), key=lambda r: r.request_id)
               if r.answer is None and r.retry_at <= self.clock()][:max(0, MAX_IN_FLIGHT - flying)]
        sent = 0
        for request in due:
            try:
                sent += self.answer_one(request)
            except ChainClientError as exc:
                self.client.request("eth_blockNumber")  # raises when the node is away: the step is retried
                self.signer.next_nonce = None  # the node refused the transaction, which used no nonce
                self.failed(request, str(exc))
        return sent

    def answer_one(self, request: OpenRequest) -> int:
        kind, holder, amount, bik, account, status, _reference = self.client.call(
            "RubleToken", "bankRequest", request.request_id)
        if status != RequestStatus.PENDING:
            del self.open[request.request_id]  # settled already (before a restart, or by another adapter)
            return 0
        pending = BankRequest(kind, holder, amount, bik, account, status, b"")
        try:
            function, args = self.bank.answer(request.request_id, pending)
        except (ValueError, KeyError) as exc:
            self.failed(request, f"the bank cannot answer it: {exc}")
            return 0
        request.answer = self.client.send(self.signer, "RubleToken", function, *args, execution_gas=ANSWER_GAS)
        request.sent_at = self.clock()
        log.info("request %d (%s of %d kopecks by 0x%s): sent %s in %s", request.request_id,
                 "top-up" if kind == ruble.RequestKind.TOP_UP else "withdrawal", amount, holder.hex(), function,
                 request.answer.tx_hash)
        return 1

    def failed(self, request: OpenRequest, reason: str) -> None:
        request.answer = None
        request.attempts += 1
        if request.attempts >= MAX_ATTEMPTS:
            del self.open[request.request_id]
            self.parked.add(request.request_id)
            log.error("request %d parked after %d failed answers (last: %s); it needs a person",
                      request.request_id, request.attempts, reason)
            return
        request.retry_at = self.clock() + self.retry_s
        log.warning("request %d: %s; retrying in %.1f s (attempt %d of %d)", request.request_id, reason,
                    self.retry_s, request.attempts, MAX_ATTEMPTS)

    # --- the loop -------------------------------------------------------------------------------------------
    def run(self, stop: threading.Event, poll_s: float = 1.0, error_backoff_s: float = 5.0) -> None:
        """Step until `stop` is set: at once while catching up, every `poll_s` when at the head, after
        `error_backoff_s` when the node does not answer."""
        log.info("bank service answering requests from block %d as 0x%s (%d open, %d parked)", self.from_block,
                 self.signer.address.hex(), len(self.open), len(self.parked))
        caught_up = False
        while not stop.is_set():
            try:
                report = self.step()
            except ChainClientError as exc:
                log.warning("node unavailable: %s; retrying in %.0f s", exc, error_backoff_s)
                stop.wait(error_backoff_s)
                continue
            if report.scanned_to >= report.head:
                if not caught_up:
                    log.info("caught up with the chain at block %d; %d requests open", report.head, len(self.open))
                    caught_up = True
                stop.wait(poll_s)
        log.info("bank service stopped with %d requests open, %d parked", len(self.open), len(self.parked))
