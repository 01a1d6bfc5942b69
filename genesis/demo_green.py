"""Green certificates in `energy-node seed-demo`: the prosumer's solar park with an export meter of its own, its
half-hourly output over the history months, certificates issued for every complete month, an open offer, a
transfer to retailer-1 and a retirement on behalf of the first consumer.

The park's meter sits on a metering point without a personal account (a generator, not a household), so the grid
company registers the facility. Its output follows the demo's rooftop solar profile, scaled to the park."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts_py import green
from genesis.demo_market import CONSUMERS, GRID, RETAILER_1, UTC_OFFSET_S
from genesis.demo_profiles import half_hour_volumes, registers

if TYPE_CHECKING:
    from collections.abc import Callable

    from genesis.demo import DemoSeeder

FACILITY_ID = 1
METER_ID = 900_101
CAPACITY_W = 3_000_000
PARK_SCALE = 500
"""The park is 500 of the profile's 6 kW rooftop arrays."""
OWNER = next(c for c in CONSUMERS if c.profile == "prosumer")
BENEFICIARY = CONSUMERS[0]
ADDRESS = "422610, Лаишевский район, с. Сокуры, СЭС «Солнечная долина»"
OFFERED, TRANSFERRED, RETIRED = 10, 10, 5
"""Certificates of the first issuance: offered for sale, given to retailer-1, of those retired by it."""
PRICE_EACH = 150_00
CHUNK = 1_200
"""Intervals per `postReadings` (a transaction holds at most 128 KiB)."""
GAS = 8_000_000


def output_series(seeder: DemoSeeder) -> tuple[list[int], list[int]]:
    """The park's interval starts and its export register at the end of each, from the first history month."""
    starts = list(range(seeder.first_start, seeder.last_start + 1, 1_800))
    sun = half_hour_volumes("prosumer", 0, "solar-park", starts, UTC_OFFSET_S)
    return starts, [export for _import, export in registers([(0, e * PARK_SCALE) for _i, e in sun], 0, 0)]


def facility_calls(seeder: DemoSeeder) -> list[tuple]:
    gateway = OWNER.gateway
    return [
        (GRID, "Registry", "saveMeteringPoint", (METER_ID, 0, ADDRESS, "СЭС, отпуск в сеть")),
        (GRID, "Registry", "registerInstalledMeter",
         (METER_ID, METER_ID, "Меркурий 234", f"СЭС-{METER_ID}", ADDRESS, 1, True, False, CAPACITY_W, UTC_OFFSET_S,
          0, 0, seeder.first_start - 1_800)),
        (GRID, "Registry", "bindGateway", (METER_ID, seeder.address(gateway))),
        (GRID, "GreenCertificates", "registerFacility",
         (FACILITY_ID, seeder.address(OWNER.key), int(green.Technology.SOLAR), CAPACITY_W, 20250401, METER_ID,
          "СЭС «Солнечная долина»")),
    ]


def reading_calls(seeder: DemoSeeder) -> list[tuple]:
    starts, exports = output_series(seeder)
    return [(OWNER.gateway, "Readings", "postReadings",
             (METER_ID, starts[i:i + CHUNK], [0] * len(starts[i:i + CHUNK]), exports[i:i + CHUNK]), GAS)
            for i in range(0, len(starts), CHUNK)]


def seed_green(seeder: DemoSeeder, log: Callable[[str], None]) -> None:
    """The waves of the green-certificate demo; any revert stops the seeding with the contract's reason."""
    seeder.wave(facility_calls(seeder), "green: solar park, its meter and facility", log)
    seeder.wave(reading_calls(seeder), "green: the park's output", log)
    seeder.wave([(OWNER.key, "GreenCertificates", "issue", (FACILITY_ID, period)) for period in seeder.periods],
                "green: certificates issued", log)
    first = green.SERIALS_PER_ISSUANCE + 1  # the first issuance's first serial on a fresh chain
    offered = list(range(first, first + OFFERED))
    given = list(range(first + OFFERED, first + OFFERED + TRANSFERRED))
    seeder.wave([(OWNER.key, "GreenCertificates", "offer", (offered, PRICE_EACH)),
                 (OWNER.key, "GreenCertificates", "transfer", (seeder.address(RETAILER_1), given))],
                "green: an offer and a transfer", log)
    seeder.wave([(RETAILER_1, "GreenCertificates", "retire",
                  (given[:RETIRED], seeder.address(BENEFICIARY.key), BENEFICIARY.account,
                   "Зелёный тариф: потребление подтверждено сертификатами происхождения", seeder.periods[-1]))],
                "green: a retirement", log)
