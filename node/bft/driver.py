"""The asyncio side of QBFT: feeds the engine messages, timers and imported blocks, and carries out its actions.

Every engine call (and the block building, validation and commits it causes) runs on one worker thread, in the
order the inputs arrived, so the asyncio loop keeps serving RPC and the network while a block executes.

Block period. The proposer of round 0 builds no sooner than the block period after the previous height started
here: blocks come at most once a period, and a chain under load, whose heights already take longer than the period,
proposes as soon as the parent is final instead of idling a period on every block.

Idle chains. Empty blocks are valid only at the empty-block period (`block_source`). Once the block period is over,
the proposer waits for transactions or for the moment an empty block becomes valid, whichever comes first.
Every node starts its round-0 timeout only once it expects a block too (it holds transactions, which gossip brings
to every validator, or an empty block is due): an idle network waits quietly instead of changing rounds over and
over. If the proposer lacks the transactions the others hold, their round-0 timeout fires and the next proposer,
who holds them, takes over. Later rounds are timed as the engine says.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

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
from consensus.messages import InvalidMessage, Message, decode_message
from consensus.qbft import QbftEngine
from node.bft.block_source import NodeBlockSource, empty_block_allowed_at, has_ready_transactions
from node.blocks import Block, with_seals
from node.exceptions import InvalidBlock
from node.service import Node

log = logging.getLogger("energy.qbft")

INPUT_QUEUE = 10_000
"""Inputs (messages, timer events) waiting for the engine; beyond this, messages are dropped (logged)."""
IDLE_POLL_S = 1.0
READY_CHECK_S = 0.05
"""Least time between two checks for ready transactions while waiting for work (each takes the node's lock)."""
WARN_REASONS = ("sender is not a validator", "future message from a non-validator", "invalid block",
                "invalid commit seal", "commit seal signed by another", "unjustified")
"""Rejections that mean a faulty or hostile validator (logged as warnings); the rest are the network's normal
late, repeated or early messages (debug)."""


class QbftDriver:
    """Runs a `QbftEngine` for `node` over a transport with a `broadcast(payload)` method."""

    def __init__(
        self,
        node: Node,
        private_key: bytes,
        source: NodeBlockSource,
        broadcast: Callable[[bytes], None],
        config: QbftConfig,
        behind: Callable[[int], None] = lambda height: None,
    ) -> None:
        """`behind(height)` is called when a message shows the network deciding a height well past ours."""
        self.node = node
        self.source = source
        self.engine = QbftEngine(private_key, source, config)
        self.work = asyncio.Event()
        """Set when transactions arrive: wakes a proposer or a timer waiting for work."""
        self._broadcast = broadcast
        self._behind = behind
        self._inputs: asyncio.Queue[tuple[str, object]] = asyncio.Queue(INPUT_QUEUE)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="qbft")
        self._timers: dict[asyncio.Task[None], int] = {}
        self._height_started: dict[int, float] = {}
        """Monotonic time at which this node started the current and the previous height."""

    # ---- inputs (on the loop) ----

    def on_payload(self, sender: bytes, payload: bytes) -> None:
        """A consensus message from a validator's direct stream."""
        self._put(("payload", (sender, payload)))

    def on_imported(self) -> None:
        """Sync committed blocks: move the engine to the height after the head."""
        self._put(("imported", None))

    def notify_transaction(self) -> None:
        self.work.set()

    def _put(self, item: tuple[str, object]) -> None:
        try:
            self._inputs.put_nowait(item)
        except asyncio.QueueFull:
            log.warning("consensus input queue full (%d): %s dropped", INPUT_QUEUE, item[0])

    # ---- the loop ----

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            actions = await loop.run_in_executor(self._executor, self._start)
            await self._execute(actions)
            while True:
                kind, value = await self._inputs.get()
                try:
                    actions = await loop.run_in_executor(self._executor, self._step, kind, value)
                    await self._execute(actions)
                except Exception:  # one failed input (a commit the store refused, say) must not stop consensus
                    log.exception("consensus step failed on %s; going on (sync fills any gap)", kind)
        finally:
            for task in self._timers:
                task.cancel()
            self._executor.shutdown(wait=False, cancel_futures=True)

    def _start(self) -> list[Action]:
        with self.node.lock:
            head = self.node.head.number
            validators = self.node.validator_snapshot().validators
        return self.engine.start_height(head + 1, validators)

    def _step(self, kind: str, value: object) -> list[Action]:
        """One input through the engine (worker thread)."""
        if kind == "timer":
            return self.engine.on_timer(value)
        if kind == "imported":
            with self.node.lock:
                head = self.node.head.number
                validators = self.node.validator_snapshot().validators
            if self.engine.height is not None and head < self.engine.height:
                return []
            self.source.forget()
            return self.engine.on_block_imported(head, validators)
        sender, payload = value
        try:
            message = decode_message(payload)
        except InvalidMessage as exc:
            log.warning("invalid consensus message from 0x%s ignored: %s", sender.hex(), exc)
            return []
        if message.sender != sender:
            log.debug("message by 0x%s relayed by 0x%s", message.sender.hex(), sender.hex())
        self._check_behind(message)
        return self.engine.on_message(message)

    def _check_behind(self, message: Message) -> None:
        height = self.engine.height
        if height is not None and message.body.height > height + 1:
            self._behind(message.body.height)

    async def _execute(self, actions: list[Action]) -> None:
        loop = asyncio.get_running_loop()
        while actions:
            action, actions = actions[0], actions[1:]
            if isinstance(action, Broadcast):
                self._broadcast(action.message.wire)
            elif isinstance(action, ScheduleTimer):
                self._schedule(action)
            elif isinstance(action, Decision):
                more = await loop.run_in_executor(self._executor, self._commit, action)
                actions = more + actions
            elif isinstance(action, Equivocation):
                log.warning("equivocation by 0x%s at height %d round %d: %r and %r", action.sender.hex(),
                            action.first.body.height, action.first.body.round, action.first.body,
                            action.second.body)
            elif isinstance(action, Rejected):
                level = logging.WARNING if action.reason.startswith(WARN_REASONS) else logging.DEBUG
                log.log(level, "consensus message from 0x%s ignored: %s", action.message.sender.hex(), action.reason)

    def _commit(self, decision: Decision) -> list[Action]:
        """Seal and commit a decided block (worker thread), then start the next height."""
        with self.node.lock:
            if self.node.head.number < decision.height:
                block = self.source.decoded(decision.block)
                sealed = with_seals(block.header, decision.round, decision.commit_seals)
                try:
                    committed = self.node.commit(sealed)
                except InvalidBlock:  # executed on another head (sync moved it): check and run it again
                    committed = self.node.import_final_block(Block(sealed, block.transactions))
                log.info("block %d final in round %d with %d transactions", committed.number, decision.round,
                         len(committed.transactions))
            head = self.node.head.number
            validators = self.node.validator_snapshot().validators
        self.source.forget()
        return self.engine.on_block_imported(head, validators)

    # ---- timers ----

    def _schedule(self, action: ScheduleTimer) -> None:
        event = action.event
        height = event.height
        for task in [task for task, task_height in self._timers.items() if task_height < height]:
            task.cancel()
            del self._timers[task]
        now = time.monotonic()
        if event.kind == TimerKind.ROUND_TIMEOUT and event.round == 0 and height not in self._height_started:
            self._height_started = {h: t for h, t in self._height_started.items() if h == height - 1}
            self._height_started[height] = now
        delay = timer_delay(event, action.delay_ms / 1000, self._height_started, now)
        task = asyncio.get_running_loop().create_task(self._fire(event, delay))
        self._timers[task] = height
        task.add_done_callback(lambda done: self._timers.pop(done, None))

    async def _fire(self, event: TimerEvent, delay: float) -> None:
        if event.kind == TimerKind.BLOCK_PERIOD:
            await asyncio.sleep(delay)
            await self._wait_for_work()
        elif event.kind == TimerKind.ROUND_TIMEOUT and event.round == 0:
            await self._wait_for_work()
            await asyncio.sleep(delay)
        else:
            await asyncio.sleep(delay)
        self._put(("timer", event))

    async def _wait_for_work(self) -> None:
        """Until transactions are ready for a block or an empty block is due (bounded by the empty-block period)."""
        while True:
            self.work.clear()
            remaining = empty_block_allowed_at(self.node) - time.time()
            if remaining <= 0 or await asyncio.to_thread(has_ready_transactions, self.node):
                return
            await asyncio.sleep(READY_CHECK_S)
            try:
                await asyncio.wait_for(self.work.wait(), timeout=min(remaining, IDLE_POLL_S))
            except TimeoutError:
                pass


def timer_delay(event: TimerEvent, delay: float, height_started: dict[int, float], now: float) -> float:
    """Seconds until `event` fires: `delay`, as the engine asks, except that the block period counts from when
    the previous height started (`height_started`, monotonic seconds by height), not from now."""
    if event.kind == TimerKind.BLOCK_PERIOD and event.height - 1 in height_started:
        return max(0.0, height_started[event.height - 1] + delay - now)
    return delay
