"""The one rounding rule of the ledger, written down once.

Every amount is first computed exactly in micro-kopecks (Wh x milli-kopecks per kWh) and rounded ONCE per bill
component to whole kopecks, half away from zero (0.5 kopeck rounds up for charges, down for credits). VAT is then
computed per component from the rounded net amount with the same rule. Integer quantities that must be divided
among parties (a payment among payees, common-house volume among apartments, losses among zones) are allocated by
the largest-remainder method so the parts always sum exactly to the whole."""

from __future__ import annotations

from collections.abc import Sequence

from contracts_py.billing.errors import BillingError

MICRO_PER_KOPECK = 1_000_000
"""Wh x milli-kopecks/kWh = micro-kopecks: 1e-3 kWh x 1e-3 kopeck."""

BASIS_POINTS = 10_000
"""Rates such as VAT are basis points: 2200 = 22%."""


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator to the nearest integer, ties away from zero."""
    if denominator <= 0:
        raise BillingError(f"rounding needs a positive denominator, got {denominator}")
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def kopecks(micro_kopecks: int) -> int:
    """An exact amount in micro-kopecks, rounded to the kopeck by the ledger's rule."""
    return round_half_up(micro_kopecks, MICRO_PER_KOPECK)


def vat_of(net_kopecks: int, rate_basis_points: int) -> int:
    """VAT on a rounded net amount, rounded by the same rule."""
    return round_half_up(net_kopecks * rate_basis_points, BASIS_POINTS)


def largest_remainder(total: int, weights: Sequence[int]) -> tuple[int, ...]:
    """Divide a non-negative integer `total` in proportion to `weights`; the parts sum exactly to `total`.

    Each part gets the floor of its exact share; the units left over go one each to the largest remainders,
    ties to the earlier position, so the result depends only on the inputs' order."""
    if total < 0:
        raise BillingError(f"cannot allocate a negative total {total}")
    if any(weight < 0 for weight in weights):
        raise BillingError("allocation weights must not be negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total == 0:
            return tuple(0 for _ in weights)
        raise BillingError(f"cannot allocate {total} over weights that sum to zero")
    parts = []
    remainders = []
    for index, weight in enumerate(weights):
        part, remainder = divmod(total * weight, weight_sum)
        parts.append(part)
        remainders.append((-remainder, index))
    for _, index in sorted(remainders)[: total - sum(parts)]:
        parts[index] += 1
    return tuple(parts)


def allocate_signed(total: int, weights: Sequence[int]) -> tuple[int, ...]:
    """`largest_remainder` for a total of either sign: a negative total is allocated by its magnitude."""
    parts = largest_remainder(abs(total), weights)
    return parts if total >= 0 else tuple(-part for part in parts)
