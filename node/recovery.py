"""Decoding and sender recovery on every core: signatures are checked in worker processes while the main process
executes. Used where many transactions arrive at once (blocks from sync, gossip batches, benchmarks)."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

from node.exceptions import InvalidTransaction
from node.transactions import Transaction, decode_transaction

CHUNK = 256


def _decode_chunk(args: tuple[list[bytes], int, int | None]) -> list[Transaction | str]:
    raws, chain_id, gas_limit = args
    decoded: list[Transaction | str] = []
    for raw in raws:
        try:
            decoded.append(decode_transaction(raw, chain_id, gas_limit))
        except InvalidTransaction as exc:
            decoded.append(str(exc))
    return decoded


class SenderRecovery:
    """A pool of worker processes that decode raw transactions; results come back in order."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or max(1, (os.cpu_count() or 1))
        self._pool = ProcessPoolExecutor(self.workers) if self.workers > 1 else None

    def decode_many(self, raws: list[bytes], chain_id: int, gas_limit: int | None = None,
                    ) -> list[Transaction | str]:
        """Each raw transaction decoded, or the reason it is invalid, in input order."""
        return [item for chunk in self.decode_chunks(raws, chain_id, gas_limit) for item in chunk]

    def decode_chunks(self, raws: list[bytes], chain_id: int, gas_limit: int | None = None):
        """Decoded chunks in input order, as the workers finish them: the caller executes chunk k while the
        workers recover the senders of the chunks after it."""
        chunks = [(raws[i:i + CHUNK], chain_id, gas_limit) for i in range(0, len(raws), CHUNK)]
        if self._pool is None or len(chunks) == 1:
            return map(_decode_chunk, chunks)
        return self._pool.map(_decode_chunk, chunks)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
