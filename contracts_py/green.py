"""Green certificates: certificates of origin for energy that registered generating facilities fed into the grid.

Facilities. The grid company registers a facility (owner, technology, installed capacity, commissioning date, the
meter that measures its output) and it is confirmed at once; an owner may register its own facility, which waits
for the grid company's `confirmFacility`. A meter backs at most one facility.

Issuance. For a closed local month the facility's owner (or the grid company) calls `issue`: the month's export
(A-) Wh comes from the readings contract (`monthConsumption`), times the meter's CT x VT ratios. The readings are
final for the month once its period has ended and the meter's newest recorded interval ends at or after the month
end (its closing register is known). Months are issued in increasing order, each once; the issuance record keeps
the Wh counted for that month, so the same energy is never certified twice: a later backfill can only move energy
between months (readings attribute a gap's increase to the interval that closed it), never add to a counted month.
One certificate per whole MWh; the remainder is carried to the facility's next issuance.

Serials. An issuance of n certificates gets the serials `issuance_id * SERIALS_PER_ISSUANCE + 1 .. + n`, so
issuing writes one issuance record however many MWh it covers. A certificate gets a record of its own only
when it first changes (transfer, offer, retirement); until then it is the facility owner's and active.

Ownership lists are not kept on-chain: `CertificatesIssued`, `CertificateTransferred` and `CertificateRetired`
events carry every change of owner, and the indexer builds "my certificates" and filtered lists from them.
"""

from __future__ import annotations

from dataclasses import replace

from contracts_py import readings, registry, ruble
from contracts_py.abi import Address, Bool, Bytes32, String, Uint8, Uint32, Uint64, Uint64Array, Uint256
from contracts_py.green_records import (Certificate, CertificateRetired, CertificatesIssued, CertificatesOffered,
                                        CertificateTransferred, Facility, FacilityConfirmed, FacilityRegistered,
                                        Issuance, Offer, OfferClosed, Retirement, RetirementRecorded, Status,
                                        Technology)
from contracts_py.participants import Role, has_role, require_role
from contracts_py.runtime import Context, NativeContract, Revert, external, require, view

ADDRESS = bytes.fromhex("000000000000000000000000000000000000e009")

WH_PER_CERTIFICATE = 1_000_000
"""One certificate of origin stands for one MWh."""
SERIALS_PER_ISSUANCE = 1_000_000
"""Serial space of one issuance: an issuance certifies fewer MWh than this (a 1.3 GW plant in a month)."""
MAX_BATCH = 500
"""Certificates moved, offered or retired in one transaction."""
MAX_TEXT = 256
INTERVAL_S = readings.INTERVAL_S


def _id(value: int) -> bytes:
    return value.to_bytes(8, "big")


def _facility_key(facility_id: int) -> bytes:
    return b"f" + _id(facility_id)


def _issuance_key(issuance_id: int) -> bytes:
    return b"i" + _id(issuance_id)


def _period_key(facility_id: int, period: int) -> bytes:
    return b"p" + _id(facility_id) + _id(period)


def _serial_key(serial: int) -> bytes:
    return b"c" + _id(serial)


def _next(ctx: Context, counter: bytes) -> int:
    value = ctx.storage.get_int(counter) + 1
    ctx.storage.set_int(counter, value)
    return value


def _text(value: str, what: str) -> str:
    require(0 < len(value.strip()) and len(value) <= MAX_TEXT, f"{what} must be 1 to {MAX_TEXT} characters")
    return value


def _batch(serials: tuple[int, ...]) -> tuple[int, ...]:
    require(0 < len(serials) <= MAX_BATCH, f"name 1 to {MAX_BATCH} certificates, got {len(serials)}")
    require(len(set(serials)) == len(serials), "a certificate is named twice")
    return serials


