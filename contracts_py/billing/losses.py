"""Loss adjustment for a meter that is not on the balance boundary.

Between the meter and the boundary lie wires or a transformer whose losses belong to one side. A meter on the
consumer's side of the boundary misses losses the consumer owes: they are added. A meter on the grid's side counts
losses the consumer does not owe: they are subtracted. Losses are a share of the metered volume (parts per million)
plus a fixed monthly volume (a transformer's no-load losses); they are spread over the hours in proportion to the
metered volume, so zone and hourly billing see them where the energy flowed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from contracts_py.billing.errors import BillingError
from contracts_py.billing.rounding import allocate_signed, round_half_up

PPM = 1_000_000


@dataclass(frozen=True, slots=True)
class LossAdjustment:
    """A meter's loss parameters, from the registry."""

    variable_ppm: int
    """Losses as parts per million of the metered volume."""
    fixed_wh_per_month: int
    subtract: bool
    """True when the meter is on the grid's side of the boundary."""


NO_LOSSES = LossAdjustment(0, 0, False)


def loss_volume(metered_wh: int, loss: LossAdjustment) -> int:
    """Wh to add to the metered volume (negative: to subtract); a subtraction never exceeds the volume."""
    if loss.variable_ppm < 0 or loss.fixed_wh_per_month < 0 or loss.variable_ppm > PPM:
        raise BillingError(f"loss parameters out of range: {loss}")
    losses = round_half_up(metered_wh * loss.variable_ppm, PPM) + loss.fixed_wh_per_month
    return -min(losses, metered_wh) if loss.subtract else losses


def adjust(volumes: Sequence[int], loss: LossAdjustment) -> tuple[int, ...]:
    """Volumes (per half-hour of day, or per hour) with the losses spread in proportion to them.

    With nothing metered an added loss is spread evenly."""
    metered = sum(volumes)
    delta = loss_volume(metered, loss)
    weights = volumes if metered else [1] * len(volumes)
    return tuple(volume + part for volume, part in zip(volumes, allocate_signed(delta, weights)))
