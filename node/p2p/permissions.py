"""The operator's changes to the allowlist (Besu's `perm_*` names), kept in `<datadir>/allowlist.json`.

The allowlist a node enforces is its base (genesis validators and observers, the current validators, its
bootnodes) plus the nodes the operator added, minus those the operator removed; current validators are always in
it, since consensus needs them. Only the changes are stored, so a restart keeps them and a validator set change
still moves the base. A node is named by its address (`0x` + 40 hex), libp2p peer id, peer multiaddr
(`/ip4/<host>/tcp/<port>/p2p/<peer id>`, also dialled and kept connected) or enode URL
(`enode://<128 hex public key>@<host>:<port>`, likewise).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import coincurve
from libp2p.crypto.secp256k1 import Secp256k1PublicKey
from libp2p.peer.id import ID

from node.crypto import public_key_to_address

from .errors import NetworkError
from .identity import address_of_peer_id, parse_peer_address

ALLOWLIST_FILE = "allowlist.json"
MAX_ENTRIES_PER_CALL = 256
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_ENODE = re.compile(r"enode://([0-9a-fA-F]{128})@([0-9.]+):([0-9]{1,5})(\?discport=[0-9]{1,5})?")


class AllowlistChangeError(NetworkError):
    """An allowlist change that cannot be made; nothing was changed."""


class InvalidNodeEntry(AllowlistChangeError):
    """Not an address, peer id, peer multiaddr or enode URL (or not a non-empty list of them)."""


class DuplicateNodeEntry(AllowlistChangeError):
    """The request names one node twice."""


class NodeAlreadyAllowed(AllowlistChangeError):
    """Adding a node the allowlist already holds."""


class NodeNotAllowed(AllowlistChangeError):
    """Removing a node the allowlist does not hold."""


class ValidatorNotRemovable(AllowlistChangeError):
    """Removing a current validator (or this node): consensus needs it; vote it out first."""


class AllowlistFileError(AllowlistChangeError, ValueError):
    """`allowlist.json` is unreadable or malformed (a ValueError too, so `energy-node run` reports it plainly)."""


@dataclass(frozen=True)
class NodeEntry:
    """One node named by the operator."""

    address: bytes
    """The 20-byte address of its key: what the allowlist admits."""
    dial: str | None
    """Its peer multiaddr when the entry said where it listens (then it is dialled and kept connected)."""


def parse_node_entry(text: object) -> NodeEntry:
    """The node an entry names; InvalidNodeEntry otherwise."""
    if not isinstance(text, str) or not text:
        raise InvalidNodeEntry(f"a node must be a non-empty string, got {text!r}")
    if _ADDRESS.fullmatch(text):
        return NodeEntry(bytes.fromhex(text[2:]), None)
    if text.startswith("enode://"):
        match = _ENODE.fullmatch(text)
        if match is None:
            raise InvalidNodeEntry(f"bad enode URL {text!r}: expected enode://<128 hex>@<ipv4>:<port>")
        public_key, host, port = bytes.fromhex(match[1]), match[2], int(match[3])
        try:
            key = coincurve.PublicKey(b"\x04" + public_key)
        except ValueError as exc:
            raise InvalidNodeEntry(f"enode URL {text!r} holds no secp256k1 public key") from exc
        peer_id = ID.from_pubkey(Secp256k1PublicKey(key))
        return NodeEntry(public_key_to_address(key), f"/ip4/{host}/tcp/{port}/p2p/{peer_id.to_base58()}")
    try:
        if text.startswith("/"):
            return NodeEntry(parse_peer_address(text).address, text)
        return NodeEntry(address_of_peer_id(ID.from_base58(text)), None)
    except Exception as exc:  # base58 and multiaddr parsers raise several unrelated types
        raise InvalidNodeEntry(f"{text!r} is not an address, peer id, peer multiaddr or enode URL") from exc


def parse_node_entries(entries: object) -> list[NodeEntry]:
    """A request's nodes: a non-empty list, each valid, no node twice."""
    if not isinstance(entries, list) or not entries or len(entries) > MAX_ENTRIES_PER_CALL:
        raise InvalidNodeEntry(f"nodes must be a list of 1 to {MAX_ENTRIES_PER_CALL} entries")
    parsed = [parse_node_entry(entry) for entry in entries]
    seen: set[bytes] = set()
    for entry, text in zip(parsed, entries):
        if entry.address in seen:
            raise DuplicateNodeEntry(f"the request names node 0x{entry.address.hex()} twice ({text!r})")
        seen.add(entry.address)
    return parsed


@dataclass(frozen=True)
class AllowlistChanges:
    """What the operator changed, as stored."""

    added: tuple[str, ...] = ()
    """Entries added, as given (so a multiaddr or enode keeps where to dial)."""
    removed: tuple[str, ...] = ()
    """Addresses removed, `0x` + hex."""

    def added_entries(self) -> list[NodeEntry]:
        return [parse_node_entry(text) for text in self.added]

    def removed_addresses(self) -> set[bytes]:
        return {bytes.fromhex(text[2:]) for text in self.removed}


