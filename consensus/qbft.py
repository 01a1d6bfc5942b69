"""The QBFT state machine for one validator: messages and timer events in, actions out, no I/O.

One height at a time. The proposer of (height, round) proposes a block; validators that accept it broadcast PREPARE;
on a quorum of prepares they broadcast COMMIT with a commit seal; a quorum of commits for one (round, block) decides
the height. A round that does not decide times out (the timeout doubles each round) and validators broadcast
ROUND-CHANGE carrying their latest prepared block; f+1 round changes for later rounds pull a validator forward; the
next proposer, with a quorum of round changes, must re-propose the highest prepared block (see `justification`).

The caller executes the actions (broadcast, schedule a timer, commit a decided block, log evidence) and, once a
height is decided or imported from sync, starts the next height.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from consensus.abc import BlockSource
from consensus.events import (
    Action,
    Broadcast,
    Decision,
    Equivocation,
    QbftConfig,
    Rejected,
    ScheduleTimer,
    TimerEvent,
    TimerKind,
)
from consensus.justification import (
    PreparedCertificate,
    Unjustified,
    highest_prepared,
    justify_proposal,
    justify_round_change,
)
from consensus.messages import (
    Commit,
    Message,
    Prepare,
    Proposal,
    RoundChange,
    Signed,
    make_commit,
    make_prepare,
    make_proposal,
    make_round_change,
)
from consensus.seals import InvalidSeal, recover_seal_signer
from consensus.validators import max_faulty, proposer_for, quorum
from node.crypto import private_key_to_address


@dataclass
class HeightState:
    """Everything known about the height being decided."""

    height: int
    validators: tuple[bytes, ...]
    round: int = 0
    decided: bool = False
    accepted: dict[int, Proposal] = field(default_factory=dict)
    """The proposal accepted in each round."""
    blocks: dict[bytes, bytes] = field(default_factory=dict)
    """Validated blocks by hash, from proposals and round changes."""
    prepares: dict[tuple[int, bytes], dict[bytes, Signed]] = field(default_factory=dict)
    commits: dict[tuple[int, bytes], dict[bytes, bytes]] = field(default_factory=dict)
    """Commit seals by (round, block hash), then by signer."""
    round_changes: dict[int, dict[bytes, Message]] = field(default_factory=dict)
    seen: dict[tuple[type, int, bytes], Signed] = field(default_factory=dict)
    """The first valid message per (kind, round, sender), to tell duplicates from equivocation."""
    prepared: PreparedCertificate | None = None
    proposed_rounds: set[int] = field(default_factory=set)
    sent: dict[int, list[Message]] = field(default_factory=dict)
    """Our own broadcasts per round, for retransmission."""
    equivocators: set[bytes] = field(default_factory=set)
    """Validators caught signing two different messages for one (kind, round) at this height: ignored until the
    height ends. Only for the height, since an honest validator that crashed and restarted mid-round may sign
    again, and shutting it out for good could stall a network with no validator to spare."""
    committed_rounds: set[int] = field(default_factory=set)


class QbftEngine:
    """One validator's consensus: call the `on_*` and `start_height` methods, execute the returned actions."""

    def __init__(self, private_key: bytes, block_source: BlockSource, config: QbftConfig | None = None):
        self.private_key = private_key
        self.address = private_key_to_address(private_key)
        self.block_source = block_source
        self.config = config or QbftConfig()
        self.state: HeightState | None = None
        self.future: dict[int, list[Message]] = {}

    # ---- inputs ----

    def start_height(self, height: int, validators: tuple[bytes, ...]) -> list[Action]:
        """Begin deciding `height` with its validator set, then replay messages buffered for it."""
        self.state = HeightState(height, tuple(sorted(validators)))
        actions = self._enter_round(0, announce=False)
        if self._is_proposer(0):
            if self.config.block_period_ms > 0:
                event = TimerEvent(height, 0, TimerKind.BLOCK_PERIOD)
                actions.append(ScheduleTimer(event, self.config.block_period_ms))
            else:
                actions += self._propose(0)
        for buffered_height in sorted(self.future):
            if buffered_height <= height:
                for message in self.future.pop(buffered_height):
                    if buffered_height == height:
                        actions += self.on_message(message)
        return actions

    def on_block_imported(self, height: int, next_validators: tuple[bytes, ...]) -> list[Action]:
        """A block of `height` was committed from sync or by this node: move on to the next height, if behind."""
        if self.state is not None and height < self.state.height:
            return []
        return self.start_height(height + 1, next_validators)

    def on_timer(self, event: TimerEvent) -> list[Action]:
        state = self.state
        if state is None or state.decided or (event.height, event.round) != (state.height, state.round):
            return []
        if event.kind == TimerKind.BLOCK_PERIOD:
            return self._propose(event.round) if self._is_proposer(event.round) else []
        if event.kind == TimerKind.RETRANSMIT:
            resend: list[Action] = [Broadcast(message) for message in state.sent.get(state.round, [])]
            return resend + [ScheduleTimer(event, self._retransmit_ms(state.round))]
        return self._enter_round(state.round + 1, announce=True)

    def on_message(self, message: Message) -> list[Action]:
        """Handle an authenticated message from the network (decoded by `decode_message`)."""
        state = self.state
        body = message.body
        if state is None or body.height > state.height:
            return self._buffer(message)
        if body.height < state.height:
            return [Rejected("old height", message)]
        if message.sender in state.equivocators:
            return [Rejected("sender equivocated", message)]
        if state.decided:
            return [Rejected("height already decided", message)]
        if message.sender not in state.validators:
            return [Rejected("sender is not a validator", message)]
        if body.round > state.round + self.config.max_rounds_ahead:
            return [Rejected("round too far ahead", message)]
        key = (type(body), body.round, message.sender)
        earlier = state.seen.get(key)
        if earlier is not None:
            if earlier.body == body:
                return [Rejected("duplicate", message)]
            state.equivocators.add(message.sender)
            return [Equivocation(message.sender, earlier, message.signed)]
        if isinstance(body, Proposal):
            return self._on_proposal(message)
        if isinstance(body, Prepare):
            return self._on_prepare(message)
        if isinstance(body, Commit):
            return self._on_commit(message)
        return self._on_round_change(message)

    # ---- message steps ----

    def _on_proposal(self, message: Message) -> list[Action]:
        state = self.state
        body: Proposal = message.body
        if message.sender != proposer_for(state.validators, state.height, body.round):
            return [Rejected("sender is not the proposer of this round", message)]
        try:
            justify_proposal(message, state.validators)
        except Unjustified as exc:
            return [Rejected(f"unjustified proposal: {exc}", message)]
        reason = self._validate_block(message.block, body.block_hash)
        if reason:
            return [Rejected(reason, message)]
        state.seen[(Proposal, body.round, message.sender)] = message.signed
        state.blocks[body.block_hash] = message.block
        if body.round < state.round:
            return self._check_decided(body.block_hash)
        actions = self._enter_round(body.round, announce=False) if body.round > state.round else []
        return actions + self._accept_proposal(body)

    def _on_prepare(self, message: Message) -> list[Action]:
        state = self.state
        body: Prepare = message.body
        state.seen[(Prepare, body.round, message.sender)] = message.signed
        state.prepares.setdefault((body.round, body.block_hash), {})[message.sender] = message.signed
        return self._check_prepared()

    def _on_commit(self, message: Message) -> list[Action]:
        state = self.state
        body: Commit = message.body
        try:
            signer = recover_seal_signer(body.block_hash, body.round, body.commit_seal)
        except InvalidSeal as exc:
            return [Rejected(f"invalid commit seal: {exc}", message)]
        if signer != message.sender:
            return [Rejected("commit seal signed by another validator", message)]
        state.seen[(Commit, body.round, message.sender)] = message.signed
        state.commits.setdefault((body.round, body.block_hash), {})[message.sender] = body.commit_seal
        return self._check_decided(body.block_hash)

    def _on_round_change(self, message: Message) -> list[Action]:
        state = self.state
        body: RoundChange = message.body
        if body.round < state.round:
            return [Rejected("round change for a past round", message)]
        carried_hash = None
        if body.prepared is not None:
            reason = self._validate_block(message.block, body.prepared.block_hash)
            if reason:
                return [Rejected(reason, message)]
            carried_hash = body.prepared.block_hash
        try:
            justify_round_change(message, state.validators, carried_hash)
        except Unjustified as exc:
            return [Rejected(f"unjustified round change: {exc}", message)]
        state.seen[(RoundChange, body.round, message.sender)] = message.signed
        state.round_changes.setdefault(body.round, {})[message.sender] = message
        if carried_hash is not None:
            state.blocks[carried_hash] = message.block
        return self._check_round_skip() + self._check_proposal_due()

    # ---- state steps ----

    def _enter_round(self, round_number: int, announce: bool) -> list[Action]:
        """Move to `round_number` and start its timer; on a timeout or a skip, announce it with a round change."""
        state = self.state
        state.round = round_number
        timeout = TimerEvent(state.height, round_number)
        delay = self._round_timeout_ms(round_number) + (self.config.block_period_ms if round_number == 0 else 0)
        actions: list[Action] = [ScheduleTimer(timeout, delay)]
        if self.config.retransmit_ms > 0:
            retransmit = TimerEvent(state.height, round_number, TimerKind.RETRANSMIT)
            actions.append(ScheduleTimer(retransmit, self._retransmit_ms(round_number)))
        if announce and self._is_validator():
            prepared = state.prepared
            message = make_round_change(
                self.private_key,
                state.height,
                round_number,
                prepared.metadata if prepared else None,
                prepared.block if prepared else b"",
                prepared.prepares if prepared else (),
            )
            state.round_changes.setdefault(round_number, {})[self.address] = message
            actions.append(self._broadcast(message))
        return actions + self._check_proposal_due() + self._check_prepared()

    def _accept_proposal(self, proposal: Proposal) -> list[Action]:
        """Accept the round's proposal and prepare it."""
        state = self.state
        state.accepted[proposal.round] = proposal
        actions: list[Action] = []
        if self._is_validator():
            prepare = make_prepare(self.private_key, state.height, proposal.round, proposal.block_hash)
            state.prepares.setdefault((proposal.round, proposal.block_hash), {})[self.address] = prepare.signed
            actions.append(self._broadcast(prepare))
        return actions + self._check_prepared() + self._check_decided(proposal.block_hash)

    def _check_prepared(self) -> list[Action]:
        """On a quorum of prepares for the accepted proposal of this round: lock on it and commit."""
        state = self.state
        proposal = state.accepted.get(state.round)
        if proposal is None or state.round in state.committed_rounds or not self._is_validator():
            return []
        prepares = state.prepares.get((state.round, proposal.block_hash), {})
        if len(prepares) < quorum(len(state.validators)):
            return []
        state.committed_rounds.add(state.round)
        certificate = tuple(prepares[sender] for sender in sorted(prepares))
        block = state.blocks[proposal.block_hash]
        state.prepared = PreparedCertificate(state.round, proposal.block_hash, block, certificate)
        commit = make_commit(self.private_key, state.height, state.round, proposal.block_hash)
        state.commits.setdefault((state.round, proposal.block_hash), {})[self.address] = commit.body.commit_seal
        return [self._broadcast(commit)] + self._check_decided(proposal.block_hash)

    def _check_decided(self, block_hash: bytes) -> list[Action]:
        """A quorum of commit seals in one round for a block we hold decides the height."""
        state = self.state
        if state.decided or block_hash not in state.blocks:
            return []
        for (round_number, committed_hash), seals in sorted(state.commits.items()):
            if committed_hash == block_hash and len(seals) >= quorum(len(state.validators)):
                state.decided = True
                ordered = tuple(seals[signer] for signer in sorted(seals))
                return [Decision(state.height, round_number, block_hash, state.blocks[block_hash], ordered)]
        return []

    def _check_round_skip(self) -> list[Action]:
        """f+1 validators in later rounds means at least one honest one is: join the lowest of those rounds."""
        state = self.state
        latest: dict[bytes, int] = {}
        for round_number, messages in state.round_changes.items():
            if round_number > state.round:
                for sender in messages:
                    latest[sender] = max(round_number, latest.get(sender, round_number))
        needed = max_faulty(len(state.validators)) + 1
        if len(latest) < needed:
            return []
        target = sorted(latest.values(), reverse=True)[needed - 1]
        return self._enter_round(target, announce=True)

    def _check_proposal_due(self) -> list[Action]:
        """As proposer of a round after 0, propose once a quorum of round changes for it arrived."""
        state = self.state
        round_number = state.round
        if round_number == 0 or round_number in state.proposed_rounds or not self._is_proposer(round_number):
            return []
        if len(state.round_changes.get(round_number, {})) < quorum(len(state.validators)):
            return []
        return self._propose(round_number)

    def _propose(self, round_number: int) -> list[Action]:
        """Propose the highest prepared block reported in the round changes, or else a new block."""
        state = self.state
        if round_number in state.proposed_rounds:
            return []
        state.proposed_rounds.add(round_number)
        round_changes = state.round_changes.get(round_number, {}) if round_number > 0 else {}
        justification = tuple(round_changes[sender].signed for sender in sorted(round_changes))
        best = highest_prepared(justification)
        if best is None:
            block_hash, block = self.block_source.build_block(state.height, round_number)
            prepares: tuple[Signed, ...] = ()
        else:
            carrier = next(m for m in round_changes.values() if m.body.prepared == best)
            block_hash, block, prepares = best.block_hash, carrier.block, carrier.prepares
        proposal = make_proposal(
            self.private_key, state.height, round_number, block_hash, block, justification, prepares
        )
        state.blocks[block_hash] = block
        state.seen[(Proposal, round_number, self.address)] = proposal.signed
        return [self._broadcast(proposal)] + self._accept_proposal(proposal.body)

    # ---- helpers ----

    def _broadcast(self, message: Message) -> Broadcast:
        """Broadcast one of our own messages, remembering it for retransmission during its round."""
        self.state.sent.setdefault(message.body.round, []).append(message)
        return Broadcast(message)

    def _buffer(self, message: Message) -> list[Action]:
        """Keep a message for a later height, if it comes from a validator we know and fits the bounds.

        Only current validators' messages are kept, so strangers cannot fill the buffer; a validator that joins at
        the next height is heard once we get there, from its retransmissions.
        """
        height = message.body.height
        state = self.state
        if state is not None and height > state.height + self.config.max_future_heights:
            return [Rejected("height too far ahead", message)]
        if state is not None and message.sender not in state.validators:
            return [Rejected("future message from a non-validator", message)]
        if sum(len(messages) for messages in self.future.values()) >= self.config.max_future_messages:
            return [Rejected("future message buffer full", message)]
        self.future.setdefault(height, []).append(message)
        return []

    def _validate_block(self, block: bytes, expected_hash: bytes) -> str:
        """Empty if `block` is valid with `expected_hash`, else the reason.

        Any exception from the block source rejects the block: a validator must not vouch for a block it could not
        check, whatever the cause, and one bad block must not stop the consensus loop.
        """
        try:
            block_hash = self.block_source.validate_block(self.state.height, block)
        except Exception as exc:  # noqa: BLE001 - see docstring
            return f"invalid block: {type(exc).__name__}: {exc}"
        if block_hash != expected_hash:
            return "block does not hash to the announced block hash"
        return ""

    def _round_timeout_ms(self, round_number: int) -> int:
        if round_number >= 32:
            return self.config.max_round_timeout_ms
        return min(self.config.round_timeout_ms << round_number, self.config.max_round_timeout_ms)

    def _retransmit_ms(self, round_number: int) -> int:
        return max(self.config.retransmit_ms, self._round_timeout_ms(round_number) // 4)

    def _is_proposer(self, round_number: int) -> bool:
        state = self.state
        return self._is_validator() and proposer_for(state.validators, state.height, round_number) == self.address

    def _is_validator(self) -> bool:
        return self.address in self.state.validators

    @property
    def height(self) -> int | None:
        return self.state.height if self.state else None

    @property
    def round(self) -> int | None:
        return self.state.round if self.state else None
