"""Operator methods (`admin_` namespace): served only to the node's own operator, on the loopback RPC port."""

from __future__ import annotations

import asyncio
from pathlib import Path

from node.chain import ChainStoreError
from node.service import Node
from rpc.jsonrpc import SERVER_ERROR, Dispatcher, RpcError, invalid_params


class AdminApi:
    def __init__(self, node: Node) -> None:
        self.node = node

    def register(self, dispatcher: Dispatcher) -> None:
        dispatcher.register("admin_backup", self.admin_backup)

    async def admin_backup(self, directory: str) -> dict:
        """Write a consistent snapshot of the chain store to `directory` (absolute, new) while the node runs."""
        if not isinstance(directory, str) or not Path(directory).is_absolute():
            raise invalid_params("directory must be an absolute path")
        target = Path(directory) / "chain"
        try:
            Path(directory).mkdir(parents=True, exist_ok=False)
            head = await asyncio.to_thread(self.node.store.backup_to, target)
        except (OSError, ChainStoreError) as exc:
            raise RpcError(SERVER_ERROR, f"backup failed: {exc}") from None
        return {"directory": directory, "head": hex(head)}
