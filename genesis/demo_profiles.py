"""Realistic half-hourly load profiles for the demo's meters, as cumulative registers.

Off-chain and deterministic: the same consumer, scale and interval give the same Wh on every run (a seeded
`random.Random` per meter, consumed in interval order). Shapes follow a Russian household's day (low at night,
a morning and a larger evening peak, more at weekends), a house with electric heating by the month, a rooftop
solar prosumer (sun by the month, clouds by the day), and legal entities by working day and shift."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from contracts_py.billing.periods import civil_from_days

HOLIDAYS = frozenset({(1, d) for d in range(1, 9)} | {(2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4)})
"""Russian public holidays (month, day): non-working days for legal entities' profiles and peak hours."""

HEATING_WH = {1: 6_000, 2: 5_500, 3: 4_000, 4: 2_500, 5: 800, 6: 0, 7: 0, 8: 0, 9: 800, 10: 2_500, 11: 4_500,
              12: 6_000}
"""Average electric-heating Wh per half hour, by month."""
SOLAR_PEAK_WH = {1: 300, 2: 600, 3: 1_200, 4: 1_800, 5: 2_300, 6: 2_500, 7: 2_500, 8: 2_200, 9: 1_600, 10: 900,
                 11: 400, 12: 250}
"""A 6 kW rooftop array's output in the half hour around solar noon on a clear day, by month."""


@dataclass(frozen=True)
class LocalTime:
    month: int
    day: int
    weekday: int
    """Monday 0 ... Sunday 6."""
    hour: float
    """Local hour of the day at the middle of the half hour (0.25 ... 23.75)."""

    @property
    def working_day(self) -> bool:
        return self.weekday < 5 and (self.month, self.day) not in HOLIDAYS


def local_time(start: int, utc_offset: int) -> LocalTime:
    local = start + utc_offset
    days = local // 86_400
    _, month, day = civil_from_days(days)
    return LocalTime(month, day, (days + 3) % 7, (local % 86_400) / 3_600 + 0.25)


def _apartment(t: LocalTime) -> float:
    h = t.hour
    if h < 6:
        wh = 50
    elif h < 9:
        wh = 180
    elif h < 18:
        wh = 90 if t.working_day else 170
    elif h < 23:
        wh = 300
    else:
        wh = 120
    return wh * (1.15 if t.month in (11, 12, 1, 2) else 1.0)


def _house(t: LocalTime) -> float:
    pump = 120 if t.month in (5, 6, 7, 8) and 6 <= t.hour < 9 else 0
    return 2.2 * _apartment(t) + pump


def _electric_heating(t: LocalTime) -> float:
    night_boost = 1.5 if t.hour < 7 or t.hour >= 23 else 0.75
    return 1.5 * _house(t) + HEATING_WH[t.month] * night_boost


def _workshop(t: LocalTime) -> float:
    if not t.working_day:
        return 12_000
    return 40_000 if 6 <= t.hour < 22 else 15_000


def _office(t: LocalTime) -> float:
    if t.working_day and 8 <= t.hour < 19:
        return 30_000 if 11 <= t.hour < 16 else 22_000
    return 6_000


def _shop(t: LocalTime) -> float:
    return 6_000 if 9 <= t.hour < 21 else 1_500


SHAPES = {"apartment": _apartment, "house": _house, "prosumer": _house, "electric_heating": _electric_heating,
          "workshop": _workshop, "office": _office, "shop": _shop}
"""Typical Wh per half hour of each profile, before the consumer's scale and the day-to-day noise."""


def _solar(t: LocalTime, clouds: float) -> float:
    sun = max(0.0, 1.0 - ((t.hour - 13.0) / 7.0) ** 2)
    return SOLAR_PEAK_WH[t.month] * sun * clouds


def half_hour_volumes(profile: str, scale_percent: int, seed: str, starts: Sequence[int],
                      utc_offset: int) -> list[tuple[int, int]]:
    """(import Wh, export Wh) for each interval start; `starts` ascending, on the half-hour grid."""
    if profile not in SHAPES:
        raise ValueError(f"unknown load profile {profile!r}; profiles: {', '.join(SHAPES)}")
    rng = random.Random(seed)
    shape = SHAPES[profile]
    volumes: list[tuple[int, int]] = []
    day_factor, clouds, current_day = 1.0, 1.0, None
    for start in starts:
        t = local_time(start, utc_offset)
        if (t.month, t.day) != current_day:
            current_day = (t.month, t.day)
            day_factor = rng.uniform(0.85, 1.15)
            clouds = rng.uniform(0.25, 1.0)
        load = shape(t) * scale_percent / 100 * day_factor * rng.uniform(0.8, 1.2)
        generation = _solar(t, clouds) if profile == "prosumer" else 0.0
        volumes.append((round(max(load - generation, 0.0)), round(max(generation - load, 0.0))))
    return volumes


def registers(volumes: Sequence[tuple[int, int]], import_wh: int, export_wh: int) -> list[tuple[int, int]]:
    """Cumulative (A+, A-) registers at the end of each interval, from those at the start of the first."""
    out = []
    for imported, exported in volumes:
        import_wh += imported
        export_wh += exported
        out.append((import_wh, export_wh))
    return out
