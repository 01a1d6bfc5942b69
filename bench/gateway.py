"""Benchmark: one gateway process with 32 simulated Mercury 230 meters against a local node, fast-forwarded.

The meters' clock and the gateway's (a clock file) jump a half hour at a time; after each jump the bench waits
until the gateway has read every meter, then moves on. At the end it waits until every reading is final, then
lets the gateway idle for a while to measure what its loop costs when nothing happens.

Figures: resident memory of the gateway process in operation (VmRSS; the peak VmHWM is printed too: it is
reached once, when scrypt unlocks the keystore), and CPU seconds per hour of operation =
(CPU of the work) / (simulated hours) + (CPU of the idle loop per wall second) * 3600.

    .venv/bin/python bench/gateway.py [hours] [meters]
"""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genesis.generate import new_network  # noqa: E402
from meter_io.gateway import enroll  # noqa: E402
from meter_io.gateway.clock import write_clock_file  # noqa: E402
from meter_io.gateway.config import MeterConfig, render_config  # noqa: E402
from meter_io.gateway.nodes import NodePool  # noqa: E402
from meter_io.sim_model import DAY, SimClock  # noqa: E402
from meter_io.simulator import start_simulated_meters  # noqa: E402
from node.keystore import load_keystore, write_keystore  # noqa: E402
from node.service import init_datadir  # noqa: E402

HALF_HOUR = 1800
TICKS = os.sysconf("SC_CLK_TCK")
IDLE_SECONDS = 40
"""Long enough for the 10 ms CPU clock ticks of /proc to resolve the idle loop."""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def memory_mb(pid: int, field: str) -> float:
    """VmRSS (resident now) or VmHWM (peak resident) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field}")


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def query(path: Path, sql: str) -> list[tuple]:
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


def start_node(network: Path, work: Path) -> tuple[subprocess.Popen, str]:
    datadir = work / "node"
    init_datadir(datadir, network / "genesis.json")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([sys.executable, "-m", "node.cli", "run", "--datadir", str(datadir), "--rpc",
                                f"127.0.0.1:{port}", "--key", str(network / "keys" / "validator-1.json"),
                                "--password-file", str(network / "password")], cwd=ROOT,
                               stdout=open(work / "node.log", "wb"), stderr=subprocess.STDOUT)

    def answers() -> bool:
        try:
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}).encode()
            urllib.request.urlopen(urllib.request.Request(url, body, {"Content-Type": "application/json"}),
                                   timeout=1).read()
            return True
        except OSError:
            return False

    wait_for(answers, 30, "the node")
    return process, url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main(hours: int = 24, meters: int = 32) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        new_network(1, work / "net", block_period_ms=200, empty_block_period_s=3600)
        password = (work / "net" / "password").read_bytes().strip()
        node, url = start_node(work / "net", work)
        installed_at = (int(time.time()) - (hours // 24 + 2) * DAY) // HALF_HOUR * HALF_HOUR
        clock = SimClock(installed_at)
        sim = start_simulated_meters(meters, "mercury230", clock=clock, installed_days_ago=0, prosumer_every=3)
        gateway = None
        try:
            clock.advance(HALF_HOUR)
            write_clock_file(work / "clock", clock.now())
            configs = [MeterConfig(1001 + i, m.protocol, m.port, m.address, m.serial)
                       for i, m in enumerate(sim.meters)]
            (work / "password").write_text("bench\n")
            address = write_keystore(work / "key.json", os.urandom(32), b"bench")
            calls = [enroll.grant_gateway_role(address)]
            for config in configs:
                registers = sim.models[config.serial].registers(installed_at + HALF_HOUR)
                calls += enroll.register_meter(enroll.MeterEnrollment(
                    config.meter_id, config.serial, "Mercury 230", "bench", registers.import_wh,
                    registers.export_wh, installed_at=installed_at))
                calls.append(enroll.bind_gateway(config.meter_id, address))
            grid_key = load_keystore(work / "net" / "keys" / "grid-company.json", password)
            enroll.send_calls(NodePool((url,), 10.0), grid_key, 7700, calls, timeout=120)
            queue = work / "queue.sqlite"
            (work / "gateway.toml").write_text(render_config(
                work / "key.json", work / "password", work / "net" / "genesis.json", queue, [url], configs,
                clock_file=work / "clock", poll_offset_s=0, max_clock_drift_s=0, log_format="json"))
            gateway = subprocess.Popen([sys.executable, "-m", "meter_io.cli", "run", "--config",
                                        str(work / "gateway.toml"), "--log-level", "WARNING"], cwd=ROOT,
                                       stdout=open(work / "gateway.log", "wb"), stderr=subprocess.STDOUT)
            started = time.monotonic()
            for _ in range(hours * 2):
                clock.advance(HALF_HOUR)
                write_clock_file(work / "clock", clock.now())
                expected = clock.now() - HALF_HOUR
                wait_for(lambda: query(queue, "SELECT COUNT(*) FROM meters WHERE last_interval >= "
                                              f"{expected}") == [(meters,)], 60, f"the poll of {expected}")
            wait_for(lambda: query(queue, "SELECT COUNT(*) FROM readings") == [(0,)], 120, "delivery")
            work_cpu, work_wall = cpu_seconds(gateway.pid), time.monotonic() - started
            time.sleep(IDLE_SECONDS)
            idle_rate = (cpu_seconds(gateway.pid) - work_cpu) / IDLE_SECONDS
            rss, peak = memory_mb(gateway.pid, "VmRSS"), memory_mb(gateway.pid, "VmHWM")
            finals = query(queue, "SELECT COUNT(*) FROM transactions WHERE state = 'final'")[0][0]
        finally:
            if gateway:
                gateway.terminate()
                gateway.wait(10)
            sim.stop()
            node.terminate()
            node.wait(10)
    work_per_hour = max(0.0, work_cpu - idle_rate * work_wall) / hours
    per_hour = work_per_hour + idle_rate * 3600
    print(f"simulated {hours} h, {meters * hours * 2} readings in {finals} final transactions, "
          f"{work_wall:.1f} s wall")
    print(f"work: {work_per_hour:.2f} CPU s per simulated hour; idle loop: {idle_rate * 3600:.2f} CPU s per hour")
    print(f"memory: {rss:.0f} MB resident in operation, {peak:.0f} MB peak (scrypt unlocking the key at start)")
    print(f"gateway: {rss:.0f} MB RSS, {per_hour:.1f} CPU s/hour for {meters} meters")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
