"""Common-house needs of an apartment building (decree 354, formula 11).

The energy of stairs, lifts and yard lights is what the house meter counted less what the apartments and
non-residential premises consumed. It is shared among all premises in proportion to their floor area, by the
largest remainder so the shares sum exactly to the common volume. When the premises together counted more than the
house meter (an imbalance), there is nothing to share: the common volume is zero."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from contracts_py.billing.errors import BillingError
from contracts_py.billing.rounding import largest_remainder


@dataclass(frozen=True, slots=True)
class Premises:
    """An apartment or non-residential premises of the building."""

    premises_id: str
    area_dm2: int
    """Floor area in square decimetres (54.3 m2 = 5430)."""
    metered_wh: int
    residential: bool


@dataclass(frozen=True, slots=True)
class CommonHouseNeeds:
    """The month's common volume and each premises' share of it."""

    house_wh: int
    premises_wh: int
    common_wh: int
    shares: tuple[tuple[str, int], ...]


def common_house_needs(house_wh: int, premises: Sequence[Premises]) -> CommonHouseNeeds:
    """Share the house meter's volume less the premises' volumes among the premises by floor area."""
    if not premises:
        raise BillingError("a building needs at least one premises to share common-house needs")
    ids = [p.premises_id for p in premises]
    if len(set(ids)) != len(ids):
        raise BillingError("premises ids repeat")
    if house_wh < 0 or any(p.metered_wh < 0 or p.area_dm2 <= 0 for p in premises):
        raise BillingError("volumes must not be negative and every premises needs a positive floor area")
    premises_wh = sum(p.metered_wh for p in premises)
    common_wh = max(0, house_wh - premises_wh)
    shares = largest_remainder(common_wh, [p.area_dm2 for p in premises])
    return CommonHouseNeeds(house_wh, premises_wh, common_wh, tuple(zip(ids, shares)))
