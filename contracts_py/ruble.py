"""The ruble token: ERC-20 money of the ledger, 1 unit = 1 kopeck (decimals 2), so wallets show rubles.

Only holders of the issuer role (the settlement bank) mint and burn: every token on-chain stands for a ruble
held off-chain. Other native contracts move a payer's money with `chargeOrigin`, which only works on behalf of the
transaction's signer: a contract can never spend anyone's money but the current signer's.

Money enters and leaves through the settlement bank, which keeps a float of tokens for the rubles it holds. A holder
asks for a top-up (`requestTopUp`); the bank, once the rubles arrive, pays it from its float (`fulfilTopUp`) or
rejects it. A holder asks for a withdrawal to a bank account (`requestWithdrawal`): the amount moves at once into
this contract's own balance (locked, so it can never exceed what the holder has), and the bank either pays the
rubles out and takes the locked tokens back into its float (`confirmWithdrawal`) or refunds them
(`rejectWithdrawal`). Every step is an event the bank adapter and the indexer follow."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import IntEnum

from contracts_py.abi import Address, Bool, Bytes32, Indexed, String, Uint8, Uint64, Uint256
from contracts_py.participants import Role, require_role
from contracts_py.runtime import (Context, ContractStorage, NativeContract, Revert, event, external, internal, require,
                                  view)

ADDRESS = bytes.fromhex("000000000000000000000000000000000000e002")
ZERO_ADDRESS = bytes(20)
SUPPLY_KEY = b"supply"
REQUEST_COUNT_KEY = b"reqn"
MAX_REQUEST_KOPECKS = 10**12
"""Largest single top-up or withdrawal: ten billion rubles, far above any real one (a typo guard)."""
BIK = re.compile(r"\d{9}")
BANK_ACCOUNT = re.compile(r"\d{20}")


class RequestKind(IntEnum):
    TOP_UP = 1
    WITHDRAWAL = 2


class RequestStatus(IntEnum):
    PENDING = 1
    DONE = 2
    """Top-up paid from the bank's float, or withdrawal paid out by the bank."""
    REJECTED = 3
    """Top-up refused, or withdrawal refused and its locked amount refunded."""


@dataclass(frozen=True, slots=True)
class BankRequest:
    """A holder's request to the settlement bank, kept until it is settled (and after, for the record)."""

    kind: int
    holder: bytes
    amount: int
    """Kopecks."""
    bik: str
    bank_account: str
    """Where a withdrawal is paid (9-digit BIK, 20-digit account); empty for a top-up."""
    status: int
    bank_reference: bytes
    """The bank's payment reference once settled (32 bytes), empty before and on rejection."""


class BankRequestError(Revert):
    """A request or settlement that breaks the rules; keeps the offending request id and value."""

    def __init__(self, request_id: int, value: object, reason: str) -> None:
        super().__init__(f"bank request {request_id}: {reason}" if request_id else reason)
        self.request_id = request_id
        self.value = value


def open_request(kind: RequestKind, holder: bytes, amount: int, bik: str = "", bank_account: str = "") -> BankRequest:
    """A new pending request, validated: a positive amount within the guard; a withdrawal names a bank account."""
    if not 0 < amount <= MAX_REQUEST_KOPECKS:
        raise BankRequestError(0, amount, f"the amount must be 1 to {MAX_REQUEST_KOPECKS} kopecks, got {amount}")
    if kind == RequestKind.WITHDRAWAL:
        if not BIK.fullmatch(bik):
            raise BankRequestError(0, bik, f"a BIK has 9 digits, got {bik[:40]!r}")
        if not BANK_ACCOUNT.fullmatch(bank_account):
            raise BankRequestError(0, bank_account, f"a bank account has 20 digits, got {bank_account[:40]!r}")
    elif bik or bank_account:
        raise BankRequestError(0, bank_account, "a top-up names no bank account")
    return BankRequest(int(kind), holder, amount, bik, bank_account, RequestStatus.PENDING, b"")


