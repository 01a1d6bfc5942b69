"""The `qbft_` JSON-RPC methods, with Hyperledger Besu's names and result shapes.

Votes are this node's: a validator puts one pending vote into each block it builds (see `node.bft.votes`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from consensus.validators import signer_metrics
from node.bft.votes import PendingVotes
from node.blocks import Header
from node.exceptions import MissingBlock
from node.service import Node
from rpc.formats import parse_address, parse_quantity, quantity
from rpc.jsonrpc import SERVER_ERROR, Dispatcher, RpcError, invalid_params

DEFAULT_METRICS_BLOCKS = 100
"""Besu's default range of `qbft_getSignerMetrics`: the last 100 blocks."""
MAX_METRICS_BLOCKS = 100_000


class QbftApi:
    """Answers `qbft_*`; `votes` is None on a node that does not run QBFT (a solo validator)."""

    def __init__(self, node: Node, votes: PendingVotes | None) -> None:
        self.node = node
        self.votes = votes

    def register(self, dispatcher: Dispatcher) -> None:
        for name in dir(self):
            if name.startswith("qbft_"):
                dispatcher.register(name, getattr(self, name))

    def _votes(self) -> PendingVotes:
        if self.votes is None:
            raise RpcError(SERVER_ERROR, "this node does not run QBFT, so it casts no votes")
        return self.votes

    def _header(self, tag: Any) -> Header:
        if tag in ("latest", "pending", "safe", "finalized", None):
            return self.node.head
        if tag == "earliest":
            return self.node.store.header_by_number(0)
        number = parse_quantity(tag, "block")
        try:
            return self.node.store.header_by_number(number)
        except MissingBlock:
            raise RpcError(SERVER_ERROR, f"header not found: block {number}") from None

    def qbft_proposeValidatorVote(self, address: str, add: Any) -> bool:
        if not isinstance(add, bool):
            raise invalid_params("the second parameter must be true (add) or false (remove)")
        self._votes().propose(parse_address(address), add)
        return True

    def qbft_discardValidatorVote(self, address: str) -> bool:
        self._votes().discard(parse_address(address))
        return True

    def qbft_getPendingVotes(self) -> dict[str, bool]:
        return {"0x" + candidate.hex(): add for candidate, add in sorted(self._votes().all().items())}

    def qbft_getValidatorsByBlockNumber(self, tag: Any) -> list[str]:
        """The validators of that block's height (those whose seals made it final)."""
        return ["0x" + address.hex() for address in self._header(tag).bft.validators]

    async def qbft_getSignerMetrics(self, from_tag: Any = None, to_tag: Any = "latest") -> list[dict[str, Any]]:
        return await asyncio.to_thread(self._signer_metrics, from_tag, to_tag)

    def _signer_metrics(self, from_tag: Any, to_tag: Any) -> list[dict[str, Any]]:
        last = self._header(to_tag)
        first = self._header(from_tag) if from_tag is not None else \
            self.node.store.header_by_number(max(0, last.number - DEFAULT_METRICS_BLOCKS))
        if first.number > last.number:
            raise invalid_params("fromBlockNumber is after toBlockNumber")
        if last.number - first.number > MAX_METRICS_BLOCKS:
            raise RpcError(SERVER_ERROR, f"block range larger than {MAX_METRICS_BLOCKS}")
        proposed = [(number, self.node.store.header_by_number(number).proposer)
                    for number in range(max(first.number, 1), last.number + 1)]
        metrics = signer_metrics(proposed, last.bft.validators)
        return [{"address": "0x" + metric.address.hex(),
                 "proposedBlockCount": quantity(metric.proposed_block_count),
                 "lastProposedBlockNumber": quantity(metric.last_proposed_block_number or 0)}
                for metric in metrics]
