"""Single-node import benchmark: pre-signed reading transactions through decode, recover, execute and commit.

Senders are recovered in a process pool (--workers, default: every core) while blocks execute in the main one.

Builds a chain in a temporary LevelDB: a grid company registers meters (installed a day ago) bound to gateways,
then N pre-signed `postReading` transactions, one half-hour interval each, from the gateways, are imported in
blocks of --block-size: decoded and their senders recovered, admitted to the mempool, executed into a block,
sealed by the single validator and committed in one LevelDB batch. Prints where the time goes, the raw coincurve
recover rate measured in the same run, and the headline import rate on its last line.

    .venv/bin/python bench/import.py [--txs 20000] [--meters 2000] [--gateways 50] [--block-size 2000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import eth_abi
from coincurve import PrivateKey, PublicKey
from eth_hash.auto import keccak

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from consensus.seals import sign_commit_seal  # noqa: E402
from contracts_py import readings, registry  # noqa: E402
from genesis.config import Genesis, Participant  # noqa: E402
from node.blocks import with_seals  # noqa: E402
from node.crypto import private_key_to_address  # noqa: E402
from node.service import Node, init_datadir  # noqa: E402
from node.chain import ChainStore  # noqa: E402
from node.recovery import SenderRecovery  # noqa: E402
from node.transactions import sign_fee_market_transaction  # noqa: E402

CHAIN_ID = 7700
HALF_HOUR = 1800


def call(signature: str, *args) -> bytes:
    types = [t for t in signature[signature.index("(") + 1:-1].split(",") if t]
    return keccak(signature.encode())[:4] + eth_abi.encode(types, list(args))


class Chain:
    def __init__(self, directory: Path, validator_key: bytes, participants: list[Participant]) -> None:
        genesis = Genesis(chain_id=CHAIN_ID, timestamp=int(time.time()) - 3 * 86400,
                          validators=(private_key_to_address(validator_key),), observers=(), block_period_ms=1000,
                          empty_block_period_s=60, gas_limit=2_000_000_000, participants=tuple(participants),
                          rub_balances=())
        (directory / "genesis.json").write_bytes(genesis.encode())
        init_datadir(directory / "data", directory / "genesis.json")
        self.node = Node(ChainStore(directory / "data" / "chain"))
        self.key = validator_key
        self.address = private_key_to_address(validator_key)
        self.nonces: dict[bytes, int] = {}

    def sign(self, key: bytes, to: bytes, data: bytes) -> bytes:
        sender = private_key_to_address(key)
        nonce = self.nonces.get(sender, 0)
        self.nonces[sender] = nonce + 1
        return sign_fee_market_transaction(key, chain_id=CHAIN_ID, nonce=nonce, to=to, data=data, gas=2_000_000)

    def seal_and_commit(self, max_transactions: int) -> tuple[int, float, float]:
        """Build, seal and commit one block; returns (transactions, execute seconds, commit seconds)."""
        started = time.perf_counter()
        executed = self.node.build_block(self.address, max_transactions=max_transactions)
        built = time.perf_counter()
        header = executed.block.header
        self.node.commit(with_seals(header, 0, (sign_commit_seal(self.key, header.hash, 0),)))
        failed = [r.revert_reason for r in executed.output.receipts if not r.succeeded]
        if failed:
            raise SystemExit(f"{len(failed)} transactions failed, first: {failed[0]}")
        return len(executed.block.transactions), built - started, time.perf_counter() - built

    def import_all(self, raws: list[bytes], block_size: int) -> None:
        for raw in raws:
            self.node.submit_transaction(raw)
        while len(self.node.mempool):
            self.seal_and_commit(block_size)


def recover_rate(samples: int = 5000) -> float:
    key = PrivateKey(os.urandom(32))
    digest = keccak(b"x")
    signature = key.sign_recoverable(digest, hasher=None)
    started = time.perf_counter()
    for _ in range(samples):
        PublicKey.from_signature_and_message(signature, digest, hasher=None)
    return samples / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--txs", type=int, default=20_000)
    parser.add_argument("--meters", type=int, default=2_000)
    parser.add_argument("--gateways", type=int, default=50)
    parser.add_argument("--block-size", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="processes that recover senders")
    args = parser.parse_args()

    validator, grid, retailer = (os.urandom(32) for _ in range(3))
    gateways = [os.urandom(32) for _ in range(args.gateways)]
    participants = [Participant(private_key_to_address(grid), "grid", ("grid_company",)),
                    Participant(private_key_to_address(retailer), "retailer", ("retailer",))]
    participants += [Participant(private_key_to_address(g), f"gw{i}", ("gateway",)) for i, g in enumerate(gateways)]
    with tempfile.TemporaryDirectory() as tmp:
        chain = Chain(Path(tmp), validator, participants)
        installed = (int(time.time()) - 86_400) // HALF_HOUR * HALF_HOUR
        setup = [chain.sign(retailer, registry.ADDRESS, call(
            "saveAccount(uint64,uint64,uint64,address,string,uint8,uint64,uint64)", 1, 1, 1, bytes(19) + b"\x01",
            "Kazan", 1, 0, 0))]
        for meter in range(1, args.meters + 1):
            gateway = private_key_to_address(gateways[meter % args.gateways])
            setup += [
                chain.sign(grid, registry.ADDRESS, call("saveMeteringPoint(uint64,uint64,string,string)",
                                                        meter, 1, "Kazan", "")),
                chain.sign(grid, registry.ADDRESS, call(
                    "registerInstalledMeter(uint64,uint64,string,string,string,uint8,bool,bool,uint64,uint32,"
                    "uint256,uint256,uint64)", meter, meter, "Mercury 230", f"SN{meter}", "Kazan", 1, True, False,
                    15_000, 10_800, 1_000_000, 0, installed)),
                chain.sign(grid, registry.ADDRESS, call("bindGateway(uint64,address)", meter, gateway)),
            ]
        chain.import_all(setup, 5_000)
        print(f"setup: {args.meters} meters registered in {chain.node.head.number} blocks", file=sys.stderr)

        raws = []
        for i in range(args.txs):
            meter = i % args.meters + 1
            interval = installed + HALF_HOUR * (i // args.meters + 1)
            raws.append(chain.sign(gateways[meter % args.gateways], readings.ADDRESS, call(
                "postReading(uint64,uint64,uint256,uint256)", meter, interval,
                1_000_000 + 200 * (i // args.meters + 1), 0)))
        size = sum(map(len, raws)) // len(raws)

        recovery = SenderRecovery(args.workers)
        recovery.decode_many(raws[:10], CHAIN_ID)  # start the worker processes before timing
        started = time.perf_counter()
        cpu_started = time.process_time()
        execute_s = commit_s = 0.0
        imported = 0
        for chunk in recovery.decode_chunks(raws, CHAIN_ID, chain.node.rules.block_gas_limit):
            for tx in chunk:
                if isinstance(tx, str):
                    raise SystemExit(f"invalid transaction: {tx}")
                chain.node.admit(tx)
            if len(chain.node.mempool) >= args.block_size:
                count, execute, commit = chain.seal_and_commit(args.block_size)
                imported, execute_s, commit_s = imported + count, execute_s + execute, commit_s + commit
        while len(chain.node.mempool):
            count, execute, commit = chain.seal_and_commit(args.block_size)
            imported, execute_s, commit_s = imported + count, execute_s + execute, commit_s + commit
        recovery.close()
        total = time.perf_counter() - started
        print(f"transactions: {imported} of {size} bytes in {chain.node.head.number} blocks", file=sys.stderr)
        print(f"wall {total:.2f} s: execute+roots {execute_s:.2f} s, commit {commit_s:.2f} s, the rest decoding, "
              f"recovering (in {recovery.workers} processes) and admitting; main process CPU "
              f"{time.process_time() - cpu_started:.2f} s", file=sys.stderr)
        chain.node.close()
    print(f"import: {imported / total:.0f} tx/s, raw coincurve recover {recover_rate():.0f}/s")


if __name__ == "__main__":
    main()
