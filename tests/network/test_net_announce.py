"""New-block announcements, real processes: an observer imports each new block moments after a validator commits
it, because validators announce it, instead of at its next periodic sync (every 0.5 s)."""

from __future__ import annotations

import statistics
import time

import pytest
from net_helpers import head, log_text, wait_until

pytestmark = pytest.mark.slow

POLL_S = 0.01
BLOCKS = 6


def first_seen(nodes, blocks: int, timeout: float) -> list[dict[int, float]]:
    """For each node, the moment each block number was first seen as its head, polling them together (bounded)."""
    seen: list[dict[int, float]] = [{} for _ in nodes]
    start = head(nodes[0])
    deadline = time.monotonic() + timeout
    while min(len(s) for s in seen) < blocks and time.monotonic() < deadline:
        for node, times in zip(nodes, seen):
            number = head(node)
            if number > start:
                times.setdefault(number, time.monotonic())
        time.sleep(POLL_S)
    return seen


def test_observer_imports_announced_blocks_at_once(devnet):
    observer = devnet.node("observer-2")
    observer.start()
    try:
        observer.wait_ready()
        wait_until(lambda: head(observer) >= head(devnet.validators[0]), 30, "the observer to catch up")
        validator_seen, observer_seen = first_seen([devnet.validators[0], observer], BLOCKS, timeout=30)
        lags = [observer_seen[n] - validator_seen[n] for n in validator_seen if n in observer_seen]
        assert len(lags) >= BLOCKS - 1
        assert statistics.median(lags) < 0.2, f"observer lag {lags} s: is it only polling?"
        assert "(announced)" in log_text(observer)
    finally:
        observer.stop()
