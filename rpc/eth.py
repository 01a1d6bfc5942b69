"""The Ethereum JSON-RPC methods of a node (the `eth_`, `net_` and `web3_` namespaces)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from contracts_py.catalog import code_marker
from node.blocks import Header
from node.crypto import keccak256
from node.exceptions import InvalidTransaction, MissingBlock
from node.service import Node
from node.transactions import intrinsic_gas
from rpc.formats import (
    block_json,
    block_outline_json,
    data,
    log_json,
    parse_address,
    parse_data,
    parse_quantity,
    quantity,
    receipt_json,
    transaction_json,
)
from rpc.jsonrpc import EXECUTION_REVERTED, SERVER_ERROR, Dispatcher, RpcError, invalid_params

if TYPE_CHECKING:
    from node.bft.sync import SyncProgress

CLIENT_VERSION = "EnergyLedger/v0.1.0/python"
MAX_LOG_BLOCK_RANGE = 10_000
MAX_LOGS = 10_000


class EthApi:
    """Answers Ethereum RPC from a node. `on_transaction` tells block production that work arrived;
    `sync_progress` says how far behind its peers a networked node is (None: not behind)."""

    def __init__(self, node: Node, on_transaction: Callable[[], None] = lambda: None,
                 sync_progress: Callable[[], SyncProgress | None] = lambda: None) -> None:
        self.node = node
        self.on_transaction = on_transaction
        self.sync_progress = sync_progress

    def register(self, dispatcher: Dispatcher) -> None:
        for name in dir(self):
            if name.startswith(("eth_", "net_", "web3_")):
                dispatcher.register(name, getattr(self, name))

    # --- helpers -------------------------------------------------------------------------------------------
    def _header(self, tag: Any) -> Header:
        """A block by tag, number or EIP-1898 object; every final block is 'safe' and 'finalized' here."""
        if isinstance(tag, dict):
            if "blockHash" in tag:
                return self._header_by_hash(parse_data(tag["blockHash"], "blockHash", 32))
            tag = tag.get("blockNumber", "latest")
        if tag in ("latest", "pending", "safe", "finalized", None):
            return self.node.head
        if tag == "earliest":
            return self.node.store.header_by_number(0)
        number = parse_quantity(tag, "block")
        try:
            return self.node.store.header_by_number(number)
        except MissingBlock:
            raise RpcError(SERVER_ERROR, f"header not found: block {number}") from None

    def _header_by_hash(self, block_hash: bytes) -> Header:
        try:
            return self.node.store.header_by_hash(block_hash)
        except MissingBlock:
            raise RpcError(SERVER_ERROR, "header not found") from None

    def _call_args(self, call: Any) -> tuple[bytes, bytes, bytes, int | None]:
        if not isinstance(call, dict):
            raise invalid_params("call object expected")
        if not call.get("to"):
            raise invalid_params("to is required: contracts are native, there is no contract creation")
        to = parse_address(call["to"], "to")
        sender = parse_address(call["from"], "from") if call.get("from") else bytes(20)
        payload = call.get("input", call.get("data", "0x"))
        gas = parse_quantity(call["gas"], "gas") if call.get("gas") else None
        return to, sender, parse_data(payload, "input"), gas

    # --- web3 / net ----------------------------------------------------------------------------------------
    def web3_clientVersion(self) -> str:
        return CLIENT_VERSION

    def web3_sha3(self, value: str) -> str:
        return data(keccak256(parse_data(value, "data")))

    def net_version(self) -> str:
        return str(self.node.rules.chain_id)

    def net_listening(self) -> bool:
        return True

    # --- chain ---------------------------------------------------------------------------------------------
    def eth_chainId(self) -> str:
        return quantity(self.node.rules.chain_id)

    def eth_blockNumber(self) -> str:
        return quantity(self.node.head.number)

    def eth_gasPrice(self) -> str:
        return "0x0"

    def eth_maxPriorityFeePerGas(self) -> str:
        return "0x0"

    def eth_syncing(self) -> dict | bool:
        """Ethereum's object while the node is behind the highest head its peers report, false otherwise."""
        progress = self.sync_progress()
        if progress is None:
            return False
        return {"startingBlock": quantity(progress.starting_block), "currentBlock": quantity(progress.current_block),
                "highestBlock": quantity(progress.highest_block)}

    def eth_accounts(self) -> list:
        return []

    def eth_getBlockByNumber(self, tag: Any, full: bool = False) -> dict | None:
        try:
            header = self._header(tag)
        except RpcError:
            return None
        return self._block_json(header.hash, bool(full))

    def eth_getBlockByHash(self, block_hash: str, full: bool = False) -> dict | None:
        try:
            return self._block_json(parse_data(block_hash, "blockHash", 32), bool(full))
        except MissingBlock:
            return None

    def _block_json(self, block_hash: bytes, full: bool) -> dict:
        if full:
            return block_json(self.node.store.block_by_hash(block_hash))
        return block_outline_json(*self.node.store.block_outline(block_hash))

    def eth_getBlockTransactionCountByNumber(self, tag: Any) -> str:
        return quantity(len(self.node.store.block_by_hash(self._header(tag).hash).transactions))

    def eth_getTransactionByHash(self, tx_hash: str) -> dict | None:
        wanted = parse_data(tx_hash, "transactionHash", 32)
        location = self.node.store.transaction_location(wanted)
        if location is None:
            pending = self.node.mempool.get(wanted)
            return transaction_json(pending, None, None) if pending else None
        number, index = location
        block = self.node.store.block_by_number(number)
        return transaction_json(block.transactions[index], block.header, index)

    def eth_getTransactionReceipt(self, tx_hash: str) -> dict | None:
        found = self.node.store.transaction_receipt(parse_data(tx_hash, "transactionHash", 32))
        if found is None:
            return None
        number, index, first_log, receipt = found
        block = self.node.store.block_by_number(number)
        return receipt_json(block.header, block.transactions[index], index, receipt, first_log)

    def eth_getTransactionCount(self, address: str, tag: Any = "latest") -> str:
        who = parse_address(address)
        if tag == "pending":
            return quantity(self.node.pending_nonce(who))
        return quantity(self.node.state_at(self._header(tag)).get_account(who).nonce)

    def eth_getBalance(self, address: str, tag: Any = "latest") -> str:
        return quantity(self.node.state_at(self._header(tag)).get_account(parse_address(address)).balance)

    def eth_getCode(self, address: str, tag: Any = "latest") -> str:
        self._header(tag)
        contract = self.node.contracts.get(parse_address(address))
        return data(code_marker(contract)) if contract else "0x"

    # --- transactions --------------------------------------------------------------------------------------
    def eth_sendRawTransaction(self, raw: str) -> str:
        try:
            tx = self.node.submit_transaction(parse_data(raw, "transaction"))
        except InvalidTransaction as exc:
            raise RpcError(SERVER_ERROR, str(exc)) from None
        self.on_transaction()
        return data(tx.hash)

    def eth_call(self, call: Any, tag: Any = "latest") -> str:
        to, sender, payload, gas = self._call_args(call)
        result = self.node.call(to, payload, sender, gas, self._header(tag))
        if not result.success:
            raise RpcError(EXECUTION_REVERTED, f"execution reverted: {result.revert_reason}",
                           data(result.return_data))
        return data(result.return_data)

    def eth_estimateGas(self, call: Any, tag: Any = "latest") -> str:
        to, sender, payload, gas = self._call_args(call)
        if to not in self.node.contracts:
            if payload:
                raise RpcError(EXECUTION_REVERTED, f"execution reverted: no contract at 0x{to.hex()}")
            return quantity(intrinsic_gas(b""))
        result = self.node.call(to, payload, sender, gas, self._header(tag))
        if not result.success:
            raise RpcError(EXECUTION_REVERTED, f"execution reverted: {result.revert_reason}",
                           data(result.return_data))
        return quantity(intrinsic_gas(payload) + result.gas_used)

    # --- logs ----------------------------------------------------------------------------------------------
    async def eth_getLogs(self, criteria: Any) -> list[dict]:
        if not isinstance(criteria, dict):
            raise invalid_params("filter object expected")
        return await asyncio.to_thread(self.find_logs, criteria)

    def find_logs(self, criteria: dict) -> list[dict]:
        """Logs matching an Ethereum filter object (addresses, topic positions with OR-lists, block range)."""
        if "blockHash" in criteria:
            start = end = self._header_by_hash(parse_data(criteria["blockHash"], "blockHash", 32)).number
        else:
            start = self._header(criteria.get("fromBlock", "latest")).number
            end = self._header(criteria.get("toBlock", "latest")).number
        if end < start:
            return []
        if end - start > MAX_LOG_BLOCK_RANGE:
            raise RpcError(SERVER_ERROR, f"block range larger than {MAX_LOG_BLOCK_RANGE}")
        addresses = criteria.get("address")
        if isinstance(addresses, str):
            addresses = [addresses]
        wanted_addresses = {parse_address(a) for a in addresses} if addresses else None
        topics = [_topic_set(t) for t in criteria.get("topics") or []]
        found: list[dict] = []
        for number in range(start, end + 1):
            header = self.node.store.header_by_number(number)
            if header.logs_bloom == bytes(256):
                continue
            block = self.node.store.block_by_hash(header.hash)
            log_index = 0
            for tx_index, receipt in enumerate(self.node.receipts_of(header.hash)):
                for log in receipt.logs:
                    if _matches(log, wanted_addresses, topics):
                        found.append(log_json(log, header, block.transactions[tx_index], tx_index, log_index))
                        if len(found) > MAX_LOGS:
                            raise RpcError(SERVER_ERROR, f"query returned more than {MAX_LOGS} results")
                    log_index += 1
        return found


def _topic_set(entry: Any) -> set[bytes] | None:
    if entry is None:
        return None
    if isinstance(entry, str):
        return {parse_data(entry, "topic", 32)}
    if isinstance(entry, list):
        return {parse_data(t, "topic", 32) for t in entry} if entry else None
    raise invalid_params("topics entries must be null, a topic or a list of topics")


def _matches(log, addresses: set[bytes] | None, topics: list[set[bytes] | None]) -> bool:
    if addresses is not None and log.address not in addresses:
        return False
    if len(topics) > len(log.topics):
        return False
    return all(wanted is None or log.topics[i] in wanted for i, wanted in enumerate(topics))
