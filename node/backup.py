"""Backup of a running node and restore checked by replay.

`energy-node backup` asks the running node (admin_backup over its loopback JSON-RPC) for a consistent LevelDB
snapshot; `energy-node restore` copies a backup into a new datadir and replays it from genesis before the node may
use it. The indexer and portal databases are derived or off-chain: `energy-node reindex` rebuilds the first, the
second is backed up with the participant's other files."""

from __future__ import annotations

import json
import shutil
import urllib.request
from pathlib import Path

from node.chain import ChainStore
from node.replay import ReplayReport, replay_chain


class BackupError(RuntimeError):
    """A backup that cannot be taken or a restore that must not be used."""


def request_backup(rpc_url: str, directory: Path, timeout: float = 600.0) -> dict:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "admin_backup",
                       "params": [str(Path(directory).resolve())]}).encode()
    request = urllib.request.Request(rpc_url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read())
    except OSError as exc:
        raise BackupError(f"cannot reach the node at {rpc_url}: {exc}") from exc
    if "error" in answer:
        raise BackupError(answer["error"]["message"])
    return answer["result"]


def restore(backup: Path, datadir: Path) -> ReplayReport:
    """Copy `backup` into `datadir` (which must hold no chain yet) and replay it; a bad copy is removed again."""
    source = Path(backup) / "chain"
    target = Path(datadir) / "chain"
    if not (source / "CURRENT").exists():
        raise BackupError(f"{backup} holds no backup (no chain/CURRENT)")
    if target.exists():
        raise BackupError(f"{target} already exists: restore into a new datadir")
    Path(datadir).mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, target)
    store = ChainStore(target)
    try:
        report = replay_chain(store)
    finally:
        store.close()
    if not report.ok:
        shutil.rmtree(target)
        raise BackupError(f"the backup does not replay: block {report.first_bad_block}: {report.problem}")
    return report