def settle(request: BankRequest | None, request_id: int, kind: RequestKind, outcome: RequestStatus,
           reference: bytes = b"") -> BankRequest:
    """The request after the bank settles it: only a pending request of the expected kind settles, once."""
    if request is None:
        raise BankRequestError(request_id, None, "no such request")
    if request.kind != kind:
        raise BankRequestError(request_id, request.kind, f"is a {RequestKind(request.kind).name.lower()} request")
    if request.status != RequestStatus.PENDING:
        raise BankRequestError(request_id, request.status,
                               f"is already {RequestStatus(request.status).name.lower()}")
    if outcome == RequestStatus.DONE and len(reference) != 32:
        raise BankRequestError(request_id, reference, "a settled request needs the bank's 32-byte reference")
    return replace(request, status=int(outcome), bank_reference=reference if outcome == RequestStatus.DONE else b"")


def _balance_key(owner: bytes) -> bytes:
    return b"bal" + owner


def _allowance_key(owner: bytes, spender: bytes) -> bytes:
    return b"alw" + owner + spender


def _request_key(request_id: int) -> bytes:
    return b"req" + request_id.to_bytes(8, "big")


def _reference_key(reference: bytes) -> bytes:
    return b"ref" + reference


@event
class Transfer:
    from_: Indexed(Address)
    to: Indexed(Address)
    value: Uint256


@event
class Approval:
    owner: Indexed(Address)
    spender: Indexed(Address)
    value: Uint256


@event
class TopUpRequested:
    request_id: Indexed(Uint64)
    holder: Indexed(Address)
    amount: Uint256


@event
class TopUpFulfilled:
    request_id: Indexed(Uint64)
    holder: Indexed(Address)
    amount: Uint256
    bank_reference: Bytes32


@event
class WithdrawalRequested:
    request_id: Indexed(Uint64)
    holder: Indexed(Address)
    amount: Uint256
    bik: String
    bank_account: String


@event
class WithdrawalPaid:
    request_id: Indexed(Uint64)
    holder: Indexed(Address)
    amount: Uint256
    bank_reference: Bytes32


@event
class BankRequestRejected:
    request_id: Indexed(Uint64)
    holder: Indexed(Address)
    kind: Uint8
    reason: String


def credit_at_genesis(storage: ContractStorage, owner: bytes, amount: int) -> None:
    """Genesis balances: minted into existence with the supply that backs them."""
    storage.set_int(_balance_key(owner), storage.get_int(_balance_key(owner)) + amount)
    storage.set_int(SUPPLY_KEY, storage.get_int(SUPPLY_KEY) + amount)


def _move(ctx: Context, source: bytes, target: bytes, amount: int) -> None:
    if target == ZERO_ADDRESS:
        raise Revert("transfer to the zero address")
    if target == ADDRESS:
        raise Revert("the token contract holds only withdrawals in progress; request a withdrawal instead")
    _shift(ctx, source, target, amount)


def _shift(ctx: Context, source: bytes, target: bytes, amount: int) -> None:
    storage = ctx.storage
    balance = storage.get_int(_balance_key(source))
    if balance < amount:
        raise Revert(f"insufficient balance: has {balance}, needs {amount} kopecks")
    if source != target:
        storage.set_int(_balance_key(source), balance - amount)
        storage.set_int(_balance_key(target), storage.get_int(_balance_key(target)) + amount)
    ctx.emit(Transfer(from_=source, to=target, value=amount))


