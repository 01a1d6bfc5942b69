"""A world for gateway tests: a real node, simulated meters on ptys with a fast-forward clock, the meters
registered in the past and bound to a gateway key, and the gateway as a real `energy-gateway run` process."""
from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from node_harness import ROOT, Network, NodeProcess, rpc
from meter_io.gateway import enroll
from meter_io.gateway.clock import write_clock_file
from meter_io.gateway.config import MeterConfig, render_config
from meter_io.gateway.nodes import NodePool
from meter_io.gateway.submitter import decode_readings_call
from meter_io.sim_model import DAY, SimClock
from meter_io.simulator import MeterSimulator, start_simulated_meters
from node.keystore import write_keystore

HALF_HOUR = 1800
FIRST_METER_ID = 501


@dataclass
class GatewayWorld:
    network: Network
    node: NodeProcess
    directory: Path
    clock: SimClock
    sim: MeterSimulator
    meters: list[MeterConfig]
    gateway_address: bytes
    installed_at: int
    config_path: Path = field(init=False)
    process: subprocess.Popen | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.config_path = self.directory / "gateway.toml"
        self.log_path = self.directory / "gateway.log"

    # --- configuration and process --------------------------------------------------------------------------

    def write_config(self, rpc_urls: list[str] | None = None, **settings) -> None:
        values = {"clock_file": self.directory / "clock", "poll_period_s": 1800, "poll_offset_s": 0,
                  "submit_period_s": 0.2, "resend_after_s": 1.0, "max_clock_drift_s": 0, "rpc_timeout_s": 2.0,
                  "meter_timeout_s": 0.3, "meter_attempts": 2, "log_format": "json", "max_batch": 200}
        values.update(settings)
        self.config_path.write_text(render_config(
            self.directory / "key.json", self.directory / "password", self.network.directory / "genesis.json",
            self.directory / "queue.sqlite", rpc_urls or [self.node.url], self.meters, **values))

    def start_gateway(self) -> None:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "meter_io.cli", "run", "--config",
                                         str(self.config_path)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)

    def kill_gateway(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop_gateway(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill_gateway()

    def log_entries(self) -> list[dict]:
        entries = []
        for line in self.log_path.read_text().splitlines():
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                entries.append({"msg": line})
        return entries

    # --- the simulated clock --------------------------------------------------------------------------------

    def advance(self, intervals: int = 1, wait: bool = True, timeout: float = 20.0) -> None:
        """Move the meters' and gateway's clock by whole half hours, one boundary at a time; with `wait`, until
        the gateway has captured each boundary for every meter that answers."""
        for _ in range(intervals):
            self.clock.advance(HALF_HOUR)
            write_clock_file(self.directory / "clock", self.clock.now())
            if wait:
                expected = self.clock.now() - HALF_HOUR
                wait_until(lambda: all(v >= expected for v in self.last_intervals(
                    m for m in self.meters if self.answers(m)).values()), timeout,
                    f"gateway did not capture interval {expected}: {self.log_tail()}")

    def answers(self, meter: MeterConfig) -> bool:
        faults = self.sim.faults[meter.serial]
        return not faults.silent and not faults.garbage_answers

    def last_intervals(self, meters) -> dict[int, int]:
        ids = [m.meter_id for m in meters]
        rows = dict(self.query("SELECT meter_id, last_interval FROM meters"))
        return {meter_id: rows.get(meter_id, 0) for meter_id in ids}

    def query(self, sql: str) -> list[tuple]:
        path = self.directory / "queue.sqlite"
        if not path.exists():
            return []
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            return db.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return []
        finally:
            db.close()

    def queue_empty(self) -> bool:
        return (self.query("SELECT COUNT(*) FROM readings") == [(0,)]
                and self.query("SELECT COUNT(*) FROM transactions WHERE state IN ('pending', 'mined')") == [(0,)])

    def wait_delivered(self, timeout: float = 30.0) -> None:
        wait_until(self.queue_empty, timeout, f"queue not drained: {self.log_tail()}")

    def log_tail(self) -> str:
        return self.log_path.read_text()[-1500:] if self.log_path.exists() else ""

    # --- the chain's view -----------------------------------------------------------------------------------

    def posted_readings(self) -> list[tuple[int, int, int, int]]:
        """Every reading in every transaction the gateway got into a block, in chain order."""
        head = int(rpc(self.node.url, "eth_blockNumber")["result"], 16)
        posted = []
        sender = "0x" + self.gateway_address.hex()
        for number in range(1, head + 1):
            block = rpc(self.node.url, "eth_getBlockByNumber", hex(number), True)["result"]
            for tx in block["transactions"]:
                if tx["from"] == sender:
                    posted += [(r.meter_id, r.interval_start, r.import_wh, r.export_wh)
                               for r in decode_readings_call(bytes.fromhex(tx["input"][2:]))]
        return posted

    def expected_readings(self, meter: MeterConfig, first: int, last: int) -> list[tuple[int, int, int, int]]:
        model = self.sim.models[meter.serial]
        result = []
        for start in range(first, last + 1, HALF_HOUR):
            registers = model.registers(start + HALF_HOUR)
            result.append((meter.meter_id, start, registers.import_wh, registers.export_wh))
        return result


def wait_until(condition, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(message)


def make_world(network: Network, node: NodeProcess, directory: Path, meters: int = 3,
               protocol: str = "mercury230", days_back: int = 3) -> GatewayWorld:
    """Meters installed `days_back` days ago (simulated clock), registered and bound to a new gateway key."""
    directory.mkdir(parents=True, exist_ok=True)
    installed_at = (int(time.time()) - days_back * DAY) // HALF_HOUR * HALF_HOUR
    clock = SimClock(installed_at)
    sim = start_simulated_meters(meters, protocol, clock=clock, installed_days_ago=0, prosumer_every=2)
    clock.advance(HALF_HOUR)  # the installation half hour is over: its end registers are the baseline
    write_clock_file(directory / "clock", clock.now())
    configs = [MeterConfig(FIRST_METER_ID + i, m.protocol, m.port, m.address, m.serial)
               for i, m in enumerate(sim.meters)]
    (directory / "password").write_text("gateway-test-password\n")
    gateway = write_keystore(directory / "key.json", b"\x42" * 31 + bytes([len(str(directory)) % 200 + 1]),
                             b"gateway-test-password")
    calls = [enroll.grant_gateway_role(gateway)]
    for config in configs:
        registers = sim.models[config.serial].registers(installed_at + HALF_HOUR)
        calls += enroll.register_meter(enroll.MeterEnrollment(
            config.meter_id, config.serial, "Mercury 230", "Kazan", registers.import_wh, registers.export_wh,
            installed_at=installed_at))
        calls.append(enroll.bind_gateway(config.meter_id, gateway))
    enroll.send_calls(NodePool((node.url,), 5.0), network.private_key("grid-company"), 7700, calls)
    world = GatewayWorld(network, node, directory, clock, sim, configs, gateway, installed_at)
    world.write_config()
    return world


class FakeNode:
    """A bad node on 127.0.0.1: "garbage" answers non-JSON, "errors" answers every call with a JSON-RPC error,
    "forge" forwards to `upstream` but changes every block's timestamp (its header no longer hashes right)."""

    def __init__(self, mode: str, upstream: str = "") -> None:
        import http.server
        import threading
        import urllib.request

        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fake.calls += 1
                if mode == "garbage":
                    answer = b"<html>502 bad gateway</html>\x00\xff"
                elif mode == "errors":
                    answer = json.dumps({"jsonrpc": "2.0", "id": 1,
                                         "error": {"code": -32000, "message": "database is locked"}}).encode()
                else:
                    request = urllib.request.Request(upstream, body, {"Content-Type": "application/json"})
                    with urllib.request.urlopen(request, timeout=5) as response:
                        answer = response.read()
                    document = json.loads(answer)
                    result = document.get("result")
                    if isinstance(result, dict) and "timestamp" in result and "extraData" in result:
                        result["timestamp"] = hex(int(result["timestamp"], 16) + 1)
                        answer = json.dumps(document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:
                pass

        self.calls = 0
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
