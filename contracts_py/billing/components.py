"""Bill components, each routed to its payee, and VAT as an effective-dated rate.

The end price of a kWh is the sum of parts owed to different parties: the energy (and, for legal entities,
capacity) to the retailer that buys it on the wholesale market, transmission to the grid company, the retail markup
to the retailer, infrastructure payments to the system and market operators. A bill keeps one line per component
with its payee, so a payment can be split among the payees by the lines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from contracts_py.billing.errors import BillingError
from contracts_py.billing.periods import in_force
from contracts_py.billing.rounding import kopecks, largest_remainder, vat_of


class Component(IntEnum):
    """Kinds of bill lines; the numbers are stored on-chain and never change meaning."""

    ENERGY = 1
    CAPACITY = 2
    TRANSMISSION = 3
    NETWORK_CAPACITY = 4
    RETAIL_MARKUP = 5
    INFRASTRUCTURE = 6
    COMMON_HOUSE = 7
    EXPORT = 8
    """The retailer's purchase of a prosumer's exported energy: a credit, set against the other lines
    (`billing.netting`); events and views show its amount as a magnitude under this code."""


ADD_ON_COMPONENTS = (Component.TRANSMISSION, Component.RETAIL_MARKUP, Component.INFRASTRUCTURE)
"""Components priced per kWh on top of the energy price, whatever the tariff option."""


@dataclass(frozen=True, slots=True)
class AddOn:
    """A per-kWh component of the price and who is paid for it."""

    component: int
    payee: bytes
    mkop_per_kwh: int


@dataclass(frozen=True, slots=True)
class VatRate:
    """VAT in basis points, in force from a date (22% = 2200 from 2026-01-01)."""

    effective_from: int
    basis_points: int


@dataclass(frozen=True, slots=True)
class BillLine:
    """One component of a bill: its payee, the quantity it was computed on (Wh, or W for capacity), net and VAT."""

    component: int
    payee: bytes
    quantity: int
    net: int
    vat: int

    @property
    def total(self) -> int:
        return self.net + self.vat


def vat_in_force(rates: Sequence[VatRate], period: int) -> int:
    """The VAT rate in basis points for a billing period."""
    return in_force(rates, period).basis_points


def line(component: int, payee: bytes, quantity: int, net: int, vat_basis_points: int) -> BillLine:
    """A bill line from its rounded net amount; VAT per component by the one rounding rule."""
    return BillLine(int(component), payee, quantity, net, vat_of(net, vat_basis_points))


def add_on_lines(volume_wh: int, add_ons: Iterable[AddOn], vat_basis_points: int) -> list[BillLine]:
    """The per-kWh components of a volume, in the tariff's order."""
    return [line(a.component, a.payee, volume_wh, kopecks(volume_wh * a.mkop_per_kwh), vat_basis_points)
            for a in add_ons]


def check_add_ons(add_ons: Sequence[AddOn]) -> None:
    seen = set()
    for add_on in add_ons:
        if add_on.component not in ADD_ON_COMPONENTS:
            raise BillingError(f"component {add_on.component} is not priced per kWh on top of energy")
        if add_on.component in seen:
            raise BillingError(f"component {Component(add_on.component).name.lower()} appears twice")
        check_payee(add_on.payee)
        seen.add(add_on.component)


def check_payee(payee: bytes) -> None:
    if len(payee) != 20 or payee == bytes(20):
        raise BillingError(f"payee 0x{payee.hex()} is not a 20-byte non-zero address")


def payee_totals(lines: Iterable[BillLine]) -> tuple[tuple[bytes, int], ...]:
    """What each payee is owed on a bill, in the order payees first appear."""
    totals: dict[bytes, int] = {}
    for bill_line in lines:
        totals[bill_line.payee] = totals.get(bill_line.payee, 0) + bill_line.total
    return tuple(totals.items())


def split_payment(amount: int, line_totals: Sequence[int]) -> tuple[int, ...]:
    """Divide a payment among an invoice's lines in proportion to what each is owed, to the kopeck.

    A payment of the whole invoice gives every line exactly its total; a part payment is shared by the largest
    remainder. Paying more than is owed is refused: the overpayment is the payer's to keep."""
    owed = sum(line_totals)
    if not 0 < amount <= owed:
        raise BillingError(f"a payment of {amount} kopecks does not fit an invoice owing {owed}")
    return largest_remainder(amount, line_totals)
