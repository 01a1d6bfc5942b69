"""Benchmark: py-libp2p between two hosts on 127.0.0.1, through the node's asyncio interface.

Direct: 200-byte messages on the long-lived stream (awaited sends one at a time, 64 in flight, and fire-and-forget
`post_direct`), counted when the receiving node has taken them. Transactions: 200-byte transactions sent in
batches on the transaction stream, counted on arrival. Both hosts share this process and its GIL (three threads), so a host in a process of
its own does better.

    .venv/bin/python bench/p2p.py [direct messages] [txs] [txs per batch]
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time

from node.crypto import private_key_to_address
from node.p2p import OutboxFull, P2PNetwork

KEYS = [bytes([0x21]) * 32, bytes([0x42]) * 32]
ADDRESSES = [private_key_to_address(key) for key in KEYS]
PAYLOAD_BYTES = 200


async def _connected(sender: P2PNetwork, receiver: P2PNetwork) -> None:
    async with asyncio.timeout(10):
        while not (receiver.address in {p.address for p in await sender.peers()}
                   and sender.address in {p.address for p in await receiver.peers()}):
            await asyncio.sleep(0.02)


async def bench_direct(sender: P2PNetwork, receiver: P2PNetwork, count: int, in_flight: int) -> float:
    """Messages/s with `in_flight` sends awaiting at once (each send is one round trip into the network thread)."""
    payload = b"\x5a" * PAYLOAD_BYTES

    async def receive_all() -> None:
        for _ in range(count):
            await receiver.receive_direct()

    async def send_one() -> None:
        while True:
            try:
                return await sender.send_direct(receiver.address, payload)
            except OutboxFull:
                await asyncio.sleep(0.001)

    started = time.perf_counter()
    receiving = asyncio.ensure_future(receive_all())
    for start in range(0, count, in_flight):
        await asyncio.gather(*(send_one() for _ in range(min(in_flight, count - start))))
    await asyncio.wait_for(receiving, 60)
    return count / (time.perf_counter() - started)


async def bench_post(sender: P2PNetwork, receiver: P2PNetwork, count: int) -> float:
    """Messages/s with `post_direct` (no round trip per message), pausing when the outbox would overflow."""
    payload = b"\x5a" * PAYLOAD_BYTES
    window = sender.limits.outbox_messages // 2
    started = time.perf_counter()
    for start in range(0, count, window):
        size = min(window, count - start)
        for _ in range(size):
            sender.post_direct([receiver.address], payload)
        for _ in range(size):
            await receiver.receive_direct()
    return count / (time.perf_counter() - started)


async def bench_txs(sender: P2PNetwork, receiver: P2PNetwork, count: int, per_batch: int, publishers: int) -> float:
    """Transactions/s from publish to arrival, `publishers` publishing concurrently; fails if any is lost."""
    txs = [i.to_bytes(4, "big") * (PAYLOAD_BYTES // 4) for i in range(count)]
    batches = [txs[start : start + per_batch] for start in range(0, count, per_batch)]

    async def receive_all() -> None:
        received = 0
        while received < count:
            _, batch = await receiver.receive_tx_batch()
            received += len(batch)

    async def publish(first: int) -> None:
        for batch in batches[first::publishers]:
            await sender.publish_txs(batch)

    started = time.perf_counter()
    receiving = asyncio.ensure_future(receive_all())
    await asyncio.gather(*(publish(first) for first in range(publishers)))
    await asyncio.wait_for(receiving, 60)
    return count / (time.perf_counter() - started)


async def main(direct_count: int, tx_count: int, per_batch: int) -> None:
    receiver = P2PNetwork(KEYS[0], "/ip4/127.0.0.1/tcp/0", [], ADDRESSES)
    async with receiver:
        async with P2PNetwork(KEYS[1], "/ip4/127.0.0.1/tcp/0", [receiver.listen_multiaddr], ADDRESSES) as sender:
            await _connected(sender, receiver)
            await bench_direct(sender, receiver, 200, 1)  # warm up the stream
            one = await bench_direct(sender, receiver, direct_count // 4, 1)
            print(f"direct: {direct_count // 4} messages, one awaited send at a time, {one:,.0f} msg/s")
            pipelined = await bench_direct(sender, receiver, direct_count, 64)
            print(f"direct: {direct_count} messages, 64 sends in flight, {pipelined:,.0f} msg/s")
            direct = await bench_post(sender, receiver, direct_count)
            print(f"direct: {direct_count} messages with post_direct, {direct:,.0f} msg/s")
            txs = await bench_txs(sender, receiver, tx_count, per_batch, 1)
            print(f"txs: {tx_count} txs of {PAYLOAD_BYTES} bytes, batches of {per_batch}, {txs:,.0f} tx/s")
            single = await bench_txs(sender, receiver, 500, 1, 8)
            print(f"txs: 500 txs one per batch, 8 senders, all arrived, {single:,.0f} tx/s")
    print(f"p2p: {direct:.0f} msg/s direct, {txs:.0f} tx/s in batches")


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)
    args = [int(arg) for arg in sys.argv[1:]]
    asyncio.run(main(*(args + [20_000, 20_000, 500][len(args) :])))
