"""`energy-node portal ...`: enable the portal of a node, add users, write the demo market."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable
from pathlib import Path

import click

from indexer.follower import Indexer
from node.keystore import KeystoreError, load_keystore, read_password
from node.service import Node
from node.solo import SoloEngine
from portal import capacity, weather
from portal.demo import DEMO_PASSWORD, DemoKeys, LocalSender, add_demo_users, demo_weather, seed_market
from portal.demo_capacity import peak_hours_csv
from portal.serve import SECRET_FILE, USERS_FILE, write_config
from portal.users import ROLES, UserError, UserStore, load_secret

DATADIR = click.option("--datadir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)


def _users(datadir: Path) -> UserStore:
    return UserStore(datadir / USERS_FILE, load_secret(datadir / SECRET_FILE))


@click.group()
def portal() -> None:
    """The web portals served by this node."""


@portal.command()
@DATADIR
@click.option("--listen", default="127.0.0.1:8080", show_default=True, help="host:port of the portal")
@click.option("--secure-cookies", is_flag=True, help="session cookies only over HTTPS (behind a TLS proxy)")
def enable(datadir: Path, listen: str, secure_cookies: bool) -> None:
    """Serve the portal next time the node runs (writes DATADIR/portal.json)."""
    write_config(datadir, listen, secure_cookies)
    load_secret(datadir / SECRET_FILE)
    click.echo(f"portal enabled on http://{listen} (restart the node)")


@portal.command("add-user")
@DATADIR
@click.option("--username", required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--keystore", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="the user's V3 keystore (staff: the company's key); without it a new key is made")
@click.option("--keystore-password-file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--full-name", default="")
@click.password_option("--password", help="the user's login password (prompted when omitted)")
def add_user(datadir: Path, username: str, role: str, keystore: Path | None, keystore_password_file: Path | None,
             full_name: str, password: str) -> None:
    """Add a portal user with a signing key held encrypted by the portal."""
    if keystore is not None:
        if keystore_password_file is None:
            raise click.ClickException("--keystore needs --keystore-password-file")
        try:
            key = load_keystore(keystore, read_password(keystore_password_file))
        except KeystoreError as exc:
            raise click.ClickException(str(exc)) from exc
    else:
        key = secrets.token_bytes(32)
    users = _users(datadir)
    try:
        user = users.add(username, password, role, key, full_name=full_name)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        users.close()
    click.echo(f"added {user.username} ({user.role}) with address {user.address}")


@portal.command()
@DATADIR
@click.option("--network-dir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="the output of `energy-node genesis new --validators 1` this datadir was initialised from")
def demo(datadir: Path, network_dir: Path) -> None:
    """Write the demo market into a stopped single-validator node and add the demo users."""
    password = (network_dir / "password").read_bytes().strip()

    def key(name: str) -> bytes:
        return load_keystore(network_dir / "keys" / f"{name}.json", password)
    node = Node.open(datadir)
    try:
        keys = DemoKeys(key("grid-company"), key("retailer-1"), key("retailer-2"), key("bank"), key("faucet"))
        market = seed_market(LocalSender(node, SoloEngine(node, key("validator-1"))), keys)
        indexer = Indexer.for_datadir(node, datadir)
        indexer.catch_up()
        indexer.close()
    finally:
        node.close()
    users = _users(datadir)
    try:
        add_demo_users(users, keys)
        weather.save(users.db, weather.parse_csv(demo_weather(market["period"])))
        capacity.save(users.db, capacity.parse_csv(peak_hours_csv(market["period"])))
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        users.close()
    click.echo(f"demo market written; users grid, retailer, retailer2, ivanov, petrova, sidorov "
               f"with password {DEMO_PASSWORD}")


@portal.command("import-weather")
@DATADIR
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_weather(datadir: Path, csv_file: Path) -> None:
    """Import outdoor air temperatures (CSV: date[Thh:mm],°C in Moscow time) shown beside consumption charts."""
    count = _import_series(datadir, csv_file, weather.parse_csv, weather.WeatherError, weather.save)
    click.echo(f"imported {count} temperatures")


@portal.command("import-peak-hours")
@DATADIR
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_peak_hours(datadir: Path, csv_file: Path) -> None:
    """Import the system operator's peak hours (CSV: date,hour of each working day, Moscow time) behind the
    actual and reserved capacity of legal entities; a bad line imports nothing."""
    count = _import_series(datadir, csv_file, capacity.parse_csv, capacity.PeakHoursError, capacity.save)
    click.echo(f"imported {count} peak hours")


def _import_series(datadir: Path, csv_file: Path, parse: Callable[[str], list], error: type[ValueError],
                   save: Callable[[sqlite3.Connection, list], None]) -> int:
    """Parse the whole file first, so that a bad line (named in the error) imports nothing; then save it."""
    try:
        rows = parse(csv_file.read_text(encoding="utf-8"))
    except (error, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{csv_file}: {exc}") from exc
    users = _users(datadir)
    try:
        save(users.db, rows)
    finally:
        users.close()
    return len(rows)
