"""The bank side of top-ups, off-chain: the interface a settlement bank's adapter offers, and a simulated bank.

The bank receives rubles for a consumer (by bank transfer, card or at a cash desk) and then records the top-up
on-chain with `Payments.topUp`, signed by its issuer key, against its own payment reference. A reference is
recorded once only on-chain, so resending after a crash is harmless; `acknowledge` stops resending once the
top-up is final. The simulated bank keeps its statement in memory, with references derived from a seed.

Holders also ask the bank through the ruble token (`requestTopUp`, `requestWithdrawal`): the bank adapter reads the
pending requests and answers each with one signed call, `fulfilTopUp` once the rubles arrived, `confirmWithdrawal`
once it paid the rubles out, or `rejectRequest` with a reason (a withdrawal's locked amount is then refunded)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import eth_abi
from eth_hash.auto import keccak

from contracts_py import payments, ruble
from contracts_py.ruble import BankRequest, RequestKind, RequestStatus


@dataclass(frozen=True, slots=True)
class BankPayment:
    """Money the bank received for a consumer's chain address."""

    reference: bytes
    """32 bytes: the bank's own payment reference (or its hash)."""
    consumer: bytes
    amount: int
    """Kopecks."""
    source: int
    """`payments.Source`: BANK, CARD or CASH_DESK."""
    received_at: int
    """UTC seconds."""


class BankAdapter(Protocol):
    """What the top-up service needs of a bank."""

    def unacknowledged(self, limit: int) -> list[BankPayment]:
        """Received payments not yet acknowledged, oldest first, at most `limit`."""

    def acknowledge(self, reference: bytes) -> None:
        """The top-up for `reference` is final on-chain: stop offering it."""


class SimulatedBank:
    """An in-memory bank for the demo and tests."""

    def __init__(self, seed: bytes = b"energy-ledger demo bank", closed_accounts: frozenset[str] = frozenset()
                 ) -> None:
        self._seed = seed
        self._statement: list[BankPayment] = []
        self._acknowledged: set[bytes] = set()
        self.closed_accounts = closed_accounts
        """Bank accounts a withdrawal cannot be paid to (the simulation's reason to reject one)."""

    def receive(self, consumer: bytes, amount: int, source: int = payments.Source.BANK,
                received_at: int = 0) -> BankPayment:
        """A consumer pays money in; the reference is a hash of the seed and the statement line number."""
        if amount <= 0 or len(consumer) != 20:
            raise ValueError("a payment needs a positive amount and a 20-byte consumer address")
        if source not in (payments.Source.BANK, payments.Source.CARD, payments.Source.CASH_DESK):
            raise ValueError(f"a bank receives by transfer, card or cash desk, not source {source}")
        line = len(self._statement).to_bytes(8, "big")
        payment = BankPayment(keccak(self._seed + line), consumer, amount, int(source), received_at)
        self._statement.append(payment)
        return payment

    def unacknowledged(self, limit: int) -> list[BankPayment]:
        return [p for p in self._statement if p.reference not in self._acknowledged][:limit]

    def acknowledge(self, reference: bytes) -> None:
        self._acknowledged.add(reference)

    def answer(self, request_id: int, request: BankRequest) -> tuple[str, tuple]:
        """The ruble call that settles a pending request: in the simulation every top-up is paid in (as if the
        holder paid at once) and every withdrawal paid out, unless its account is closed."""
        if request.status != RequestStatus.PENDING:
            raise ValueError(f"bank request {request_id} is settled already")
        reference = keccak(self._seed + b"request" + request_id.to_bytes(8, "big"))
        if request.kind == RequestKind.TOP_UP:
            return "fulfilTopUp", (request_id, reference)
        if request.bank_account in self.closed_accounts:
            return "rejectRequest", (request_id, f"bank account {request.bank_account} is closed")
        return "confirmWithdrawal", (request_id, reference)


def top_up_call_data(payment: BankPayment) -> bytes:
    """The ABI call of `Payments.topUp` for a bank payment, to be signed by the bank's issuer key."""
    spec = payments.Payments.functions["topUp"]
    return spec.selector + eth_abi.encode(list(spec.input_types),
                                          [payment.consumer, payment.amount, payment.reference, payment.source])


def pending_requests(view: Callable[..., tuple], first_id: int = 1) -> list[tuple[int, BankRequest]]:
    """The holders' requests still waiting for the bank, from `first_id` on (an adapter keeps the lowest id it has
    not seen settled), read through the token's views: `view(function, *args)` returns the decoded outputs."""
    (count,) = view("bankRequestCount")
    found = []
    for request_id in range(first_id, count + 1):
        kind, holder, amount, bik, account, status, _reference = view("bankRequest", request_id)
        if status == RequestStatus.PENDING:
            found.append((request_id, BankRequest(kind, holder, amount, bik, account, status, b"")))
    return found


def ruble_call_data(function: str, args: tuple) -> bytes:
    """The ABI call of a ruble token function, to be signed by the bank's issuer key."""
    spec = ruble.RubleToken.functions[function]
    return spec.selector + eth_abi.encode(list(spec.input_types), list(args))
