"""A legal entity billed on capacity in the portal's demo market (called at the end of `portal.demo.seed_market`),
and the system operator's peak hours of the month its capacity page shows.

Account 1101 of retailer-1 is a bakery: one meter profiled hourly, read half-hourly by the demo gateway for the
last complete month, with a maximum capacity of 150 kW in the registry. Its load follows two shifts on working days
(06:00-22:00) and a small night and weekend base, with a different figure each day, so the peak hours (one per
working day, CSV for `energy-node portal import-peak-hours`) give a visible actual capacity well under the
maximum."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts_py import participants, readings, registry
from contracts_py.billing.periods import MOSCOW_UTC_OFFSET, add_months, period_start
from contracts_py.demand_response_rules import is_weekend
from contracts_py.registry import ConsumerKind
from node.crypto import private_key_to_address

if TYPE_CHECKING:
    from portal.demo import DemoKeys, LocalSender

ACCOUNT = 1101
"""The bakery's personal account, metering point and meter."""
KEY = bytes.fromhex("c4" * 32)
"""The bakery's own key (it holds the account; no portal login of its own in the demo)."""
ADDRESS = "Казань, ул. Техническая, 10"
SECTION = 12
"""The retailer's industrial section (the households are in 3 and 7)."""
MAX_CAPACITY_W = 150_000
READINGS_PER_POSTING = 1_200
"""Half hours in one `postReadings` (a transaction holds at most 128 KiB)."""
PEAK_HOURS = (10, 11, 17, 18)
"""The system operator's peak hour of a working day cycles through these (local hours)."""


def half_hour_wh(start: int) -> int:
    """The bakery's import in the half hour from `start`: about 80 kW in shifts on working days, 14 kW else."""
    local = start + MOSCOW_UTC_OFFSET
    day, half_hour = local // 86_400, local % 86_400 // 1_800
    if is_weekend(day) or not 12 <= half_hour < 44:
        return 7_000 + day % 3 * 250
    return 40_000 + day % 7 * 1_100 + half_hour % 5 * 300


def peak_hours_csv(period: int) -> str:
    """The system operator's peak hours of `period` (yyyymm): one per working day, as `date,hour` lines."""
    first = period_start(period, MOSCOW_UTC_OFFSET) + MOSCOW_UTC_OFFSET
    last = period_start(add_months(period, 1), MOSCOW_UTC_OFFSET) + MOSCOW_UTC_OFFSET
    year, month = divmod(period, 100)
    rows = ["date,hour"]
    for day in range(first // 86_400, last // 86_400):
        if not is_weekend(day):
            day_of_month = day - first // 86_400 + 1
            rows.append(f"{year:04d}-{month:02d}-{day_of_month:02d},{PEAK_HOURS[day % len(PEAK_HOURS)]}")
    return "\n".join(rows) + "\n"


def seed_capacity(chain: LocalSender, keys: DemoKeys, period: int) -> dict:
    """Write the bakery's account, meter and month of readings; `period` is the last complete month."""
    send = chain.send
    first = period_start(period, MOSCOW_UTC_OFFSET)
    last = period_start(add_months(period, 1), MOSCOW_UTC_OFFSET)
    send(keys.retailer, participants.ADDRESS, "grantRole", private_key_to_address(KEY), "consumer")
    send(keys.retailer, registry.ADDRESS, "saveAccount", ACCOUNT, SECTION, 1, private_key_to_address(KEY), ADDRESS,
         int(ConsumerKind.LEGAL_ENTITY), 0, 0)
    chain.seal()  # the account before its metering point: a block orders senders its own way
    send(keys.grid, registry.ADDRESS, "saveMeteringPoint", ACCOUNT, ACCOUNT, ADDRESS, "ВРУ-0,4 кВ цеха")
    chain.seal()
    send(keys.grid, registry.ADDRESS, "registerInstalledMeter", ACCOUNT, ACCOUNT, "СЭТ-4ТМ.03М", f"SN{ACCOUNT}",
         ADDRESS, 1, True, True, MAX_CAPACITY_W, MOSCOW_UTC_OFFSET, 5_000_000, 0, first - 1_800)
    chain.seal()
    send(keys.grid, registry.ADDRESS, "bindGateway", ACCOUNT, private_key_to_address(keys.gateway))
    chain.seal()
    starts = list(range(first, last, 1_800))
    registers, register = [], 5_000_000
    for start in starts:
        register += half_hour_wh(start)
        registers.append(register)
    for at in range(0, len(starts), READINGS_PER_POSTING):
        part = slice(at, at + READINGS_PER_POSTING)
        send(keys.gateway, readings.ADDRESS, "postReadings", ACCOUNT, starts[part], registers[part],
             [0] * len(starts[part]))
    chain.seal()
    return {"capacity_account": ACCOUNT}
