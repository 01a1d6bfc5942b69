"""Green certificates in the demo market: two generating facilities of Petrova's with export meters, two months of
their export readings, certificates issued for the earlier month, an open offer, a transfer and a retirement.

The facilities' meters sit on metering points without a personal account (a generator, not a household), so the
grid company registers the facilities. The later month is left uncertified, for the portal's own issuance.
Called by `portal.demo.seed_market`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts_py import green, readings, registry
from contracts_py.billing.periods import MOSCOW_UTC_OFFSET, add_months, period_start
from node.crypto import private_key_to_address

if TYPE_CHECKING:
    from portal.demo import DemoKeys, LocalSender

SOLAR, HYDRO = 1, 2
"""Facility ids."""
SOLAR_METER, HYDRO_METER = 9001, 9002
READINGS_PER_POSTING = 1_200
"""Half hours in one `postReadings` (a transaction holds at most 128 KiB)."""
OFFER_SIZE, OFFER_PRICE = 10, 150_00
"""The open offer: ten certificates at 150 rubles each (Ivanov can pay, Sidorov cannot)."""
PURPOSE = "Зелёный тариф: потребление подтверждено сертификатами происхождения"


def _solar_wh(start: int) -> int:
    """About 500 kW from 10:00 to 16:00 Moscow time, a little more on some days."""
    half_hour = (start + MOSCOW_UTC_OFFSET) // 1800 % 48
    day = (start + MOSCOW_UTC_OFFSET) // 86400
    return 250_000 + day % 5 * 7_919 if 20 <= half_hour < 32 else 0


def _hydro_wh(start: int) -> int:
    """A small run-of-river plant: 120 kW around the clock."""
    return 60_000


def _post_exports(chain: LocalSender, keys: DemoKeys, meter_id: int, first: int, last: int, export_wh) -> None:
    starts = list(range(first, last, 1800))
    registers, register = [], 0
    for start in starts:
        register += export_wh(start)
        registers.append(register)
    for at in range(0, len(starts), READINGS_PER_POSTING):
        part = slice(at, at + READINGS_PER_POSTING)
        chain.send(keys.gateway, readings.ADDRESS, "postReadings", meter_id, starts[part],
                   [0] * len(starts[part]), registers[part])


def seed_green(chain: LocalSender, keys: DemoKeys, period: int) -> dict:
    """Write the demo's green certificates; `period` is the last complete month. Returns ids the tests use."""
    send = chain.send
    petrova, ivanov = private_key_to_address(keys.consumers[1]), private_key_to_address(keys.consumers[0])
    retailer = private_key_to_address(keys.retailer)
    earlier = add_months(period, -1)
    first = period_start(earlier, MOSCOW_UTC_OFFSET)
    last = period_start(add_months(period, 1), MOSCOW_UTC_OFFSET)
    plants = ((SOLAR, SOLAR_METER, green.Technology.SOLAR, 1_500_000, "СЭС «Солнечная долина»",
               "Лаишевский район, с. Сокуры", _solar_wh),
              (HYDRO, HYDRO_METER, green.Technology.HYDRO, 250_000, "Малая ГЭС на реке Меша",
               "Пестречинский район, с. Кощаково", _hydro_wh))
    for _facility, meter_id, _tech, _capacity, name, address, _export in plants:
        send(keys.grid, registry.ADDRESS, "saveMeteringPoint", meter_id, 0, address, name)
    chain.seal()
    for _facility, meter_id, _tech, capacity, _name, address, _export in plants:
        send(keys.grid, registry.ADDRESS, "registerInstalledMeter", meter_id, meter_id, "Меркурий 234",
             f"SN{meter_id}", address, 1, True, False, capacity, MOSCOW_UTC_OFFSET, 0, 0, first - 1800)
    chain.seal()
    for facility_id, meter_id, technology, capacity, name, _address, _export in plants:
        send(keys.grid, registry.ADDRESS, "bindGateway", meter_id, private_key_to_address(keys.gateway))
        send(keys.grid, green.ADDRESS, "registerFacility", facility_id, petrova, technology, capacity, 20250601,
             meter_id, name)
    chain.seal()
    _post_exports(chain, keys, SOLAR_METER, first, last, _solar_wh)
    _post_exports(chain, keys, HYDRO_METER, period_start(period, MOSCOW_UTC_OFFSET), last, _hydro_wh)
    chain.seal()
    send(keys.consumers[1], green.ADDRESS, "issue", SOLAR, earlier)
    chain.seal()
    serial = green.SERIALS_PER_ISSUANCE + 1  # the first issuance's first serial
    send(keys.consumers[1], green.ADDRESS, "offer", list(range(serial, serial + OFFER_SIZE)), OFFER_PRICE)
    send(keys.consumers[1], green.ADDRESS, "transfer", retailer,
         list(range(serial + OFFER_SIZE, serial + 2 * OFFER_SIZE)))
    chain.seal()
    retired = list(range(serial + OFFER_SIZE, serial + OFFER_SIZE + 5))
    send(keys.retailer, green.ADDRESS, "retire", retired, ivanov, 1001, PURPOSE, period)
    chain.seal()
    return {"green_period": period, "green_earlier": earlier, "green_offer": 1, "green_retirement": 1,
            "green_retired": retired, "green_first_serial": serial}
