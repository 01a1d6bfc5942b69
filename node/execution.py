"""Executing transactions and blocks: pure functions over an explicit state, as in the execution specs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from contracts_py.runtime import BlockInfo, NativeContract, execute_call
from node.blocks import Block, Header, Receipt, merge_blooms, receipts_root, transactions_root
from node.exceptions import InsufficientFunds, InvalidBlock, InvalidTransaction, NonceGap, NonceTooLow
from node.state import Account, State
from node.transactions import Transaction, intrinsic_gas


@dataclass(frozen=True)
class ChainRules:
    """The parameters every node applies identically, from genesis."""

    chain_id: int
    block_gas_limit: int


@dataclass(frozen=True)
class BlockOutput:
    """What executing a block's transactions produced."""

    receipts: tuple[Receipt, ...]
    gas_used: int
    state_root: bytes
    transactions_root: bytes
    receipts_root: bytes
    logs_bloom: bytes


def check_nonce_and_funds(state: State, tx: Transaction) -> Account:
    """The sender's account, if `tx` can run next: its nonce is due and it can pay value plus the maximum fee."""
    account = state.get_account(tx.sender)
    if tx.nonce < account.nonce:
        raise NonceTooLow(f"nonce {tx.nonce} already used by 0x{tx.sender.hex()} (next is {account.nonce})")
    if tx.nonce > account.nonce:
        raise NonceGap(f"nonce {tx.nonce} is ahead of 0x{tx.sender.hex()}'s next nonce {account.nonce}")
    cost = tx.value + tx.gas * tx.max_fee_per_gas
    if account.balance < cost:
        raise InsufficientFunds(f"0x{tx.sender.hex()} has {account.balance}, needs {cost}")
    return account


def apply_transaction(
    state: State,
    contracts: Mapping[bytes, NativeContract],
    block: BlockInfo,
    tx: Transaction,
    cumulative_gas_used: int,
) -> Receipt:
    """Run one transaction. Invalid ones raise; a reverted call is a failed receipt that still used its nonce."""
    account = check_nonce_and_funds(state, tx)
    price = tx.effective_gas_price(0)
    state.set_account(tx.sender, Account(account.nonce + 1, account.balance - tx.gas * price,
                                         account.storage_root, account.code_hash))
    base_gas = intrinsic_gas(tx.data)
    state.begin_transaction()
    if tx.to in contracts:
        if tx.value:
            result_ok, call_gas, logs, reason = False, 0, (), "native contracts do not accept value"
        else:
            result = execute_call(contracts, state, block, to=tx.to, sender=tx.sender, data=tx.data,
                                  gas_limit=tx.gas - base_gas, tx_hash=tx.hash)
            result_ok, call_gas, logs, reason = result.success, result.gas_used, result.logs, result.revert_reason
    elif tx.data:
        result_ok, call_gas, logs, reason = False, 0, (), f"no contract at 0x{tx.to.hex()}"
    else:
        _transfer_value(state, tx.sender, tx.to, tx.value)
        result_ok, call_gas, logs, reason = True, 0, (), ""
    if result_ok:
        state.commit_transaction()
    else:
        state.rollback_transaction()
    gas_used = base_gas + call_gas
    if price:
        sender = state.get_account(tx.sender)
        state.set_account(tx.sender, Account(sender.nonce, sender.balance + (tx.gas - gas_used) * price,
                                             sender.storage_root, sender.code_hash))
        proposer = state.get_account(block.proposer)
        state.set_account(block.proposer, Account(proposer.nonce, proposer.balance + gas_used * price,
                                                  proposer.storage_root, proposer.code_hash))
    return Receipt(result_ok, cumulative_gas_used + gas_used, gas_used, tuple(logs), reason)


