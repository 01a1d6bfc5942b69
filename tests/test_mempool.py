"""The mempool: nonce order per sender, replacement rules, limits and duplicates, each with its reason."""

import os

import pytest

from node.exceptions import NonceTooLow
from node.mempool import (
    AlreadyKnown,
    Mempool,
    NonceTooFarAhead,
    PoolFull,
    ReplacementUnderpriced,
)
from node.transactions import decode_transaction, sign_fee_market_transaction

CHAIN = 7700
TO = bytes.fromhex("000000000000000000000000000000000000e002")


def tx(key, nonce, fee=0, data=b"\x01"):
    raw = sign_fee_market_transaction(key, chain_id=CHAIN, nonce=nonce, to=TO, data=data, gas=100_000,
                                      max_fee_per_gas=fee, max_priority_fee_per_gas=fee)
    return decode_transaction(raw, CHAIN)


def test_ready_transactions_follow_nonce_order_and_stop_at_a_gap():
    key = os.urandom(32)
    pool = Mempool()
    for nonce in (2, 0, 1, 4):
        pool.add(tx(key, nonce), 0)
    ready = pool.ready(lambda sender: 0, 100)
    assert [t.nonce for t in ready] == [0, 1, 2]
    assert pool.pending_nonce(ready[0].sender, 0) == 3


def test_senders_are_served_round_robin():
    a, b = os.urandom(32), os.urandom(32)
    pool = Mempool()
    for nonce in range(3):
        pool.add(tx(a, nonce), 0)
        pool.add(tx(b, nonce), 0)
    ready = pool.ready(lambda sender: 0, 4)
    assert len({t.sender for t in ready[:2]}) == 2 and len(ready) == 4


def test_duplicates_low_nonces_and_underpriced_replacements_are_refused():
    key = os.urandom(32)
    pool = Mempool()
    first = tx(key, 5, fee=100)
    pool.add(first, 5)
    with pytest.raises(AlreadyKnown):
        pool.add(first, 5)
    with pytest.raises(NonceTooLow):
        pool.add(tx(key, 4), 5)
    with pytest.raises(ReplacementUnderpriced):
        pool.add(tx(key, 5, fee=105, data=b"\x02"), 5)
    replaced = pool.add(tx(key, 5, fee=110, data=b"\x02"), 5)
    assert replaced == first and first.hash not in pool and len(pool) == 1


def test_a_sender_may_queue_at_most_its_limit_ahead():
    key = os.urandom(32)
    pool = Mempool(max_per_sender=2, max_total=3)
    pool.add(tx(key, 0), 0)
    pool.add(tx(key, 1), 0)
    with pytest.raises(NonceTooFarAhead):
        pool.add(tx(key, 2), 0)


def test_pool_full_and_included_transactions_dropped():
    pool = Mempool(max_per_sender=5, max_total=2)
    keys = [os.urandom(32) for _ in range(3)]
    pool.add(tx(keys[0], 0), 0)
    pool.add(tx(keys[1], 0), 0)
    with pytest.raises(PoolFull):
        pool.add(tx(keys[2], 0), 0)
    first = pool.ready(lambda sender: 0, 10)[0]
    pool.remove_included((first,))
    assert first.hash not in pool and len(pool) == 1


def test_a_twin_of_an_included_transaction_is_dropped_with_it():
    key = os.urandom(32)
    pool = Mempool()
    pending = tx(key, 0)
    pool.add(pending, 0)
    pool.add(tx(key, 1), 0)
    included_twin = tx(key, 0, data=b"\x02")  # same nonce, another transaction: the block took this one
    assert included_twin.hash != pending.hash
    pool.remove_included((included_twin,))
    assert pending.hash not in pool and len(pool) == 1
    assert [t.nonce for t in pool.ready(lambda sender: 1, 10)] == [1]
