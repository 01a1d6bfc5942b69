"""Allowlist methods (`perm_` namespace, Besu's names): admin methods like `admin_`, served only to the node's own
operator on the loopback RPC port. Changes are persisted in the datadir and applied to the p2p host at once."""

from __future__ import annotations

from node.p2p.permissions import (
    AllowlistChangeError,
    AllowlistFileError,
    DuplicateNodeEntry,
    InvalidNodeEntry,
    ManagedAllowlist,
)
from rpc.jsonrpc import SERVER_ERROR, Dispatcher, RpcError, invalid_params

SUCCESS = "Success"
"""What Besu answers to a change that was made."""


class PermApi:
    def __init__(self, allowlist: ManagedAllowlist) -> None:
        self.allowlist = allowlist

    def register(self, dispatcher: Dispatcher) -> None:
        dispatcher.register("perm_addNodesToAllowlist", self.perm_addNodesToAllowlist)
        dispatcher.register("perm_removeNodesFromAllowlist", self.perm_removeNodesFromAllowlist)
        dispatcher.register("perm_getNodesAllowlist", self.perm_getNodesAllowlist)

    def perm_addNodesToAllowlist(self, nodes: list) -> str:  # noqa: N802 - the JSON-RPC method's name
        """Admit these nodes (addresses, peer ids, peer multiaddrs or enode URLs); multiaddrs and enodes are dialled."""
        with _as_rpc_errors():
            self.allowlist.add(nodes)
        return SUCCESS

    def perm_removeNodesFromAllowlist(self, nodes: list) -> str:  # noqa: N802
        """Refuse these nodes from now on and disconnect them; current validators cannot be removed."""
        with _as_rpc_errors():
            self.allowlist.remove(nodes)
        return SUCCESS

    def perm_getNodesAllowlist(self) -> list[str]:  # noqa: N802
        """Every address the node admits now, sorted."""
        return sorted(f"0x{address.hex()}" for address in self.allowlist.applied)


class _as_rpc_errors:
    """Bad input is the caller's error (-32602); a change that cannot be made is the node's refusal (-32000)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, traceback) -> None:
        if isinstance(error, (InvalidNodeEntry, DuplicateNodeEntry)):
            raise invalid_params(str(error)) from None
        if isinstance(error, AllowlistFileError):
            raise RpcError(SERVER_ERROR, f"allowlist not saved: {error}") from None
        if isinstance(error, (AllowlistChangeError, OSError)):
            raise RpcError(SERVER_ERROR, str(error)) from None
