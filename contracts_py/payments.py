"""Payments: bank top-ups, payment of invoices split among the payees, auto-debit and refunds.

Money is the ruble token. The settlement bank (issuer role) records each top-up it received against its own
payment reference, moving its tokens to the consumer; a reference is recorded once only. A payer pays an invoice
from its own wallet: the payment is split among the invoice's lines by the largest remainder (whole payments give
each line exactly its amount) and goes straight to each line's payee; what exceeds the invoice is held here as the
account's overpayment, to be refunded or used by the next auto-debit. Anyone (the retailer's scheduler, say) may
trigger the auto-debit of a due invoice: it takes the account's overpayment first, then the consumer's wallet up
to the allowance the consumer gave this contract (the debit mandate), and only if together they cover the invoice.
Every payment records its source (bank, card, cash desk, auto-debit) and ends with a `PaymentConfirmed` event."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from contracts_py import invoices, registry, ruble
from contracts_py.abi import Address, Bytes32, Indexed, Uint8, Uint64, Uint256, Uint256Array
from contracts_py.billing.components import split_payment
from contracts_py.billing.errors import BillingError
from contracts_py.participants import Role, require_role
from contracts_py.runtime import Context, NativeContract, Revert, event, external, require, view

ADDRESS = invoices.PAYMENTS_ADDRESS


class Source(IntEnum):
    """Where a payment's money came from; stored on-chain."""

    BANK = 1
    CARD = 2
    CASH_DESK = 3
    AUTO_DEBIT = 4


PAYABLE = (invoices.Status.ISSUED, invoices.Status.CONFIRMED)


@dataclass(frozen=True, slots=True)
class Payment:
    payment_id: int
    invoice_id: int
    account_number: int
    payer: bytes
    amount: int
    """Kopecks taken from the payer (the applied part plus any overpayment)."""
    applied: int
    source: int
    block_number: int
    parts: tuple[int, ...]
    """Kopecks applied to each invoice line."""


@event
class TopUpRecorded:
    reference: Indexed(Bytes32)
    consumer: Indexed(Address)
    amount: Uint256
    source: Uint8


@event
class PaymentSplit:
    payment_id: Indexed(Uint256)
    payee: Indexed(Address)
    invoice_id: Indexed(Uint256)
    component: Uint8
    amount: Uint256


@event
class PaymentConfirmed:
    payment_id: Indexed(Uint256)
    invoice_id: Indexed(Uint256)
    account_number: Indexed(Uint64)
    payer: Address
    amount: Uint256
    applied: Uint256
    source: Uint8


@event
class OverpaymentHeld:
    account_number: Indexed(Uint64)
    payment_id: Indexed(Uint256)
    amount: Uint256
    balance: Uint256


@event
class OverpaymentRefunded:
    account_number: Indexed(Uint64)
    consumer: Indexed(Address)
    amount: Uint256


def _reference_key(reference: bytes) -> bytes:
    return b"r" + reference


def _count_key(invoice_id: int) -> bytes:
    return b"c" + invoice_id.to_bytes(16, "big")


def _payment_key(payment_id: int) -> bytes:
    return b"p" + payment_id.to_bytes(18, "big")


def _credit_key(account_number: int) -> bytes:
    return b"o" + account_number.to_bytes(8, "big")


