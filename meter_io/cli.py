"""`energy-gateway`: run the gateway, simulate meters, make its key, enroll it on the chain, inspect its queue."""
from __future__ import annotations

import faulthandler
import json
import secrets
import signal
import sys
import threading
import time
from pathlib import Path

import click

from meter_io.gateway.config import ConfigError, MeterConfig, load_config, render_config

EXIT_CONFIG = 2


@click.group()
def cli() -> None:
    """Energy Ledger meter gateway."""


@cli.command()
@click.option("--config", "config_path", type=click.Path(path_type=Path), required=True)
@click.option("--log-level", default="INFO", show_default=True)
@click.option("--max-seconds", type=float, default=None, help="Stop after this much wall time (benchmarks).")
def run(config_path: Path, log_level: str, max_seconds: float | None) -> None:
    """Poll the meters of CONFIG and deliver their readings to the chain until SIGTERM/SIGINT."""
    from meter_io.gateway.logs import configure_logging
    from meter_io.gateway.queue import QueueError
    from meter_io.gateway.service import Gateway
    from genesis.config import GenesisError
    from node.keystore import KeystoreError

    try:
        config = load_config(config_path)
        configure_logging(config.log_format, log_level)
        gateway = Gateway.open(config)
    except (ConfigError, KeystoreError, GenesisError, QueueError) as exc:
        click.echo(f"energy-gateway: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>` prints every thread's stack to the log
    try:
        gateway.run(stop, max_seconds)
    finally:
        gateway.close()


@cli.command()
@click.option("--meters", "count", type=click.IntRange(1, 247), default=4, show_default=True)
@click.option("--protocol", type=click.Choice(["mercury230", "modbus_sdm", "iec62056_21", "dlms_spodes"]),
              default="mercury230", show_default=True)
@click.option("--prosumers/--no-prosumers", default=False, help="Every third meter has a PV array.")
@click.option("--first-meter-id", type=int, default=1001, show_default=True)
@click.option("--write-config", type=click.Path(path_type=Path), help="Write a gateway.toml for these meters.")
@click.option("--rpc", "rpc_urls", multiple=True, default=["http://127.0.0.1:8545"], show_default=True)
@click.option("--keystore", type=click.Path(path_type=Path), default=Path("key.json"), show_default=True)
@click.option("--password-file", type=click.Path(path_type=Path), default=Path("password"), show_default=True)
@click.option("--genesis", type=click.Path(path_type=Path), default=Path("genesis.json"), show_default=True)
@click.option("--queue", type=click.Path(path_type=Path), default=Path("queue.sqlite"), show_default=True)
@click.option("--clock-file", type=click.Path(path_type=Path),
              help="Fast-forward: simulated time starts --days-ago back and advances a half hour every --step.")
@click.option("--days-ago", type=int, default=2, show_default=True)
@click.option("--step", type=float, default=2.0, show_default=True, help="Wall seconds per simulated half hour.")
@click.option("--seconds", type=float, default=None, help="Stop after this long (default: until Ctrl-C).")
def simulate(count: int, protocol: str, prosumers: bool, first_meter_id: int, write_config: Path | None,
             rpc_urls: tuple[str, ...], keystore: Path, password_file: Path, genesis: Path, queue: Path,
             clock_file: Path | None, days_ago: int, step: float, seconds: float | None) -> None:
    """Start virtual meters on pseudo-terminals and print where they are."""
    from meter_io.gateway.clock import write_clock_file
    from meter_io.sim_model import DAY, SimClock
    from meter_io.simulator import start_simulated_meters

    clock = None
    if clock_file:
        clock = SimClock((int(time.time()) - days_ago * DAY) // 1800 * 1800)
        write_clock_file(clock_file, clock.now())
    sim = start_simulated_meters(count, protocol, clock=clock, prosumer_every=3 if prosumers else 0,
                                 installed_days_ago=30)
    meters = [MeterConfig(meter_id=first_meter_id + i, protocol=m.protocol, port=m.port, address=m.address,
                          serial=m.serial, device_address=m.serial if protocol == "iec62056_21" else "",
                          software_parity=protocol == "iec62056_21")
              for i, m in enumerate(sim.meters)]
    for meter, info in zip(meters, sim.meters):
        click.echo(json.dumps({"meter_id": meter.meter_id, "protocol": info.protocol, "port": info.port,
                               "address": info.address, "serial": info.serial, "prosumer": info.prosumer}))
    if write_config:
        settings = {"clock_file": clock_file.resolve(), "poll_offset_s": 0, "max_clock_drift_s": 0} \
            if clock_file else {}
        write_config.write_text(render_config(keystore, password_file, genesis, queue, list(rpc_urls), meters,
                                              **settings))
        click.echo(f"wrote {write_config}", err=True)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    deadline = time.monotonic() + seconds if seconds else None
    try:
        while not stop.wait(step if clock else 1.0):
            if deadline and time.monotonic() > deadline:
                break
            if clock:
                clock.advance(1800)
                write_clock_file(clock_file, clock.now())
    finally:
        sim.stop()


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--password-file", type=click.Path(path_type=Path), required=True,
              help="Read the password from here; created with a random password if missing.")
def keygen(out: Path, password_file: Path) -> None:
    """Make the gateway's key as a V3 keystore and print its address."""
    from node.keystore import KeystoreError, read_password, write_keystore

    if out.exists():
        raise click.ClickException(f"{out} exists; refusing to overwrite a key")
    if not password_file.exists():
        password_file.parent.mkdir(parents=True, exist_ok=True)
        password_file.write_text(secrets.token_urlsafe(24) + "\n")
        password_file.chmod(0o600)
    try:
        address = write_keystore(out, secrets.token_bytes(32), read_password(password_file))
    except KeystoreError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"0x{address.hex()}")


