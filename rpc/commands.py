"""`energy-node token ...`: API tokens bound to a participant's address and one role (stored hashed)."""

from __future__ import annotations

from pathlib import Path

import click

from rpc.apidb import ApiDb, TokenError


@click.group()
def token() -> None:
    """API tokens for the REST API."""


@token.command("create")
@click.option("--datadir", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--role", required=True, help="retailer, grid_company, consumer, gateway, auditor, admin...")
@click.option("--address", required=True, help="The participant's 0x address")
@click.option("--label", default="", help="A note for the operator")
def token_create(datadir: Path, role: str, address: str, label: str) -> None:
    """Print a new token (shown once; only its SHA-256 is kept)."""
    api = ApiDb.for_datadir(datadir)
    try:
        click.echo(api.create_token(address, role, label))
    except TokenError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        api.close()


@token.command("revoke")
@click.option("--datadir", type=click.Path(exists=True, path_type=Path), required=True)
@click.argument("value")
def token_revoke(datadir: Path, value: str) -> None:
    """Revoke a token."""
    api = ApiDb.for_datadir(datadir)
    try:
        if not api.revoke_token(value):
            raise click.ClickException("no such token")
    finally:
        api.close()
    click.echo("revoked")


@click.group("ats80020")
def ats80020_group() -> None:
    """ATS 80020 XML files from the read model."""


@ats80020_group.command("export")
@click.option("--datadir", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Local day, YYYY-MM-DD")
@click.option("--sender-inn", required=True)
@click.option("--points", required=True, help="Comma-separated metering point ids")
@click.option("--number", type=click.IntRange(1, 999_999_999), default=1, show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
def ats80020_export(datadir: Path, day, sender_inn: str, points: str, number: int, out_dir: Path) -> None:
    """Write OUT/80020_<INN>_<YYYYMMDD>_<NUMBER>.xml for a day of half-hourly data (reads the read model only, so
    it runs beside a running node)."""
    from indexer.store import INDEX_FILE, Readers  # noqa: PLC0415  (the CLI's heavy imports stay lazy)
    from rpc import ats80020  # noqa: PLC0415
    from rpc.openapi import ApiError  # noqa: PLC0415
    from rpc.rest_ats import export_message  # noqa: PLC0415

    if not (sender_inn.isdigit() and len(sender_inn) in (10, 12)):
        raise click.ClickException("--sender-inn: an INN has 10 or 12 digits")
    try:
        point_ids = [int(p) for p in points.split(",")]
    except ValueError:
        raise click.ClickException("--points: comma-separated metering point ids") from None
    if not (datadir / INDEX_FILE).exists():
        raise click.ClickException(f"no read model at {datadir / INDEX_FILE}: run the node or `energy-node reindex`")
    readers = Readers(datadir / INDEX_FILE)
    offset = readers.one("SELECT value FROM meta WHERE key='utc_offset_s'")
    if offset is None:
        raise click.ClickException("the read model has not indexed the genesis block yet")
    params = {"number": number, "sender_inn": sender_inn, "sender_name": "", "area_inn": None, "area_name": ""}
    try:
        message = export_message(readers, day.date(), int(offset["value"]), point_ids, params)
    except ApiError as exc:
        raise click.ClickException(exc.message) from exc
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / ats80020.file_name(sender_inn, day.date(), number)
    path.write_bytes(ats80020.render(message))
    click.echo(str(path))

