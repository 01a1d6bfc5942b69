"""Ethereum JSON-RPC encodings: hex quantities and data, blocks, transactions, receipts and logs."""

from __future__ import annotations

from typing import Any

from node.blocks import Block, Header, Receipt
from node.transactions import Transaction
from rpc.jsonrpc import invalid_params

EMPTY_UNCLES_HASH = "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347"


def quantity(value: int) -> str:
    return hex(value)


def data(value: bytes) -> str:
    return "0x" + value.hex()


def parse_quantity(value: Any, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if not isinstance(value, str) or not value.startswith("0x") or len(value) < 3:
        raise invalid_params(f"{name}: expected a hex quantity like 0x1a, got {value!r}")
    try:
        return int(value, 16)
    except ValueError:
        raise invalid_params(f"{name}: {value!r} is not hex") from None


def parse_data(value: Any, name: str, length: int | None = None) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise invalid_params(f"{name}: expected 0x-prefixed hex data, got {value!r}")
    try:
        raw = bytes.fromhex(value[2:])
    except ValueError:
        raise invalid_params(f"{name}: {value[:20]!r}... is not valid hex") from None
    if length is not None and len(raw) != length:
        raise invalid_params(f"{name}: expected {length} bytes, got {len(raw)}")
    return raw


def parse_address(value: Any, name: str = "address") -> bytes:
    return parse_data(value, name, 20)


def header_json(header: Header, size: int) -> dict[str, Any]:
    return {
        "number": quantity(header.number),
        "hash": data(header.hash),
        "parentHash": data(header.parent_hash),
        "nonce": "0x0000000000000000",
        "mixHash": data(bytes(32)),
        "sha3Uncles": EMPTY_UNCLES_HASH,
        "logsBloom": data(header.logs_bloom),
        "transactionsRoot": data(header.transactions_root),
        "stateRoot": data(header.state_root),
        "receiptsRoot": data(header.receipts_root),
        "miner": data(header.proposer),
        "difficulty": "0x0",
        "totalDifficulty": "0x0",
        "extraData": data(header.extra_data),
        "size": quantity(size),
        "gasLimit": quantity(header.gas_limit),
        "gasUsed": quantity(header.gas_used),
        "timestamp": quantity(header.timestamp),
        "baseFeePerGas": "0x0",
        "uncles": [],
    }


def block_json(block: Block) -> dict[str, Any]:
    """A block with its transactions in full."""
    result = header_json(block.header, len(block.encode()))
    result["transactions"] = [transaction_json(tx, block.header, i) for i, tx in enumerate(block.transactions)]
    return result


def block_outline_json(header: Header, size: int, transaction_hashes: tuple[bytes, ...]) -> dict[str, Any]:
    """A block with its transactions as hashes."""
    result = header_json(header, size)
    result["transactions"] = [data(tx_hash) for tx_hash in transaction_hashes]
    return result


def transaction_json(tx: Transaction, header: Header | None, index: int | None) -> dict[str, Any]:
    result = {
        "hash": data(tx.hash),
        "type": quantity(tx.kind),
        "nonce": quantity(tx.nonce),
        "from": data(tx.sender),
        "to": data(tx.to),
        "value": quantity(tx.value),
        "gas": quantity(tx.gas),
        "gasPrice": quantity(tx.effective_gas_price(0)),
        "input": data(tx.data),
        "chainId": quantity(tx.chain_id),
        "v": quantity(tx.v),
        "r": quantity(tx.r),
        "s": quantity(tx.s),
        "blockHash": data(header.hash) if header else None,
        "blockNumber": quantity(header.number) if header else None,
        "transactionIndex": quantity(index) if index is not None else None,
    }
    if tx.kind == 2:
        result.update({
            "maxFeePerGas": quantity(tx.max_fee_per_gas),
            "maxPriorityFeePerGas": quantity(tx.max_priority_fee_per_gas),
            "accessList": [],
            "yParity": quantity(tx.y_parity),
        })
    return result


def log_json(log, header: Header, tx: Transaction, tx_index: int, log_index: int) -> dict[str, Any]:
    return {
        "address": data(log.address),
        "topics": [data(topic) for topic in log.topics],
        "data": data(log.data),
        "blockNumber": quantity(header.number),
        "blockHash": data(header.hash),
        "transactionHash": data(tx.hash),
        "transactionIndex": quantity(tx_index),
        "logIndex": quantity(log_index),
        "removed": False,
    }


def receipt_json(header: Header, tx: Transaction, index: int, receipt: Receipt, first_log_index: int,
                 ) -> dict[str, Any]:
    """A transaction's receipt; `first_log_index` is the block-wide index of its first log."""
    result = {
        "transactionHash": data(tx.hash),
        "transactionIndex": quantity(index),
        "blockHash": data(header.hash),
        "blockNumber": quantity(header.number),
        "from": data(tx.sender),
        "to": data(tx.to),
        "cumulativeGasUsed": quantity(receipt.cumulative_gas_used),
        "gasUsed": quantity(receipt.gas_used),
        "effectiveGasPrice": quantity(tx.effective_gas_price(0)),
        "contractAddress": None,
        "logs": [log_json(log, header, tx, index, first_log_index + i) for i, log in enumerate(receipt.logs)],
        "logsBloom": data(receipt.bloom),
        "status": "0x1" if receipt.succeeded else "0x0",
        "type": quantity(tx.kind),
    }
    if not receipt.succeeded:
        result["revertReason"] = receipt.revert_reason
    return result


def block_receipts_json(block: Block, receipts: tuple[Receipt, ...]) -> list[dict[str, Any]]:
    """Every receipt of a block, as eth_getBlockReceipts answers."""
    answers, first_log = [], 0
    for index, (tx, receipt) in enumerate(zip(block.transactions, receipts)):
        answers.append(receipt_json(block.header, tx, index, receipt, first_log))
        first_log += len(receipt.logs)
    return answers
