"""The demo market as data: companies, contractors, tariff groups of every kind, 20 consumers with their meters
and gateways, one apartment building with a house meter. `genesis.demo` turns it into transactions.

People see Russian; the chain holds no personal data, so consumers' names go only to the off-chain manifest
(`demo.json`) that the portals read. Prices are milli-kopecks per kWh (with capacity rates per kW), as the tariff
contract takes them; the figures are plausible for Tatarstan in 2026, not official."""

from __future__ import annotations

from dataclasses import dataclass

from contracts_py.billing.bill import OptionKind
from contracts_py.billing.zones import THREE_ZONES, TWO_ZONES, Zone
from contracts_py.registry import ConsumerKind

UTC_OFFSET_S = 3 * 3_600
"""Europe/Moscow: the market's local time, for zones and billing months."""
TARIFFS_FROM = 20260101
"""Every demo tariff option is in force from this date (yyyymmdd)."""
HISTORY_MONTHS = 3
"""Complete months of half-hourly history before the current month; each is invoiced."""

GRID, RETAILER_1, RETAILER_2, BANK = "grid-company", "retailer-1", "retailer-2", "bank"
"""Keys that `genesis.generate.new_network` writes."""
MANAGEMENT_COMPANY, INFRASTRUCTURE = "management-company", "infrastructure"
"""Keys that seed-demo adds: the building's management company and the infrastructure payee."""


@dataclass(frozen=True)
class CompanyProfile:
    key: str
    name: str
    phone: str
    director: str
    address: str
    inn: str
    kpp: str
    bik: str
    bank_account: str
    bank_name: str

    def args(self) -> tuple:
        return (self.name, self.phone, self.director, self.address, self.inn, self.kpp, self.bik, self.bank_account,
                self.bank_name)


@dataclass(frozen=True)
class Contractor:
    contractor_id: int
    name: str
    address: str
    inn: str
    kpp: str
    bik: str
    bank_account: str
    bank_name: str


@dataclass(frozen=True)
class AddOns:
    """Per-kWh prices routed to the grid company, the retailer and the infrastructure payee."""

    transmission: int
    markup: int
    infrastructure: int


@dataclass(frozen=True)
class TariffOption:
    option_id: int
    kind: OptionKind
    zones: tuple[tuple[int, int, int], ...] = ()
    """(start minute, end minute, zone) in local time."""
    zone_prices: tuple[int, ...] = ()
    """One price per distinct zone, in order of first appearance."""
    band_limits_wh: tuple[int, ...] = ()
    band_prices: tuple[int, ...] = ()
    price_category: int = 0


@dataclass(frozen=True)
class TariffGroup:
    retailer: str
    group_id: int
    name: str
    options: tuple[TariffOption, ...]
    """The first option is the one an account bills under until its consumer chooses another."""
    add_ons: AddOns


@dataclass(frozen=True)
class HourlyRates:
    """Monthly hourly prices of a price category 4 option (the same shape every month)."""

    night_price: int
    day_price: int
    peak_hour: int
    """The system operator's peak hour of each working day (local)."""
    capacity_per_kw: int
    network_window: tuple[int, int]
    network_per_kw: int


@dataclass(frozen=True)
class Consumer:
    key: str
    name: str
    """Off-chain only (the manifest), never on the chain."""
    account: int
    retailer: str
    group_id: int
    kind: ConsumerKind
    address: str
    profile: str
    """A load profile of `genesis.demo_profiles`."""
    scale: int
    """Per cent of the profile's typical volume."""
    gateway: str
    area_dm2: int = 0
    building_id: int = 0
    residents: int = 0
    max_power_w: int = 15_000
    hourly: bool = False
    model: str = "Меркурий 230"

    @property
    def meter_id(self) -> int:
        return self.account


@dataclass(frozen=True)
class Building:
    building_id: int
    address: str
    house_meter_id: int
    gateway: str
    common_wh_per_half_hour: tuple[int, int]
    """Common-house load (lifts, lighting, pumps): by day, by night (lighting on)."""


def _zones(spans) -> tuple[tuple[int, int, int], ...]:
    return tuple((s.start_minute, s.end_minute, int(s.zone)) for s in spans)


SINGLE = ((0, 1440, int(Zone.ALL_DAY)),)
HOUSEHOLD_ADD_ONS = AddOns(transmission=181_234, markup=52_345, infrastructure=1_287)
LEGAL_ADD_ONS = AddOns(transmission=45_000, markup=32_100, infrastructure=980)
SINGLE_RATE = TariffOption(1, OptionKind.SINGLE_RATE, SINGLE, (412_345,))
TWO_ZONE = TariffOption(2, OptionKind.TWO_ZONE, _zones(TWO_ZONES), (520_000, 310_000))
THREE_ZONE = TariffOption(3, OptionKind.THREE_ZONE, _zones(THREE_ZONES), (615_000, 470_000, 280_000))


