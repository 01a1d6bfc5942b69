"""A local network on 127.0.0.1: validators (and observers) as node processes, for demos, tests and benchmarks.

    devnet = start_devnet(Path("D"), validators=4, observers=1)   # generates D/genesis.json if absent
    print([n.rpc_url for n in devnet.nodes])
    devnet.nodes[0].kill(); devnet.nodes[0].start()
    devnet.stop()

Layout of D: genesis.json, keys/, password (from `genesis new`), nodes/<name>/ (datadirs), logs/<name>.log,
bootnodes.txt (every node's multiaddr; each node skips its own). Node i (validators first, then observers) serves
JSON-RPC on base_port + i and p2p on base_port + 100 + i.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from genesis.config import load_genesis
from genesis.generate import new_network
from node.keystore import keystore_address, load_keystore, read_password
from node.p2p import multiaddr_for
from node.service import init_datadir

HOST = "127.0.0.1"
P2P_PORT_OFFSET = 100
START_TIMEOUT_S = 60.0
"""Seconds a node may take to answer JSON-RPC after its start (imports are slow on a busy 2-core machine)."""
ROOT = Path(__file__).resolve().parent.parent


class DevnetError(RuntimeError):
    """The devnet cannot be prepared or started (mismatched genesis, a node that exits or does not answer)."""


@dataclass
class DevnetNode:
    """One node process of the devnet."""

    name: str
    role: str
    """"validator" or "observer"."""
    address: bytes
    datadir: Path
    keystore: Path
    password_file: Path
    rpc_port: int
    p2p_port: int
    bootnodes_file: Path
    log_path: Path
    extra_args: tuple[str, ...] = ()
    """Options of `run` (e.g. `--round-timeout-ms 2000`)."""
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def rpc_url(self) -> str:
        return f"http://{HOST}:{self.rpc_port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "node.cli", "run", *self.extra_args, "--datadir", str(self.datadir),
                "--key", str(self.keystore), "--password-file", str(self.password_file),
                "--rpc", f"{HOST}:{self.rpc_port}", "--p2p", f"{HOST}:{self.p2p_port}",
                "--bootnodes", str(self.bootnodes_file)]

    def start(self) -> DevnetNode:
        """Start the process (returns at once; `wait_ready` waits for its RPC)."""
        if self.running:
            return self
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.command(), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                code = None if self.process is None else self.process.returncode
                raise DevnetError(f"{self.name} exited (code {code}); see {self.log_path}:\n{self._log_tail()}")
            try:
                rpc_call(self.rpc_url, "eth_blockNumber", timeout=1.0)
                return
            except OSError:
                time.sleep(0.1)
        raise DevnetError(f"{self.name} did not answer on {self.rpc_url} within {timeout}s")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: a crash, as far as the node can tell."""
        if self.running:
            self.process.kill()
            self.process.wait(10)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds."""
        if self.running:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""


@dataclass
class Devnet:
    directory: Path
    nodes: list[DevnetNode]

    def node(self, name: str) -> DevnetNode:
        return next(node for node in self.nodes if node.name == name)

    @property
    def validators(self) -> list[DevnetNode]:
        return [node for node in self.nodes if node.role == "validator"]

    @property
    def observers(self) -> list[DevnetNode]:
        return [node for node in self.nodes if node.role == "observer"]

    def stop(self) -> None:
        """Stop every node (SIGTERM to all at once, then wait)."""
        for node in self.nodes:
            if node.running:
                node.process.send_signal(signal.SIGTERM)
        for node in self.nodes:
            node.stop()


def rpc_call(url: str, method: str, *params, timeout: float = 10.0):
    """The result of one JSON-RPC call; DevnetError carries a JSON-RPC error, OSError a transport failure."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.loads(response.read())
    if "error" in answer:
        raise DevnetError(f"{method}: {answer['error']}")
    return answer["result"]


def prepare_devnet(directory: Path, validators: int = 4, observers: int = 0, base_port: int = 8545, *,
                   block_period_ms: int = 1000, empty_block_period_s: int = 30,
                   extra_args: tuple[str, ...] = ()) -> Devnet:
    """Generate the genesis (if absent), init every datadir and write bootnodes.txt; starts nothing."""
    directory = Path(directory)
    if not (directory / "genesis.json").exists():
        new_network(validators, directory, observers=observers, block_period_ms=block_period_ms,
                    empty_block_period_s=empty_block_period_s)
    genesis = load_genesis(directory / "genesis.json")
    names = [f"validator-{i + 1}" for i in range(validators)] + [f"observer-{i + 1}" for i in range(observers)]
    password_file = directory / "password"
    password = read_password(password_file)
    nodes: list[DevnetNode] = []
    bootnodes_file = directory / "bootnodes.txt"
    multiaddrs = []
    for index, name in enumerate(names):
        keystore = directory / "keys" / f"{name}.json"
        if not keystore.exists():
            raise DevnetError(f"{keystore} is missing: {directory} was generated for another network size")
        address = keystore_address(keystore)
        role = "validator" if name.startswith("validator") else "observer"
        expected = genesis.validators if role == "validator" else genesis.observers
        if address not in expected:
            raise DevnetError(f"{name} (0x{address.hex()}) is not among the {role}s of {directory}/genesis.json")
        node = DevnetNode(name, role, address, directory / "nodes" / name, keystore, password_file,
                          base_port + index, base_port + P2P_PORT_OFFSET + index, bootnodes_file,
                          directory / "logs" / f"{name}.log", extra_args)
        init_datadir(node.datadir, directory / "genesis.json")
        multiaddrs.append(multiaddr_for(load_keystore(keystore, password), HOST, node.p2p_port))
        nodes.append(node)
    bootnodes_file.write_text("\n".join(multiaddrs) + "\n")
    return Devnet(directory, nodes)


def start_devnet(directory: Path, validators: int = 4, observers: int = 0, base_port: int = 8545,
                 **options) -> Devnet:
    """`prepare_devnet`, then start every node and wait until each answers JSON-RPC; stops them all on failure."""
    devnet = prepare_devnet(directory, validators, observers, base_port, **options)
    try:
        for node in devnet.nodes:
            node.start()
        for node in devnet.nodes:
            node.wait_ready()
    except BaseException:
        devnet.stop()
        raise
    return devnet


def run_devnet(directory: Path, validators: int, observers: int, base_port: int, *,
               echo: Callable[[str], None] = print, **options) -> None:
    """Start the devnet, print the RPC URLs and serve until SIGINT or SIGTERM, then stop every node."""
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    devnet = start_devnet(directory, validators, observers, base_port, **options)
    try:
        for node in devnet.nodes:
            echo(f"{node.name:14} {node.role:9} 0x{node.address.hex()}  {node.rpc_url}  log {node.log_path}")
        echo(f"devnet running in {directory}; Ctrl-C stops it")
        while not stopping.wait(1.0):
            for node in devnet.nodes:
                if not node.running:
                    echo(f"{node.name} exited (code {node.process.returncode}); see {node.log_path}")
                    stopping.set()
    finally:
        devnet.stop()
        echo("devnet stopped")
