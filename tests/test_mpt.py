"""The one-pass trie update agrees with `trie.HexaryTrie`, and HexaryTrie reads what it writes."""

import random

import rlp
from trie import HexaryTrie

from node import mpt, rlp_fast


def random_changes(rng, keys, count, delete_share=0.2):
    changes = {}
    for _ in range(count):
        if keys and rng.random() < delete_share:
            changes[rng.choice(keys)] = None
        else:
            key = rng.randbytes(32) if not keys or rng.random() < 0.6 else rng.choice(keys)
            changes[key] = rng.randbytes(rng.choice((1, 3, 20, 40, 90)))
    return changes


def test_batched_updates_match_hexary_trie_over_many_blocks():
    rng = random.Random(5)
    store: dict[bytes, bytes] = {}
    cache = mpt.NodeCache(capacity=500)
    reference = HexaryTrie({})
    root = mpt.BLANK_ROOT
    keys: list[bytes] = []
    for block in range(60):
        changes = random_changes(rng, keys, rng.choice((1, 2, 5, 40, 200)))
        written: dict[bytes, bytes] = {}
        root = mpt.apply_changes(store.get, cache, root, changes, written)
        store.update(written)
        for key, value in changes.items():
            if value is None:
                if key in reference:
                    del reference[key]
            else:
                reference[key] = value
        keys = [k for k in set(keys) | set(changes) if changes.get(k, b"x") is not None]
        assert root == reference.root_hash, block
    reader = HexaryTrie(store, root)
    for key in rng.sample(keys, min(50, len(keys))):
        assert reader.get(key) == mpt.get(store.get, mpt.NodeCache(), root, key) == reference.get(key)


def test_deleting_everything_gives_the_blank_root():
    store: dict[bytes, bytes] = {}
    keys = [bytes([i]) * 32 for i in range(10)]
    written: dict[bytes, bytes] = {}
    root = mpt.apply_changes(store.get, mpt.NodeCache(), mpt.BLANK_ROOT, {k: b"v" * 40 for k in keys}, written)
    store.update(written)
    assert mpt.apply_changes(store.get, mpt.NodeCache(), root, {k: None for k in keys}, {}) == mpt.BLANK_ROOT


def test_fast_rlp_matches_pyrlp():
    rng = random.Random(3)
    samples = [b"", b"\x00", b"\x7f", b"\x80", rng.randbytes(55), rng.randbytes(56), rng.randbytes(1000), 0, 1,
               127, 128, 2**64, [], [b"", [b"\x01", []]], [rng.randbytes(30) for _ in range(20)]]
    for item in samples:
        encoded = rlp.encode(item)
        assert rlp_fast.encode(item) == encoded
        assert rlp_fast.decode(encoded) == rlp.decode(encoded)