def effective_allowlist(base: Iterable[bytes], protected: Iterable[bytes], changes: AllowlistChanges) -> set[bytes]:
    """The addresses a node admits: (base + added) - removed, and every protected one."""
    added = {entry.address for entry in changes.added_entries()}
    return ((set(base) | added) - changes.removed_addresses()) | set(protected)


def with_added(changes: AllowlistChanges, entries: list[NodeEntry], texts: list[str],
               allowed: set[bytes]) -> AllowlistChanges:
    """`changes` after adding `entries` (given as `texts`); NodeAlreadyAllowed if one is allowed already."""
    for entry, text in zip(entries, texts):
        if entry.address in allowed:
            raise NodeAlreadyAllowed(f"node {text} (0x{entry.address.hex()}) is already in the allowlist")
    addresses = {entry.address for entry in entries}
    removed = tuple(text for text in changes.removed if bytes.fromhex(text[2:]) not in addresses)
    return replace(changes, added=tuple(sorted({*changes.added, *texts})), removed=removed)


def with_removed(changes: AllowlistChanges, entries: list[NodeEntry], texts: list[str], allowed: set[bytes],
                 protected: set[bytes]) -> AllowlistChanges:
    """`changes` after removing `entries`; ValidatorNotRemovable or NodeNotAllowed if one cannot be removed."""
    for entry, text in zip(entries, texts):
        if entry.address in protected:
            raise ValidatorNotRemovable(f"node {text} (0x{entry.address.hex()}) is a current validator or this "
                                        "node: vote it out of the validator set first")
        if entry.address not in allowed:
            raise NodeNotAllowed(f"node {text} (0x{entry.address.hex()}) is not in the allowlist")
    addresses = {entry.address for entry in entries}
    added = tuple(text for text in changes.added if parse_node_entry(text).address not in addresses)
    removed = tuple(sorted({*changes.removed, *(f"0x{address.hex()}" for address in addresses)}))
    return replace(changes, added=added, removed=removed)


def load_changes(datadir: Path) -> AllowlistChanges:
    """The stored changes; none if the file does not exist."""
    path = Path(datadir) / ALLOWLIST_FILE
    if not path.exists():
        return AllowlistChanges()
    try:
        document = json.loads(path.read_text())
        changes = AllowlistChanges(tuple(document["added"]), tuple(document["removed"]))
        changes.added_entries()
        if not all(_ADDRESS.fullmatch(text) for text in changes.removed):
            raise InvalidNodeEntry("removed entries must be addresses")
    except (OSError, ValueError, KeyError, TypeError, AllowlistChangeError) as exc:
        raise AllowlistFileError(f"{path}: {exc}") from exc
    return changes


def save_changes(datadir: Path, changes: AllowlistChanges) -> None:
    """Write the changes atomically (a crash leaves the old file or the new one)."""
    path = Path(datadir) / ALLOWLIST_FILE
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps({"added": list(changes.added), "removed": list(changes.removed)}, indent=2))
    os.replace(temporary, path)


class ManagedAllowlist:
    """A running node's allowlist: operator changes persisted, applied to the network at once.

    `base()` and `protected()` give the current base and protected addresses (they move with the validator set);
    `allow`, `disallow` and `dial` act on the network (a disallowed peer is disconnected and refused).
    """

    def __init__(self, datadir: Path | None, base: Callable[[], set[bytes]], protected: Callable[[], set[bytes]],
                 allow: Callable[[bytes], None], disallow: Callable[[bytes], None],
                 dial: Callable[[str], None]) -> None:
        self._datadir = datadir
        self._base = base
        self._protected = protected
        self._allow = allow
        self._disallow = disallow
        self._dial = dial
        self.changes = load_changes(datadir) if datadir is not None else AllowlistChanges()
        self.applied = self.effective()
        """What the network was last told to admit."""

    def effective(self) -> set[bytes]:
        return effective_allowlist(self._base(), self._protected(), self.changes)

    def dial_targets(self) -> list[str]:
        return [entry.dial for entry in self.changes.added_entries() if entry.dial is not None]

    def add(self, texts: object) -> None:
        entries = parse_node_entries(texts)
        self._store(with_added(self.changes, entries, list(texts), self.effective()))
        for entry in entries:
            if entry.dial is not None:
                self._dial(entry.dial)

    def remove(self, texts: object) -> None:
        entries = parse_node_entries(texts)
        self._store(with_removed(self.changes, entries, list(texts), self.effective(), self._protected()))

    def apply(self) -> None:
        """Tell the network what changed since the last call (after an operator change or a validator change)."""
        now = self.effective()
        for address in now - self.applied:
            self._allow(address)
        for address in self.applied - now:
            self._disallow(address)
        self.applied = now

    def _store(self, changes: AllowlistChanges) -> None:
        if self._datadir is not None:
            save_changes(self._datadir, changes)
        self.changes = changes
        self.apply()
