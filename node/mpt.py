"""Merkle-Patricia trie updates in one pass per block: every touched node is read, rebuilt and hashed once.

`trie.HexaryTrie` rewrites the whole path for every key it sets; a block that changes thousands of keys rewrites
the top of the trie thousands of times. `apply_changes` takes all of a block's changes to one trie, sorted, and
walks the trie once, so shared nodes are rebuilt once. Nodes are the standard Ethereum encoding, so HexaryTrie
reads what this writes (tests compare roots and contents with it), and proofs still come from HexaryTrie.

Keys are fixed-length (32-byte keccak hashes in the state), so no key is a prefix of another and the value slot of
a branch stays empty."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from node.crypto import keccak256
from node import rlp_fast

BLANK_ROOT = keccak256(rlp_fast.encode(b""))

ReadNode = Callable[[bytes], bytes | None]

# Decoded nodes: ("leaf", nibbles, value) | ("ext", nibbles, child) | ("branch", children[16]) | None (blank).
# A child is a 32-byte hash or an embedded decoded node.


class MissingTrieNode(KeyError):
    """A node the trie refers to is not in the store: the database is incomplete or corrupt."""


class NodeCache:
    """Decoded nodes by hash, shared between blocks: node contents never change for a given hash."""

    def __init__(self, capacity: int = 200_000) -> None:
        self.capacity = capacity
        self._nodes: OrderedDict[bytes, tuple] = OrderedDict()

    def get(self, node_hash: bytes):
        node = self._nodes.get(node_hash)
        if node is not None:
            try:  # RPC threads read while a block executes; another thread may have evicted it just now
                self._nodes.move_to_end(node_hash)
            except KeyError:
                pass
        return node

    def put(self, node_hash: bytes, node: tuple) -> None:
        self._nodes[node_hash] = node
        if len(self._nodes) > self.capacity:
            self._nodes.popitem(last=False)


_HEX_TO_NIBBLE = bytes.maketrans(b"0123456789abcdef", bytes(range(16)))


def nibbles_of(key: bytes) -> bytes:
    """One byte per nibble (hex digits mapped to 0..15 in C)."""
    return key.hex().encode().translate(_HEX_TO_NIBBLE)


_NIBBLE_TO_HEX = bytes.maketrans(bytes(range(16)), b"0123456789abcdef")


def hex_prefix(nibbles: bytes, is_leaf: bool) -> bytes:
    """Ethereum's compact encoding of a path: flag nibbles, then two nibbles a byte (packed in C via hex)."""
    flag = 2 if is_leaf else 0
    prefix = bytes([flag + 1]) if len(nibbles) % 2 else bytes([flag, 0])
    return bytes.fromhex((prefix + nibbles).translate(_NIBBLE_TO_HEX).decode())


def _from_hex_prefix(encoded: bytes) -> tuple[bytes, bool]:
    nibbles = nibbles_of(encoded)
    flag = nibbles[0]
    is_leaf = flag >= 2
    return (nibbles[1:] if flag % 2 else nibbles[2:]), is_leaf


def _from_rlp_structure(item) -> tuple | None:
    if item == b"":
        return None
    if len(item) == 2:
        path, is_leaf = _from_hex_prefix(item[0])
        if is_leaf:
            return ("leaf", path, item[1])
        return ("ext", path, _child_from_rlp(item[1]))
    if len(item) == 17:
        return ("branch", tuple(_child_from_rlp(child) for child in item[:16]))
    raise ValueError(f"trie node with {len(item)} items")


def _child_from_rlp(item):
    if isinstance(item, list):
        return _from_rlp_structure(item)
    if item == b"":
        return None
    return item


def _to_rlp_structure(node: tuple | None):
    if node is None:
        return b""
    kind = node[0]
    if kind == "leaf":
        return [hex_prefix(node[1], True), node[2]]
    if kind == "ext":
        return [hex_prefix(node[1], False), _child_to_rlp(node[2])]
    return [_child_to_rlp(child) for child in node[1]] + [b""]


def _child_to_rlp(child):
    if child is None:
        return b""
    if isinstance(child, bytes):
        return child
    return _to_rlp_structure(child)


