"""The market registry: companies and their profiles, contractors, personal accounts, metering points, meters,
gateway bindings, apartment buildings and consumer contracts.

Each record has one owner who alone writes it: a company its own profile; the grid company its contractors,
metering points, meters, gateway bindings and buildings; a retailer its personal accounts and consumer contracts.
Consumers' personal data (names, phones) stays off-chain: an account holds the consumer's chain address only.
A meter's reading configuration is pushed to the readings contract, so that a reading touches one storage key.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum

from contracts_py.abi import (Address, Bool, Bytes32, Indexed, String, Uint8, Uint32, Uint64, Uint64Array,
                              Uint256)
from contracts_py.participants import Role, has_role, require_role
from contracts_py.runtime import Context, NativeContract, Revert, event, external, internal, require, view

ADDRESS = bytes.fromhex("000000000000000000000000000000000000e003")
READINGS_ADDRESS = bytes.fromhex("000000000000000000000000000000000000e004")
"""The readings contract (`contracts_py.readings.ADDRESS`), named here so the two modules do not import in a cycle."""

MAX_TEXT = 256
"""Longest text field in characters: bounds what one write adds to the state."""
MAX_RATIO = 100_000
MAX_LOSS_PPM = 1_000_000


class CompanyKind(IntEnum):
    GRID_COMPANY = 1
    RETAILER = 2
    MANAGEMENT_COMPANY = 3


COMPANY_ROLES = {Role.GRID_COMPANY: CompanyKind.GRID_COMPANY, Role.RETAILER: CompanyKind.RETAILER,
                 Role.MANAGEMENT_COMPANY: CompanyKind.MANAGEMENT_COMPANY}


class ConsumerKind(IntEnum):
    HOUSEHOLD = 1
    LEGAL_ENTITY = 2


class CalculationScheme(IntEnum):
    """How a meter's register increase becomes billed volume: times CT x VT ratios, plus losses if any."""

    DIRECT = 1
    CURRENT_TRANSFORMERS = 2
    CURRENT_AND_VOLTAGE_TRANSFORMERS = 3


@dataclass(frozen=True, slots=True)
class BankRequisites:
    inn: str
    """Taxpayer number: 10 digits (organisation) or 12 (individual entrepreneur)."""
    kpp: str
    """Registration reason code: 9 digits, empty for individual entrepreneurs."""
    bik: str
    """Bank identifier: 9 digits."""
    account: str
    """Settlement account: 20 digits."""
    bank_name: str


@dataclass(frozen=True, slots=True)
class Company:
    kind: int
    name: str
    phone: str
    director: str
    """The director's full name (a company officer's public data, not a consumer's)."""
    address: str
    bank: BankRequisites


@dataclass(frozen=True, slots=True)
class Contractor:
    grid_company: bytes
    contractor_id: int
    name: str
    address: str
    bank: BankRequisites


@dataclass(frozen=True, slots=True)
class Account:
    number: int
    retailer: bytes
    section: int
    tariff_group: int
    contract_id: int
    """The consumer contract (0 until registered)."""
    consumer: bytes
    """The consumer's chain address; names and phones stay off-chain."""
    premises_address: str
    consumer_kind: int
    floor_area_dm2: int
    """Floor area of an apartment in dm2 (0.01 m2), for sharing common-house needs; 0 otherwise."""
    building_id: int
    """The apartment building the premises are in, 0 when none."""


@dataclass(frozen=True, slots=True)
class MeteringPoint:
    point_id: int
    account_number: int
    address: str
    description: str


@dataclass(frozen=True, slots=True)
class Meter:
    meter_id: int
    point_id: int
    account_number: int
    """0 for a house meter, which belongs to its building."""
    model: str
    serial: str
    installation_address: str
    scheme: int
    ct_ratio: int
    vt_ratio: int
    loss_ppm: int
    """Loss coefficient in parts per million when the meter is not on the balance boundary, else 0."""
    remote: bool
    hourly: bool
    max_power_w: int
    utc_offset_s: int
    gateway: bytes


@dataclass(frozen=True, slots=True)
class Building:
    building_id: int
    address: str
    management_company: bytes
    house_meter_id: int


@dataclass(frozen=True, slots=True)
class ConsumerContract:
    contract_id: int
    retailer: bytes
    account_number: int
    document_hash: bytes
    """keccak-256 (or any 32-byte hash agreed) of the signed document, kept off-chain."""
    valid_from: int


