"""Reads behind the demand-response pages: what happened from the indexed events, the current state from the
contract's views through the node (`ChainWriter.view`), and the baseline a participant can expect.

The contract has no list views, so lists come from the read model: programmes, events and open obligation offers
from the indexer's `dr_programmes`, `dr_events` and `dr_offers` (whose open flag follows the contract's `offer`
view), participants from the enrolment events; every other figure shown (obligations, budget, outcomes) is read
back from the contract's views."""

from __future__ import annotations

import json
from dataclasses import dataclass

from contracts_py import demand_response as dr
from contracts_py.demand_response_rules import (MAX_LOOKBACK_DAYS, PPM, BaselineRule, Programme, Rates,
                                                comparable_days, settle_share)
from indexer.store import Readers
from portal.writes import ChainWriter, WriteRejected

CONTRACT = dr.DemandResponse.NAME
INTERVALS_PER_DAY = 48


@dataclass(frozen=True)
class Outcome:
    """A settled participant's result, the reward split into its direct part and the bonus beyond the obligation."""

    baseline_wh: int
    actual_wh: int
    reduction_wh: int
    obligation_wh: int
    reward: int
    """Kopecks for the reduction up to the obligation."""
    bonus: int
    """Kopecks for the reduction beyond the obligation."""
    penalty: int
    penalty_due: int
    """Kopecks of a net penalty the consumer still owes to the budget."""


@dataclass(frozen=True)
class ShareView:
    event_id: int
    meter_id: int
    obligation_w: int
    settled: bool
    outcome: Outcome | None


@dataclass(frozen=True)
class EventView:
    event_id: int
    programme_id: int
    start: int
    end: int
    meters: tuple[int, ...]


@dataclass(frozen=True)
class Baseline:
    """The baseline a participant can expect, from his indexed half-hourly readings (settlement recomputes it on
    chain from the hourly profile)."""

    wh: int | None
    """None when fewer comparable days than the rule needs have complete readings."""
    days: tuple[int, ...]
    needed: int


def hexed(address: bytes) -> str:
    return "0x" + address.hex()


def _events(db: Readers, name: str, key: str, value: int | str) -> list[dict]:
    rows = db.query("SELECT args_json, tx_hash, block_number, timestamp FROM events WHERE contract = ? AND name = ? "
                    f"AND json_extract(args_json, '$.{key}') = ? ORDER BY block_number, log_index",
                    [CONTRACT, name, value])
    return [{**json.loads(row.pop("args_json")), **row} for row in rows]


def programme_ids(db: Readers) -> list[int]:
    """Programmes in the order they were created (the indexer's `dr_programmes`)."""
    return [row["programme_id"] for row in db.query(
        "SELECT programme_id FROM dr_programmes ORDER BY block_number, programme_id")]


def programme(writer: ChainWriter, programme_id: int) -> Programme | None:
    try:
        (operator, aggregator, name, days, same_kind, reward, bonus, penalty, threshold,
         budget) = writer.view(dr.ADDRESS, "programme", programme_id)
    except WriteRejected:
        return None
    return Programme(programme_id, operator, aggregator, name, BaselineRule(days, same_kind),
                     Rates(reward, bonus, penalty, threshold), budget)


def participants(db: Readers, writer: ChainWriter, programme_id: int) -> list[dict]:
    """Enrolled meters with their consumer, account and current offer (one row per meter)."""
    meters = dict.fromkeys(e["meter_id"] for e in _events(db, "ParticipantEnrolled", "programme_id", programme_id))
    rows = []
    for meter_id in meters:
        consumer, offered_w = writer.view(dr.ADDRESS, "participant", programme_id, meter_id)
        account = db.one("SELECT account_number FROM meters WHERE meter_id = ?", [meter_id])
        rows.append({"meter_id": meter_id, "consumer": hexed(consumer), "offered_w": offered_w,
                     "account_number": account["account_number"] if account else None})
    return rows


def programme_events(db: Readers, programme_id: int) -> list[dict]:
    """A programme's announced events, oldest first (the indexer's `dr_events`)."""
    return db.query("SELECT event_id, programme_id, start_at AS start, end_at AS end, required_w, "
                    "announced_at AS timestamp, block_number, tx_hash FROM dr_events WHERE programme_id = ? "
                    "ORDER BY event_id", [programme_id])


def event(writer: ChainWriter, event_id: int) -> EventView | None:
    try:
        programme_id, start, end, meters = writer.view(dr.ADDRESS, "eventOf", event_id)
    except WriteRejected:
        return None
    return EventView(event_id, programme_id, start, end, tuple(meters))


