"""One-pass Merkle-Patricia root of a list of values keyed by rlp(index): transactions and receipts roots.

Same root as inserting every item into `trie.HexaryTrie` (tests cross-check it), but each node is built and hashed
once, from the sorted keys, in the spirit of go-ethereum's StackTrie."""

from __future__ import annotations

from node import rlp_fast
from node.crypto import keccak256
from node.mpt import hex_prefix, nibbles_of


def ordered_trie_root(values: list[bytes]) -> bytes:
    """Root of the trie mapping rlp(i) -> values[i]."""
    return trie_root_of({rlp_fast.encode(rlp_fast.uint(index)): value for index, value in enumerate(values)})


def trie_root_of(mapping: dict[bytes, bytes]) -> bytes:
    """Root of the trie holding exactly `mapping` (keys used as they are, values non-empty)."""
    if not mapping:
        return keccak256(rlp_fast.encode(b""))
    items = sorted((nibbles_of(key), value) for key, value in mapping.items())
    return keccak256(rlp_fast.encode(_build(items, 0)))


def _reference(node: list) -> object:
    """How a parent refers to a child: inline if its encoding is under 32 bytes, else by hash."""
    encoded = rlp_fast.encode(node)
    return node if len(encoded) < 32 else keccak256(encoded)


def _common_prefix_length(a: bytes, b: bytes, start: int) -> int:
    end = min(len(a), len(b))
    i = start
    while i < end and a[i] == b[i]:
        i += 1
    return i - start


def _build(items: list[tuple[bytes, bytes]], depth: int) -> list:
    if len(items) == 1:
        path, value = items[0]
        return [hex_prefix(path[depth:], True), value]
    shared = _common_prefix_length(items[0][0], items[-1][0], depth)
    if shared:
        child = _build(items, depth + shared)
        return [hex_prefix(items[0][0][depth:depth + shared], False), _reference(child)]
    branch: list = [b""] * 17
    start = 0
    if len(items[0][0]) == depth:
        branch[16] = items[0][1]
        start = 1
    while start < len(items):
        nibble = items[start][0][depth]
        end = start
        while end < len(items) and items[end][0][depth] == nibble:
            end += 1
        branch[nibble] = _reference(_build(items[start:end], depth + 1))
        start = end
    return branch
