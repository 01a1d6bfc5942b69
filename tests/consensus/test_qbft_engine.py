"""The state machine step by step: a message or timer in, the actions out."""

from consensus.events import (
    Broadcast,
    Decision,
    Equivocation,
    QbftConfig,
    Rejected,
    ScheduleTimer,
    TimerEvent,
    TimerKind,
)
from consensus.memory_network import SimBlockSource
from consensus.messages import (
    Commit,
    Message,
    PreparedRound,
    Proposal,
    RoundChange,
    make_commit,
    make_prepare,
    make_proposal,
    make_round_change,
    sign,
)
from consensus.qbft import QbftEngine
from consensus.seals import verify_commit_seals
from node.crypto import private_key_to_address

KEYS_BY_ADDRESS = {private_key_to_address(bytes([n + 1]) * 32): bytes([n + 1]) * 32 for n in range(4)}
VALIDATORS = tuple(sorted(KEYS_BY_ADDRESS))
KEYS = [KEYS_BY_ADDRESS[address] for address in VALIDATORS]
CONFIG = QbftConfig(round_timeout_ms=1_000, max_round_timeout_ms=8_000, retransmit_ms=0)


def engine(index: int, height: int = 1, config: QbftConfig = CONFIG) -> QbftEngine:
    machine = QbftEngine(KEYS[index], SimBlockSource(VALIDATORS[index]), config)
    machine.start_height(height, VALIDATORS)
    return machine


def block(height: int, round_number: int, proposer: int) -> tuple[bytes, bytes]:
    return SimBlockSource(VALIDATORS[proposer]).build_block(height, round_number)


def proposal(height: int, round_number: int, proposer: int, built_by: int | None = None, **justification) -> Message:
    block_hash, payload = block(height, round_number, proposer if built_by is None else built_by)
    return make_proposal(KEYS[proposer], height, round_number, block_hash, payload, **justification)


def broadcasts(actions, kind=None):
    return [
        a.message for a in actions if isinstance(a, Broadcast) and (kind is None or isinstance(a.message.body, kind))
    ]


def reasons(actions):
    return [a.reason for a in actions if isinstance(a, Rejected)]


def prepared_round_change(sender: int, height: int, round_number: int, prepared_round: int, proposer: int):
    block_hash, payload = block(height, prepared_round, proposer)
    prepares = tuple(make_prepare(KEYS[i], height, prepared_round, block_hash).signed for i in range(3))
    prepared = PreparedRound(prepared_round, block_hash)
    return make_round_change(KEYS[sender], height, round_number, prepared, payload, prepares)


def test_round_zero_proposer_proposes_and_prepares_at_once():
    machine = QbftEngine(KEYS[1], SimBlockSource(VALIDATORS[1]), CONFIG)
    actions = machine.start_height(1, VALIDATORS)
    assert actions[0] == ScheduleTimer(TimerEvent(1, 0), 1_000)
    sent = broadcasts(actions)
    assert [type(m.body).__name__ for m in sent] == ["Proposal", "Prepare"]
    assert sent[0].body.block_hash == block(1, 0, 1)[0]


def test_block_period_delays_the_round_zero_proposal():
    config = QbftConfig(round_timeout_ms=1_000, block_period_ms=500)
    machine = QbftEngine(KEYS[1], SimBlockSource(VALIDATORS[1]), config)
    actions = machine.start_height(1, VALIDATORS)
    assert broadcasts(actions) == []
    assert ScheduleTimer(TimerEvent(1, 0, TimerKind.BLOCK_PERIOD), 500) in actions
    assert ScheduleTimer(TimerEvent(1, 0), 1_500) in actions
    assert broadcasts(machine.on_timer(TimerEvent(1, 0, TimerKind.BLOCK_PERIOD)), Proposal)


def test_prepare_quorum_commits_and_commit_quorum_decides():
    machine = engine(0)
    block_hash, payload = block(1, 0, 1)
    assert broadcasts(machine.on_message(proposal(1, 0, 1)))[0].body.block_hash == block_hash
    assert broadcasts(machine.on_message(make_prepare(KEYS[1], 1, 0, block_hash))) == []
    commits = broadcasts(machine.on_message(make_prepare(KEYS[2], 1, 0, block_hash)))
    assert commits[0].body.round == 0 and machine.state.prepared.block_hash == block_hash
    assert machine.on_message(make_commit(KEYS[1], 1, 0, block_hash)) == []
    [decision] = machine.on_message(make_commit(KEYS[2], 1, 0, block_hash))
    assert isinstance(decision, Decision)
    assert (decision.height, decision.round, decision.block_hash, decision.block) == (1, 0, block_hash, payload)
    assert set(verify_commit_seals(block_hash, 0, decision.commit_seals, VALIDATORS)) == set(VALIDATORS[:3])
    assert reasons(machine.on_message(make_commit(KEYS[3], 1, 0, block_hash))) == ["height already decided"]


