"""Transaction batches over direct streams between real hosts, and the batch codec."""

import asyncio
import logging

import pytest
import rlp
from p2p_helpers import eventually, network, run

from node.p2p import MalformedFrame, MessageTooLarge
from node.p2p.gossip import MAX_BATCH_BYTES, MAX_BATCH_TXS, decode_tx_batch, encode_tx_batch, split_into_batches

TXS = [b"\x02" + i.to_bytes(4, "big") * 50 for i in range(500)]  # 201-byte stand-ins for raw transactions


async def _collect(net, count: int, timeout: float = 10.0) -> list[tuple[bytes, list[bytes]]]:
    batches, total = [], 0
    async with asyncio.timeout(timeout):
        while total < count:
            origin, txs = await net.receive_tx_batch()
            batches.append((origin, txs))
            total += len(txs)
    return batches


async def _connected(net, addresses) -> bool:
    return set(addresses) <= {peer.address for peer in await net.peers()}


def test_500_transactions_in_batches_reach_every_peer():
    async def scenario():
        async with network(3) as (a, b, c):
            await eventually(lambda: _connected(a, [b.address, c.address]))
            for start in range(0, len(TXS), 50):
                assert await a.publish_txs(TXS[start : start + 50]) == 1
            for receiver in (b, c):
                batches = await _collect(receiver, len(TXS))
                assert {origin for origin, _ in batches} == {a.address}
                assert [tx for _, txs in batches for tx in txs] == TXS

    run(scenario())


def test_batches_from_both_sides():
    async def scenario():
        async with network(2) as (a, b):
            await eventually(lambda: _connected(a, [b.address]))
            await eventually(lambda: _connected(b, [a.address]))
            await a.publish_txs(TXS[:10])
            await b.publish_txs(TXS[10:20])
            assert await _collect(b, 10) == [(a.address, TXS[:10])]
            assert await _collect(a, 10) == [(b.address, TXS[10:20])]

    run(scenario())


def test_garbage_gossip_drops_the_forwarder(caplog):
    caplog.set_level(logging.WARNING, logger="node.p2p")

    async def scenario():
        async with network(2) as (a, b):
            await eventually(lambda: _connected(a, [b.address]))
            # Make `a` misbehave: send bytes that are not a batch on the transaction stream.
            await a._bridge.run_in_trio(a._service.send_tx_batch, b"\xff not rlp")
            await eventually(lambda: _logged(caplog, "dropping peer"))
            assert "transaction batch is not RLP" in caplog.text

    run(scenario())


async def _logged(caplog, text: str) -> bool:
    return text in caplog.text


def test_split_respects_count_and_size_limits():
    many = [b"\x01" * 10] * (MAX_BATCH_TXS + 1)
    assert [len(batch) for batch in split_into_batches(many)] == [MAX_BATCH_TXS, 1]
    big = [b"\x01" * 100_000] * 12
    batches = split_into_batches(big)
    assert sum(len(batch) for batch in batches) == 12
    assert all(len(encode_tx_batch(batch)) <= MAX_BATCH_BYTES for batch in batches)
    assert split_into_batches([]) == []
    with pytest.raises(MessageTooLarge):
        split_into_batches([b"\x01" * MAX_BATCH_BYTES])


def test_garbage_batches_are_typed_errors():
    assert decode_tx_batch(encode_tx_batch([b"a", b"bc"])) == [b"a", b"bc"]
    for garbage in (b"\xff\x00", rlp.encode(b"not a list"), rlp.encode([]), rlp.encode([[b"nested"]]), b""):
        with pytest.raises(MalformedFrame):
            decode_tx_batch(garbage)
