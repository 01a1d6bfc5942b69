"""`energy-node bank run`: the settlement bank's adapter service (`genesis.bank_service`) with the simulated bank."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

from contracts_py.bank_sim import SimulatedBank
from contracts_py.ruble import BANK_ACCOUNT
from genesis.bank_service import BankService, Checkpoint, CheckpointError
from genesis.chain_client import ChainClient, ChainClientError
from node.keystore import KeystoreError, load_keystore, read_password


@click.group()
def bank() -> None:
    """The settlement bank's adapter."""


@bank.command("run")
@click.option("--rpc", "rpc_url", default="http://127.0.0.1:8545", show_default=True, help="a node's JSON-RPC URL")
@click.option("--key", "key_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="the bank's V3 keystore (a holder of the issuer role)")
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--from-block", type=click.IntRange(0), default=0, show_default=True,
              help="read request events from this block on (requests already settled are skipped)")
@click.option("--checkpoint", type=click.Path(dir_okay=False, path_type=Path),
              help="a file where the service keeps its place between runs (read at start, --from-block then only "
                   "applies to a first run)")
@click.option("--closed-account", "closed", multiple=True,
              help="a 20-digit bank account the simulated bank cannot pay to (its withdrawals are rejected)")
@click.option("--poll-ms", type=click.IntRange(50), default=1000, show_default=True)
@click.option("--retry-s", type=click.FloatRange(0), default=30.0, show_default=True,
              help="wait before answering again a request whose answer reverted")
def run(rpc_url: str, key_path: Path, password_file: Path, from_block: int, checkpoint: Path | None,
        closed: tuple[str, ...], poll_ms: int, retry_s: float) -> None:
    """Answer holders' top-up and withdrawal requests as the simulated bank, until SIGINT or SIGTERM."""
    for account in closed:
        if not BANK_ACCOUNT.fullmatch(account):
            raise click.BadParameter(f"a bank account has 20 digits, got {account!r}", param_hint="--closed-account")
    try:
        saved = Checkpoint.load(checkpoint) if checkpoint is not None else None
        private_key = load_keystore(key_path, read_password(password_file))
        client = ChainClient(rpc_url, timeout_s=30.0)
    except (CheckpointError, KeystoreError, ChainClientError) as exc:
        raise click.ClickException(str(exc)) from exc
    service = BankService.resume(client, client.signer(private_key, "bank"),
                                 SimulatedBank(closed_accounts=frozenset(closed)), checkpoint, saved, from_block,
                                 retry_s=retry_s)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    service.run(stop, poll_s=poll_ms / 1000)