def test_commits_arriving_before_the_proposal_decide_once_it_arrives():
    machine = engine(0)
    block_hash, _ = block(1, 0, 1)
    for index in (1, 2, 3):
        assert machine.on_message(make_commit(KEYS[index], 1, 0, block_hash)) == []
    actions = machine.on_message(proposal(1, 0, 1))
    assert [a.block_hash for a in actions if isinstance(a, Decision)] == [block_hash]


def test_proposal_from_wrong_proposer_is_rejected():
    assert reasons(engine(0).on_message(proposal(1, 0, 2))) == ["sender is not the proposer of this round"]


def test_message_from_non_validator_is_rejected():
    outsider = make_prepare(b"\x09" * 32, 1, 0, b"\x01" * 32)
    assert reasons(engine(0).on_message(outsider)) == ["sender is not a validator"]


def test_invalid_block_is_rejected_without_prepare():
    block_hash, payload = block(2, 0, 1)  # built for another height
    actions = engine(0).on_message(make_proposal(KEYS[1], 1, 0, block_hash, payload))
    assert broadcasts(actions) == [] and reasons(actions)[0].startswith("invalid block")


def test_block_hash_must_match_the_block():
    _, payload = block(1, 0, 1)
    actions = engine(0).on_message(make_proposal(KEYS[1], 1, 0, b"\x05" * 32, payload))
    assert reasons(actions) == ["block does not hash to the announced block hash"]


def test_commit_with_someone_elses_seal_is_rejected():
    block_hash, _ = block(1, 0, 1)
    forged = Message(sign(KEYS[1], make_commit(KEYS[2], 1, 0, block_hash).body))
    assert reasons(engine(0).on_message(forged)) == ["commit seal signed by another validator"]


def test_duplicate_is_ignored_but_a_second_different_message_is_equivocation():
    machine = engine(0)
    first = make_prepare(KEYS[2], 1, 0, b"\x01" * 32)
    machine.on_message(first)
    assert reasons(machine.on_message(first)) == ["duplicate"]
    [evidence] = machine.on_message(make_prepare(KEYS[2], 1, 0, b"\x02" * 32))
    assert isinstance(evidence, Equivocation) and evidence.sender == VALIDATORS[2]
    assert evidence.first == first.signed
    assert reasons(machine.on_message(make_prepare(KEYS[2], 1, 1, b"\x01" * 32))) == ["sender equivocated"]


def test_equivocator_is_shut_out_for_the_height_only():
    machine = engine(0)
    machine.on_message(make_prepare(KEYS[2], 1, 0, b"\x01" * 32))
    machine.on_message(make_prepare(KEYS[2], 1, 0, b"\x02" * 32))
    machine.on_block_imported(1, VALIDATORS)
    assert machine.on_message(make_prepare(KEYS[2], 2, 0, b"\x01" * 32)) == []


def test_timeouts_change_round_with_doubling_timer_up_to_the_cap():
    machine = engine(0)
    delays = []
    for round_number in range(5):
        actions = machine.on_timer(TimerEvent(1, round_number))
        [timer] = [a for a in actions if isinstance(a, ScheduleTimer)]
        delays.append(timer.delay_ms)
        [round_change] = broadcasts(actions)
        assert round_change.body == RoundChange(1, round_number + 1, None)
    assert delays == [2_000, 4_000, 8_000, 8_000, 8_000]


def test_own_messages_of_the_round_are_retransmitted_until_the_round_ends():
    config = QbftConfig(round_timeout_ms=1_000, retransmit_ms=300)
    machine = QbftEngine(KEYS[1], SimBlockSource(VALIDATORS[1]), config)
    sent = broadcasts(machine.start_height(1, VALIDATORS))
    retransmit = TimerEvent(1, 0, TimerKind.RETRANSMIT)
    actions = machine.on_timer(retransmit)
    assert broadcasts(actions) == sent
    assert ScheduleTimer(retransmit, 300) in actions
    machine.on_timer(TimerEvent(1, 0))
    assert machine.on_timer(retransmit) == []


def test_stale_timer_does_nothing():
    machine = engine(0)
    machine.on_timer(TimerEvent(1, 0))
    assert machine.on_timer(TimerEvent(1, 0)) == []
    assert machine.on_timer(TimerEvent(0, 1)) == []


def test_f_plus_one_later_round_changes_pull_a_validator_forward():
    machine = engine(0)
    assert machine.on_message(make_round_change(KEYS[1], 1, 5)) == []
    actions = machine.on_message(make_round_change(KEYS[2], 1, 3))
    assert machine.round == 3
    assert [m.body for m in broadcasts(actions)] == [RoundChange(1, 3, None)]


def test_new_proposer_proposes_with_a_quorum_of_round_changes():
    machine = engine(2)  # proposer of height 1, round 1
    machine.on_timer(TimerEvent(1, 0))
    assert broadcasts(machine.on_message(make_round_change(KEYS[0], 1, 1))) == []
    actions = machine.on_message(make_round_change(KEYS[1], 1, 1))
    [new_proposal] = broadcasts(actions, Proposal)
    assert new_proposal.body.block_hash == block(1, 1, 2)[0]
    assert {entry.sender for entry in new_proposal.round_changes} == set(VALIDATORS[:3])
    assert new_proposal.prepares == ()