def _renumbered(option: TariffOption, option_id: int) -> TariffOption:
    return TariffOption(option_id, option.kind, option.zones, option.zone_prices, option.band_limits_wh,
                        option.band_prices, option.price_category)


COMPANIES = (
    CompanyProfile(GRID, "Сетевая компания", "+7 843 200-10-10", "Галиев Рустем Ильдарович",
                   "420021, Казань, ул. Пушкина, 1", "1655000001", "165501001", "049205603",
                   "40702810000000000001", "ПАО «Банк Казань»"),
    CompanyProfile(RETAILER_1, "Энергосбыт Казань", "+7 843 200-20-20", "Сафина Алия Маратовна",
                   "420111, Казань, ул. Баумана, 40", "1655000002", "165501002", "049205603",
                   "40702810000000000002", "ПАО «Банк Казань»"),
    CompanyProfile(RETAILER_2, "Городская энергосбытовая компания", "+7 843 200-30-30",
                   "Петров Андрей Сергеевич", "420015, Казань, ул. Гоголя, 7", "1655000003", "165501003",
                   "049205804", "40702810000000000003", "АО «Волга Банк»"),
    CompanyProfile(MANAGEMENT_COMPANY, "УК «Уютный дом»", "+7 843 200-40-40", "Хасанова Лилия Рафаэлевна",
                   "420066, Казань, ул. Декабристов, 85", "1657000004", "165701001", "049205804",
                   "40702810000000000004", "АО «Волга Банк»"),
)

CONTRACTORS = (
    Contractor(1, "ООО «Электромонтаж»", "420087, Казань, ул. Родины, 8", "1656000011", "165601001", "049205603",
               "40702810000000000011", "ПАО «Банк Казань»"),
    Contractor(2, "АО «Татэнергоремонт»", "420054, Казань, ул. Техническая, 25", "1656000012", "165601002",
               "049205804", "40702810000000000012", "АО «Волга Банк»"),
    Contractor(3, "ИП Сабиров Ильнур Фаритович", "422540, Зеленодольск, ул. Ленина, 3", "165600001300", "",
               "049205603", "40802810000000000013", "ПАО «Банк Казань»"),
)

GROUPS = (
    TariffGroup(RETAILER_1, 1, "Население, одноставочный",
                (SINGLE_RATE, TWO_ZONE, THREE_ZONE), HOUSEHOLD_ADD_ONS),
    TariffGroup(RETAILER_1, 2, "Население, две зоны суток",
                (_renumbered(TWO_ZONE, 1), _renumbered(SINGLE_RATE, 2), THREE_ZONE), HOUSEHOLD_ADD_ONS),
    TariffGroup(RETAILER_1, 3, "Население, три зоны суток",
                (_renumbered(THREE_ZONE, 1), _renumbered(SINGLE_RATE, 2), _renumbered(TWO_ZONE, 3)),
                HOUSEHOLD_ADD_ONS),
    TariffGroup(RETAILER_1, 4, "Население, диапазоны потребления (Татарстан)",
                (TariffOption(1, OptionKind.BANDED, band_limits_wh=(3_900_000, 6_000_000),
                              band_prices=(560_000, 890_000, 1_230_000)),), HOUSEHOLD_ADD_ONS),
    TariffGroup(RETAILER_1, 5, "Юридические лица, 4 ценовая категория",
                (TariffOption(1, OptionKind.HOURLY, price_category=4),), LEGAL_ADD_ONS),
    TariffGroup(RETAILER_1, 6, "Юридические лица, одноставочный",
                (_renumbered(SINGLE_RATE, 1),), LEGAL_ADD_ONS),
    TariffGroup(RETAILER_2, 11, "Население, одноставочный",
                (TariffOption(1, OptionKind.SINGLE_RATE, SINGLE, (405_000,)),
                 TariffOption(2, OptionKind.TWO_ZONE, _zones(TWO_ZONES), (515_000, 300_000))), HOUSEHOLD_ADD_ONS),
)

HOURLY_RATES = {5: HourlyRates(night_price=250_000, day_price=480_000, peak_hour=10, capacity_per_kw=101_234_567,
                               network_window=(8, 21), network_per_kw=98_765_432)}
"""Hourly prices by tariff group, published for every billed month."""

BUILDING = Building(1, "420066, Казань, ул. Декабристов, 85", 900_001, "gateway-building-1", (450, 650))
HOUSE_METER_MAX_POWER_W = 150_000

_APARTMENTS = (
    ("Иванова Мария Петровна", 1, 5_430, 2), ("Гарипов Тимур Ринатович", 2, 7_210, 4),
    ("Смирнов Олег Викторович", 3, 3_890, 1), ("Зарипова Гульнара Ильдусовна", 1, 6_120, 3),
    ("Кузнецов Дмитрий Андреевич", 2, 5_430, 2), ("Нуриев Айдар Рашитович", 1, 4_650, 2),
    ("Фёдорова Елена Николаевна", 3, 7_210, 5), ("Мухаметшин Ильдар Фаритович", 1, 3_890, 1),
)

