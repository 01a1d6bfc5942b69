"""`energy-node`: create a network, initialise and run a node, audit a chain, print contract ABIs."""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import sys
from pathlib import Path

import click

from contracts_py.catalog import contract_by_name
from genesis.config import GenesisError
from genesis.generate import new_network
from node.chain import ChainStore, ChainStoreError
from node.exceptions import InvalidBlock
from node.keystore import KeystoreError, load_keystore, read_password
from node.replay import replay_chain
from node.service import init_datadir


class LazyGroup(click.Group):
    """A group whose named subcommands are imported only when one of them runs: every `energy-node` call (a solo
    node start in a test, say) would otherwise import the p2p stack, the portal and the bank client first."""

    def __init__(self, *args, lazy_commands: dict[str, str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands
        """Command name -> "module:attribute" of its click command."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy_commands])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy_commands:
            module, attribute = self.lazy_commands[name].split(":")
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, lazy_commands={
    "allowlist": "node.allowlist_commands:allowlist",
    "bank": "genesis.bank_commands:bank",
    "reindex": "indexer.commands:reindex",
    "token": "rpc.commands:token",
    "ats80020": "rpc.commands:ats80020_group",
    "portal": "portal.commands:portal",
})
@click.option("--log-level", default="INFO", show_default=True)
def cli(log_level: str) -> None:
    """Energy Ledger node."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@cli.group()
def genesis() -> None:
    """Create genesis files."""


@genesis.command("new")
@click.option("--validators", type=click.IntRange(1, 64), required=True)
@click.option("--observers", type=click.IntRange(0, 64), default=0)
@click.option("--chain-id", type=click.IntRange(1), default=7700, show_default=True)
@click.option("--block-period-ms", type=click.IntRange(1), default=1000, show_default=True)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True)
def genesis_new(validators: int, observers: int, chain_id: int, block_period_ms: int, out_dir: Path) -> None:
    """Write OUT/genesis.json, a V3 keystore per key under OUT/keys/, and OUT/password."""
    genesis_doc, keys = new_network(validators, out_dir, chain_id=chain_id, observers=observers,
                                    block_period_ms=block_period_ms)
    for key in keys:
        click.echo(f"{key.name:16} 0x{key.address.hex()}  {key.keystore}")
    click.echo(f"genesis: {out_dir / 'genesis.json'} (chain id {genesis_doc.chain_id})")


@cli.command()
@click.option("--datadir", type=click.Path(path_type=Path), required=True)
@click.option("--genesis", "genesis_path", type=click.Path(exists=True, path_type=Path), required=True)
def init(datadir: Path, genesis_path: Path) -> None:
    """Create a node's database with block 0 of GENESIS."""
    try:
        header = init_datadir(datadir, genesis_path)
    except (GenesisError, InvalidBlock) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"initialised {datadir}: genesis 0x{header.hash.hex()}")


@cli.command()
@click.option("--datadir", type=click.Path(path_type=Path), required=True)
@click.option("--key", "key_path", type=click.Path(exists=True, path_type=Path))
@click.option("--password-file", type=click.Path(exists=True, path_type=Path))
@click.option("--rpc", default="127.0.0.1:8545", show_default=True, help="host:port of JSON-RPC")
@click.option("--p2p", "p2p", default=None, help="host:port to listen on for peers (QBFT validators, observers)")
@click.option("--bootnodes", default="", help="file with one peer multiaddr a line, or a comma-separated list")
@click.option("--round-timeout-ms", type=click.IntRange(100), default=4000, show_default=True,
              help="QBFT round 0 timeout (doubles each round)")
@click.option("--dev-time", is_flag=True, help="dev networks of one validator only: serve evm_increaseTime, "
              "evm_setNextBlockTimestamp and evm_mine to move the chain's clock")