class Payments(NativeContract):
    NAME = "Payments"
    EVENTS = (TopUpRecorded, PaymentSplit, PaymentConfirmed, OverpaymentHeld, OverpaymentRefunded)

    # --- the bank -------------------------------------------------------------------------------------------

    @external
    def topUp(self, ctx: Context, consumer: Address, amount: Uint256, bankReference: Bytes32,
              source: Uint8) -> None:
        """The settlement bank credits a consumer with rubles it received, once per bank payment reference."""
        require_role(ctx, ctx.sender, Role.ISSUER)
        require(amount > 0, "a top-up needs a positive amount")
        require(source in (Source.BANK, Source.CARD, Source.CASH_DESK),
                f"a top-up comes from a bank, card or cash desk, not source {source}")
        require(ctx.storage.get(_reference_key(bankReference)) is None,
                f"bank payment 0x{bankReference.hex()} is already recorded")
        ctx.storage.set(_reference_key(bankReference), consumer)
        ctx.call(ruble.ADDRESS, "chargeOrigin", consumer, amount)
        ctx.emit(TopUpRecorded(reference=bankReference, consumer=consumer, amount=amount, source=source))

    # --- paying invoices ------------------------------------------------------------------------------------

    def _payable(self, ctx: Context, invoice_id: int) -> invoices.Invoice:
        invoice = ctx.call(invoices.ADDRESS, "getInvoice", invoice_id)
        require(invoice.status in PAYABLE,
                f"invoice {invoice_id} is {invoices.Status(invoice.status).name.lower()}, not payable")
        require(invoice.outstanding > 0, f"invoice {invoice_id} is paid")
        return invoice

    def _settle(self, ctx: Context, invoice: invoices.Invoice, payer: bytes, amount: int, applied: int,
                source: int, pay: Callable[[bytes, int], object]) -> int:
        """Split `applied` among the lines, pay each payee once with `pay(payee, kopecks)`, record the payment."""
        remaining = [line.total - paid for line, paid in zip(invoice.lines, invoice.paid)]
        try:
            parts = split_payment(applied, remaining)
        except BillingError as error:
            raise Revert(str(error)) from error
        count = ctx.storage.get_int(_count_key(invoice.invoice_id)) + 1
        ctx.storage.set_int(_count_key(invoice.invoice_id), count)
        payment_id = invoice.invoice_id * 1_000 + count
        by_payee: dict[bytes, int] = {}
        for line, part in zip(invoice.lines, parts):
            by_payee[line.payee] = by_payee.get(line.payee, 0) + part
        for payee, kopecks in by_payee.items():
            if kopecks:
                pay(payee, kopecks)
        for line, part in zip(invoice.lines, parts):
            if part:
                ctx.emit(PaymentSplit(payment_id=payment_id, payee=line.payee, invoice_id=invoice.invoice_id,
                                      component=line.component, amount=part))
        ctx.call(invoices.ADDRESS, "recordPayment", invoice.invoice_id, parts)
        ctx.storage.set_record(_payment_key(payment_id), Payment(
            payment_id, invoice.invoice_id, invoice.account_number, payer, amount, applied, source,
            ctx.block.number, parts))
        ctx.emit(PaymentConfirmed(payment_id=payment_id, invoice_id=invoice.invoice_id,
                                  account_number=invoice.account_number, payer=payer, amount=amount,
                                  applied=applied, source=source))
        return payment_id

    @external
    def payInvoice(self, ctx: Context, invoiceId: Uint256, amount: Uint256, source: Uint8) -> Uint256:
        """Pay (part of) an invoice from the signer's wallet; beyond what is owed is held as overpayment.

        Returns the payment id. Paying more than the wallet holds reverts."""
        require(ctx.sender == ctx.origin, "invoices are paid by the transaction's signer")
        require(amount > 0, "a payment needs a positive amount")
        require(source in (Source.BANK, Source.CARD, Source.CASH_DESK),
                f"a payment comes from a bank, card or cash desk, not source {source}")
        invoice = self._payable(ctx, invoiceId)
        applied = min(amount, invoice.outstanding)
        payment_id = self._settle(ctx, invoice, ctx.sender, amount, applied, source,
                                  lambda payee, kopecks: ctx.call(ruble.ADDRESS, "chargeOrigin", payee, kopecks))
        if amount > applied:
            ctx.call(ruble.ADDRESS, "chargeOrigin", ADDRESS, amount - applied)
            self._add_credit(ctx, invoice.account_number, payment_id, amount - applied)
        return payment_id

    @external
    def autoDebit(self, ctx: Context, invoiceId: Uint256) -> Uint256:
        """Debit a due invoice (confirmed, or past its due date) in full from the account's overpayment and the
        consumer's wallet within its allowance to this contract; anyone may send it. Returns the payment id."""
        invoice = self._payable(ctx, invoiceId)
        require(invoice.status == invoices.Status.CONFIRMED or ctx.block.timestamp >= invoice.due_at,
                f"invoice {invoiceId} is not due: neither confirmed nor past its due date")
        credit = ctx.storage.get_int(_credit_key(invoice.account_number))
        from_credit = min(credit, invoice.outstanding)
        from_wallet = invoice.outstanding - from_credit
        if from_wallet:
            consumer = invoice.consumer
            balance = ctx.call(ruble.ADDRESS, "balanceOf", consumer)
            allowance = ctx.call(ruble.ADDRESS, "allowance", consumer, ADDRESS)
            require(min(balance, allowance) >= from_wallet,
                    f"balance does not cover invoice {invoiceId}: {from_wallet} kopecks needed, wallet {balance}, "
                    f"debit allowance {allowance}")
            ctx.call(ruble.ADDRESS, "transferFrom", consumer, ADDRESS, from_wallet)
        if from_credit:
            ctx.storage.set_int(_credit_key(invoice.account_number), credit - from_credit)
        return self._settle(ctx, invoice, invoice.consumer, invoice.outstanding, invoice.outstanding,
                            Source.AUTO_DEBIT,
                            lambda payee, kopecks: ctx.call(ruble.ADDRESS, "transfer", payee, kopecks))

    # --- overpayments ---------------------------------------------------------------------------------------

    def _add_credit(self, ctx: Context, account_number: int, payment_id: int, amount: int) -> None:
        balance = ctx.storage.get_int(_credit_key(account_number)) + amount
        ctx.storage.set_int(_credit_key(account_number), balance)
        ctx.emit(OverpaymentHeld(account_number=account_number, payment_id=payment_id, amount=amount,
                                 balance=balance))

    @external
    def refundOverpayment(self, ctx: Context, accountNumber: Uint64) -> Uint256:
        """Return the account's overpayment to its consumer; the consumer or the account's retailer asks."""
        account = ctx.call(registry.ADDRESS, "getAccount", accountNumber)
        require(ctx.sender in (account.consumer, account.retailer),
                f"0x{ctx.sender.hex()} is neither the consumer nor the retailer of account {accountNumber}")
        credit = ctx.storage.get_int(_credit_key(accountNumber))
        require(credit > 0, f"account {accountNumber} has no overpayment")
        ctx.storage.set_int(_credit_key(accountNumber), 0)
        ctx.call(ruble.ADDRESS, "transfer", account.consumer, credit)
        ctx.emit(OverpaymentRefunded(account_number=accountNumber, consumer=account.consumer, amount=credit))
        return credit

    # --- views ----------------------------------------------------------------------------------------------

    @view
    def overpayment(self, ctx: Context, accountNumber: Uint64) -> Uint256:
        return ctx.storage.get_int(_credit_key(accountNumber))

    @view
    def payment(self, ctx: Context, paymentId: Uint256) -> tuple[
            Uint256, Uint64, Address, Uint256, Uint256, Uint8, Uint64, Uint256Array]:
        """(invoiceId, accountNumber, payer, amount, applied, source, blockNumber, partsPerLine)."""
        p = ctx.storage.get_record(_payment_key(paymentId), Payment)
        require(p is not None, f"unknown payment {paymentId}")
        return p.invoice_id, p.account_number, p.payer, p.amount, p.applied, p.source, p.block_number, p.parts

    @view
    def topUpRecorded(self, ctx: Context, bankReference: Bytes32) -> Address:
        """The consumer a bank payment reference was credited to (zero address if not recorded)."""
        return ctx.storage.get(_reference_key(bankReference)) or bytes(20)