def _transfer_value(state: State, source: bytes, target: bytes, value: int) -> None:
    if not value or source == target:
        return
    sender = state.get_account(source)
    state.set_account(source, Account(sender.nonce, sender.balance - value, sender.storage_root, sender.code_hash))
    receiver = state.get_account(target)
    state.set_account(target, Account(receiver.nonce, receiver.balance + value, receiver.storage_root,
                                      receiver.code_hash))


def execute_transactions(
    state: State,
    contracts: Mapping[bytes, NativeContract],
    rules: ChainRules,
    block: BlockInfo,
    transactions: tuple[Transaction, ...] | list[Transaction],
) -> BlockOutput:
    """Apply a block's transactions in order and compute its roots. Raises InvalidBlock on an invalid one."""
    receipts: list[Receipt] = []
    gas_used = 0
    for index, tx in enumerate(transactions):
        if tx.chain_id != rules.chain_id:
            raise InvalidBlock(f"transaction {index} is for chain {tx.chain_id}")
        try:
            receipt = apply_transaction(state, contracts, block, tx, gas_used)
        except InvalidTransaction as exc:
            raise InvalidBlock(f"transaction {index} (0x{tx.hash.hex()}): {exc}") from exc
        gas_used = receipt.cumulative_gas_used
        if gas_used > rules.block_gas_limit:
            raise InvalidBlock(f"gas used {gas_used} exceeds the block gas limit {rules.block_gas_limit}")
        receipts.append(receipt)
    return block_output(state, transactions, receipts, gas_used)


def block_output(state: State, transactions: tuple[Transaction, ...] | list[Transaction],
                 receipts: list[Receipt], gas_used: int) -> BlockOutput:
    """Close a block: the state root (computed once, here) and the roots of its transactions and receipts."""
    return BlockOutput(
        receipts=tuple(receipts),
        gas_used=gas_used,
        state_root=state.compute_state_root(),
        transactions_root=transactions_root(transactions),
        receipts_root=receipts_root(receipts),
        logs_bloom=merge_blooms([r.bloom for r in receipts]),
    )


def block_info(header: Header, chain_id: int) -> BlockInfo:
    return BlockInfo(number=header.number, timestamp=header.timestamp, proposer=header.proposer,
                     chain_id=chain_id)


def validate_header_against_parent(header: Header, parent: Header, rules: ChainRules) -> None:
    """The header checks that need only the parent (not execution)."""
    if header.parent_hash != parent.hash:
        raise InvalidBlock(f"block {header.number}: parent hash does not match block {parent.number}")
    if header.number != parent.number + 1:
        raise InvalidBlock(f"block {header.number}: number does not follow parent {parent.number}")
    if header.timestamp < parent.timestamp:
        raise InvalidBlock(f"block {header.number}: timestamp {header.timestamp} before parent's {parent.timestamp}")
    if header.gas_limit != rules.block_gas_limit:
        raise InvalidBlock(f"block {header.number}: gas limit {header.gas_limit} != {rules.block_gas_limit}")


def state_transition(
    state: State,
    contracts: Mapping[bytes, NativeContract],
    rules: ChainRules,
    parent: Header,
    block: Block,
) -> BlockOutput:
    """Check a block against its parent and re-execute it; every root must match the header."""
    header = block.header
    validate_header_against_parent(header, parent, rules)
    output = execute_transactions(state, contracts, rules, block_info(header, rules.chain_id), block.transactions)
    for name, computed, claimed in (
        ("transactions root", output.transactions_root, header.transactions_root),
        ("receipts root", output.receipts_root, header.receipts_root),
        ("state root", output.state_root, header.state_root),
        ("logs bloom", output.logs_bloom, header.logs_bloom),
    ):
        if computed != claimed:
            raise InvalidBlock(f"block {header.number}: {name} 0x{computed.hex()[:16]}… != header 0x{claimed.hex()[:16]}…")
    if output.gas_used != header.gas_used:
        raise InvalidBlock(f"block {header.number}: gas used {output.gas_used} != header {header.gas_used}")
    return output
