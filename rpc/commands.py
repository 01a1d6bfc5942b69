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
