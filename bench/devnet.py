"""Benchmark: a 4-validator devnet of real node processes on this machine, driven through JSON-RPC.

1. Saturation: pre-signed ruble transfers from many senders, posted as fast as JSON-RPC batches go, two batches
   in flight to each of the four validators; finalized tx/s = transfers final / (when the last was final - when
   the first was posted). Also printed: the rate at which the backlog left when posting ends becomes final, and
   the CPU each validator process spent per finalized transaction (with the ceilings that implies).
2. Latency: transfers posted at a steady rate (default 500 tx/s) for a while; submit-to-final latency p50 and p95,
   "final" being when the block holding the transfer shows up at validator-1 (polled every 50 ms).
3. Observer sync: a chain of N blocks (made in-process with the validators' keys and real seals, a few transfers
   each) served by one validator process; a new observer process syncs it over libp2p, checking every seal and
   re-executing every block. Reports blocks/s and what 100,000 blocks would take at that rate.

    .venv/bin/python bench/devnet.py [--txs 20000] [--rate 500] [--seconds 20] [--blocks 2000] [--no-indexer]

By default every validator also runs its read model (the indexer behind REST and the portals), as the demo's do;
`--no-indexer` measures validators that only validate, their participants' read models living on other nodes.

Last line: `devnet: N finalized tx/s, p95 X s at 500 tx/s, observer sync M blocks/s`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
import eth_abi

from consensus.seals import sign_commit_seal
from contracts_py import ruble
from genesis.generate import new_network
from node.blocks import with_seals
from node.chain import ChainStore
from node.crypto import keccak256, private_key_to_address
from node.devnet import Devnet, prepare_devnet, rpc_call
from node.keystore import load_keystore, read_password
from node.service import Node
from node.transactions import sign_fee_market_transaction

CHAIN_ID = 7700
TRANSFER = keccak256(b"transfer(address,uint256)")[:4]
BATCH = 100
POSTS_IN_FLIGHT = 2
"""Saturation keeps this many batches in flight per validator: with one, a node's answer time would pace the load."""
SENDERS = 32
POLL_S = 0.05


def transfer(key: bytes, nonce: int, to: bytes, amount: int) -> bytes:
    data = TRANSFER + eth_abi.encode(["address", "uint256"], [to, amount])
    return sign_fee_market_transaction(key, chain_id=CHAIN_ID, nonce=nonce, to=ruble.ADDRESS, data=data, gas=100_000)


class Senders:
    """Funded accounts signing transfers with consecutive nonces, taken round-robin."""

    def __init__(self, keys: list[bytes]) -> None:
        self.keys = keys
        self.nonces = [0] * len(keys)
        self.turn = 0

    def sign(self, count: int) -> list[bytes]:
        raws = []
        for _ in range(count):
            i = self.turn % len(self.keys)
            self.turn += 1
            raws.append(transfer(self.keys[i], self.nonces[i], os.urandom(20), 1))
            self.nonces[i] += 1
        return raws


async def post_batch(session: aiohttp.ClientSession, url: str, raws: list[bytes]) -> list[str]:
    body = [{"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": ["0x" + raw.hex()]}
            for i, raw in enumerate(raws)]
    async with session.post(url, json=body) as response:
        answers = await response.json()
    errors = [answer["error"]["message"] for answer in answers if "error" in answer]
    if errors:
        raise RuntimeError(f"{len(errors)} transfers refused, e.g. {errors[0]}")
    return [answer["result"] for answer in answers]