CONSUMERS: tuple[Consumer, ...] = tuple(
    Consumer(f"consumer-{i + 1:02d}", name, 160_001 + i, RETAILER_1, group, ConsumerKind.HOUSEHOLD,
             f"{BUILDING.address}, кв. {12 + 7 * i}", "apartment", 80 + 9 * i, BUILDING.gateway, area_dm2=area,
             building_id=BUILDING.building_id, residents=residents, max_power_w=10_000)
    for i, (name, group, area, residents) in enumerate(_APARTMENTS)
) + (
    Consumer("consumer-09", "Хайруллин Марат Азатович", 160_101, RETAILER_1, 1, ConsumerKind.HOUSEHOLD,
             "422700, Высокая Гора, ул. Садовая, 12", "prosumer", 100, "gateway-09", residents=4,
             model="Меркурий 234 (двунаправленный)"),
    Consumer("consumer-10", "Волкова Анна Сергеевна", 160_102, RETAILER_1, 4, ConsumerKind.HOUSEHOLD,
             "420140, Казань, пос. Салмачи, ул. Луговая, 4", "electric_heating", 100, "gateway-10", residents=5,
             max_power_w=25_000),
    Consumer("consumer-11", "Сидоров Павел Игоревич", 160_103, RETAILER_1, 4, ConsumerKind.HOUSEHOLD,
             "420140, Казань, пос. Салмачи, ул. Луговая, 9", "house", 120, "gateway-11", residents=3),
    Consumer("consumer-12", "Ахметова Диляра Ренатовна", 160_104, RETAILER_1, 2, ConsumerKind.HOUSEHOLD,
             "422610, Лаишево, ул. Чапаева, 21", "house", 90, "gateway-12", residents=2),
    Consumer("consumer-13", "Морозов Виктор Алексеевич", 160_105, RETAILER_1, 3, ConsumerKind.HOUSEHOLD,
             "422610, Лаишево, ул. Чапаева, 23", "house", 110, "gateway-13", residents=4),
    Consumer("consumer-14", "Галимова Резеда Фанисовна", 160_106, RETAILER_1, 1, ConsumerKind.HOUSEHOLD,
             "422540, Зеленодольск, ул. Гоголя, 5", "house", 75, "gateway-14", residents=1),
    Consumer("consumer-15", "Орлова Светлана Юрьевна", 260_001, RETAILER_2, 11, ConsumerKind.HOUSEHOLD,
             "420015, Казань, ул. Гоголя, 30, кв. 4", "apartment", 95, "gateway-15", residents=2,
             max_power_w=10_000),
    Consumer("consumer-16", "Латыпов Ринат Ильгизович", 260_002, RETAILER_2, 11, ConsumerKind.HOUSEHOLD,
             "420015, Казань, ул. Гоголя, 30, кв. 17", "apartment", 115, "gateway-15", residents=3,
             max_power_w=10_000),
    Consumer("consumer-17", "Никитин Сергей Павлович", 260_003, RETAILER_2, 11, ConsumerKind.HOUSEHOLD,
             "420015, Казань, ул. Гоголя, 32", "house", 100, "gateway-17", residents=3),
    Consumer("consumer-18", "ООО «Казанский хлебозавод»", 170_001, RETAILER_1, 5, ConsumerKind.LEGAL_ENTITY,
             "420054, Казань, ул. Техническая, 10", "workshop", 100, "gateway-18", max_power_w=400_000,
             hourly=True, model="СЭТ-4ТМ.03М"),
    Consumer("consumer-19", "АО «Бизнес-центр Суворовский»", 170_002, RETAILER_1, 5, ConsumerKind.LEGAL_ENTITY,
             "420087, Казань, ул. Даурская, 12", "office", 100, "gateway-19", max_power_w=300_000, hourly=True,
             model="СЭТ-4ТМ.03М"),
    Consumer("consumer-20", "ИП Гарифуллина Эльмира Рустемовна (магазин)", 170_003, RETAILER_1, 6,
             ConsumerKind.LEGAL_ENTITY, "420066, Казань, ул. Декабристов, 87", "shop", 100, "gateway-20",
             max_power_w=40_000),
)

GATEWAYS: tuple[str, ...] = tuple(dict.fromkeys([BUILDING.gateway] + [c.gateway for c in CONSUMERS]))

DISPUTED = ("consumer-13", "Показания за месяц выше обычного: прошу проверить прибор учёта")
"""The consumer who disputes the last month's invoice, and why."""
AUTO_DEBIT = ("consumer-04", "consumer-18")
"""Consumers who pay by auto-debit (a debit allowance to the payments contract)."""
