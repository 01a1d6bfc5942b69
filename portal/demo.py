"""A demo market on a fresh development network, and the portal users to look at it.

Grid company, retailer, two consumers of retailer-1 (one with a remotely read meter, last month's half-hourly
readings and an invoice; one with a manually read meter), a consumer of retailer-2 and a legal entity billed on
capacity (`portal.demo_capacity`). Used by `energy-node portal demo` and by the portal's browser tests."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from contracts_py import invoices, notary, participants, payments, readings, registry, ruble, tariffs
from contracts_py.billing.periods import MOSCOW_UTC_OFFSET, add_months, period_of, period_start
from contracts_py.billing.zones import Zone
from node.crypto import keccak256, private_key_to_address
from node.service import Node
from node.solo import SoloEngine
from node.transactions import sign_fee_market_transaction
from portal.demo_capacity import seed_capacity
from portal.demo_dr import seed_dr_and_prosumers
from portal.demo_green import seed_green
from portal.users import UserStore
from portal.writes import encode_call

GAS = 400_000_000
DEMO_PASSWORD = "demo-password-1"
"""Password of every demo user (a development network only)."""


@dataclass(frozen=True)
class DemoKeys:
    grid: bytes
    retailer: bytes
    other_retailer: bytes
    bank: bytes
    faucet: bytes
    consumers: tuple[bytes, bytes, bytes] = (bytes.fromhex("c1" * 32), bytes.fromhex("c2" * 32),
                                             bytes.fromhex("c3" * 32))
    gateway: bytes = bytes.fromhex("6a" * 32)


@dataclass
class LocalSender:
    """Signs and submits with locally counted nonces; `seal` makes the block (solo engine, in process)."""

    node: Node
    engine: SoloEngine
    nonces: dict[bytes, int] = field(default_factory=dict)

    def send(self, key: bytes, to: bytes, function: str, *args) -> bytes:
        sender = private_key_to_address(key)
        nonce = self.nonces.get(sender, self.node.pending_nonce(sender))
        raw = sign_fee_market_transaction(key, chain_id=self.node.rules.chain_id, nonce=nonce, to=to,
                                          data=encode_call(to, function, *args), gas=GAS)
        self.nonces[sender] = nonce + 1
        return self.node.submit_transaction(raw).hash

    def seal(self) -> None:
        self.engine.produce_block()


def demo_dataset(period: int) -> bytes:
    """The off-chain dataset the demo grid company notarizes (stands in for an 80020 XML export)."""
    return f"<message class=\"80020\"><period>{period}</period><meter>SN1001</meter></message>".encode()


def demo_contract(account_number: int) -> bytes:
    """The signed supply contract whose hash the demo retailer registers for an account."""
    return f"Договор энергоснабжения № {account_number} от 2026-01-01".encode()


def seed_market(chain: LocalSender, keys: DemoKeys) -> dict:
    """Write the demo market; returns the ids the tests look for."""
    send = chain.send
    grid = private_key_to_address(keys.grid)
    ivanov, petrova, sidorov = (private_key_to_address(k) for k in keys.consumers)
    gateway = private_key_to_address(keys.gateway)
    period = add_months(period_of(int(time.time()), MOSCOW_UTC_OFFSET), -1)
    first = period_start(period, MOSCOW_UTC_OFFSET)
    last = period_start(add_months(period, 1), MOSCOW_UTC_OFFSET)
    send(keys.grid, participants.ADDRESS, "grantRole", gateway, "gateway")
    for consumer in (ivanov, petrova):
        send(keys.retailer, participants.ADDRESS, "grantRole", consumer, "consumer")
    send(keys.other_retailer, participants.ADDRESS, "grantRole", sidorov, "consumer")
    send(keys.faucet, ruble.ADDRESS, "transfer", private_key_to_address(keys.bank), 10_000_000)
    send(keys.grid, tariffs.ADDRESS, "setVatRate", 20260101, 2200)
    send(keys.grid, tariffs.ADDRESS, "setSubstituteRules", 20250101, 3, 6, 1, 87_000, 2)
    send(keys.grid, registry.ADDRESS, "saveProfile", "АО «Сетевая компания»", "+7 843 291-00-00", "И. П. Петров",
         "Казань, ул. Ленина, 1", "1655000000", "165501001", "049205603", "40702810000000000001", "ПАО Сбербанк")
    send(keys.retailer, registry.ADDRESS, "saveProfile", "АО «Татэнергосбыт»", "+7 843 200-00-00",
         "А. А. Иванова", "Казань, ул. Пушкина, 2", "1655000001", "165501001", "049205603",
         "40702810000000000002", "ПАО Сбербанк")
    send(keys.other_retailer, registry.ADDRESS, "saveProfile", "ООО «Энергосбыт-2»", "+7 843 300-00-00",
         "В. В. Смирнов", "Казань, ул. Баумана, 3", "1655000002", "165501001", "049205603",
         "40702810000000000003", "ПАО Сбербанк")
    send(keys.grid, registry.ADDRESS, "saveContractor", 1, "ООО «Электромонтаж»", "Казань, ул. Гоголя, 5",
         "1655000100", "165501001", "049205603", "40702810000000000100", "ПАО Сбербанк")
    add_on_components, add_on_prices = [3, 5, 6], [181_234, 52_345, 1_287]  # transmission, markup, infrastructure
    for group_id, owner, name in ((1, keys.retailer, "Население, Казань"), (2, keys.retailer, "Население, село"),
                                  (3, keys.other_retailer, "Население, другой сбыт")):
        send(owner, tariffs.ADDRESS, "saveGroup", group_id, name)
        owner_address = private_key_to_address(owner)
        send(owner, tariffs.ADDRESS, "saveOption", group_id, 1, 1, 20260101, MOSCOW_UTC_OFFSET, owner_address, [0],
             [1440], [Zone.ALL_DAY], [412_345], [], [], 0, 0, add_on_components, [grid, owner_address, grid],
             add_on_prices)
        send(owner, tariffs.ADDRESS, "saveOption", group_id, 2, 2, 20260101, MOSCOW_UTC_OFFSET, owner_address,
             [420, 1380], [1380, 420], [Zone.DAY, Zone.NIGHT], [520_000, 310_000], [], [], 0, 0,
             add_on_components, [grid, owner_address, grid], add_on_prices)
    chain.seal()
    accounts = ((1001, keys.retailer, ivanov, "Казань, ул. Баумана, 1, кв. 5", 7, True),
                (1002, keys.retailer, petrova, "Казань, ул. Баумана, 1, кв. 6", 7, False),
                (2001, keys.other_retailer, sidorov, "Казань, ул. Кремлёвская, 9, кв. 1", 3, False))
    for number, owner, consumer, address, section, _remote in accounts:
        group = 3 if owner == keys.other_retailer else 1
        send(owner, registry.ADDRESS, "saveAccount", number, section, group, consumer, address, 1, 5_430, 0)
        send(keys.grid, registry.ADDRESS, "saveMeteringPoint", number, number, address, "квартира")
    chain.seal()
    for number, _owner, _consumer, address, _section, remote in accounts:
        send(keys.grid, registry.ADDRESS, "registerInstalledMeter", number, number, "Меркурий 230", f"SN{number}",
             address, 1, remote, False, 20_000, MOSCOW_UTC_OFFSET, 1_000_000, 0, first - 1800)
    chain.seal()
    send(keys.grid, registry.ADDRESS, "bindGateway", 1001, gateway)
    send(keys.retailer, registry.ADDRESS, "registerContract", 1001, 1001, keccak256(demo_contract(1001)), 20260101)
    chain.seal()
    starts = list(range(first, last, 1800))
    registers, register = [], 1_000_000
    for start in starts:
        half_hour = (start + MOSCOW_UTC_OFFSET) // 1800 % 48
        register += 150 if 14 <= half_hour < 46 else 300
        registers.append(register)
    half = len(starts) // 2  # a transaction holds at most 128 KiB
    for part in (slice(0, half), slice(half, None)):
        send(keys.gateway, readings.ADDRESS, "postReadings", 1001, starts[part], registers[part],
             [0] * len(starts[part]))
    send(keys.bank, payments.ADDRESS, "topUp", ivanov, 500_000, bytes.fromhex("ab" * 32), payments.Source.BANK)
    send(keys.bank, payments.ADDRESS, "topUp", sidorov, 100_000, bytes.fromhex("ac" * 32), payments.Source.BANK)
    send(keys.grid, notary.ADDRESS, "anchor", keccak256(demo_dataset(period)), "80020", period * 100 + 1,
         period * 100 + 28)
    chain.seal()
    send(keys.retailer, invoices.ADDRESS, "issueInvoice", 1001, period)
    chain.seal()
    return {"period": period, "invoice_id": 1001 * 10**9 + period * 1000, **seed_green(chain, keys, period),
            **seed_dr_and_prosumers(chain, keys, period, int(time.time())), **seed_capacity(chain, keys, period)}


def demo_weather(period: int) -> str:
    """A month of daily outdoor temperatures (CSV, as `energy-node portal import-weather` reads it)."""
    year, month = divmod(period, 100)
    rows = ["date,temperature_c"]
    for day in range(1, 29):
        rows.append(f"{year:04d}-{month:02d}-{day:02d},{(12 - day * 0.5) if day % 7 else -1.5:.1f}")
    return "\n".join(rows) + "\n"


def add_demo_users(users: UserStore, keys: DemoKeys) -> None:
    users.add("grid", DEMO_PASSWORD, "grid", keys.grid, full_name="Диспетчер сетевой компании")
    users.add("retailer", DEMO_PASSWORD, "retailer", keys.retailer, full_name="Оператор сбыта")
    users.add("retailer2", DEMO_PASSWORD, "retailer", keys.other_retailer, full_name="Оператор сбыта 2")
    for name, key, full_name in zip(("ivanov", "petrova", "sidorov"), keys.consumers,
                                    ("Иванов Иван Иванович", "Петрова Анна Сергеевна", "Сидоров Пётр Ильич")):
        users.add(name, DEMO_PASSWORD, "consumer", key, full_name=full_name)
