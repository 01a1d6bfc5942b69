"""Test helpers shared by every test directory: a generated network, real node processes on 127.0.0.1, JSON-RPC.

Imported by name (`from node_harness import ...`): several directories have a conftest.py, so `from conftest
import` would find whichever was loaded last."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from node.keystore import load_keystore

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rpc(url: str, method: str, *params, timeout: float = 10.0):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


@dataclass
class Network:
    directory: Path
    password: bytes
    keys: dict[str, Path]

    def private_key(self, name: str) -> bytes:
        return load_keystore(self.keys[name], self.password)

    def address(self, name: str) -> bytes:
        return bytes.fromhex(json.loads(self.keys[name].read_text())["address"])


class NodeProcess:
    """`energy-node run` in a subprocess, on a free port."""

    def __init__(self, network: Network, datadir: Path, key_name: str | None = "validator-1",
                 extra_args: tuple[str, ...] = ()) -> None:
        self.network = network
        self.datadir = datadir
        self.key_name = key_name
        self.extra_args = extra_args
        """More `energy-node run` options, e.g. `--dev-time`."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log_path = datadir.parent / f"{datadir.name}.log"

    def start(self, wait: float = 20.0) -> NodeProcess:
        command = [sys.executable, "-m", "node.cli", "run", "--datadir", str(self.datadir),
                   "--rpc", f"127.0.0.1:{self.port}"]
        if self.key_name:
            command += ["--key", str(self.network.keys[self.key_name]),
                        "--password-file", str(self.network.directory / "password")]
        command += self.extra_args
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"node exited: {self.log_path.read_text()[-2000:]}")
            try:
                rpc(self.url, "eth_blockNumber", timeout=1)
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("node did not answer in time")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


os.environ.setdefault("PYTHONUNBUFFERED", "1")
