"""Genesis block 0: the initial state (contracts, roles, balances) and its header."""

from __future__ import annotations

from collections.abc import Callable

from consensus.seals import BftExtraData
from contracts_py import participants, ruble
from contracts_py.catalog import CONTRACTS, code_marker
from contracts_py.participants import ROLE_BY_NAME, Role
from contracts_py.runtime import ContractStorage, GasMeter
from genesis.config import Genesis
from node.blocks import EMPTY_ROOT, Block, Header
from node.crypto import keccak256
from node.state import Account, State

ZERO_HASH = bytes(32)
EMPTY_BLOOM = bytes(256)


def genesis_state(genesis: Genesis, read_node: Callable[[bytes], bytes | None]) -> State:
    """The state before block 1, written the same way on every node."""
    state = State(read_node, EMPTY_ROOT)
    for address, contract in sorted(CONTRACTS.items()):
        state.set_account(address, Account(code_hash=keccak256(code_marker(contract))))
    unmetered = GasMeter(1 << 62)
    roles = ContractStorage(state, participants.ADDRESS, unmetered)
    for validator in genesis.validators:
        participants.grant_at_genesis(roles, validator, Role.VALIDATOR)
    for participant in genesis.participants:
        for role_name in participant.roles:
            participants.grant_at_genesis(roles, participant.address, ROLE_BY_NAME[role_name])
    money = ContractStorage(state, ruble.ADDRESS, unmetered)
    for address, amount in genesis.rub_balances:
        ruble.credit_at_genesis(money, address, amount)
    for address, amount in genesis.native_balances:
        state.set_account(address, Account(balance=amount))
    state.compute_state_root()
    return state


def genesis_block(genesis: Genesis, state_root: bytes) -> Block:
    extra = BftExtraData(vanity=bytes(32), validators=genesis.validators, vote=None, round=0, commit_seals=())
    header = Header(
        parent_hash=ZERO_HASH, number=0, timestamp=genesis.timestamp, proposer=bytes(20), state_root=state_root,
        transactions_root=EMPTY_ROOT, receipts_root=EMPTY_ROOT, logs_bloom=EMPTY_BLOOM,
        gas_limit=genesis.gas_limit, gas_used=0, extra_data=extra.encode(),
    )
    return Block(header, ())
