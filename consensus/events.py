"""What goes into and comes out of the QBFT state machine: configuration, timer events and actions.

The node executes the actions: `Broadcast` (send `message.wire` to every other validator), `ScheduleTimer` (call
`on_timer(event)` after `delay_ms`), `Decision` (seal and commit the block, then start the next height),
`Equivocation` (log the evidence), `Rejected` (log at debug level).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from consensus.messages import Message, Signed


@dataclass(frozen=True)
class QbftConfig:
    """Per-network timing and bounds (from genesis); durations in milliseconds."""

    round_timeout_ms: int = 2_000
    """Timeout of round 0; round r waits round_timeout_ms * 2**r, up to max_round_timeout_ms."""
    max_round_timeout_ms: int = 120_000
    block_period_ms: int = 0
    """How long the round-0 proposer waits before building its block; round 0's timeout runs this much longer."""
    max_future_heights: int = 8
    """Messages up to this many heights ahead are buffered; later ones are dropped."""
    max_future_messages: int = 4_096
    max_rounds_ahead: int = 1_000
    """Messages for rounds further ahead of ours are dropped."""
    retransmit_ms: int = 1_000
    """While a round lasts, a validator re-broadcasts its own messages of the round this often (0: never), so that
    a lost message delays a round instead of failing it; receivers drop the duplicates. In long rounds the interval
    stretches to a quarter of the round timeout, so a stalled network does not flood itself."""


class TimerKind(Enum):
    ROUND_TIMEOUT = "round-timeout"
    BLOCK_PERIOD = "block-period"
    RETRANSMIT = "retransmit"


@dataclass(frozen=True)
class TimerEvent:
    height: int
    round: int
    kind: TimerKind = TimerKind.ROUND_TIMEOUT


@dataclass(frozen=True)
class Broadcast:
    """Send `message.wire` (its encoding) to every other validator."""

    message: Message


@dataclass(frozen=True)
class ScheduleTimer:
    """Call `on_timer(event)` after `delay_ms`."""

    event: TimerEvent
    delay_ms: int


@dataclass(frozen=True)
class Decision:
    """The height is decided: the node puts `round` and `commit_seals` in the header's extra data and commits."""

    height: int
    round: int
    block_hash: bytes
    block: bytes
    commit_seals: tuple[bytes, ...]
    """A quorum of seals, ordered by signer address."""


@dataclass(frozen=True)
class Equivocation:
    """Evidence: `sender` signed two different messages of one kind for one (height, round)."""

    sender: bytes
    first: Signed
    second: Signed


@dataclass(frozen=True)
class Rejected:
    """A message ignored, and why (for logs and tests)."""

    reason: str
    message: Message


Action = Broadcast | ScheduleTimer | Decision | Equivocation | Rejected
