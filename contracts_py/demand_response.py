"""Demand response: paid reductions of consumption on request, settled on-chain from the meters' hourly profiles.

Programmes. The grid company creates a programme, names its aggregator, sets the baseline rule and the rates (data,
`Programme`) and funds its budget in rubles, which this contract holds. The aggregator (or the grid company) enrols
meters with the reduction each consumer offers, in W. Enrolled meters must keep an hourly profile (the registry's
`hourly` flag, as for hourly-billed accounts): it is the interval data that both the baseline and the event's
actual consumption are computed from, so settlement needs nothing typed in. (Register snapshots taken at the
event's boundaries would depend on when a transaction lands relative to the gateway's postings; the readings
contract's hourly buckets attribute every interval to its own hour, late and backfilled ones included.)

Events. The grid company or the aggregator announces an event ahead of time: whole local hours within one local
day, the participating meters and each one's required reduction (at most its offer). Every participant gets a
`ParticipantNotified` event (portal and webhooks follow it). Until the event starts, a participant may hand part
of its obligation to another participant of the programme for a price: the taker posts `offerToTake`, the
handing participant accepts with `handOver`, which pays the taker from the signer's wallet in the same
transaction.

Baseline and settlement rules are data (`BaselineRule`, `Rates`) and pure functions in
`demand_response_rules`: the baseline averages the event's hours over the N latest comparable days with hourly
history; the reward pays the reduction up to the obligation and a bonus beyond it, the penalty charges the
shortfall when below the threshold. Earlier event days are not excluded from the baseline (a programme running
events on consecutive days should compare the same kind of day over enough days; a known limitation).

Settlement. After the event, once each meter's readings are final for it (the newest recorded interval ends at or
after the event's end, and the meter has no open gap that a backfill could still change), the grid company or the
aggregator settles the participants, each once. Energy is the register increase times the meter's CT x VT ratios.
The net reward is paid from the budget to the meter's consumer; a net penalty is recorded as due and paid into
the budget by the consumer (`payPenalty`).
"""

from __future__ import annotations

from dataclasses import replace

from contracts_py import readings, registry, ruble
from contracts_py.abi import Address, Bool, String, Uint32, Uint64, Uint64Array, Uint256
from contracts_py.demand_response_rules import (PPM, BaselineRule, Event, EventAnnounced, ObligationOffered,
                                                ObligationTraded, Participant, ParticipantEnrolled,
                                                ParticipantNotified, ParticipantSettled, PenaltyPaid, Programme,
                                                ProgrammeCreated, ProgrammeFunded, Rates, Share, TakeOffer,
                                                comparable_days, settle_share)
from contracts_py.participants import Role, require_role
from contracts_py.runtime import Context, NativeContract, Revert, external, require, view

ADDRESS = bytes.fromhex("000000000000000000000000000000000000e00a")

MAX_BASELINE_DAYS = 20
MAX_EVENT_HOURS = 12
MAX_PARTICIPANTS = 200


def _id(value: int) -> bytes:
    return value.to_bytes(8, "big")


def _share_key(event_id: int, meter_id: int) -> bytes:
    return b"s" + _id(event_id) + _id(meter_id)


def _next(ctx: Context, counter: bytes) -> int:
    value = ctx.storage.get_int(counter) + 1
    ctx.storage.set_int(counter, value)
    return value


