"""Demand response records, the settlement rules as pure functions, and the contract's events.

Baseline rule (`BaselineRule`): the baseline of an event is the average, over the N latest days before the event day
(within `MAX_LOOKBACK_DAYS`) that are comparable - of the same kind, working day (Mon-Fri) or weekend, when
`same_day_kind` is set, else any day - and that have hourly history, of the Wh imported in the event's local hours:
the sum over those days and hours divided by N, rounded down. Fewer than N such days is no baseline.

Settlement (`settle_share`): reduction = max(0, baseline - actual); obligation = required W x hours;
reward = min(reduction, obligation) x reward rate + max(0, reduction - obligation) x bonus rate;
penalty = (obligation - reduction) x penalty rate when reduction < threshold x obligation, else 0;
rates are milli-kopecks per kWh, each part rounded down to kopecks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from contracts_py.abi import Address, Indexed, String, Uint64, Uint256
from contracts_py.runtime import event

MAX_LOOKBACK_DAYS = 45
PPM = 1_000_000


@dataclass(frozen=True, slots=True)
class BaselineRule:
    days: int
    """N: how many comparable days the baseline averages."""
    same_day_kind: bool
    """Only days of the event day's kind (working day or weekend) are comparable."""


@dataclass(frozen=True, slots=True)
class Rates:
    reward_mkop_per_kwh: int
    """Paid for each kWh reduced up to the obligation."""
    bonus_mkop_per_kwh: int
    """Paid for each kWh reduced beyond the obligation."""
    penalty_mkop_per_kwh: int
    """Charged for each kWh short of the obligation, when below the threshold."""
    penalty_threshold_ppm: int
    """Reductions below this share of the obligation are penalised."""


@dataclass(frozen=True, slots=True)
class Programme:
    programme_id: int
    operator: bytes
    """The grid company that created and funds it."""
    aggregator: bytes
    name: str
    rule: BaselineRule
    rates: Rates
    budget: int
    """Kopecks held for this programme."""


@dataclass(frozen=True, slots=True)
class Participant:
    consumer: bytes
    offered_w: int


@dataclass(frozen=True, slots=True)
class Event:
    event_id: int
    programme_id: int
    start: int
    end: int
    meters: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Share:
    """A participant's part in an event: its obligation and, once settled, the outcome."""

    obligation_w: int
    settled: bool
    baseline_wh: int
    actual_wh: int
    reward: int
    penalty: int
    penalty_due: int


@dataclass(frozen=True, slots=True)
class TakeOffer:
    offer_id: int
    event_id: int
    taker_meter: int
    reduction_w: int
    price: int
    open: bool


@dataclass(frozen=True, slots=True)
class Outcome:
    reduction_wh: int
    obligation_wh: int
    reward: int
    penalty: int


# --- the rules, pure functions --------------------------------------------------------------------------------

def is_weekend(day: int) -> bool:
    """Day numbers count from 1970-01-01, a Thursday."""
    return (day + 3) % 7 >= 5


def comparable_days(event_day: int, rule: BaselineRule, has_profile: Callable[[int], bool]) -> tuple[int, ...]:
    """The N latest comparable days before the event day with an hourly profile, newest first."""
    chosen: list[int] = []
    for day in range(event_day - 1, event_day - 1 - MAX_LOOKBACK_DAYS, -1):
        if len(chosen) == rule.days:
            break
        if (not rule.same_day_kind or is_weekend(day) == is_weekend(event_day)) and has_profile(day):
            chosen.append(day)
    return tuple(chosen)


def settle_share(baseline_wh: int, actual_wh: int, obligation_w: int, hours: int, rates: Rates) -> Outcome:
    """Reward and penalty of one participant, in kopecks (see the module docstring)."""
    reduction = max(0, baseline_wh - actual_wh)
    obligation = obligation_w * hours
    delivered = min(reduction, obligation)
    reward = (delivered * rates.reward_mkop_per_kwh // PPM
              + (reduction - delivered) * rates.bonus_mkop_per_kwh // PPM)
    short = reduction * PPM < rates.penalty_threshold_ppm * obligation
    penalty = (obligation - reduction) * rates.penalty_mkop_per_kwh // PPM if short else 0
    return Outcome(reduction, obligation, reward, penalty)


# --- events ---------------------------------------------------------------------------------------------------

@event
class ProgrammeCreated:
    programme_id: Indexed(Uint64)
    operator: Indexed(Address)
    aggregator: Indexed(Address)
    name: String


@event
class ProgrammeFunded:
    programme_id: Indexed(Uint64)
    funder: Indexed(Address)
    amount: Uint256
    budget: Uint256


@event
class ParticipantEnrolled:
    programme_id: Indexed(Uint64)
    meter_id: Indexed(Uint64)
    consumer: Indexed(Address)
    offered_w: Uint64


@event
class EventAnnounced:
    event_id: Indexed(Uint64)
    programme_id: Indexed(Uint64)
    start: Uint64
    end: Uint64
    required_w: Uint64


@event
class ParticipantNotified:
    event_id: Indexed(Uint64)
    meter_id: Indexed(Uint64)
    consumer: Indexed(Address)
    obligation_w: Uint64
    start: Uint64
    end: Uint64


@event
class ObligationOffered:
    offer_id: Indexed(Uint64)
    event_id: Indexed(Uint64)
    taker_meter_id: Indexed(Uint64)
    reduction_w: Uint64
    price: Uint256


@event
class ObligationTraded:
    event_id: Indexed(Uint64)
    from_meter_id: Indexed(Uint64)
    to_meter_id: Indexed(Uint64)
    reduction_w: Uint64
    price: Uint256


@event
class ParticipantSettled:
    event_id: Indexed(Uint64)
    meter_id: Indexed(Uint64)
    consumer: Indexed(Address)
    baseline_wh: Uint256
    actual_wh: Uint256
    obligation_wh: Uint256
    reward: Uint256
    penalty: Uint256
    paid: Uint256
    penalty_due: Uint256


@event
class PenaltyPaid:
    event_id: Indexed(Uint64)
    meter_id: Indexed(Uint64)
    amount: Uint256
