"""Invoices: the stored records and the contract's events (see `contracts_py.invoices`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from contracts_py.abi import Address, Indexed, String, Uint8, Uint64, Uint256
from contracts_py.billing.components import BillLine, Component
from contracts_py.billing.ledger import AccountLedger
from contracts_py.billing.netting import ExportNetting
from contracts_py.runtime import event


class Status(IntEnum):
    ISSUED = 1
    CONFIRMED = 2
    DISPUTED = 3
    SUPERSEDED = 4
    PAID = 5


@dataclass(frozen=True, slots=True)
class CommonHouseShares:
    """A building's common-house needs of one period, shared among its premises' accounts."""

    house_wh: int
    premises_wh: int
    common_wh: int
    shares: tuple[tuple[int, int], ...]
    """(account number, Wh), in the registry's order of the building's accounts."""


@dataclass(frozen=True, slots=True)
class Invoice:
    invoice_id: int
    account_number: int
    period: int
    revision: int
    retailer: bytes
    consumer: bytes
    option_id: int
    method: int
    """`substitute.Method`: READINGS, or how a month without readings was estimated."""
    metered_wh: int
    volume_wh: int
    lines: tuple[BillLine, ...]
    paid: tuple[int, ...]
    """Kopecks settled so far against each line: payments and the export credit (`export.applied`)."""
    status: int
    issued_at: int
    due_at: int
    supersedes: int
    superseded_by: int
    dispute_reason: str
    ledger_before: AccountLedger
    """The account's ledger before this invoice, so a correction bills the month again from the same start."""
    export: ExportNetting
    """The export credit netted on this invoice (all zero without export or without an export price)."""

    @property
    def charges(self) -> int:
        """Kopecks of the lines, before the export credit."""
        return sum(line.total for line in self.lines)

    @property
    def total(self) -> int:
        """The net: charges less the export credit; below zero when the credit exceeds the bill."""
        return self.charges - self.export.credit

    @property
    def due(self) -> int:
        """What the consumer owes on the invoice: the net, or nothing when the credit covers the bill."""
        return max(self.total, 0)

    @property
    def outstanding(self) -> int:
        return self.charges - sum(self.paid)

    @property
    def paid_by_consumer(self) -> int:
        return sum(self.paid) - self.export.applied_total

    @property
    def export_line(self) -> BillLine | None:
        """The export as a credit line: its Wh, the negative amount, payable by the retailer; None without one."""
        if not self.export.credit:
            return None
        return BillLine(int(Component.EXPORT), self.retailer, self.export.export_wh, -self.export.credit, 0)


def invoice_id_of(account_number: int, period: int, revision: int) -> int:
    """Readable ids: account 1001, April 2026, first issue -> 1001_202604_000."""
    return (account_number * 1_000_000 + period) * 1_000 + revision


@event
class InvoiceIssued:
    invoice_id: Indexed(Uint256)
    account_number: Indexed(Uint64)
    period: Indexed(Uint64)
    consumer: Address
    total: Uint256
    volume_wh: Uint256
    method: Uint8
    supersedes: Uint256
    due_at: Uint64


@event
class InvoiceLine:
    invoice_id: Indexed(Uint256)
    payee: Indexed(Address)
    component: Uint8
    quantity: Uint256
    net: Uint256
    vat: Uint256


@event
class ExportNetted:
    invoice_id: Indexed(Uint256)
    account_number: Indexed(Uint64)
    consumer: Indexed(Address)
    export_wh: Uint256
    mkop_per_kwh: Uint64
    credit: Uint256
    charges: Uint256
    """Kopecks of the invoice's lines before the credit."""
    net_due: Uint256
    """Kopecks the consumer owes after the credit (0 when the credit covers the bill)."""
    payout: Uint256
    """Kopecks of credit beyond the bill, paid to the consumer."""


@event
class InvoiceConfirmed:
    invoice_id: Indexed(Uint256)
    account_number: Indexed(Uint64)
    consumer: Indexed(Address)


@event
class InvoiceDisputed:
    invoice_id: Indexed(Uint256)
    account_number: Indexed(Uint64)
    consumer: Indexed(Address)
    reason: String


@event
class InvoiceSuperseded:
    invoice_id: Indexed(Uint256)
    superseded_by: Indexed(Uint256)
    account_number: Indexed(Uint64)


@event
class InvoicePaid:
    invoice_id: Indexed(Uint256)
    account_number: Indexed(Uint64)
    total: Uint256


@event
class CommonHouseShared:
    building_id: Indexed(Uint64)
    period: Indexed(Uint64)
    house_wh: Uint256
    premises_wh: Uint256
    common_wh: Uint256


@event
class CommonHouseShare:
    building_id: Indexed(Uint64)
    period: Indexed(Uint64)
    account_number: Indexed(Uint64)
    share_wh: Uint256


@event
class ResidentsSet:
    account_number: Indexed(Uint64)
    residents: Uint8