class RubleToken(NativeContract):
    NAME = "RubleToken"
    EVENTS = (Transfer, Approval, TopUpRequested, TopUpFulfilled, WithdrawalRequested, WithdrawalPaid,
              BankRequestRejected)

    @view
    def name(self, ctx: Context) -> String:
        return "Russian Ruble"

    @view
    def symbol(self, ctx: Context) -> String:
        return "RUB"

    @view
    def decimals(self, ctx: Context) -> Uint8:
        return 2

    @view
    def totalSupply(self, ctx: Context) -> Uint256:
        return ctx.storage.get_int(SUPPLY_KEY)

    @view
    def balanceOf(self, ctx: Context, owner: Address) -> Uint256:
        return ctx.storage.get_int(_balance_key(owner))

    @view
    def allowance(self, ctx: Context, owner: Address, spender: Address) -> Uint256:
        return ctx.storage.get_int(_allowance_key(owner, spender))

    @external
    def transfer(self, ctx: Context, to: Address, value: Uint256) -> Bool:
        _move(ctx, ctx.sender, to, value)
        return True

    @external
    def approve(self, ctx: Context, spender: Address, value: Uint256) -> Bool:
        ctx.storage.set_int(_allowance_key(ctx.sender, spender), value)
        ctx.emit(Approval(owner=ctx.sender, spender=spender, value=value))
        return True

    @external
    def transferFrom(self, ctx: Context, from_: Address, to: Address, value: Uint256) -> Bool:
        allowed = ctx.storage.get_int(_allowance_key(from_, ctx.sender))
        if allowed < value:
            raise Revert(f"allowance exceeded: {allowed} approved, {value} requested")
        ctx.storage.set_int(_allowance_key(from_, ctx.sender), allowed - value)
        _move(ctx, from_, to, value)
        return True

    @external
    def mint(self, ctx: Context, to: Address, value: Uint256) -> Bool:
        require_role(ctx, ctx.sender, Role.ISSUER)
        if to == ZERO_ADDRESS:
            raise Revert("mint to the zero address")
        ctx.storage.set_int(SUPPLY_KEY, ctx.storage.get_int(SUPPLY_KEY) + value)
        ctx.storage.set_int(_balance_key(to), ctx.storage.get_int(_balance_key(to)) + value)
        ctx.emit(Transfer(from_=ZERO_ADDRESS, to=to, value=value))
        return True

    @external
    def burn(self, ctx: Context, from_: Address, value: Uint256) -> Bool:
        """The issuer burns money it holds or that the holder approved it to take (a withdrawal)."""
        require_role(ctx, ctx.sender, Role.ISSUER)
        if from_ != ctx.sender:
            allowed = ctx.storage.get_int(_allowance_key(from_, ctx.sender))
            if allowed < value:
                raise Revert(f"allowance exceeded: {allowed} approved, {value} to burn")
            ctx.storage.set_int(_allowance_key(from_, ctx.sender), allowed - value)
        balance = ctx.storage.get_int(_balance_key(from_))
        if balance < value:
            raise Revert(f"insufficient balance: has {balance}, burning {value} kopecks")
        ctx.storage.set_int(_balance_key(from_), balance - value)
        ctx.storage.set_int(SUPPLY_KEY, ctx.storage.get_int(SUPPLY_KEY) - value)
        ctx.emit(Transfer(from_=from_, to=ZERO_ADDRESS, value=value))
        return True

    @internal
    def chargeOrigin(self, ctx: Context, to: bytes, value: int) -> bool:
        """Move the transaction signer's money on its behalf: how other contracts take a payment."""
        _move(ctx, ctx.origin, to, value)
        return True

    # --- the bank: top-up and withdrawal requests ------------------------------------------------------------

    def _open(self, ctx: Context, request: BankRequest) -> int:
        request_id = ctx.storage.get_int(REQUEST_COUNT_KEY) + 1
        ctx.storage.set_int(REQUEST_COUNT_KEY, request_id)
        ctx.storage.set_record(_request_key(request_id), request)
        return request_id

    def _settle(self, ctx: Context, request_id: int, kind: RequestKind, outcome: RequestStatus,
                reference: bytes = b"") -> BankRequest:
        require_role(ctx, ctx.sender, Role.ISSUER)
        stored = ctx.storage.get_record(_request_key(request_id), BankRequest)
        settled = settle(stored, request_id, kind, outcome, reference)
        if outcome == RequestStatus.DONE:
            if ctx.storage.get(_reference_key(reference)) is not None:
                raise BankRequestError(request_id, reference, f"bank payment 0x{reference.hex()} is already recorded")
            ctx.storage.set(_reference_key(reference), request_id.to_bytes(8, "big"))
        ctx.storage.set_record(_request_key(request_id), settled)
        return settled

    @external
    def requestTopUp(self, ctx: Context, amount: Uint256) -> Uint64:
        """A holder asks the bank to top up its balance; the bank credits it once the rubles arrive."""
        request_id = self._open(ctx, open_request(RequestKind.TOP_UP, ctx.sender, amount))
        ctx.emit(TopUpRequested(request_id=request_id, holder=ctx.sender, amount=amount))
        return request_id

    @external
    def fulfilTopUp(self, ctx: Context, requestId: Uint64, bankReference: Bytes32) -> None:
        """The bank received the rubles: it pays the tokens from its float, once per bank reference."""
        request = self._settle(ctx, requestId, RequestKind.TOP_UP, RequestStatus.DONE, bankReference)
        _move(ctx, ctx.sender, request.holder, request.amount)
        ctx.emit(TopUpFulfilled(request_id=requestId, holder=request.holder, amount=request.amount,
                                bank_reference=bankReference))

    @external
    def requestWithdrawal(self, ctx: Context, amount: Uint256, bik: String, bankAccount: String) -> Uint64:
        """A holder asks for rubles paid to its bank account; the amount is locked here at once."""
        request = open_request(RequestKind.WITHDRAWAL, ctx.sender, amount, bik, bankAccount)
        request_id = self._open(ctx, request)
        _shift(ctx, ctx.sender, ADDRESS, amount)
        ctx.emit(WithdrawalRequested(request_id=request_id, holder=ctx.sender, amount=amount, bik=bik,
                                     bank_account=bankAccount))
        return request_id

    @external
    def confirmWithdrawal(self, ctx: Context, requestId: Uint64, bankReference: Bytes32) -> None:
        """The bank paid the rubles out: the locked tokens return to its float."""
        request = self._settle(ctx, requestId, RequestKind.WITHDRAWAL, RequestStatus.DONE, bankReference)
        _shift(ctx, ADDRESS, ctx.sender, request.amount)
        ctx.emit(WithdrawalPaid(request_id=requestId, holder=request.holder, amount=request.amount,
                                bank_reference=bankReference))

    @external
    def rejectRequest(self, ctx: Context, requestId: Uint64, reason: String) -> None:
        """The bank refuses a pending request with a reason; a withdrawal's locked amount goes back."""
        stored = ctx.storage.get_record(_request_key(requestId), BankRequest)
        kind = RequestKind(stored.kind) if stored is not None else RequestKind.TOP_UP
        require(0 < len(reason) <= 200, "a rejection needs a reason of 1 to 200 characters")
        request = self._settle(ctx, requestId, kind, RequestStatus.REJECTED)
        if kind == RequestKind.WITHDRAWAL:
            _shift(ctx, ADDRESS, request.holder, request.amount)
        ctx.emit(BankRequestRejected(request_id=requestId, holder=request.holder, kind=int(kind), reason=reason))

    @view
    def bankRequest(self, ctx: Context, requestId: Uint64) -> tuple[Uint8, Address, Uint256, String, String, Uint8,
                                                                     Bytes32]:
        """(kind, holder, amount, bik, bankAccount, status, bankReference); reverts for an unknown id."""
        r = ctx.storage.get_record(_request_key(requestId), BankRequest)
        require(r is not None, f"bank request {requestId}: no such request")
        return r.kind, r.holder, r.amount, r.bik, r.bank_account, r.status, r.bank_reference.ljust(32, b"\0")

    @view
    def bankRequestCount(self, ctx: Context) -> Uint64:
        return ctx.storage.get_int(REQUEST_COUNT_KEY)
