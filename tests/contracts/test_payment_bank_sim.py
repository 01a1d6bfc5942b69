"""The simulated bank's top-ups recorded on-chain: each once, whatever is resent."""

import pytest

from contracts_py import payments
from contracts_py.bank_sim import SimulatedBank, top_up_call_data
from contracts_py.catalog import CONTRACTS
from contracts_py.runtime import BlockInfo, execute_call
from test_billing_world import BANK, CONSUMER, NEIGHBOUR, World


def submit(world, call_data):
    block = BlockInfo(number=world.block, timestamp=world.now, proposer=bytes(20), chain_id=7)
    return execute_call(CONTRACTS, world.state, block, to=payments.ADDRESS, sender=BANK, data=call_data,
                        gas_limit=1_000_000)


def test_bank_statement_is_recorded_once_and_acknowledged():
    world, bank = World(), SimulatedBank()
    bank.receive(CONSUMER, 150_000, payments.Source.CARD)
    bank.receive(NEIGHBOUR, 99_900, payments.Source.CASH_DESK)
    pending = bank.unacknowledged(10)
    assert len(pending) == 2 and pending[0].reference != pending[1].reference
    for payment in pending:
        assert submit(world, top_up_call_data(payment)).success
    resent = submit(world, top_up_call_data(pending[0]))
    assert not resent.success and "already recorded" in resent.revert_reason
    bank.acknowledge(pending[0].reference)
    assert bank.unacknowledged(10) == pending[1:]
    assert world.balance(CONSUMER) == 150_000 and world.balance(NEIGHBOUR) == 99_900


def test_simulated_bank_refuses_what_a_bank_would_not_receive():
    bank = SimulatedBank()
    with pytest.raises(ValueError):
        bank.receive(CONSUMER, 0)
    with pytest.raises(ValueError):
        bank.receive(CONSUMER, 100, payments.Source.AUTO_DEBIT)