@event
class CompanyProfileSaved:
    company: Indexed(Address)
    kind: Uint8
    name: String


@event
class RetailerAttached:
    retailer: Indexed(Address)
    grid_company: Indexed(Address)


@event
class ContractorSaved:
    grid_company: Indexed(Address)
    contractor_id: Indexed(Uint64)
    name: String


@event
class AccountSaved:
    number: Indexed(Uint64)
    retailer: Indexed(Address)
    consumer: Indexed(Address)
    tariff_group: Uint64
    building_id: Uint64


@event
class MeteringPointSaved:
    point_id: Indexed(Uint64)
    account_number: Indexed(Uint64)


@event
class MeterRegistered:
    meter_id: Indexed(Uint64)
    point_id: Indexed(Uint64)
    account_number: Indexed(Uint64)
    serial: String


@event
class MeterConfigured:
    meter_id: Indexed(Uint64)
    ct_ratio: Uint32
    vt_ratio: Uint32
    loss_ppm: Uint32
    max_power_w: Uint64


@event
class GatewayBound:
    meter_id: Indexed(Uint64)
    gateway: Indexed(Address)


@event
class MeterReplaced:
    meter_id: Indexed(Uint64)
    interval_start: Indexed(Uint64)
    model: String
    serial: String


@event
class BuildingSaved:
    building_id: Indexed(Uint64)
    management_company: Indexed(Address)
    house_meter_id: Uint64


@event
class ConsumerContractSaved:
    contract_id: Indexed(Uint64)
    account_number: Indexed(Uint64)
    document_hash: Bytes32


def _text(value: str, what: str, required: bool = True) -> str:
    require(len(value) <= MAX_TEXT, f"{what} is longer than {MAX_TEXT} characters")
    require(bool(value.strip()) or not required, f"{what} is empty")
    return value


def _digits(value: str, lengths: tuple[int, ...], what: str) -> str:
    require(value.isascii() and value.isdigit() and len(value) in lengths or (value == "" and 0 in lengths),
            f"{what} must be {' or '.join(str(n) for n in lengths if n)} digits, got {value!r}")
    return value


def bank_requisites(inn: str, kpp: str, bik: str, account: str, bank_name: str) -> BankRequisites:
    """Checked bank requisites; a wrong length or a non-digit reverts with the field's name."""
    return BankRequisites(_digits(inn, (10, 12), "INN"), _digits(kpp, (9, 0), "KPP"), _digits(bik, (9,), "BIK"),
                          _digits(account, (20,), "settlement account"), _text(bank_name, "bank name"))


def _id(value: int) -> bytes:
    return value.to_bytes(8, "big")


def _append_id(ctx: Context, key: bytes, item: int) -> None:
    ids = ctx.storage.get(key) or b""
    if _id(item) not in [ids[i:i + 8] for i in range(0, len(ids), 8)]:
        ctx.storage.set(key, ids + _id(item))


def _remove_id(ctx: Context, key: bytes, item: int) -> None:
    ids = ctx.storage.get(key) or b""
    ctx.storage.set(key, b"".join(ids[i:i + 8] for i in range(0, len(ids), 8) if ids[i:i + 8] != _id(item)))


def _ids(packed: bytes | None) -> tuple[int, ...]:
    packed = packed or b""
    return tuple(int.from_bytes(packed[i:i + 8], "big") for i in range(0, len(packed), 8))


