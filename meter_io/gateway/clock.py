"""The gateway's clock: the system clock on a Pi, or a file holding simulated unix seconds.

A simulation (tests, `bench/gateway.py`, a demo) fast-forwards meters with a `SimClock` in its own process; the
gateway, another process, follows it through a file the simulation rewrites atomically (`write_clock_file`).
"""
from __future__ import annotations

import os
import time
from pathlib import Path


class SystemClock:
    def now(self) -> float:
        return time.time()


class FileClock:
    """Unix seconds read from a file; the last good value while the file is being replaced or unreadable."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._last = 0.0

    def now(self) -> float:
        try:
            self._last = float(self.path.read_text().strip())
        except (OSError, ValueError):
            pass
        return self._last


def write_clock_file(path: Path, now: int) -> None:
    """Replace the clock file in one rename, so a reader never sees half a number."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(f"{now}\n")
    os.replace(temporary, path)