class TrieWriter:
    """Reads nodes through a cache and collects the new ones of one block."""

    def __init__(self, read_node: ReadNode, cache: NodeCache, written: dict[bytes, bytes]) -> None:
        self._read_node = read_node
        self._cache = cache
        self.written = written

    def load(self, child) -> tuple | None:
        if child is None or isinstance(child, tuple):
            return child
        node = self._cache.get(child)
        if node is None:
            encoded = self.written.get(child) or self._read_node(child)
            if encoded is None:
                raise MissingTrieNode(f"trie node 0x{child.hex()} is missing")
            node = _from_rlp_structure(rlp_fast.decode(encoded))
            self._cache.put(child, node)
        return node

    def reference(self, node: tuple | None):
        """How a parent refers to `node`: embedded when its encoding is under 32 bytes, else by stored hash."""
        if node is None:
            return None
        encoded = rlp_fast.encode(_to_rlp_structure(node))
        if len(encoded) < 32:
            return node
        node_hash = keccak256(encoded)
        self.written[node_hash] = encoded
        self._cache.put(node_hash, node)
        return node_hash

    def store_root(self, node: tuple | None) -> bytes:
        if node is None:
            return BLANK_ROOT
        encoded = rlp_fast.encode(_to_rlp_structure(node))
        node_hash = keccak256(encoded)
        self.written[node_hash] = encoded
        self._cache.put(node_hash, node)
        return node_hash


def get(read_node: ReadNode, cache: NodeCache, root: bytes, key: bytes) -> bytes | None:
    """The value under `key`, or None."""
    if root == BLANK_ROOT:
        return None
    writer = TrieWriter(read_node, cache, {})
    node = writer.load(root)
    path = nibbles_of(key)
    depth = 0
    while node is not None:
        kind = node[0]
        if kind == "leaf":
            return node[2] if node[1] == path[depth:] else None
        if kind == "ext":
            segment = node[1]
            if path[depth:depth + len(segment)] != segment:
                return None
            depth += len(segment)
            node = writer.load(node[2])
        else:
            node = writer.load(node[1][path[depth]])
            depth += 1
    return None


def apply_changes(read_node: ReadNode, cache: NodeCache, root: bytes, changes: dict[bytes, bytes | None],
                  written: dict[bytes, bytes]) -> bytes:
    """The root after setting (value) or deleting (None) every key in `changes`; new nodes go into `written`."""
    if not changes:
        return root
    writer = TrieWriter(read_node, cache, written)
    items = sorted((nibbles_of(key), value) for key, value in changes.items())
    node = writer.load(root) if root != BLANK_ROOT else None
    return writer.store_root(_update(writer, node, 0, items))


def _update(writer: TrieWriter, node: tuple | None, depth: int, items: list) -> tuple | None:
    if node is None:
        return _build(writer, depth, [(path, value) for path, value in items if value is not None])
    kind = node[0]
    if kind == "leaf":
        leaf_path = node[1]
        full = items[0][0][:depth] + leaf_path
        merged = {path: value for path, value in items}
        merged.setdefault(full, node[2])
        return _build(writer, depth, sorted((p, v) for p, v in merged.items() if v is not None))
    if kind == "ext":
        return _update(writer, _expand_extension(node), depth, items)
    children = list(node[1])
    start = 0
    while start < len(items):
        nibble = items[start][0][depth]
        end = start
        while end < len(items) and items[end][0][depth] == nibble:
            end += 1
        child = _update(writer, writer.load(children[nibble]), depth + 1, items[start:end])
        children[nibble] = writer.reference(child)
        start = end
    for nibble, child in enumerate(children):
        if isinstance(child, tuple):  # an untouched child of an expanded extension: embed or store it properly
            children[nibble] = writer.reference(child)
    return _normalize_branch(writer, children)


def _expand_extension(node: tuple) -> tuple:
    """An extension as the equivalent branch with one child, so the branch rules handle every case."""
    path, child = node[1], node[2]
    children = [None] * 16
    children[path[0]] = child if len(path) == 1 else ("ext", path[1:], child)
    return ("branch", tuple(children))


def _normalize_branch(writer: TrieWriter, children: list) -> tuple | None:
    present = [i for i, child in enumerate(children) if child is not None]
    if not present:
        return None
    if len(present) > 1:
        return ("branch", tuple(children))
    nibble = present[0]
    only = writer.load(children[nibble])
    prefix = bytes([nibble])
    if only[0] == "leaf":
        return ("leaf", prefix + only[1], only[2])
    if only[0] == "ext":
        return ("ext", prefix + only[1], only[2])
    return ("ext", prefix, writer.reference(only))


def _build(writer: TrieWriter, depth: int, items: list) -> tuple | None:
    """A fresh subtrie holding exactly `items` (sorted, values present) below `depth`."""
    if not items:
        return None
    if len(items) == 1:
        return ("leaf", items[0][0][depth:], items[0][1])
    first, last = items[0][0], items[-1][0]
    shared = 0
    while depth + shared < len(first) and first[depth + shared] == last[depth + shared]:
        shared += 1
    if shared:
        child = _build(writer, depth + shared, items)
        return ("ext", first[depth:depth + shared], writer.reference(child))
    children = [None] * 16
    start = 0
    while start < len(items):
        nibble = items[start][0][depth]
        end = start
        while end < len(items) and items[end][0][depth] == nibble:
            end += 1
        children[nibble] = writer.reference(_build(writer, depth + 1, items[start:end]))
        start = end
    return ("branch", tuple(children))