@cli.command()
@click.option("--config", "config_path", type=click.Path(path_type=Path), required=True)
@click.option("--grid-key", type=click.Path(path_type=Path), required=True, help="The grid company's keystore.")
@click.option("--password-file", type=click.Path(path_type=Path), required=True,
              help="Password of the grid company's keystore.")
@click.option("--rpc", "rpc_url", default=None, help="Node to send to (default: the config's first).")
@click.option("--account", type=int, default=0, show_default=True, help="Personal account of the meters' points.")
@click.option("--installation-address", default="", help="Premises address recorded with each meter.")
def enroll(config_path: Path, grid_key: Path, password_file: Path, rpc_url: str | None, account: int,
           installation_address: str) -> None:
    """As the grid company: grant the gateway role, register the config's meters (with their current
    registers) and bind them to this gateway."""
    from genesis.config import GenesisError, load_genesis
    from meter_io.drivers import open_meter
    from meter_io.gateway import enroll as steps
    from meter_io.gateway.nodes import NodePool, NodeRejected, NoNodeAvailable
    from meter_io.reading import MeterError
    from node.keystore import KeystoreError, keystore_address, load_keystore, read_password

    try:
        config = load_config(config_path)
        gateway = keystore_address(config.keystore)
        key = load_keystore(grid_key, read_password(password_file))
        chain_id = load_genesis(config.genesis).chain_id
    except (ConfigError, KeystoreError, GenesisError) as exc:
        raise click.ClickException(str(exc)) from exc
    pool = NodePool((rpc_url,) if rpc_url else config.rpc, config.rpc_timeout_s)
    calls = [steps.grant_gateway_role(gateway)]
    try:
        for meter in config.meters:
            if not steps.meter_registered(pool, meter.meter_id):
                driver = open_meter(meter.protocol, meter.port, meter.address, device_address=meter.device_address,
                                    software_parity=meter.software_parity, can_interface=meter.can_interface)
                try:
                    snapshot = driver.read_snapshot()
                finally:
                    driver.close()
                calls += steps.register_meter(steps.MeterEnrollment(
                    meter.meter_id, snapshot.serial, meter.protocol, installation_address or meter.port,
                    snapshot.import_wh, snapshot.export_wh, account_number=account))
            calls.append(steps.bind_gateway(meter.meter_id, gateway))
        block = steps.send_calls(pool, key, chain_id, calls)
    except (MeterError, steps.EnrollError, NoNodeAvailable, NodeRejected) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"gateway 0x{gateway.hex()} enrolled with {len(config.meters)} meters (block {block})")


@cli.command()
@click.option("--config", "config_path", type=click.Path(path_type=Path), required=True)
def status(config_path: Path) -> None:
    """Print the queue's counts as JSON."""
    from meter_io.gateway.queue import DurableQueue

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    queue = DurableQueue(config.queue)
    click.echo(json.dumps(queue.counts()))
    queue.close()


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
