"""Benchmark: how long after a validator has a block does an observer have it (real processes on 127.0.0.1).

A devnet of 4 validators and 1 observer makes a block each second (empty blocks at their 1 s period, so the
figure is the network's and not execution's). Both validator-1 and the observer are polled for their head every
5 ms; the lag of a block is when the observer first showed it minus when validator-1 first showed it.

    .venv/bin/python bench/observer_lag.py [--seconds 30]

Last line: `observer lag: median X ms, p95 Y ms over N blocks`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from genesis.generate import new_network  # noqa: E402
from node.devnet import prepare_devnet  # noqa: E402

POLL_S = 0.005


async def first_seen(session: aiohttp.ClientSession, url: str, until: float) -> dict[int, float]:
    """The moment each block number first showed as the node's head."""
    seen: dict[int, float] = {}
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}
    while time.monotonic() < until:
        async with session.post(url, json=body) as response:
            number = int((await response.json())["result"], 16)
        seen.setdefault(number, time.monotonic())
        await asyncio.sleep(POLL_S)
    return seen


async def measure(validator_url: str, observer_url: str, seconds: float) -> list[float]:
    until = time.monotonic() + seconds
    async with aiohttp.ClientSession() as session:
        validator, observer = await asyncio.gather(first_seen(session, validator_url, until),
                                                   first_seen(session, observer_url, until))
    first = min(validator)  # the head when polling began: its time is not a block's arrival
    return [observer[n] - validator[n] for n in validator if n > first and n in observer]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--base-port", type=int, default=24_500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-lag-") as temp:
        directory = Path(temp)
        new_network(4, directory, observers=1, block_period_ms=250, empty_block_period_s=1)
        devnet = prepare_devnet(directory, 4, 1, args.base_port)
        try:
            for node in devnet.nodes:
                node.start()
            for node in devnet.nodes:
                node.wait_ready()
            validator, observer = devnet.validators[0], devnet.observers[0]
            asyncio.run(measure(validator.rpc_url, observer.rpc_url, 5.0))  # let the observer catch up first
            lags = sorted(asyncio.run(measure(validator.rpc_url, observer.rpc_url, args.seconds)))
        finally:
            devnet.stop()
    if not lags:
        raise SystemExit("no block was seen by both nodes")
    p95 = lags[min(len(lags) - 1, int(0.95 * len(lags)))]
    print(f"observer lag: median {statistics.median(lags) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms "
          f"over {len(lags)} blocks")


if __name__ == "__main__":
    main()