def run(datadir: Path, key_path: Path | None, password_file: Path | None, rpc: str, p2p: str | None,
        bootnodes: str, round_timeout_ms: int, dev_time: bool) -> None:
    """Run a node (a validator when --key is one of the genesis validators; networked with --p2p)."""
    from node.runner import RunConfig, parse_host_port, run_node

    private_key = None
    if key_path is not None:
        if password_file is None:
            raise click.ClickException("--key needs --password-file")
        try:
            private_key = load_keystore(key_path, read_password(password_file))
        except KeystoreError as exc:
            raise click.ClickException(str(exc)) from exc
    try:
        host, port = parse_host_port(rpc, 8545)
        p2p_listen = None
        if p2p is not None:
            p2p_host, p2p_port = parse_host_port(p2p, 30303)
            p2p_listen = f"/ip4/{p2p_host}/tcp/{p2p_port}"
        peers = ()
        if bootnodes:
            from node.bft.service import read_bootnodes

            peers = read_bootnodes(bootnodes)
        asyncio.run(run_node(RunConfig(datadir, host, port, private_key, p2p_listen=p2p_listen, bootnodes=peers,
                                       round_timeout_ms=round_timeout_ms, dev_time=dev_time)))
    except (ChainStoreError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc


@cli.command()
@click.option("--validators", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option("--observers", type=click.IntRange(0, 64), default=0, show_default=True)
@click.option("--dir", "directory", type=click.Path(path_type=Path), required=True)
@click.option("--base-port", type=click.IntRange(1024, 65000), default=8545, show_default=True,
              help="node i serves JSON-RPC on base+i and p2p on base+100+i")
@click.option("--block-period-ms", type=click.IntRange(1), default=1000, show_default=True)
def devnet(validators: int, observers: int, directory: Path, base_port: int, block_period_ms: int) -> None:
    """Run a local network on 127.0.0.1 (a genesis is generated into DIR if absent) until Ctrl-C."""
    from node.devnet import DevnetError, run_devnet

    try:
        run_devnet(directory, validators, observers, base_port, block_period_ms=block_period_ms, echo=click.echo)
    except DevnetError as exc:
        raise click.ClickException(str(exc)) from exc


@cli.command()
@click.option("--datadir", type=click.Path(exists=True, path_type=Path), required=True)
def replay(datadir: Path) -> None:
    """Re-execute every block from genesis and check every signature, seal and root."""
    try:
        store = ChainStore(datadir / "chain")
    except ChainStoreError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        total = store.head.number + 1
        with click.progressbar(length=total, label="replaying", file=sys.stderr) as bar:
            report = replay_chain(store, bar.update)
    finally:
        store.close()
    if report.ok:
        click.echo(f"replay ok: {report.blocks_checked} blocks, head {report.head_number}")
        return
    click.echo(f"replay FAILED at block {report.first_bad_block}: {report.problem}", err=True)
    sys.exit(1)


@cli.command("seed-demo")
@click.option("--rpc", "rpc_url", default="http://127.0.0.1:8545", show_default=True, help="a node's JSON-RPC URL")
@click.option("--network-dir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="the directory `genesis new` wrote (genesis.json, keys/, password)")
@click.option("--months", type=click.IntRange(1, 12), default=3, show_default=True,
              help="complete months of half-hourly history, each invoiced")
def seed_demo_command(rpc_url: str, network_dir: Path, months: int) -> None:
    """Seed the demo market (companies, tariffs, 20 consumers, readings, invoices, payments) by transactions."""
    from genesis.demo import seed_demo
    from genesis.chain_client import ChainClientError

    try:
        report = seed_demo(rpc_url, network_dir, months, click.echo)
    except (ChainClientError, KeystoreError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"demo seeded: {report.transactions} transactions, {report.readings} readings, "
               f"{report.invoices} invoices in {report.seconds:.1f} s; who is who: {report.manifest}")


@cli.command()
@click.option("--rpc", "rpc_url", default="http://127.0.0.1:8545", show_default=True, help="the running node")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="a new directory")
def backup(rpc_url: str, out_dir: Path) -> None:
    """Take a consistent backup of a running node's chain store (it keeps serving meanwhile)."""
    from node.backup import BackupError, request_backup

    try:
        result = request_backup(rpc_url, out_dir)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backup of head {int(result['head'], 16)} written to {result['directory']}")


@cli.command()
@click.option("--backup", "backup_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)
@click.option("--datadir", type=click.Path(path_type=Path), required=True, help="a datadir with no chain yet")
def restore(backup_dir: Path, datadir: Path) -> None:
    """Restore a backup into DATADIR and replay it from genesis; refused unless every block checks out."""
    from node.backup import BackupError
    from node.backup import restore as restore_backup

    try:
        report = restore_backup(backup_dir, datadir)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"restored into {datadir}: {report.blocks_checked} blocks replayed, head {report.head_number}")


@cli.command()
@click.argument("name")
def abi(name: str) -> None:
    """Print the ABI JSON of a native contract (and its address on stderr)."""
    try:
        address, contract = contract_by_name(name)
    except KeyError as exc:
        raise click.ClickException(exc.args[0]) from exc
    click.echo(f"0x{address.hex()}", err=True)
    click.echo(json.dumps(contract.abi(), indent=2))



def main() -> None:
    cli()


if __name__ == "__main__":
    main()
