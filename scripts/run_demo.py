"""The whole system on 127.0.0.1: 4 validators, the demo market, a gateway fed by simulated meters, the portals.

Run through `scripts/demo` (which installs the virtual environment first). State lives in `demo-data/`: a second
run reuses it (the market is seeded once); `scripts/demo --fresh` starts over. Ctrl-C stops everything."""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from contracts_py.billing.periods import add_months  # noqa: E402
from genesis.demo import peak_hours_csv, seed_demo  # noqa: E402
from node.devnet import prepare_devnet  # noqa: E402
from node.keystore import load_keystore, read_password  # noqa: E402
from portal import capacity  # noqa: E402
from portal.serve import SECRET_FILE, USERS_FILE, write_config  # noqa: E402
from portal.demo import DEMO_PASSWORD  # noqa: E402
from portal.users import UserError, UserStore, load_secret  # noqa: E402

BASE_PORT = 8545
PORTAL_PORT = 8080
GATEWAY_METERS = 4
CLOSED_BANK_ACCOUNT = "40817810000000000099"
"""Withdrawals to this account are rejected by the simulated bank (and refunded): the demo's failure case."""


def add_portal_users(datadir: Path, network: Path) -> list[tuple[str, str]]:
    """Portal logins for the demo's people, each holding its own key from the network directory."""
    password = read_password(network / "password")
    manifest = json.loads((network / "demo.json").read_text(encoding="utf-8"))
    people = [("grid", "grid", "grid-company", "Диспетчер сетевой компании"),
              ("retailer", "retailer", "retailer-1", "Оператор сбыта"),
              ("retailer2", "retailer", "retailer-2", "Оператор сбыта 2")]
    people += [(f"consumer{i + 1}", "consumer", c["key"], c["name"]) for i, c in enumerate(manifest["consumers"])]
    users = UserStore(datadir / USERS_FILE, load_secret(datadir / SECRET_FILE))
    added = []
    try:
        for username, role, key_name, full_name in people:
            try:
                users.add(username, DEMO_PASSWORD, role, load_keystore(network / "keys" / f"{key_name}.json",
                                                                       password), full_name=full_name)
            except UserError:
                pass  # already there from an earlier run
            added.append((username, role))
    finally:
        users.close()
    return added


def import_peak_hours(datadir: Path, network: Path) -> None:
    """The system operator's peak hours of the seeded months and the current one, for the capacity pages."""
    periods = json.loads((network / "demo.json").read_text(encoding="utf-8"))["periods"]
    rows = capacity.parse_csv(peak_hours_csv(periods + [add_months(periods[-1], 1)]))
    users = UserStore(datadir / USERS_FILE, load_secret(datadir / SECRET_FILE))
    try:
        capacity.save(users.db, rows)
    finally:
        users.close()


def start_gateway(network: Path, rpc_urls: list[str], account: int, log_dir: Path) -> list[subprocess.Popen]:
    """Simulated Mercury 230 meters on pseudo-terminals and the gateway that reads them and signs readings."""
    directory = network / "gateway"
    directory.mkdir(exist_ok=True)
    gateway = [str(ROOT / ".venv" / "bin" / "energy-gateway")]
    config = directory / "gateway.toml"
    if not (directory / "key.json").exists():
        subprocess.run(gateway + ["keygen", "--out", str(directory / "key.json"), "--password-file",
                                  str(directory / "password")], check=True, capture_output=True)
    simulator = subprocess.Popen(
        gateway + ["simulate", "--meters", str(GATEWAY_METERS), "--protocol", "mercury230", "--prosumers",
                   "--first-meter-id", "9001", "--write-config", str(config), "--rpc", rpc_urls[0],
                   "--keystore", str(directory / "key.json"), "--password-file", str(directory / "password"),
                   "--genesis", str(network / "genesis.json"), "--queue", str(directory / "queue.sqlite")],
        stdout=open(log_dir / "meters.log", "ab"), stderr=subprocess.STDOUT)
    for _ in range(100):
        if config.exists():
            break
        time.sleep(0.2)
    if not (directory / "enrolled").exists():
        subprocess.run(gateway + ["enroll", "--config", str(config), "--grid-key",
                                  str(network / "keys" / "grid-company.json"), "--password-file",
                                  str(network / "password"), "--account", str(account),
                                  "--installation-address", "Казань, ул. Баумана, 1"],
                       check=True, stdout=open(log_dir / "gateway.log", "ab"), stderr=subprocess.STDOUT)
        (directory / "enrolled").write_text("yes\n")
    runner = subprocess.Popen(gateway + ["run", "--config", str(config)], stdout=open(log_dir / "gateway.log", "ab"),
                              stderr=subprocess.STDOUT)
    return [simulator, runner]