def test_prepared_block_is_proposed_again_with_its_prepares():
    machine = engine(2)
    machine.on_timer(TimerEvent(1, 0))
    machine.on_message(make_round_change(KEYS[0], 1, 1))
    actions = machine.on_message(prepared_round_change(1, 1, 1, prepared_round=0, proposer=1))
    [reproposal] = broadcasts(actions, Proposal)
    assert reproposal.body.block_hash == block(1, 0, 1)[0]
    assert len(reproposal.prepares) == 3


def test_proposal_that_ignores_a_prepared_block_is_unjustified():
    round_changes = (
        make_round_change(KEYS[0], 1, 1).signed,
        prepared_round_change(1, 1, 1, prepared_round=0, proposer=1).signed,
        make_round_change(KEYS[2], 1, 1).signed,
    )
    fresh = proposal(1, 1, 2, round_changes=round_changes)
    [reason] = reasons(engine(3).on_message(fresh))
    assert reason.startswith("unjustified proposal: proposal is not the block prepared")


def test_later_round_proposal_without_round_changes_is_unjustified():
    [reason] = reasons(engine(0).on_message(proposal(1, 1, 2)))
    assert reason.startswith("unjustified proposal")


def test_justified_proposal_for_a_later_round_moves_the_validator_there():
    round_changes = tuple(make_round_change(KEYS[i], 1, 2).signed for i in (0, 1, 2))
    machine = engine(0)
    actions = machine.on_message(proposal(1, 2, 3, round_changes=round_changes))
    assert machine.round == 2
    assert [m.body.round for m in broadcasts(actions)] == [2]


def test_round_change_with_too_few_prepares_is_unjustified():
    full = prepared_round_change(1, 1, 1, prepared_round=0, proposer=1)
    short = Message(full.signed, full.block, (), full.prepares[:2])
    [reason] = reasons(engine(0).on_message(short))
    assert reason.startswith("unjustified round change")


def test_future_height_is_buffered_and_replayed_when_it_starts():
    machine = engine(0)
    assert machine.on_message(proposal(2, 0, 2)) == []
    actions = machine.start_height(2, VALIDATORS)
    assert [m.body.height for m in broadcasts(actions)] == [2]


def test_far_future_height_and_old_height_are_rejected():
    machine = engine(0, height=5)
    assert reasons(machine.on_message(proposal(4, 0, 0))) == ["old height"]
    assert reasons(machine.on_message(proposal(50, 0, 2))) == ["height too far ahead"]


def test_imported_block_starts_the_next_height_unless_already_past_it():
    machine = engine(0)
    machine.on_block_imported(1, VALIDATORS)
    assert machine.height == 2
    assert machine.on_block_imported(1, VALIDATORS) == []
    assert machine.height == 2


def test_old_round_proposal_still_supplies_the_block_for_a_commit_quorum():
    machine = engine(0)
    machine.on_timer(TimerEvent(1, 0))  # now in round 1
    block_hash, _ = block(1, 0, 1)
    for index in (1, 2, 3):
        machine.on_message(make_commit(KEYS[index], 1, 0, block_hash))
    actions = machine.on_message(proposal(1, 0, 1))
    assert [(a.round, a.block_hash) for a in actions if isinstance(a, Decision)] == [(0, block_hash)]
    assert broadcasts(actions) == []


def test_future_messages_from_strangers_are_not_buffered():
    stranger = make_prepare(b"\x09" * 32, 2, 0, b"\x01" * 32)
    assert reasons(engine(0).on_message(stranger)) == ["future message from a non-validator"]


def test_future_buffer_is_bounded():
    machine = QbftEngine(KEYS[0], SimBlockSource(VALIDATORS[0]), QbftConfig(max_future_messages=2))
    machine.start_height(1, VALIDATORS)
    for round_number in range(2):
        assert machine.on_message(make_prepare(KEYS[1], 2, round_number, b"\x01" * 32)) == []
    assert reasons(machine.on_message(make_prepare(KEYS[1], 2, 5, b"\x01" * 32))) == ["future message buffer full"]


def test_quorum_follows_the_validator_set_of_the_height():
    fifth = private_key_to_address(b"\x05" * 32)
    larger = tuple(sorted(VALIDATORS + (fifth,)))
    machine = QbftEngine(KEYS[0], SimBlockSource(VALIDATORS[0]), CONFIG)
    machine.start_height(1, larger)
    proposer = larger[(1 + 0) % 5]
    keys = {**KEYS_BY_ADDRESS, fifth: b"\x05" * 32}
    block_hash, payload = SimBlockSource(proposer).build_block(1, 0)
    machine.on_message(make_proposal(keys[proposer], 1, 0, block_hash, payload))
    others = [address for address in larger if address not in (VALIDATORS[0], proposer)]
    assert broadcasts(machine.on_message(make_prepare(keys[proposer], 1, 0, block_hash))) == []
    assert broadcasts(machine.on_message(make_prepare(keys[others[0]], 1, 0, block_hash))) == []
    assert broadcasts(machine.on_message(make_prepare(keys[others[1]], 1, 0, block_hash)), Commit)