def _month_of_date(yyyymmdd: int) -> int:
    year, rest = divmod(yyyymmdd, 10_000)
    month, day = divmod(rest, 100)
    require(1 <= month <= 12 and 1 <= day <= 31 and year >= 1900, f"{yyyymmdd} is not a yyyymmdd date")
    return year * 100 + month


class GreenCertificates(NativeContract):
    NAME = "GreenCertificates"
    EVENTS = (FacilityRegistered, FacilityConfirmed, CertificatesIssued, CertificateTransferred,
              CertificatesOffered, OfferClosed, CertificateRetired, RetirementRecorded)

    # --- facilities -----------------------------------------------------------------------------------------

    @external
    def registerFacility(self, ctx: Context, facilityId: Uint64, owner: Address, technology: Uint8,
                         capacityW: Uint64, commissionedOn: Uint32, meterId: Uint64, name: String) -> None:
        """The grid company registers a facility (confirmed), or its owner does (pending confirmation)."""
        by_grid = has_role(ctx, ctx.sender, Role.GRID_COMPANY)
        require(by_grid or ctx.sender == owner,
                f"0x{ctx.sender.hex()} is neither the grid company nor the facility's owner")
        require(facilityId > 0, "facility id 0 is reserved")
        require(ctx.storage.get(_facility_key(facilityId)) is None, f"facility {facilityId} already exists")
        require(owner != bytes(20), "a facility needs an owner")
        require(technology in Technology._value2member_map_, f"unknown technology {technology}")
        require(capacityW > 0, "installed capacity must be positive")
        _month_of_date(commissionedOn)
        require(meterId > 0, "a facility needs the meter that measures its output")
        consumer = ctx.call(registry.ADDRESS, "meterConsumer", meterId)
        require(by_grid or consumer == owner, f"meter {meterId} is not on an account of 0x{owner.hex()}")
        meter_key = b"m" + _id(meterId)
        taken = ctx.storage.get_int(meter_key)
        require(taken == 0, f"meter {meterId} already measures facility {taken}")
        ctx.storage.set_int(meter_key, facilityId)
        facility = Facility(facilityId, owner, technology, capacityW, commissionedOn, meterId,
                            _text(name, "facility name"), by_grid, 0, 0)
        ctx.storage.set_record(_facility_key(facilityId), facility)
        ctx.emit(FacilityRegistered(facility_id=facilityId, owner=owner, meter_id=meterId, technology=technology,
                                    capacity_w=capacityW, commissioned_on=commissionedOn, confirmed=by_grid))

    @external
    def confirmFacility(self, ctx: Context, facilityId: Uint64) -> None:
        """The grid company confirms a facility its owner registered."""
        require_role(ctx, ctx.sender, Role.GRID_COMPANY)
        facility = self._facility(ctx, facilityId)
        require(not facility.confirmed, f"facility {facilityId} is already confirmed")
        ctx.storage.set_record(_facility_key(facilityId), replace(facility, confirmed=True))
        ctx.emit(FacilityConfirmed(facility_id=facilityId, grid_company=ctx.sender))

    def _facility(self, ctx: Context, facility_id: int) -> Facility:
        facility = ctx.storage.get_record(_facility_key(facility_id), Facility)
        if facility is None:
            raise Revert(f"unknown facility {facility_id}")
        return facility

    # --- issuance -------------------------------------------------------------------------------------------

    @external
    def issue(self, ctx: Context, facilityId: Uint64, period: Uint64) -> Uint64:
        """Certify a closed month's export of a facility; returns the number of certificates issued."""
        facility = self._facility(ctx, facilityId)
        require(ctx.sender == facility.owner or has_role(ctx, ctx.sender, Role.GRID_COMPANY),
                f"0x{ctx.sender.hex()} may not issue for facility {facilityId}")
        require(facility.confirmed, f"facility {facilityId} awaits the grid company's confirmation")
        require(period >= _month_of_date(facility.commissioned_on),
                f"period {period} precedes the facility's commissioning on {facility.commissioned_on}")
        require(ctx.storage.get(_period_key(facilityId, period)) is None,
                f"facility {facilityId} is already certified for {period}")
        require(period > facility.last_period,
                f"facility {facilityId} is certified up to {facility.last_period}; periods go in order")
        month = ctx.call(readings.ADDRESS, "monthConsumption", facility.meter_id, period)
        require(ctx.block.timestamp >= month.period_end, f"period {period} has not ended")
        last_start = ctx.call(readings.ADDRESS, "meterState", facility.meter_id)[6]
        require(last_start + INTERVAL_S >= month.period_end,
                f"meter {facility.meter_id}'s readings are not final for {period}: the newest ends at "
                f"{last_start + INTERVAL_S}, the month at {month.period_end}")
        meter = ctx.call(registry.ADDRESS, "getMeter", facility.meter_id)
        measured = month.export_wh * meter.ct_ratio * meter.vt_ratio
        most = facility.capacity_w * (month.period_end - month.period_start) // 3600
        require(measured <= most, f"measured output {measured} Wh exceeds the installed capacity's {most} Wh")
        available = facility.carry_wh + measured
        count, carry = divmod(available, WH_PER_CERTIFICATE)
        require(count < SERIALS_PER_ISSUANCE, f"{count} certificates exceed one issuance's serials")
        issuance_id = _next(ctx, b"n")
        issuance = Issuance(issuance_id, facilityId, period, measured, facility.carry_wh, count, carry,
                            facility.owner, facility.technology, ctx.block.timestamp)
        ctx.storage.set_record(_issuance_key(issuance_id), issuance)
        ctx.storage.set_int(_period_key(facilityId, period), issuance_id)
        ctx.storage.set_record(_facility_key(facilityId), replace(facility, last_period=period, carry_wh=carry))
        ctx.emit(CertificatesIssued(facility_id=facilityId, period=period, owner=facility.owner,
                                    issuance_id=issuance_id, technology=facility.technology,
                                    first_serial=issuance_id * SERIALS_PER_ISSUANCE + 1, certificates=count,
                                    measured_wh=measured, carry_in_wh=facility.carry_wh, carry_out_wh=carry))
        return count

    # --- certificates ---------------------------------------------------------------------------------------

    def _issuance_of(self, ctx: Context, serial: int) -> Issuance:
        issuance_id, index = divmod(serial, SERIALS_PER_ISSUANCE)
        issuance = ctx.storage.get_record(_issuance_key(issuance_id), Issuance)
        if issuance is None or not 1 <= index <= issuance.certificates:
            raise Revert(f"unknown certificate {serial}")
        return issuance

    def _certificate(self, ctx: Context, serial: int) -> Certificate:
        stored = ctx.storage.get_record(_serial_key(serial), Certificate)
        return stored or Certificate(self._issuance_of(ctx, serial).owner, Status.ACTIVE, 0, 0)

    def _owned_active(self, ctx: Context, serial: int, owner: bytes) -> Certificate:
        certificate = self._certificate(ctx, serial)
        require(certificate.status != Status.RETIRED, f"certificate {serial} is retired and can never move")
        require(certificate.owner == owner, f"certificate {serial} is not held by 0x{owner.hex()}")
        require(certificate.status == Status.ACTIVE, f"certificate {serial} is offered for sale (offer "
                                                     f"{certificate.offer_id}); withdraw the offer first")
        return certificate

    def _move(self, ctx: Context, serial: int, source: bytes, target: bytes) -> None:
        ctx.storage.set_record(_serial_key(serial), Certificate(target, Status.ACTIVE, 0, 0))
        ctx.emit(CertificateTransferred(serial=serial, from_=source, to=target))

    @external
    def transfer(self, ctx: Context, to: Address, serials: Uint64Array) -> None:
        """Give certificates to another participant."""
        require(to not in (bytes(20), ctx.sender), "transfer to the zero address or to oneself")
        for serial in _batch(serials):
            self._owned_active(ctx, serial, ctx.sender)
            self._move(ctx, serial, ctx.sender, to)

    @external
    def offer(self, ctx: Context, serials: Uint64Array, priceEach: Uint256) -> Uint64:
        """Offer certificates for sale at a price in kopecks each; they are locked until sold or withdrawn."""
        require(priceEach > 0, "a price must be positive")
        offer_id = _next(ctx, b"o")
        for serial in _batch(serials):
            self._owned_active(ctx, serial, ctx.sender)
            ctx.storage.set_record(_serial_key(serial), Certificate(ctx.sender, Status.OFFERED, offer_id, 0))
        ctx.storage.set_record(b"o" + _id(offer_id), Offer(offer_id, ctx.sender, serials, priceEach, True))
        ctx.emit(CertificatesOffered(offer_id=offer_id, seller=ctx.sender, serials=serials, price_each=priceEach))
        return offer_id

    def _open_offer(self, ctx: Context, offer_id: int) -> Offer:
        offer = ctx.storage.get_record(b"o" + _id(offer_id), Offer)
        require(offer is not None, f"unknown offer {offer_id}")
        require(offer.open, f"offer {offer_id} is closed")
        return offer

    @external
    def withdrawOffer(self, ctx: Context, offerId: Uint64) -> None:
        offer = self._open_offer(ctx, offerId)
        require(offer.seller == ctx.sender, f"offer {offerId} is not 0x{ctx.sender.hex()}'s")
        for serial in offer.serials:
            ctx.storage.set_record(_serial_key(serial), Certificate(offer.seller, Status.ACTIVE, 0, 0))
        ctx.storage.set_record(b"o" + _id(offerId), replace(offer, open=False))
        ctx.emit(OfferClosed(offer_id=offerId, buyer=bytes(20), total=0))

    @external
    def buy(self, ctx: Context, offerId: Uint64) -> Uint256:
        """Buy a whole offer: the signer's rubles go to the seller and the certificates to the signer, at once."""
        offer = self._open_offer(ctx, offerId)
        require(ctx.sender == ctx.origin, "certificates are bought by the transaction's signer")
        require(offer.seller != ctx.sender, "a seller cannot buy its own offer")
        total = offer.price_each * len(offer.serials)
        ctx.call(ruble.ADDRESS, "chargeOrigin", offer.seller, total)
        for serial in offer.serials:
            self._move(ctx, serial, offer.seller, ctx.sender)
        ctx.storage.set_record(b"o" + _id(offerId), replace(offer, open=False))
        ctx.emit(OfferClosed(offer_id=offerId, buyer=ctx.sender, total=total))
        return total

    @external
    def retire(self, ctx: Context, serials: Uint64Array, beneficiary: Address, beneficiaryAccount: Uint64,
               purpose: String, consumptionPeriod: Uint64) -> Uint64:
        """Retire certificates for a named consumer's consumption of a month; they never move again.

        Returns the retirement id, whose `retirementStatement` is the data of the statement document."""
        require(beneficiary != bytes(20), "a retirement names its beneficiary")
        require(1 <= consumptionPeriod % 100 <= 12 and consumptionPeriod >= 190001,
                f"consumption period {consumptionPeriod} is not a yyyymm month")
        if beneficiaryAccount:
            account = ctx.call(registry.ADDRESS, "getAccount", beneficiaryAccount)
            require(account.consumer == beneficiary,
                    f"account {beneficiaryAccount} is not 0x{beneficiary.hex()}'s")
        retirement_id = _next(ctx, b"r")
        for serial in _batch(serials):
            self._owned_active(ctx, serial, ctx.sender)
            ctx.storage.set_record(_serial_key(serial), Certificate(ctx.sender, Status.RETIRED, 0, retirement_id))
            ctx.emit(CertificateRetired(serial=serial, retirement_id=retirement_id, beneficiary=beneficiary))
        ctx.storage.set_record(b"r" + _id(retirement_id), Retirement(
            retirement_id, ctx.sender, beneficiary, beneficiaryAccount, _text(purpose, "purpose"),
            consumptionPeriod, serials, ctx.block.timestamp, ctx.block.number, ctx.tx_hash))
        ctx.emit(RetirementRecorded(retirement_id=retirement_id, retired_by=ctx.sender, beneficiary=beneficiary,
                                    beneficiary_account=beneficiaryAccount, consumption_period=consumptionPeriod,
                                    certificates=len(serials), purpose=purpose))
        return retirement_id

    # --- views ----------------------------------------------------------------------------------------------

    @view
    def facility(self, ctx: Context, facilityId: Uint64) -> tuple[
            Address, Uint8, Uint64, Uint32, Uint64, String, Bool, Uint64, Uint256]:
        """(owner, technology, capacityW, commissionedOn, meterId, name, confirmed, lastPeriod, carryWh)."""
        f = self._facility(ctx, facilityId)
        return (f.owner, f.technology, f.capacity_w, f.commissioned_on, f.meter_id, f.name, f.confirmed,
                f.last_period, f.carry_wh)

    @view
    def issuance(self, ctx: Context, facilityId: Uint64, period: Uint64) -> tuple[
            Uint64, Uint256, Uint256, Uint64, Uint256, Uint64, Uint64]:
        """(issuanceId, measuredWh, carryInWh, certificates, carryOutWh, firstSerial, issuedAt) of a month."""
        issuance_id = ctx.storage.get_int(_period_key(facilityId, period))
        require(issuance_id > 0, f"facility {facilityId} has no issuance for {period}")
        i = ctx.storage.get_record(_issuance_key(issuance_id), Issuance)
        return (issuance_id, i.measured_wh, i.carry_in_wh, i.certificates, i.carry_out_wh,
                issuance_id * SERIALS_PER_ISSUANCE + 1, i.issued_at)

    @view
    def certificate(self, ctx: Context, serial: Uint64) -> tuple[
            Uint64, Uint8, Uint64, Uint64, Address, Uint8, Uint64, Uint64]:
        """(facilityId, technology, period, issuanceId, owner, status, offerId, retirementId)."""
        i = self._issuance_of(ctx, serial)
        c = self._certificate(ctx, serial)
        return i.facility_id, i.technology, i.period, i.issuance_id, c.owner, c.status, c.offer_id, c.retirement_id

    @view
    def offerOf(self, ctx: Context, offerId: Uint64) -> tuple[Address, Uint64Array, Uint256, Bool]:
        """(seller, serials, priceEach, open)."""
        offer = ctx.storage.get_record(b"o" + _id(offerId), Offer)
        require(offer is not None, f"unknown offer {offerId}")
        return offer.seller, offer.serials, offer.price_each, offer.open

    @view
    def retirementStatement(self, ctx: Context, retirementId: Uint64) -> tuple[
            Address, Address, Uint64, String, Uint64, Uint64, Uint64, Bytes32, Uint64Array, Uint64Array,
            Uint64Array, Uint64Array]:
        """Everything a retirement statement shows: (retiredBy, beneficiary, beneficiaryAccount, purpose,
        consumptionPeriod, retiredAt, blockNumber, txHash, serials, facilityIds, generationPeriods,
        technologies); the last four are per certificate (each 1 MWh)."""
        r = ctx.storage.get_record(b"r" + _id(retirementId), Retirement)
        require(r is not None, f"unknown retirement {retirementId}")
        issuances = [self._issuance_of(ctx, serial) for serial in r.serials]
        return (r.retired_by, r.beneficiary, r.beneficiary_account, r.purpose, r.consumption_period, r.retired_at,
                r.block_number, r.tx_hash.rjust(32, b"\0"), r.serials, tuple(i.facility_id for i in issuances),
                tuple(i.period for i in issuances), tuple(i.technology for i in issuances))
