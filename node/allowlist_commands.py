"""`energy-node allowlist add|remove|list`: the operator's allowlist changes, on a running node or a stopped one.

With `--rpc URL` the running node makes the change (perm_* methods): it is checked against the live validator set,
applied to the p2p host at once (a removed peer is disconnected) and persisted. With `--datadir D` the node must be
stopped (its chain database is opened to read the validator set, and LevelDB refuses a second opener): the change
is written to `D/allowlist.json` and applied when the node starts. Besu's CLI edits a permissions file only; a
running network is changed over RPC, so that is the first choice here and the file is the way for a node that is
down. Offline, the list leaves out the node's bootnodes (a `run` option), which it admits too.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import click

from node.chain import ChainStoreError
from node.p2p.permissions import AllowlistChangeError, ManagedAllowlist
from node.service import Node


class AllowlistCommandError(click.ClickException):
    """The change was not made (the node refused it, or could not be reached or opened)."""


def _rpc(url: str, method: str, *params: object) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read())
    except OSError as exc:
        raise AllowlistCommandError(f"cannot reach the node at {url}: {exc}") from exc
    if "error" in answer:
        raise AllowlistCommandError(answer["error"]["message"])
    return answer["result"]


def _offline(datadir: Path, change: str, nodes: list[str]) -> list[str]:
    """Make the change in `datadir/allowlist.json` of a stopped node; the allowlist after it."""
    try:
        node = Node.open(datadir)
    except ChainStoreError as exc:
        raise AllowlistCommandError(f"{exc} (a running node: use --rpc)") from exc
    try:
        genesis = node.genesis
        validators = set(node.validator_snapshot().validators)
        allowlist = ManagedAllowlist(datadir, lambda: set(genesis.validators) | set(genesis.observers) | validators,
                                     lambda: validators, _not_running, _not_running, _not_running)
        if change == "add":
            allowlist.add(nodes)
        elif change == "remove":
            allowlist.remove(nodes)
        return sorted(f"0x{address.hex()}" for address in allowlist.applied)
    except AllowlistChangeError as exc:
        raise AllowlistCommandError(str(exc)) from exc
    finally:
        node.close()


def _not_running(_: object) -> None:
    """The node is stopped: it applies the file when it starts."""


def _change(rpc_url: str | None, datadir: Path | None, change: str, nodes: list[str]) -> None:
    if (rpc_url is None) == (datadir is None):
        raise click.UsageError("give either --rpc URL (a running node) or --datadir D (a stopped node)")
    if rpc_url is not None:
        if change != "list":
            method = "perm_addNodesToAllowlist" if change == "add" else "perm_removeNodesFromAllowlist"
            _rpc(rpc_url, method, nodes)
        allowed = _rpc(rpc_url, "perm_getNodesAllowlist")
    else:
        allowed = _offline(datadir, change, nodes)
    for address in allowed:
        click.echo(address)


_rpc_option = click.option("--rpc", "rpc_url", default=None, help="JSON-RPC URL of the running node")
_datadir_option = click.option("--datadir", type=click.Path(exists=True, file_okay=False, path_type=Path),
                               default=None, help="datadir of a stopped node")


@click.group()
def allowlist() -> None:
    """Nodes admitted to connect: add, remove, list (addresses, peer ids, peer multiaddrs or enode URLs)."""


@allowlist.command("add")
@click.argument("nodes", nargs=-1, required=True)
@_rpc_option
@_datadir_option
def add(nodes: tuple[str, ...], rpc_url: str | None, datadir: Path | None) -> None:
    """Admit NODES; a multiaddr or enode is also dialled. Prints the allowlist after the change."""
    _change(rpc_url, datadir, "add", list(nodes))


@allowlist.command("remove")
@click.argument("nodes", nargs=-1, required=True)
@_rpc_option
@_datadir_option
def remove(nodes: tuple[str, ...], rpc_url: str | None, datadir: Path | None) -> None:
    """Refuse NODES and disconnect them; current validators cannot be removed."""
    _change(rpc_url, datadir, "remove", list(nodes))


@allowlist.command("list")
@_rpc_option
@_datadir_option
def list_nodes(rpc_url: str | None, datadir: Path | None) -> None:
    """Print every admitted address."""
    _change(rpc_url, datadir, "list", [])