def outcome_of(baseline_wh: int, actual_wh: int, obligation_w: int, hours: int, reward: int, penalty: int,
               penalty_due: int, rates: Rates) -> Outcome:
    """A settled share as shown: the contract's reward split by the rule into the direct part and the bonus."""
    parts = settle_share(baseline_wh, actual_wh, obligation_w, hours, rates)
    bonus = (parts.reduction_wh - min(parts.reduction_wh, parts.obligation_wh)) * rates.bonus_mkop_per_kwh // PPM
    return Outcome(baseline_wh, actual_wh, parts.reduction_wh, parts.obligation_wh, reward - bonus, bonus, penalty,
                   penalty_due)


def share(writer: ChainWriter, found: EventView, rates: Rates, meter_id: int) -> ShareView:
    obligation_w, settled, baseline, actual, reward, penalty, due = writer.view(
        dr.ADDRESS, "share", found.event_id, meter_id)
    outcome = outcome_of(baseline, actual, obligation_w, (found.end - found.start) // 3600, reward, penalty, due,
                         rates) if settled else None
    return ShareView(found.event_id, meter_id, obligation_w, settled, outcome)


def events_of_meters(db: Readers, meter_ids: list[int]) -> list[int]:
    """Events a meter was notified of or took an obligation in, newest first."""
    if not meter_ids:
        return []
    marks = ",".join("?" * len(meter_ids))
    rows = db.query(
        "SELECT DISTINCT json_extract(args_json, '$.event_id') AS id FROM events WHERE contract = ? AND ("
        f"(name = 'ParticipantNotified' AND json_extract(args_json, '$.meter_id') IN ({marks})) OR "
        f"(name = 'ObligationTraded' AND json_extract(args_json, '$.to_meter_id') IN ({marks}))) ORDER BY id DESC",
        [CONTRACT, *meter_ids, *meter_ids])
    return [row["id"] for row in rows]


def open_offers(db: Readers, event_id: int) -> list[dict]:
    """Offers to take an obligation that no `handOver` has accepted yet (the indexer follows the contract's
    `offer` view), oldest first."""
    return db.query("SELECT offer_id, event_id, taker_meter_id, reduction_w, price, offered_at, block_number, "
                    "tx_hash FROM dr_offers WHERE event_id = ? AND open = 1 ORDER BY offer_id", [event_id])


def offer_event(db: Readers, offer_id: int) -> int | None:
    """The event an obligation offer is for, None for an unknown offer."""
    row = db.one("SELECT event_id FROM dr_offers WHERE offer_id = ?", [offer_id])
    return row["event_id"] if row else None


def company_names(db: Readers) -> dict[str, str]:
    """Address -> name of the companies with a profile on chain (grid company, retailers, aggregators)."""
    return {row["address"]: row["name"] for row in db.query("SELECT address, name FROM companies")}


def expected_baseline(db: Readers, meter: dict, rule: BaselineRule, start: int, end: int) -> Baseline:
    """The rule of `demand_response_rules` applied to the meter's indexed readings: the event's local hours
    averaged over the N latest comparable days whose 48 half hours are all recorded."""
    offset = meter["utc_offset_s"]
    event_day = (start + offset) // 86400
    first_day = event_day - MAX_LOOKBACK_DAYS
    rows = db.query("SELECT interval_start, delta_import_wh FROM readings WHERE meter_id = ? AND interval_start >= ? "
                    "AND interval_start < ?", [meter["meter_id"], first_day * 86400 - offset,
                                               event_day * 86400 - offset])
    first_hour = (start + offset) % 86400
    last_hour = first_hour + (end - start)
    intervals: dict[int, int] = {}
    in_hours: dict[int, int] = {}
    for row in rows:
        day, second = divmod(row["interval_start"] + offset, 86400)
        intervals[day] = intervals.get(day, 0) + 1
        if first_hour <= second < last_hour:
            in_hours[day] = in_hours.get(day, 0) + row["delta_import_wh"]
    days = comparable_days(event_day, rule, lambda day: intervals.get(day, 0) == INTERVALS_PER_DAY)
    if len(days) < rule.days:
        return Baseline(None, days, rule.days)
    ratio = (meter["ct_ratio"] or 1) * (meter["vt_ratio"] or 1)
    return Baseline(sum(in_hours.get(day, 0) for day in days) * ratio // rule.days, days, rule.days)