class DemandResponse(NativeContract):
    NAME = "DemandResponse"
    EVENTS = (ProgrammeCreated, ProgrammeFunded, ParticipantEnrolled, EventAnnounced, ParticipantNotified,
              ObligationOffered, ObligationTraded, ParticipantSettled, PenaltyPaid)

    # --- storage helpers ------------------------------------------------------------------------------------

    def _programme(self, ctx: Context, programme_id: int) -> Programme:
        programme = ctx.storage.get_record(b"p" + _id(programme_id), Programme)
        if programme is None:
            raise Revert(f"unknown programme {programme_id}")
        return programme

    def _participant(self, ctx: Context, programme_id: int, meter_id: int) -> Participant:
        participant = ctx.storage.get_record(b"m" + _id(programme_id) + _id(meter_id), Participant)
        if participant is None:
            raise Revert(f"meter {meter_id} is not enrolled in programme {programme_id}")
        return participant

    def _event(self, ctx: Context, event_id: int) -> Event:
        found = ctx.storage.get_record(b"e" + _id(event_id), Event)
        if found is None:
            raise Revert(f"unknown event {event_id}")
        return found

    def _share(self, ctx: Context, event_id: int, meter_id: int) -> Share:
        share = ctx.storage.get_record(_share_key(event_id, meter_id), Share)
        if share is None:
            raise Revert(f"meter {meter_id} takes no part in event {event_id}")
        return share

    @staticmethod
    def _require_runner(ctx: Context, programme: Programme) -> None:
        require(ctx.sender in (programme.operator, programme.aggregator),
                f"0x{ctx.sender.hex()} runs neither programme {programme.programme_id} nor its events")

    # --- programmes -----------------------------------------------------------------------------------------

    @external
    def createProgramme(self, ctx: Context, programmeId: Uint64, aggregator: Address, name: String,
                        baselineDays: Uint32, sameDayKind: Bool, rewardMkopPerKwh: Uint64, bonusMkopPerKwh: Uint64,
                        penaltyMkopPerKwh: Uint64, penaltyThresholdPpm: Uint32) -> None:
        """The grid company creates a programme with its aggregator, baseline rule and rates."""
        require_role(ctx, ctx.sender, Role.GRID_COMPANY)
        require(programmeId > 0, "programme id 0 is reserved")
        require(ctx.storage.get(b"p" + _id(programmeId)) is None, f"programme {programmeId} already exists")
        require(aggregator != bytes(20), "a programme needs an aggregator")
        require(0 < len(name.strip()) and len(name) <= 256, "a programme name is 1 to 256 characters")
        require(1 <= baselineDays <= MAX_BASELINE_DAYS, f"a baseline averages 1 to {MAX_BASELINE_DAYS} days")
        require(penaltyThresholdPpm <= PPM, "the penalty threshold is a share of the obligation, at most 100%")
        programme = Programme(programmeId, ctx.sender, aggregator, name, BaselineRule(baselineDays, sameDayKind),
                              Rates(rewardMkopPerKwh, bonusMkopPerKwh, penaltyMkopPerKwh, penaltyThresholdPpm), 0)
        ctx.storage.set_record(b"p" + _id(programmeId), programme)
        ctx.emit(ProgrammeCreated(programme_id=programmeId, operator=ctx.sender, aggregator=aggregator, name=name))

    @external
    def fundProgramme(self, ctx: Context, programmeId: Uint64, amount: Uint256) -> None:
        """Move rubles from the signer into the programme's budget."""
        programme = self._programme(ctx, programmeId)
        require(amount > 0, "funding needs a positive amount")
        ctx.call(ruble.ADDRESS, "chargeOrigin", ADDRESS, amount)
        budget = programme.budget + amount
        ctx.storage.set_record(b"p" + _id(programmeId), replace(programme, budget=budget))
        ctx.emit(ProgrammeFunded(programme_id=programmeId, funder=ctx.origin, amount=amount, budget=budget))

    @external
    def enrol(self, ctx: Context, programmeId: Uint64, meterId: Uint64, offeredW: Uint64) -> None:
        """Enrol (or change the offer of) a meter with an hourly profile; its account's consumer takes part."""
        programme = self._programme(ctx, programmeId)
        self._require_runner(ctx, programme)
        require(offeredW > 0, "an offered reduction must be positive")
        consumer = ctx.call(registry.ADDRESS, "meterConsumer", meterId)
        require(consumer != bytes(20), f"meter {meterId} belongs to no consumer's account")
        state = ctx.call(readings.ADDRESS, "meterState", meterId)
        require(state[2], f"meter {meterId} keeps no hourly profile; the grid company configures it hourly")
        require(state[4] % 3600 == 0, f"meter {meterId}'s local time is not a whole hour from UTC")
        ctx.storage.set_record(b"m" + _id(programmeId) + _id(meterId), Participant(consumer, offeredW))
        ctx.emit(ParticipantEnrolled(programme_id=programmeId, meter_id=meterId, consumer=consumer,
                                     offered_w=offeredW))

    # --- events ---------------------------------------------------------------------------------------------

    @external
    def announceEvent(self, ctx: Context, programmeId: Uint64, start: Uint64, end: Uint64, meterIds: Uint64Array,
                      reductionsW: Uint64Array) -> Uint64:
        """Announce an event of whole hours within one local day; returns the event id."""
        programme = self._programme(ctx, programmeId)
        self._require_runner(ctx, programme)
        require(start < end, f"an event needs a period: start {start} is not before end {end}")
        require(start % 3600 == 0 and end % 3600 == 0, "an event starts and ends on whole hours")
        require(end - start <= MAX_EVENT_HOURS * 3600, f"an event lasts at most {MAX_EVENT_HOURS} hours")
        require(start > ctx.block.timestamp, "an event is announced before it starts")
        require(len(meterIds) == len(reductionsW), "meterIds and reductionsW differ in length")
        require(0 < len(meterIds) <= MAX_PARTICIPANTS, f"an event has 1 to {MAX_PARTICIPANTS} participants")
        require(len(set(meterIds)) == len(meterIds), "a meter is named twice")
        event_id = _next(ctx, b"n")
        for meter_id, reduction_w in zip(meterIds, reductionsW):
            participant = self._participant(ctx, programmeId, meter_id)
            require(0 < reduction_w <= participant.offered_w,
                    f"meter {meter_id}: required {reduction_w} W is not within its offer of {participant.offered_w} W")
            offset = ctx.call(readings.ADDRESS, "meterState", meter_id)[4]
            require((start + offset) // 86400 == (end - 1 + offset) // 86400,
                    f"the event is not within one local day of meter {meter_id}")
            ctx.storage.set_record(_share_key(event_id, meter_id), Share(reduction_w, False, 0, 0, 0, 0, 0))
            ctx.emit(ParticipantNotified(event_id=event_id, meter_id=meter_id, consumer=participant.consumer,
                                         obligation_w=reduction_w, start=start, end=end))
        ctx.storage.set_record(b"e" + _id(event_id), Event(event_id, programmeId, start, end, meterIds))
        ctx.emit(EventAnnounced(event_id=event_id, programme_id=programmeId, start=start, end=end,
                                required_w=sum(reductionsW)))
        return event_id

    # --- trading obligations --------------------------------------------------------------------------------

    def _before_start(self, ctx: Context, event_id: int) -> Event:
        found = self._event(ctx, event_id)
        require(ctx.block.timestamp < found.start, f"event {event_id} has started; obligations are fixed")
        return found

    @external
    def offerToTake(self, ctx: Context, eventId: Uint64, takerMeterId: Uint64, reductionW: Uint64,
                    price: Uint256) -> Uint64:
        """A participant's consumer offers to take `reductionW` of someone's obligation for `price` kopecks."""
        found = self._before_start(ctx, eventId)
        taker = self._participant(ctx, found.programme_id, takerMeterId)
        require(taker.consumer == ctx.sender, f"meter {takerMeterId} is not 0x{ctx.sender.hex()}'s")
        require(reductionW > 0, "an obligation offer needs a positive reduction")
        offer_id = _next(ctx, b"o")
        ctx.storage.set_record(b"o" + _id(offer_id), TakeOffer(offer_id, eventId, takerMeterId, reductionW, price,
                                                               True))
        ctx.emit(ObligationOffered(offer_id=offer_id, event_id=eventId, taker_meter_id=takerMeterId,
                                   reduction_w=reductionW, price=price))
        return offer_id

    @external
    def handOver(self, ctx: Context, offerId: Uint64, fromMeterId: Uint64) -> None:
        """The handing participant's consumer accepts an offer: it pays the taker, the obligation moves."""
        offer = ctx.storage.get_record(b"o" + _id(offerId), TakeOffer)
        require(offer is not None and offer.open, f"obligation offer {offerId} is unknown or closed")
        found = self._before_start(ctx, offer.event_id)
        require(fromMeterId != offer.taker_meter, "an obligation cannot be handed to its own meter")
        giver = self._participant(ctx, found.programme_id, fromMeterId)
        require(giver.consumer == ctx.sender and ctx.sender == ctx.origin,
                f"meter {fromMeterId} is not 0x{ctx.sender.hex()}'s")
        share = self._share(ctx, offer.event_id, fromMeterId)
        require(share.obligation_w >= offer.reduction_w,
                f"meter {fromMeterId} is obliged to {share.obligation_w} W, less than {offer.reduction_w} W")
        taker = self._participant(ctx, found.programme_id, offer.taker_meter)
        ctx.call(ruble.ADDRESS, "chargeOrigin", taker.consumer, offer.price)
        ctx.storage.set_record(_share_key(offer.event_id, fromMeterId),
                               replace(share, obligation_w=share.obligation_w - offer.reduction_w))
        taken = ctx.storage.get_record(_share_key(offer.event_id, offer.taker_meter), Share)
        if taken is None:
            require(len(found.meters) < MAX_PARTICIPANTS, f"event {offer.event_id} is full")
            taken = Share(0, False, 0, 0, 0, 0, 0)
            ctx.storage.set_record(b"e" + _id(found.event_id),
                                   replace(found, meters=found.meters + (offer.taker_meter,)))
        ctx.storage.set_record(_share_key(offer.event_id, offer.taker_meter),
                               replace(taken, obligation_w=taken.obligation_w + offer.reduction_w))
        ctx.storage.set_record(b"o" + _id(offerId), replace(offer, open=False))
        ctx.emit(ObligationTraded(event_id=offer.event_id, from_meter_id=fromMeterId,
                                  to_meter_id=offer.taker_meter, reduction_w=offer.reduction_w, price=offer.price))

    # --- settlement -----------------------------------------------------------------------------------------

    def _measure(self, ctx: Context, programme: Programme, found: Event, meter_id: int) -> tuple[int, int]:
        """(baseline Wh, actual Wh) of a meter over the event's hours, after CT x VT ratios."""
        state = ctx.call(readings.ADDRESS, "meterState", meter_id)
        offset, history_start, last_start, open_gaps = state[4], state[5] + readings.INTERVAL_S, state[6], state[11]
        require(last_start + readings.INTERVAL_S >= found.end and open_gaps == 0,
                f"meter {meter_id}'s readings are not final for the event: newest interval ends at "
                f"{last_start + readings.INTERVAL_S}, {open_gaps} gaps open")
        months: dict[int, readings.MonthConsumption] = {}

        def hours_of(day: int) -> tuple[int, ...]:
            """The hourly import of a local day, or () when the meter has no hourly history of all of it."""
            day_start = day * 86400 - offset
            if day_start < history_start:
                return ()
            month_id = readings.month_of(day_start, offset)
            if month_id not in months:
                months[month_id] = ctx.call(readings.ADDRESS, "monthConsumption", meter_id, month_id)
            month = months[month_id]
            first = (day_start - month.period_start) // 3600
            return month.hourly_import_wh[first:first + 24]

        event_day = (found.start + offset) // 86400
        first_hour = (found.start + offset) % 86400 // 3600
        hours = slice(first_hour, first_hour + (found.end - found.start) // 3600)
        days = comparable_days(event_day, programme.rule, lambda day: bool(hours_of(day)))
        require(len(days) == programme.rule.days,
                f"meter {meter_id} has {len(days)} comparable days of hourly history, the baseline needs "
                f"{programme.rule.days}")
        actual = hours_of(event_day)
        require(actual, f"meter {meter_id} keeps no hourly profile for the event's month")
        meter = ctx.call(registry.ADDRESS, "getMeter", meter_id)
        ratio = meter.ct_ratio * meter.vt_ratio
        baseline = sum(sum(hours_of(day)[hours]) for day in days) * ratio // programme.rule.days
        return baseline, sum(actual[hours]) * ratio

    @external
    def settle(self, ctx: Context, eventId: Uint64, meterIds: Uint64Array) -> Uint256:
        """Settle participants of an ended event from final readings, each once; returns the kopecks paid."""
        found = self._event(ctx, eventId)
        programme = self._programme(ctx, found.programme_id)
        self._require_runner(ctx, programme)
        require(ctx.block.timestamp >= found.end, f"event {eventId} has not ended")
        require(0 < len(meterIds) <= MAX_PARTICIPANTS and len(set(meterIds)) == len(meterIds),
                f"name 1 to {MAX_PARTICIPANTS} distinct meters")
        hours = (found.end - found.start) // 3600
        total_paid = 0
        for meter_id in meterIds:
            share = self._share(ctx, eventId, meter_id)
            require(not share.settled, f"meter {meter_id} is already settled for event {eventId}")
            baseline, actual = self._measure(ctx, programme, found, meter_id)
            outcome = settle_share(baseline, actual, share.obligation_w, hours, programme.rates)
            paid = max(0, outcome.reward - outcome.penalty)
            due = max(0, outcome.penalty - outcome.reward)
            require(paid <= programme.budget,
                    f"programme {programme.programme_id}'s budget {programme.budget} does not cover {paid} kopecks")
            consumer = self._participant(ctx, found.programme_id, meter_id).consumer
            if paid:
                ctx.call(ruble.ADDRESS, "transfer", consumer, paid)
                programme = replace(programme, budget=programme.budget - paid)
            ctx.storage.set_record(_share_key(eventId, meter_id), Share(
                share.obligation_w, True, baseline, actual, outcome.reward, outcome.penalty, due))
            ctx.emit(ParticipantSettled(event_id=eventId, meter_id=meter_id, consumer=consumer, baseline_wh=baseline,
                                        actual_wh=actual, obligation_wh=outcome.obligation_wh, reward=outcome.reward,
                                        penalty=outcome.penalty, paid=paid, penalty_due=due))
            total_paid += paid
        ctx.storage.set_record(b"p" + _id(programme.programme_id), programme)
        return total_paid

    @external
    def payPenalty(self, ctx: Context, eventId: Uint64, meterId: Uint64) -> Uint256:
        """The consumer pays a net penalty into the programme's budget."""
        share = self._share(ctx, eventId, meterId)
        require(share.penalty_due > 0, f"meter {meterId} owes no penalty for event {eventId}")
        found = self._event(ctx, eventId)
        ctx.call(ruble.ADDRESS, "chargeOrigin", ADDRESS, share.penalty_due)
        programme = self._programme(ctx, found.programme_id)
        ctx.storage.set_record(b"p" + _id(programme.programme_id),
                               replace(programme, budget=programme.budget + share.penalty_due))
        ctx.storage.set_record(_share_key(eventId, meterId), replace(share, penalty_due=0))
        ctx.emit(PenaltyPaid(event_id=eventId, meter_id=meterId, amount=share.penalty_due))
        return share.penalty_due

    # --- views ----------------------------------------------------------------------------------------------

    @view
    def programme(self, ctx: Context, programmeId: Uint64) -> tuple[
            Address, Address, String, Uint32, Bool, Uint64, Uint64, Uint64, Uint32, Uint256]:
        """(operator, aggregator, name, baselineDays, sameDayKind, rewardMkopPerKwh, bonusMkopPerKwh,
        penaltyMkopPerKwh, penaltyThresholdPpm, budget)."""
        p = self._programme(ctx, programmeId)
        r = p.rates
        return (p.operator, p.aggregator, p.name, p.rule.days, p.rule.same_day_kind, r.reward_mkop_per_kwh,
                r.bonus_mkop_per_kwh, r.penalty_mkop_per_kwh, r.penalty_threshold_ppm, p.budget)

    @view
    def participant(self, ctx: Context, programmeId: Uint64, meterId: Uint64) -> tuple[Address, Uint64]:
        """(consumer, offeredW)."""
        p = self._participant(ctx, programmeId, meterId)
        return p.consumer, p.offered_w

    @view
    def eventOf(self, ctx: Context, eventId: Uint64) -> tuple[Uint64, Uint64, Uint64, Uint64Array]:
        """(programmeId, start, end, meterIds)."""
        e = self._event(ctx, eventId)
        return e.programme_id, e.start, e.end, e.meters

    @view
    def share(self, ctx: Context, eventId: Uint64, meterId: Uint64) -> tuple[
            Uint64, Bool, Uint256, Uint256, Uint256, Uint256, Uint256]:
        """(obligationW, settled, baselineWh, actualWh, reward, penalty, penaltyDue)."""
        s = self._share(ctx, eventId, meterId)
        return s.obligation_w, s.settled, s.baseline_wh, s.actual_wh, s.reward, s.penalty, s.penalty_due

    @view
    def offer(self, ctx: Context, offerId: Uint64) -> tuple[Uint64, Uint64, Uint64, Uint256, Bool]:
        """(eventId, takerMeterId, reductionW, price, open): open until a `handOver` accepts it."""
        found = ctx.storage.get_record(b"o" + _id(offerId), TakeOffer)
        if found is None:
            raise Revert(f"unknown obligation offer {offerId}")
        return found.event_id, found.taker_meter, found.reduction_w, found.price, found.open

    @view
    def baseline(self, ctx: Context, eventId: Uint64, meterId: Uint64) -> tuple[Uint256, Uint256]:
        """(baselineWh, actualWh) as settlement would compute them now (reverts while readings are not final)."""
        found = self._event(ctx, eventId)
        self._share(ctx, eventId, meterId)
        return self._measure(ctx, self._programme(ctx, found.programme_id), found, meterId)
