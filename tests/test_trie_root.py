import os
import random

import rlp
from trie import HexaryTrie

from node.trie_root import ordered_trie_root, trie_root_of


def hexary_root(mapping):
    trie = HexaryTrie({})
    for key, value in mapping.items():
        trie[key] = value
    return trie.root_hash


def test_ordered_root_matches_hexary_trie_for_many_sizes():
    rng = random.Random(7)
    for size in (0, 1, 2, 3, 15, 16, 17, 127, 128, 129, 300, 1000):
        values = [rng.randbytes(rng.choice((1, 5, 40, 200))) for _ in range(size)]
        expected = hexary_root({rlp.encode(i): v for i, v in enumerate(values)})
        assert ordered_trie_root(values) == expected, size


def test_arbitrary_keys_match_hexary_trie():
    rng = random.Random(11)
    for _ in range(50):
        mapping = {os.urandom(rng.choice((1, 2, 32))): rng.randbytes(rng.randint(1, 70)) for _ in range(rng.randint(1, 60))}
        assert trie_root_of(mapping) == hexary_root(mapping)


def test_logs_bloom_matches_eth_bloom():
    from eth_bloom import BloomFilter

    from contracts_py.runtime import Log
    from node.blocks import logs_bloom

    logs = [Log(os.urandom(20), (os.urandom(32), os.urandom(32)), b"") for _ in range(7)]
    reference = BloomFilter()
    for log in logs:
        reference.add(log.address)
        for topic in log.topics:
            reference.add(topic)
    assert logs_bloom(logs) == int(reference).to_bytes(256, "big")