class Registry(NativeContract):
    NAME = "Registry"
    EVENTS = (CompanyProfileSaved, RetailerAttached, ContractorSaved, AccountSaved, MeteringPointSaved,
              MeterRegistered, MeterConfigured, GatewayBound, MeterReplaced, BuildingSaved, ConsumerContractSaved)

    # --- companies ------------------------------------------------------------------------------------------

    @external
    def saveProfile(self, ctx: Context, name: String, phone: String, director: String, address: String,
                    inn: String, kpp: String, bik: String, bankAccount: String, bankName: String) -> None:
        """A grid company, retailer or management company writes its own profile."""
        kind = next((k for role, k in COMPANY_ROLES.items() if has_role(ctx, ctx.sender, role)), None)
        if kind is None:
            raise Revert(f"0x{ctx.sender.hex()} is not a grid company, retailer or management company")
        company = Company(int(kind), _text(name, "name"), _text(phone, "phone"), _text(director, "director"),
                          _text(address, "address"), bank_requisites(inn, kpp, bik, bankAccount, bankName))
        ctx.storage.set_record(b"co" + ctx.sender, company)
        ctx.emit(CompanyProfileSaved(company=ctx.sender, kind=int(kind), name=name))

    @external
    def attachRetailer(self, ctx: Context, retailer: Address) -> None:
        """The grid company attaches a retailer that sells energy over its grid."""
        require_role(ctx, ctx.sender, Role.GRID_COMPANY)
        require_role(ctx, retailer, Role.RETAILER)
        ctx.storage.set(b"rg" + retailer, ctx.sender)
        ctx.emit(RetailerAttached(retailer=retailer, grid_company=ctx.sender))

    @external
    def saveContractor(self, ctx: Context, contractorId: Uint64, name: String, address: String, inn: String,
                       kpp: String, bik: String, bankAccount: String, bankName: String) -> None:
        """The grid company adds or edits one of its contractors."""
        require_role(ctx, ctx.sender, Role.GRID_COMPANY)
        contractor = Contractor(ctx.sender, contractorId, _text(name, "name"), _text(address, "address"),
                                bank_requisites(inn, kpp, bik, bankAccount, bankName))
        ctx.storage.set_record(b"ct" + ctx.sender + _id(contractorId), contractor)
        ctx.emit(ContractorSaved(grid_company=ctx.sender, contractor_id=contractorId, name=name))

    # --- accounts and contracts (retailers) -----------------------------------------------------------------

    @external
    def saveAccount(self, ctx: Context, number: Uint64, section: Uint64, tariffGroup: Uint64, consumer: Address,
                    premisesAddress: String, consumerKind: Uint8, floorAreaDm2: Uint64, buildingId: Uint64) -> None:
        """A retailer opens or edits one of its personal accounts (the contract link is set by `registerContract`)."""
        require_role(ctx, ctx.sender, Role.RETAILER)
        require(number > 0, "account number 0 is reserved")
        require(consumerKind in ConsumerKind._value2member_map_, f"unknown consumer kind {consumerKind}")
        require(buildingId == 0 or ctx.storage.get(b"bu" + _id(buildingId)) is not None,
                f"unknown building {buildingId}")
        old = ctx.storage.get_record(b"ac" + _id(number), Account)
        require(old is None or old.retailer == ctx.sender, f"account {number} belongs to another retailer")
        account = Account(number, ctx.sender, section, tariffGroup, old.contract_id if old else 0, consumer,
                          _text(premisesAddress, "premises address"), consumerKind, floorAreaDm2, buildingId)
        if old is not None and old.building_id and old.building_id != buildingId:
            _remove_id(ctx, b"ba" + _id(old.building_id), number)
        if buildingId:
            _append_id(ctx, b"ba" + _id(buildingId), number)
        ctx.storage.set_record(b"ac" + _id(number), account)
        ctx.emit(AccountSaved(number=number, retailer=ctx.sender, consumer=consumer, tariff_group=tariffGroup,
                              building_id=buildingId))

    @external
    def registerContract(self, ctx: Context, contractId: Uint64, accountNumber: Uint64, documentHash: Bytes32,
                         validFrom: Uint64) -> None:
        """A retailer records a consumer contract by the hash of the signed document, and links its account."""
        account = self._own_account(ctx, accountNumber)
        require(contractId > 0, "contract id 0 is reserved")
        require(ctx.storage.get(b"cn" + _id(contractId)) is None, f"contract {contractId} already exists")
        ctx.storage.set_record(b"cn" + _id(contractId),
                               ConsumerContract(contractId, ctx.sender, accountNumber, documentHash, validFrom))
        ctx.storage.set_record(b"ac" + _id(accountNumber), replace(account, contract_id=contractId))
        ctx.emit(ConsumerContractSaved(contract_id=contractId, account_number=accountNumber,
                                       document_hash=documentHash))

    def _own_account(self, ctx: Context, number: int) -> Account:
        require_role(ctx, ctx.sender, Role.RETAILER)
        account = self.getAccount(ctx, number)
        require(account.retailer == ctx.sender, f"account {number} belongs to another retailer")
        return account

    # --- metering points, meters, gateways, buildings (grid company) ----------------------------------------

    @external
    def saveMeteringPoint(self, ctx: Context, pointId: Uint64, accountNumber: Uint64, address: String,
                          description: String) -> None:
        """The grid company records a metering point of an account (0 for a building's common input)."""
        require_role(ctx, ctx.sender, Role.GRID_COMPANY)
        require(pointId > 0, "metering point id 0 is reserved")
        require(accountNumber == 0 or ctx.storage.get(b"ac" + _id(accountNumber)) is not None,
                f"unknown account {accountNumber}")
        old = ctx.storage.get_record(b"mp" + _id(pointId), MeteringPoint)
        require(old is None or old.account_number == accountNumber,
                f"the account of metering point {pointId} is fixed; register a new point for another account")
        point = MeteringPoint(pointId, accountNumber, _text(address, "address"),
                              _text(description, "description", required=False))
        ctx.storage.set_record(b"mp" + _id(pointId), point)
        ctx.emit(MeteringPointSaved(point_id=pointId, account_number=accountNumber))

    @external
    def registerMeter(self, ctx: Context, meterId: Uint64, pointId: Uint64, model: String, serial: String,
                      installationAddress: String, scheme: Uint8, remote: Bool, hourly: Bool, maxPowerW: Uint64,
                      utcOffsetS: Uint32, importWh: Uint256, exportWh: Uint256) -> None:
        """The grid company installs a meter at a metering point, with its registers at installation.

        The account is the metering point's. Ratios start at 1 and losses at 0: see `configureMeter`."""
        self.registerInstalledMeter(ctx, meterId, pointId, model, serial, installationAddress, scheme, remote,
                                    hourly, maxPowerW, utcOffsetS, importWh, exportWh, 0)

    @external
    def registerInstalledMeter(self, ctx: Context, meterId: Uint64, pointId: Uint64, model: String, serial: String,
                               installationAddress: String, scheme: Uint8, remote: Bool, hourly: Bool,
                               maxPowerW: Uint64, utcOffsetS: Uint32, importWh: Uint256, exportWh: Uint256,
                               installedAt: Uint64) -> None:
        """`registerMeter` for a meter installed before it joins the ledger: its registers are those at the end
        of the half hour starting `installedAt` (aligned, in the past), so its stored history can be backfilled.
        0 means the last whole half hour."""
        require_role(ctx, ctx.sender, Role.GRID_COMPANY)
        require(meterId > 0, "meter id 0 is reserved")
        require(ctx.storage.get(b"me" + _id(meterId)) is None, f"meter {meterId} already exists")
        point = ctx.storage.get_record(b"mp" + _id(pointId), MeteringPoint)
        require(point is not None, f"unknown metering point {pointId}")
        require(scheme in CalculationScheme._value2member_map_, f"unknown calculation scheme {scheme}")
        meter = Meter(meterId, pointId, point.account_number, _text(model, "model"), _text(serial, "serial"),
                      _text(installationAddress, "installation address"), scheme, 1, 1, 0, remote, hourly,
                      maxPowerW, utcOffsetS, b"")
        ctx.storage.set_record(b"me" + _id(meterId), meter)
        if point.account_number:
            _append_id(ctx, b"am" + _id(point.account_number), meterId)
        ctx.call(READINGS_ADDRESS, "setupMeter", meterId, remote, hourly, maxPowerW, utcOffsetS, importWh, exportWh,
                 installedAt)
        ctx.emit(MeterRegistered(meter_id=meterId, point_id=pointId, account_number=point.account_number,
                                 serial=serial))

    @external
    def configureMeter(self, ctx: Context, meterId: Uint64, scheme: Uint8, ctRatio: Uint32, vtRatio: Uint32,
                       lossPpm: Uint32, remote: Bool, hourly: Bool, maxPowerW: Uint64, utcOffsetS: Uint32) -> None:
        """Calculation scheme, transformer ratios, losses (ppm, 0 on the balance boundary) and reading limits."""
        require_role(ctx, ctx.sender, Role.GRID_COMPANY)
        meter = self.getMeter(ctx, meterId)
        require(scheme in CalculationScheme._value2member_map_, f"unknown calculation scheme {scheme}")
        require(1 <= ctRatio <= MAX_RATIO and 1 <= vtRatio <= MAX_RATIO,
                f"transformer ratios must be 1..{MAX_RATIO}, got CT {ctRatio} VT {vtRatio}")
        require(lossPpm < MAX_LOSS_PPM, f"loss coefficient {lossPpm} ppm is not below 100%")
        meter = replace(meter, scheme=scheme, ct_ratio=ctRatio, vt_ratio=vtRatio, loss_ppm=lossPpm, remote=remote,
                        hourly=hourly, max_power_w=maxPowerW, utc_offset_s=utcOffsetS)
        ctx.storage.set_record(b"me" + _id(meterId), meter)
        ctx.call(READINGS_ADDRESS, "configureMeter", meterId, remote, hourly, maxPowerW, utcOffsetS)
        ctx.emit(MeterConfigured(meter_id=meterId, ct_ratio=ctRatio, vt_ratio=vtRatio, loss_ppm=lossPpm,
                                 max_power_w=maxPowerW))

    @external
    def bindGateway(self, ctx: Context, meterId: Uint64, gateway: Address) -> None:
        """Bind a meter to the gateway that posts its readings; the zero address unbinds it."""
        require_role(ctx, ctx.sender, Role.GRID_COMPANY)
        meter = self.getMeter(ctx, meterId)
        bound = b"" if gateway == bytes(20) else gateway
        if bound:
            require_role(ctx, gateway, Role.GATEWAY)
            require(meter.remote, f"meter {meterId} is not read remotely")
        ctx.storage.set_record(b"me" + _id(meterId), replace(meter, gateway=bound))
        ctx.call(READINGS_ADDRESS, "bindGateway", meterId, bound)
        ctx.emit(GatewayBound(meter_id=meterId, gateway=gateway))

    @external
    def replaceMeter(self, ctx: Context, meterId: Uint64, model: String, serial: String, intervalStart: Uint64,
                     oldImportWh: Uint256, oldExportWh: Uint256, newImportWh: Uint256, newExportWh: Uint256) -> None:
        """A new device at the same meter id: the old one's final registers at the end of `intervalStart`
        are recorded, then readings continue from the new one's registers."""
        require_role(ctx, ctx.sender, Role.GRID_COMPANY)
        meter = self.getMeter(ctx, meterId)
        ctx.storage.set_record(b"me" + _id(meterId),
                               replace(meter, model=_text(model, "model"), serial=_text(serial, "serial")))
        ctx.call(READINGS_ADDRESS, "replaceMeter", meterId, intervalStart, oldImportWh, oldExportWh, newImportWh,
                 newExportWh)
        ctx.emit(MeterReplaced(meter_id=meterId, interval_start=intervalStart, model=model, serial=serial))

    @external
    def saveBuilding(self, ctx: Context, buildingId: Uint64, address: String, managementCompany: Address,
                     houseMeterId: Uint64) -> None:
        """The grid company records an apartment building, its management company and its house meter."""
        require_role(ctx, ctx.sender, Role.GRID_COMPANY)
        require(buildingId > 0, "building id 0 is reserved")
        require_role(ctx, managementCompany, Role.MANAGEMENT_COMPANY)
        require(houseMeterId == 0 or ctx.storage.get(b"me" + _id(houseMeterId)) is not None,
                f"unknown house meter {houseMeterId}")
        ctx.storage.set_record(b"bu" + _id(buildingId),
                               Building(buildingId, _text(address, "address"), managementCompany, houseMeterId))
        ctx.emit(BuildingSaved(building_id=buildingId, management_company=managementCompany,
                               house_meter_id=houseMeterId))

    # --- reads for other contracts (billing) ----------------------------------------------------------------

    def _get(self, ctx: Context, key: bytes, cls: type, what: str):
        record = ctx.storage.get_record(key, cls)
        if record is None:
            raise Revert(f"unknown {what}")
        return record

    @internal
    def getAccount(self, ctx: Context, number: int) -> Account:
        return self._get(ctx, b"ac" + _id(number), Account, f"account {number}")

    @internal
    def getMeter(self, ctx: Context, meter_id: int) -> Meter:
        return self._get(ctx, b"me" + _id(meter_id), Meter, f"meter {meter_id}")

    @internal
    def getBuilding(self, ctx: Context, building_id: int) -> Building:
        return self._get(ctx, b"bu" + _id(building_id), Building, f"building {building_id}")

    @internal
    def getCompany(self, ctx: Context, company: bytes) -> Company:
        return self._get(ctx, b"co" + company, Company, f"company 0x{company.hex()}")

    @internal
    def getAccountMeters(self, ctx: Context, number: int) -> tuple[int, ...]:
        return _ids(ctx.storage.get(b"am" + _id(number)))

    @internal
    def getBuildingAccounts(self, ctx: Context, building_id: int) -> tuple[int, ...]:
        return _ids(ctx.storage.get(b"ba" + _id(building_id)))

    @internal
    def meterConsumer(self, ctx: Context, meter_id: int) -> bytes:
        """The consumer address of the meter's account (zero address for a meter without an account)."""
        meter = self.getMeter(ctx, meter_id)
        return self.getAccount(ctx, meter.account_number).consumer if meter.account_number else bytes(20)

    # --- views (flat ABI values) ----------------------------------------------------------------------------

    @view
    def company(self, ctx: Context, company: Address) -> tuple[
            Uint8, String, String, String, String, String, String, String, String, String, Address]:
        """(kind, name, phone, director, address, inn, kpp, bik, bankAccount, bankName, gridCompany)."""
        c = self.getCompany(ctx, company)
        b = c.bank
        return (c.kind, c.name, c.phone, c.director, c.address, b.inn, b.kpp, b.bik, b.account, b.bank_name,
                ctx.storage.get(b"rg" + company) or bytes(20))

    @view
    def contractor(self, ctx: Context, gridCompany: Address, contractorId: Uint64) -> tuple[
            String, String, String, String, String, String, String]:
        """(name, address, inn, kpp, bik, bankAccount, bankName)."""
        c = self._get(ctx, b"ct" + gridCompany + _id(contractorId), Contractor, f"contractor {contractorId}")
        b = c.bank
        return c.name, c.address, b.inn, b.kpp, b.bik, b.account, b.bank_name

    @view
    def account(self, ctx: Context, number: Uint64) -> tuple[
            Address, Uint64, Uint64, Uint64, Address, String, Uint8, Uint64, Uint64, Uint64Array]:
        """(retailer, section, tariffGroup, contractId, consumer, premisesAddress, consumerKind, floorAreaDm2,
        buildingId, meterIds)."""
        a = self.getAccount(ctx, number)
        return (a.retailer, a.section, a.tariff_group, a.contract_id, a.consumer, a.premises_address,
                a.consumer_kind, a.floor_area_dm2, a.building_id, self.getAccountMeters(ctx, number))

    @view
    def meteringPoint(self, ctx: Context, pointId: Uint64) -> tuple[Uint64, String, String]:
        """(accountNumber, address, description)."""
        p = self._get(ctx, b"mp" + _id(pointId), MeteringPoint, f"metering point {pointId}")
        return p.account_number, p.address, p.description

    @view
    def meter(self, ctx: Context, meterId: Uint64) -> tuple[
            Uint64, Uint64, String, String, String, Uint8, Uint32, Uint32, Uint32, Bool, Bool, Uint64, Uint32,
            Address]:
        """(pointId, accountNumber, model, serial, installationAddress, scheme, ctRatio, vtRatio, lossPpm, remote,
        hourly, maxPowerW, utcOffsetS, gateway)."""
        m = self.getMeter(ctx, meterId)
        return (m.point_id, m.account_number, m.model, m.serial, m.installation_address, m.scheme, m.ct_ratio,
                m.vt_ratio, m.loss_ppm, m.remote, m.hourly, m.max_power_w, m.utc_offset_s, m.gateway or bytes(20))

    @view
    def building(self, ctx: Context, buildingId: Uint64) -> tuple[String, Address, Uint64, Uint64Array]:
        """(address, managementCompany, houseMeterId, accountNumbers)."""
        b = self.getBuilding(ctx, buildingId)
        return b.address, b.management_company, b.house_meter_id, self.getBuildingAccounts(ctx, buildingId)

    @view
    def consumerContract(self, ctx: Context, contractId: Uint64) -> tuple[Address, Uint64, Bytes32, Uint64]:
        """(retailer, accountNumber, documentHash, validFrom)."""
        c = self._get(ctx, b"cn" + _id(contractId), ConsumerContract, f"contract {contractId}")
        return c.retailer, c.account_number, c.document_hash, c.valid_from