class FinalityWatch:
    """Polls validator-1 for new blocks and notes when each transaction hash became final."""

    def __init__(self, session: aiohttp.ClientSession, url: str, start: int) -> None:
        self.session = session
        self.url = url
        self.next = start + 1
        self.final_at: dict[str, float] = {}

    async def call(self, method: str, *params):
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        async with self.session.post(self.url, json=body) as response:
            return (await response.json())["result"]

    async def poll(self) -> None:
        head = int(await self.call("eth_blockNumber"), 16)
        now = time.monotonic()
        while self.next <= head:
            block = await self.call("eth_getBlockByNumber", hex(self.next), False)
            for tx_hash in block["transactions"]:
                self.final_at[tx_hash] = now
            self.next += 1

    async def follow(self) -> None:
        """Poll until cancelled, so that blocks made while transfers are still being posted get their time."""
        while True:
            await self.poll()
            await asyncio.sleep(POLL_S)

    async def until(self, hashes: list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            await self.poll()
            if all(h in self.final_at for h in hashes):
                return
            await asyncio.sleep(POLL_S)
        missing = sum(1 for h in hashes if h not in self.final_at)
        raise RuntimeError(f"{missing} of {len(hashes)} transfers not final after {timeout}s")


async def fund_senders(devnet: Devnet, faucet: bytes, count: int) -> list[bytes]:
    keys = [os.urandom(32) for _ in range(count)]
    url = devnet.validators[0].rpc_url
    async with aiohttp.ClientSession() as session:
        watch = FinalityWatch(session, url, int(rpc_call(url, "eth_blockNumber"), 16))
        hashes = await post_batch(session, url, [transfer(faucet, i, private_key_to_address(k), 10**8)
                                                 for i, k in enumerate(keys)])
        await watch.until(hashes, 60)
    return keys


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report_cpu(devnet: Devnet, before: list[float], load_before: float, transactions: int) -> None:
    """CPU each validator process (and the load generator) spent per finalized transaction, and the ceilings that
    gives: on this machine's cores, and with a core for each validator."""
    spent = [cpu_seconds(node.process.pid) - start for node, start in zip(devnet.validators, before)]
    per_tx_ms = [1000 * seconds / transactions for seconds in spent]
    load_ms = 1000 * (time.process_time() - load_before) / transactions
    print("saturation: CPU per finalized transaction, each validator process: "
          + ", ".join(f"{ms:.2f} ms" for ms in per_tx_ms) + f", the load generator {load_ms:.2f} ms; "
          f"{os.cpu_count()} cores shared by all of them allow at most "
          f"{os.cpu_count() * 1000 / (sum(per_tx_ms) + load_ms):.0f} tx/s, a core for each validator about "
          f"{1000 / max(per_tx_ms):.0f} tx/s")


async def saturation(devnet: Devnet, senders: Senders, total: int) -> float:
    raws = senders.sign(total)
    urls = [node.rpc_url for node in devnet.validators]
    async with aiohttp.ClientSession() as session:
        watch = FinalityWatch(session, urls[0], int(rpc_call(urls[0], "eth_blockNumber"), 16))
        cpu_before = [cpu_seconds(node.process.pid) for node in devnet.validators]
        load_before = time.process_time()
        started = time.monotonic()
        batches = [raws[i:i + BATCH] for i in range(0, len(raws), BATCH)]
        posters = len(urls) * POSTS_IN_FLIGHT

        async def poster(index: int) -> list[str]:
            """Posts every `posters`-th batch, each after the previous one was answered."""
            url, answered = urls[index % len(urls)], []
            for batch in batches[index::posters]:
                answered += await post_batch(session, url, batch)
            return answered

        following = asyncio.create_task(watch.follow())
        try:
            hashes = [h for answer in await asyncio.gather(*(poster(i) for i in range(posters))) for h in answer]
        finally:
            following.cancel()
        posted_at = time.monotonic()
        await watch.until(hashes, 600)
        last = max(watch.final_at[h] for h in hashes)
    report_cpu(devnet, cpu_before, load_before, total)
    elapsed = last - started
    backlog = sum(1 for h in hashes if watch.final_at[h] > posted_at)
    print(f"saturation: {total} transfers posted in {posted_at - started:.1f}s, all final after {elapsed:.1f}s: "
          f"{total / elapsed:.0f} finalized tx/s")
    if backlog and last > posted_at:
        print(f"saturation: the {backlog} transfers still pending when posting ended (admitted everywhere, no new "
              f"ones arriving) became final at {backlog / (last - posted_at):.0f} tx/s")
    return total / elapsed


async def latency(devnet: Devnet, senders: Senders, rate: int, seconds: float) -> tuple[float, float]:
    ticks_per_s = 10
    per_tick = max(1, rate // ticks_per_s)
    ticks = int(seconds * ticks_per_s)
    raws = senders.sign(per_tick * ticks)
    urls = [node.rpc_url for node in devnet.validators]
    submitted: dict[str, float] = {}
    async with aiohttp.ClientSession() as session:
        watch = FinalityWatch(session, urls[0], int(rpc_call(urls[0], "eth_blockNumber"), 16))

        async def poller() -> None:
            while True:
                await watch.poll()
                await asyncio.sleep(POLL_S)

        async def post(url: str, batch: list[bytes]) -> None:
            sent_at = time.monotonic()
            for tx_hash in await post_batch(session, url, batch):
                submitted[tx_hash] = sent_at

        polling = asyncio.create_task(poller())
        start = time.monotonic()
        posts = []
        for tick in range(ticks):  # a batch every tick, not waiting for earlier answers: a steady offered rate
            await asyncio.sleep(max(0.0, start + tick / ticks_per_s - time.monotonic()))
            batch = raws[tick * per_tick:(tick + 1) * per_tick]
            posts.append(asyncio.create_task(post(urls[tick % len(urls)], batch)))
        await asyncio.gather(*posts)
        achieved = len(submitted) / (time.monotonic() - start)
        polling.cancel()
        await watch.until(list(submitted), 300)
    latencies = sorted(watch.final_at[h] - t for h, t in submitted.items())
    p50 = statistics.median(latencies)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(f"latency: {len(latencies)} transfers at {achieved:.0f} tx/s offered: p50 {p50:.2f}s, p95 {p95:.2f}s, "
          f"max {latencies[-1]:.2f}s")
    return p50, p95


def build_chain(datadir: Path, keys: list[bytes], faucet: bytes, blocks: int, txs_per_block: int) -> None:
    """Append `blocks` sealed blocks (real seals of a quorum of `keys`) to the chain in `datadir`."""
    node = Node(ChainStore(datadir / "chain"))
    try:
        ordered = sorted(keys, key=private_key_to_address)
        quorum = (2 * len(keys) + 2) // 3
        nonce = node.account_nonce(private_key_to_address(faucet))
        for _ in range(blocks):
            for _ in range(txs_per_block):
                node.submit_transaction(transfer(faucet, nonce, os.urandom(20), 1))
                nonce += 1
            number = node.head.number + 1
            proposer = ordered[number % len(ordered)]
            executed = node.build_block(private_key_to_address(proposer), timestamp=node.head.timestamp)
            header = executed.block.header
            signers = [ordered[(number + i) % len(ordered)] for i in range(quorum)]
            seals = tuple(sign_commit_seal(key, header.hash, 0) for key in signers)
            node.commit(with_seals(header, 0, seals))
    finally:
        node.close()


def observer_sync(directory: Path, blocks: int, txs_per_block: int, base_port: int) -> float:
    """Seconds per block for a fresh observer to sync `blocks` blocks from one validator process."""
    new_network(4, directory, observers=1, block_period_ms=250, empty_block_period_s=3600)
    devnet = prepare_devnet(directory, 4, 1, base_port)
    password = read_password(directory / "password")
    keys = [load_keystore(node.keystore, password) for node in devnet.validators]
    faucet = load_keystore(directory / "keys" / "faucet.json", password)
    server, observer = devnet.validators[0], devnet.observers[0]
    started = time.monotonic()
    build_chain(server.datadir, keys, faucet, blocks, txs_per_block)
    print(f"sync: built {blocks} blocks of {txs_per_block} transfers in {time.monotonic() - started:.1f}s")
    try:
        server.start().wait_ready()
        observer.start().wait_ready()
        started = time.monotonic()
        deadline = started + 3600
        while int(rpc_call(observer.rpc_url, "eth_blockNumber"), 16) < blocks:
            if time.monotonic() > deadline:
                raise RuntimeError("observer did not sync within an hour")
            time.sleep(0.2)
        elapsed = time.monotonic() - started
    finally:
        devnet.stop()
    rate = blocks / elapsed
    print(f"sync: a new observer synced {blocks} blocks in {elapsed:.1f}s ({rate:.0f} blocks/s, seals checked and "
          f"blocks re-executed); 100,000 such blocks would take ~{100_000 / rate / 60:.0f} min at this rate")
    return rate


async def load_phases(directory: Path, args: argparse.Namespace) -> tuple[float, float, float]:
    new_network(4, directory, block_period_ms=args.block_period_ms, empty_block_period_s=30)
    devnet = prepare_devnet(directory, 4, 0, args.base_port)
    if not args.indexer:
        for node in devnet.nodes:
            (node.datadir / "api.json").write_text(json.dumps({"indexer": False}))
    faucet = load_keystore(directory / "keys" / "faucet.json", read_password(directory / "password"))
    try:
        for node in devnet.nodes:
            node.start()
        for node in devnet.nodes:
            node.wait_ready()
        senders = Senders(await fund_senders(devnet, faucet, SENDERS))
        tps = await saturation(devnet, senders, args.txs)
        p50, p95 = await latency(devnet, senders, args.rate, args.seconds)
    finally:
        devnet.stop()
    return tps, p50, p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--txs", type=int, default=20_000, help="transfers in the saturation phase")
    parser.add_argument("--rate", type=int, default=500, help="offered tx/s in the latency phase")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the latency phase")
    parser.add_argument("--blocks", type=int, default=2_000, help="blocks for the observer to sync")
    parser.add_argument("--sync-txs", type=int, default=5, help="transfers per block of the synced chain")
    parser.add_argument("--block-period-ms", type=int, default=250)
    parser.add_argument("--base-port", type=int, default=23_500)
    parser.add_argument("--no-indexer", dest="indexer", action="store_false",
                        help="validators without their read model (the indexer)")
    parser.add_argument("--dir", type=Path, default=None, help="keep the devnets here (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-devnet-") as temp:
        root = args.dir or Path(temp)
        tps, p50, p95 = asyncio.run(load_phases(root / "load", args))
        sync_rate = observer_sync(root / "sync", args.blocks, args.sync_txs, args.base_port + 20)
    print(f"devnet: {tps:.0f} finalized tx/s, p95 {p95:.2f} s at {args.rate} tx/s, "
          f"observer sync {sync_rate:.0f} blocks/s ({'with' if args.indexer else 'without'} validators' indexers)")


if __name__ == "__main__":
    main()
