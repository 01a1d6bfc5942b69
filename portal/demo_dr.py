"""Demand response and prosumer settlement in the portal's demo market (called at the end of `seed_market`).

Demand response: the grid company runs programme 1 with retailer-1 as its aggregator; the meters of accounts 1001
and 1002 are profiled hourly and enrolled; an evening event is announced for the next working day. Prosumer: the
retailers publish export prices and account 2001 (retailer-2's consumer) becomes a prosumer whose meter is read
remotely; its last month is invoiced with the export netted against the import on the invoice."""

from __future__ import annotations

from contracts_py import demand_response, invoices, prosumer, readings, registry, ruble
from contracts_py.billing.periods import MOSCOW_UTC_OFFSET, add_months, period_start
from contracts_py.demand_response_rules import is_weekend
from node.crypto import private_key_to_address

PROGRAMME_ID = 1
PROGRAMME_NAME = "Вечерний пик, Казань"
PROGRAMME_BUDGET = 500_000
"""Kopecks the grid company puts into the demo programme."""
RATES = (5_000_000, 2_500_000, 3_000_000, 500_000)
"""Reward 50 RUB/kWh, bonus 25 RUB/kWh, penalty 30 RUB/kWh when below 50% of the obligation."""
OFFERS_W = {1001: 2_000, 1002: 1_500}
"""Reduction each enrolled meter offers."""
EVENT_REDUCTIONS_W = {1001: 1_500, 1002: 1_000}
EVENT_HOURS = (18, 20)
"""Local (Moscow) hours of the demo event."""
EXPORT_PRICE_FROM = 20260101
EXPORT_PRICES = {"retailer": 310_000, "other_retailer": 295_000}
"""Milli-kopecks per kWh: 3.10 and 2.95 RUB/kWh."""
PROSUMER_ACCOUNT = 2001


def event_period(now: int, hours: tuple[int, int] = EVENT_HOURS) -> tuple[int, int]:
    """An event on the next working day, as unix seconds (whole Moscow hours). A working day, so that last
    month's readings always hold the baseline's five comparable days within the rule's look-back."""
    day = (now + MOSCOW_UTC_OFFSET) // 86400 + 1
    while is_weekend(day):
        day += 1
    start_hour, end_hour = hours
    midnight = day * 86400 - MOSCOW_UTC_OFFSET
    return midnight + start_hour * 3600, midnight + end_hour * 3600


def export_profile(first: int, last: int, register_import: int) -> tuple[list[int], list[int], list[int]]:
    """Half-hour starts and A+/A- registers of a house with rooftop panels: export by day, import by night."""
    starts, imports, exports = list(range(first, last, 1800)), [], []
    imported, exported = register_import, 0
    for start in starts:
        half_hour = (start + MOSCOW_UTC_OFFSET) // 1800 % 48
        sunny = 20 <= half_hour < 32
        imported += 40 if sunny else 220
        exported += 260 if sunny else 0
        imports.append(imported)
        exports.append(exported)
    return starts, imports, exports


def seed_dr_and_prosumers(chain, keys, period: int, now: int) -> dict:
    """Write the demo's programme, enrolments, event, export prices and one prosumer month netted on its
    invoice."""
    send = chain.send
    aggregator = private_key_to_address(keys.retailer)
    gateway = private_key_to_address(keys.gateway)
    send(keys.faucet, ruble.ADDRESS, "transfer", private_key_to_address(keys.grid), 2 * PROGRAMME_BUDGET)
    send(keys.faucet, ruble.ADDRESS, "transfer", private_key_to_address(keys.other_retailer), 100_000)
    for meter_id, remote in ((1001, True), (1002, False), (PROSUMER_ACCOUNT, True)):
        send(keys.grid, registry.ADDRESS, "configureMeter", meter_id, 1, 1, 1, 0, remote, meter_id in OFFERS_W,
             20_000, MOSCOW_UTC_OFFSET)
    send(keys.grid, demand_response.ADDRESS, "createProgramme", PROGRAMME_ID, aggregator, PROGRAMME_NAME, 5, True,
         *RATES)
    send(keys.grid, demand_response.ADDRESS, "fundProgramme", PROGRAMME_ID, PROGRAMME_BUDGET)
    send(keys.grid, registry.ADDRESS, "bindGateway", PROSUMER_ACCOUNT, gateway)
    for role, price in EXPORT_PRICES.items():
        send(getattr(keys, role), prosumer.ADDRESS, "setExportPrice", EXPORT_PRICE_FROM, price)
    chain.seal()
    for meter_id, offered_w in OFFERS_W.items():
        send(keys.retailer, demand_response.ADDRESS, "enrol", PROGRAMME_ID, meter_id, offered_w)
    starts, imports, exports = export_profile(period_start(period, MOSCOW_UTC_OFFSET),
                                              period_start(add_months(period, 1), MOSCOW_UTC_OFFSET), 1_000_000)
    half = len(starts) // 2  # a transaction holds at most 128 KiB
    for part in (slice(0, half), slice(half, None)):
        send(keys.gateway, readings.ADDRESS, "postReadings", PROSUMER_ACCOUNT, starts[part], imports[part],
             exports[part])
    chain.seal()
    start, end = event_period(now)
    send(keys.retailer, demand_response.ADDRESS, "announceEvent", PROGRAMME_ID, start, end, list(EVENT_REDUCTIONS_W),
         list(EVENT_REDUCTIONS_W.values()))
    send(keys.other_retailer, invoices.ADDRESS, "issueInvoice", PROSUMER_ACCOUNT, period)  # nets the export
    chain.seal()
    return {"programme_id": PROGRAMME_ID, "event_id": 1, "event_start": start, "event_end": end,
            "prosumer_account": PROSUMER_ACCOUNT}
