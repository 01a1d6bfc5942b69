"""A prosumer's export netted on the invoice: the retailer's purchase of the exported energy set against the bill.

The retailer buys the month's exported Wh at its export price (milli-kopecks per kWh, given as data); the credit
is rounded once, like any bill component (`rounding.kopecks`). No VAT is added: a household selling the output of
its microgeneration plant is not a VAT payer, and the price given as data is the whole price.

The credit settles the invoice's lines first where the two claims meet: the retailer's own lines (energy, retail
markup) are the retailer's claim on the consumer, and a claim offsets a counter-claim between the same two parties
without any money moving (Civil Code art. 410). What the retailer's lines cannot absorb settles the other payees'
lines (transmission, infrastructure), which the retailer then pays on the consumer's behalf, as the party that
sells the consumer the whole service. A credit beyond the whole bill is paid out to the consumer at once, not
carried to the next invoice: the guaranteeing supplier buys a microgeneration plant's output under a sale contract
of its own (retail rules, decree 442 as amended for microgeneration by decree 299 of 2021) and owes its price for
the month; an offset extinguishes only the counter-claims that meet, so what is left is a debt to pay, and
keeping it as an advance would hold the consumer's money without a contract to do so."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from contracts_py.billing.components import BillLine
from contracts_py.billing.errors import BillingError
from contracts_py.billing.rounding import kopecks, largest_remainder


@dataclass(frozen=True, slots=True)
class ExportNetting:
    """The export credit of one invoice and where it went."""

    export_wh: int
    mkop_per_kwh: int
    credit: int
    """Kopecks the retailer owes for the exported energy."""
    applied: tuple[int, ...]
    """Kopecks of the credit settling each invoice line, in the invoice's line order."""
    payout: int
    """Kopecks of the credit beyond the whole bill, paid to the consumer."""

    @property
    def applied_total(self) -> int:
        return sum(self.applied)


def no_export(line_count: int) -> ExportNetting:
    """The netting of an invoice without export."""
    return ExportNetting(0, 0, 0, (0,) * line_count, 0)


def export_credit(export_wh: int, mkop_per_kwh: int) -> int:
    """Kopecks for exported Wh at a price in milli-kopecks per kWh, by the ledger's one rounding rule."""
    if export_wh < 0 or mkop_per_kwh < 0:
        raise BillingError(f"export of {export_wh} Wh at {mkop_per_kwh} mkop/kWh is not a purchase")
    return kopecks(export_wh * mkop_per_kwh)


def net_export(lines: Sequence[BillLine], retailer: bytes, export_wh: int, mkop_per_kwh: int) -> ExportNetting:
    """Set the export credit against the invoice lines: the retailer's lines first, then the others, each group
    in proportion to its lines' totals (largest remainder), and pay out what is left over."""
    credit = export_credit(export_wh, mkop_per_kwh)
    applied = [0] * len(lines)
    left = credit
    for own in (True, False):
        group = [i for i, bill_line in enumerate(lines) if (bill_line.payee == retailer) == own]
        owed = sum(lines[i].total for i in group)
        parts = largest_remainder(min(left, owed), [lines[i].total for i in group]) if group else ()
        for i, part in zip(group, parts):
            applied[i] = part
        left -= sum(parts)
    return ExportNetting(export_wh, mkop_per_kwh, credit, tuple(applied), left)


def paid_by_retailer(lines: Sequence[BillLine], retailer: bytes, netting: ExportNetting) -> tuple[
        tuple[bytes, int], ...]:
    """Kopecks the retailer pays each other payee for the lines the credit settled, in the order payees appear."""
    totals: dict[bytes, int] = {}
    for bill_line, part in zip(lines, netting.applied):
        if part and bill_line.payee != retailer:
            totals[bill_line.payee] = totals.get(bill_line.payee, 0) + part
    return tuple(totals.items())
