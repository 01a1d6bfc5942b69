"""Green certificates: the stored records and the contract's events (see `contracts_py.green`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from contracts_py.abi import Address, Bool, Indexed, String, Uint8, Uint32, Uint64, Uint64Array, Uint256
from contracts_py.runtime import event


class Technology(IntEnum):
    """Generating technologies; the numbers are stored on-chain and never change meaning."""

    SOLAR = 1
    WIND = 2
    HYDRO = 3
    BIOMASS = 4
    BIOGAS = 5
    GEOTHERMAL = 6


class Status(IntEnum):
    ACTIVE = 0
    OFFERED = 1
    RETIRED = 2


@dataclass(frozen=True, slots=True)
class Facility:
    facility_id: int
    owner: bytes
    technology: int
    capacity_w: int
    commissioned_on: int
    """yyyymmdd."""
    meter_id: int
    name: str
    confirmed: bool
    last_period: int
    """The latest month issued (yyyymm), 0 before the first issuance."""
    carry_wh: int
    """Measured Wh not yet certified (less than one MWh), carried to the next issuance."""


@dataclass(frozen=True, slots=True)
class Issuance:
    issuance_id: int
    facility_id: int
    period: int
    measured_wh: int
    """The month's export as counted at issuance (after CT x VT ratios)."""
    carry_in_wh: int
    certificates: int
    carry_out_wh: int
    owner: bytes
    technology: int
    issued_at: int


@dataclass(frozen=True, slots=True)
class Certificate:
    """A certificate's changing part; the rest comes from its issuance."""

    owner: bytes
    status: int
    offer_id: int
    retirement_id: int


@dataclass(frozen=True, slots=True)
class Offer:
    offer_id: int
    seller: bytes
    serials: tuple[int, ...]
    price_each: int
    """Kopecks per certificate."""
    open: bool


@dataclass(frozen=True, slots=True)
class Retirement:
    retirement_id: int
    retired_by: bytes
    beneficiary: bytes
    beneficiary_account: int
    """The beneficiary's personal account number, 0 if it has none."""
    purpose: str
    consumption_period: int
    """The month (yyyymm) whose consumption the certificates cover."""
    serials: tuple[int, ...]
    retired_at: int
    block_number: int
    tx_hash: bytes


@event
class FacilityRegistered:
    facility_id: Indexed(Uint64)
    owner: Indexed(Address)
    meter_id: Indexed(Uint64)
    technology: Uint8
    capacity_w: Uint64
    commissioned_on: Uint32
    confirmed: Bool


@event
class FacilityConfirmed:
    facility_id: Indexed(Uint64)
    grid_company: Indexed(Address)


@event
class CertificatesIssued:
    facility_id: Indexed(Uint64)
    period: Indexed(Uint64)
    owner: Indexed(Address)
    issuance_id: Uint64
    technology: Uint8
    first_serial: Uint64
    certificates: Uint64
    measured_wh: Uint256
    carry_in_wh: Uint256
    carry_out_wh: Uint256


@event
class CertificateTransferred:
    serial: Indexed(Uint64)
    from_: Indexed(Address)
    to: Indexed(Address)


@event
class CertificatesOffered:
    offer_id: Indexed(Uint64)
    seller: Indexed(Address)
    serials: Uint64Array
    price_each: Uint256


@event
class OfferClosed:
    offer_id: Indexed(Uint64)
    buyer: Indexed(Address)
    """The buyer, or the zero address when the seller withdrew the offer."""
    total: Uint256


@event
class CertificateRetired:
    serial: Indexed(Uint64)
    retirement_id: Indexed(Uint64)
    beneficiary: Indexed(Address)


@event
class RetirementRecorded:
    retirement_id: Indexed(Uint64)
    retired_by: Indexed(Address)
    beneficiary: Indexed(Address)
    beneficiary_account: Uint64
    consumption_period: Uint64
    certificates: Uint64
    purpose: String
