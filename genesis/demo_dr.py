"""Demand response and export prices in `energy-node seed-demo`: the grid company runs an afternoon-peak programme
with retailer-1 as aggregator, funds it, enrols the two hourly-metered businesses (whose hourly history gives the
on-chain baseline) and announces an event on the next working day; both retailers publish an export price in force
from the current month, so the prosumer's next invoice nets its export.

Prices start with the current month on purpose: the history months are invoiced before this runs, and a price in
force for them would not change invoices already issued."""

from __future__ import annotations

from typing import TYPE_CHECKING

from genesis.demo_market import BANK, CONSUMERS, GRID, RETAILER_1, RETAILER_2
from portal.demo_dr import event_period

if TYPE_CHECKING:
    from collections.abc import Callable

    from genesis.demo import DemoSeeder

PROGRAMME_ID = 1
PROGRAMME_NAME = "Дневной пик, Казань"
BUDGET = 2_000_000
"""Kopecks the grid company puts into the programme (20,000 RUB), moved from the bank's reserve first."""
RATES = (5_000_000, 2_500_000, 3_000_000, 500_000)
"""Reward 50 RUB/kWh, bonus 25 RUB/kWh, penalty 30 RUB/kWh when below 50% of the obligation."""
EVENT_HOURS = (14, 16)
OFFERED_SHARE = 10
"""Each business offers this per cent of its meter's maximum power; an event asks for three quarters of it."""
EXPORT_PRICES = {RETAILER_1: 310_000, RETAILER_2: 295_000}
"""Milli-kopecks per kWh."""


def participants() -> list:
    return [c for c in CONSUMERS if c.hourly]


def seed_dr(seeder: DemoSeeder, log: Callable[[str], None]) -> None:
    """Programme, funding, export prices; then enrolments; then the event (each wave waits for its receipts)."""
    grid = seeder.address(GRID)
    effective_from = seeder.current_period * 100 + 1
    seeder.wave([(BANK, "RubleToken", "transfer", (grid, BUDGET))]
                + [(retailer, "ProsumerSettlement", "setExportPrice", (effective_from, price))
                   for retailer, price in EXPORT_PRICES.items()]
                + [(GRID, "DemandResponse", "createProgramme", (PROGRAMME_ID, seeder.address(RETAILER_1),
                                                                PROGRAMME_NAME, 5, True, *RATES))],
                "demand response programme and export prices", log)
    seeder.wave([(GRID, "DemandResponse", "fundProgramme", (PROGRAMME_ID, BUDGET))]
                + [(RETAILER_1, "DemandResponse", "enrol", (PROGRAMME_ID, c.meter_id,
                                                            c.max_power_w * OFFERED_SHARE // 100))
                   for c in participants()], "demand response budget and enrolments", log)
    start, end = event_period(seeder.now, EVENT_HOURS)
    seeder.wave([(RETAILER_1, "DemandResponse", "announceEvent", (
        PROGRAMME_ID, start, end, [c.meter_id for c in participants()],
        [c.max_power_w * OFFERED_SHARE * 3 // 400 for c in participants()]))], "demand response event", log)
