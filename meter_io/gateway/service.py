"""The gateway service: poll meters at interval boundaries, queue their readings durably, and get them final.

    gateway = Gateway.open(load_config(path))
    gateway.run(stop)          # until `stop` (a threading.Event) is set, e.g. by SIGTERM

One thread, one loop: a poll when the gateway clock passes a boundary (period + offset), a submit cycle every
`submit_period_s`. A meter that fails is logged and skipped; nodes that fail are skipped for the next one; a
cycle with no node at all leaves everything in the queue. Nothing here holds readings only in memory.
"""
from __future__ import annotations

import ctypes
import logging
import threading
import time

from genesis.config import load_genesis
from meter_io.gateway.clock import FileClock, SystemClock
from meter_io.gateway.config import GatewayConfig
from meter_io.gateway.follower import FinalityFollower
from meter_io.gateway.nodes import NodePool
from meter_io.gateway.poller import MeterLink
from meter_io.gateway.queue import DurableQueue
from meter_io.gateway.submitter import Submitter
from meter_io.reading import HALF_HOUR, MeterError
from node.keystore import load_keystore, read_password

log = logging.getLogger("energy_gateway")

ON_TIME_S = 120
"""A poll this long after its boundary still gives the boundary's registers; later ones are skipped."""


class Gateway:
    def __init__(self, config: GatewayConfig, private_key: bytes) -> None:
        genesis = load_genesis(config.genesis)
        self.config = config
        self.clock = FileClock(config.clock_file) if config.clock_file else SystemClock()
        self.queue = DurableQueue(config.queue)
        self.pool = NodePool(config.rpc, config.rpc_timeout_s)
        self.follower = FinalityFollower(self.queue, genesis.validators)
        self.submitter = Submitter(self.queue, self.pool, self.follower, private_key, genesis.chain_id,
                                   config.max_batch, config.max_in_flight, config.resend_after_s,
                                   config.retry_reverted_after_s)
        self.meters = [MeterLink(m, config.meter_timeout_s, config.meter_attempts) for m in config.meters]
        self.last_boundary: float | None = None

    @classmethod
    def open(cls, config: GatewayConfig) -> Gateway:
        """Unlock the gateway key (KeystoreError with the reason for a wrong password) and open the queue."""
        private_key = load_keystore(config.keystore, read_password(config.password_file))
        _return_free_memory()
        return cls(config, private_key)

    def close(self) -> None:
        for meter in self.meters:
            meter.close()
        self.queue.close()

    # --- polling --------------------------------------------------------------------------------------------

    def due_boundary(self, now: float) -> int | None:
        """The half-hour boundary to poll for now, if a poll is due and not done yet."""
        period = self.config.poll_period_s
        tick = (now - self.config.poll_offset_s) // period * period
        if self.last_boundary is not None and tick <= self.last_boundary:
            return None
        self.last_boundary = tick
        boundary = int(now - self.config.poll_offset_s) // HALF_HOUR * HALF_HOUR
        if now - boundary > ON_TIME_S + self.config.poll_offset_s:
            return None
        return boundary

    def poll_all(self, boundary: int, now: float) -> None:
        """Poll every meter for `boundary`; each meter's readings and events go to the queue in one commit."""
        for meter in self.meters:
            meter_id = meter.config.meter_id
            last = self.queue.last_interval(meter_id)
            if last is None:
                last = self.submitter.last_interval_on_chain(meter_id)
            try:
                result = meter.poll(boundary, int(now), last)
            except MeterError as exc:
                meter.failures += 1
                log.warning("meter not read", extra={"fields": {"meter_id": meter_id, "error": str(exc),
                                                                "error_type": type(exc).__name__,
                                                                "failed_polls": meter.failures}})
                continue
            if meter.failures:
                log.info("meter answers again", extra={"fields": {"meter_id": meter_id,
                                                                  "failed_polls": meter.failures}})
            meter.failures = 0
            drift = self.config.max_clock_drift_s
            if drift and abs(result.drift_s) > drift:
                log.warning("meter clock drift", extra={"fields": {"meter_id": meter_id,
                                                                   "drift_s": result.drift_s}})
            newest = result.readings[-1].interval_start if result.readings else None
            if newest is None and not result.events:
                continue
            new_events = self.queue.store_poll(meter_id, result.readings, result.events)
            log.info("meter read", extra={"fields": {"meter_id": meter_id, "readings": len(result.readings),
                                                     "events": new_events, "interval": newest}})

    # --- the loop -------------------------------------------------------------------------------------------

    def run(self, stop: threading.Event, max_seconds: float | None = None) -> None:
        """Poll and submit until `stop` is set (or `max_seconds` of wall time pass, for benchmarks)."""
        log.info("gateway started", extra={"fields": {"address": "0x" + self.submitter.address.hex(),
                                                      "meters": len(self.meters), "nodes": list(self.pool.urls),
                                                      **self.queue.counts()}})
        started = time.monotonic()
        next_submit = 0.0
        tick = min(1.0, self.config.poll_period_s / 4, self.config.submit_period_s / 4)
        while not stop.is_set():
            if max_seconds is not None and time.monotonic() - started > max_seconds:
                break
            try:
                now = self.clock.now()
                boundary = self.due_boundary(now)
                if boundary is not None:
                    self.poll_all(boundary, now)
                if time.monotonic() >= next_submit:
                    next_submit = time.monotonic() + self.config.submit_period_s
                    self.submitter.cycle()
            except Exception:  # a fault not foreseen: logged with its stack; the queue is intact, go on
                log.exception("gateway cycle failed; continuing")
                stop.wait(self.config.submit_period_s)
            stop.wait(tick)
        log.info("gateway stopped", extra={"fields": self.queue.counts()})


def _return_free_memory() -> None:
    """Give the heap that scrypt used to unlock the key (16 MB) back to the system (glibc keeps it otherwise),
    so the Pi sees the gateway's working size, not its start-up peak."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to trim