def start_bank(network: Path, rpc_url: str, log_dir: Path) -> subprocess.Popen:
    """The settlement bank's adapter answering top-up and withdrawal requests with the network's bank key."""
    return subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "energy-node"), "bank", "run", "--rpc", rpc_url, "--key",
         str(network / "keys" / "bank.json"), "--password-file", str(network / "password"), "--checkpoint",
         str(network / "bank-checkpoint.json"), "--closed-account", CLOSED_BANK_ACCOUNT],
        stdout=open(log_dir / "bank.log", "ab"), stderr=subprocess.STDOUT)


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=ROOT / "demo-data")
    parser.add_argument("--fresh", action="store_true", help="delete the directory and start over")
    args = parser.parse_args()
    if args.fresh and args.dir.exists():
        shutil.rmtree(args.dir)
    signal.signal(signal.SIGTERM, _interrupt)

    print("preparing a 4-validator network and an observer in", args.dir, flush=True)
    devnet = prepare_devnet(args.dir, validators=4, observers=1, base_port=BASE_PORT, block_period_ms=500)
    portal_node = devnet.node("validator-1")
    write_config(portal_node.datadir, f"127.0.0.1:{PORTAL_PORT}")
    processes: list[subprocess.Popen] = []
    try:
        for node in devnet.nodes:
            node.start()
        for node in devnet.nodes:
            node.wait_ready()
        rpc_urls = [node.rpc_url for node in devnet.validators]
        if not (args.dir / "demo.json").exists():
            print("seeding the demo market by transactions (a minute or two) ...", flush=True)
            seed_demo(rpc_urls[0], args.dir, log=lambda line: print("  " + line, flush=True))
        users = add_portal_users(portal_node.datadir, args.dir)
        import_peak_hours(portal_node.datadir, args.dir)
        account = json.loads((args.dir / "demo.json").read_text(encoding="utf-8"))["consumers"][0]["account"]
        print("starting simulated meters and their gateway ...", flush=True)
        processes = start_gateway(args.dir, rpc_urls, account, args.dir / "logs")
        print("starting the settlement bank's adapter ...", flush=True)
        processes.append(start_bank(args.dir, rpc_urls[1], args.dir / "logs"))

        print("\nEnergy Ledger demo is running on 127.0.0.1\n")
        for node in devnet.nodes:
            print(f"  {node.name:12} JSON-RPC  {node.rpc_url}")
        print(f"\n  Portals (ru, with an English switch)  http://127.0.0.1:{PORTAL_PORT}/")
        print(f"    logins: {', '.join(name for name, _ in users[:5])}, ... password {DEMO_PASSWORD}")
        print(f"  REST API and Swagger UI               {rpc_urls[0]}/api/docs")
        print(f"  Prometheus metrics                    {rpc_urls[0]}/metrics")
        print(f"  Bank adapter (top-ups, withdrawals)   {args.dir / 'logs' / 'bank.log'}; withdrawals to "
              f"{CLOSED_BANK_ACCOUNT} are rejected")
        print(f"  Logs                                  {args.dir / 'logs'}")
        print(f"  Audit replay (after stopping):        .venv/bin/energy-node replay --datadir "
              f"{devnet.node('observer-1').datadir}")
        print("\nCtrl-C stops everything.", flush=True)
        while all(node.running for node in devnet.nodes):
            time.sleep(1.0)
        print("a node exited; see the logs in", args.dir / "logs", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        devnet.stop()
        print("demo stopped", flush=True)


if __name__ == "__main__":
    main()
