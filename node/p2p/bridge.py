"""Calls between the node's asyncio loop and the network thread's trio loop.

py-libp2p 0.8.1 runs on trio only (under anyio's asyncio backend it fails inside `trio.open_nursery`), so the
network lives in a thread running `trio.run`. Both loops are single-threaded; the only ways across are
`TrioToken.run_sync_soon` (into trio) and `loop.call_soon_threadsafe` (into asyncio). Every result that crosses
travels in an asyncio future or a trio event; futures still pending when the trio thread ends fail with
`NetworkClosed`, so no caller waits forever.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import trio

from .errors import NetworkClosed

logger = logging.getLogger(__name__)

T = TypeVar("T")


class ThreadBridge:
    """The asyncio loop, and once the network thread is up its trio token and task nursery."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._token: trio.lowlevel.TrioToken | None = None
        self._nursery: trio.Nursery | None = None
        self._pending: set[asyncio.Future[Any]] = set()

    @property
    def running(self) -> bool:
        """Whether the trio loop is up and accepting calls."""
        return self._token is not None

    # --- called in the trio thread -------------------------------------------------------------------------

    def bind_trio(self, nursery: trio.Nursery) -> None:
        """Register the running trio loop; tasks started from asyncio go into `nursery`."""
        self._token = trio.lowlevel.current_trio_token()
        self._nursery = nursery

    def unbind_trio(self) -> None:
        """The trio loop is ending: refuse new calls and fail the pending ones."""
        self._token = None
        self._nursery = None
        self.notify_asyncio(self._fail_pending)

    def notify_asyncio(self, fn: Callable[..., object], *args: object) -> None:
        """Run `fn(*args)` on the asyncio loop soon; dropped if that loop is already closed."""
        try:
            self.loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:
            logger.debug("asyncio loop closed; dropped a call to %s", fn)

    async def run_in_asyncio(self, coro_fn: Callable[..., Awaitable[T]], *args: object) -> T:
        """Await `coro_fn(*args)` on the asyncio loop from a trio task; trio cancellation cancels it."""
        try:
            future = asyncio.run_coroutine_threadsafe(coro_fn(*args), self.loop)
        except RuntimeError as exc:
            raise NetworkClosed("the asyncio loop is closed") from exc
        token = trio.lowlevel.current_trio_token()
        done = trio.Event()

        def wake(_: concurrent.futures.Future[T]) -> None:
            try:
                token.run_sync_soon(done.set)
            except trio.RunFinishedError:
                pass

        future.add_done_callback(wake)
        try:
            await done.wait()
        except BaseException:  # trio.Cancelled is a BaseException: stop the coroutine too
            future.cancel()
            raise
        return future.result()

    # --- called on the asyncio loop ------------------------------------------------------------------------

    def notify_trio(self, fn: Callable[..., object], *args: object) -> None:
        """Run a quick synchronous `fn(*args)` in the trio thread soon, if it is still running.

        An exception escaping a `run_sync_soon` callback would crash the trio loop, so it is logged instead.
        """
        token = self._token
        if token is None:
            return

        def guarded() -> None:
            try:
                fn(*args)
            except Exception:
                logger.exception("network thread callback %s failed", fn)

        try:
            token.run_sync_soon(guarded)
        except trio.RunFinishedError:
            pass

    async def call_in_trio(self, fn: Callable[..., T], *args: object) -> T:
        """Run a quick synchronous `fn(*args)` in the trio thread and return its result or exception."""
        future = self._new_future()

        def job() -> None:
            try:
                result = fn(*args)
            except Exception as exc:
                self.notify_asyncio(settle, future, None, exc)
            else:
                self.notify_asyncio(settle, future, result, None)

        self._submit(job)
        return await future

    async def run_in_trio(self, afn: Callable[..., Awaitable[T]], *args: object) -> T:
        """Await `afn(*args)` as a trio task; cancelling the caller cancels the task."""
        future = self._new_future()
        scopes: list[trio.CancelScope] = []

        async def task() -> None:
            with trio.CancelScope() as scope:
                scopes.append(scope)
                try:
                    result = await afn(*args)
                except trio.Cancelled:
                    self.notify_asyncio(settle, future, None, NetworkClosed("network task cancelled"))
                    raise
                except Exception as exc:
                    self.notify_asyncio(settle, future, None, exc)
                else:
                    self.notify_asyncio(settle, future, result, None)

        def start() -> None:
            nursery = self._nursery
            try:
                if nursery is None:
                    raise RuntimeError("no nursery")
                nursery.start_soon(task)
            except RuntimeError:  # the nursery is closing: the network is shutting down
                self.notify_asyncio(settle, future, None, NetworkClosed("network thread stopped"))

        self._submit(start)
        try:
            return await future
        except asyncio.CancelledError:
            for scope in scopes:
                self.notify_trio(scope.cancel)
            raise

    def _new_future(self) -> asyncio.Future[Any]:
        future = self.loop.create_future()
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return future

    def _submit(self, job: Callable[[], None]) -> None:
        token = self._token
        if token is None:
            raise NetworkClosed("network thread is not running")
        try:
            token.run_sync_soon(job)
        except trio.RunFinishedError as exc:
            raise NetworkClosed("network thread stopped") from exc

    def _fail_pending(self) -> None:
        for future in list(self._pending):
            settle(future, None, NetworkClosed("network thread stopped"))


def settle(future: asyncio.Future[Any], result: object, exc: BaseException | None) -> None:
    """Complete an asyncio future unless it is already done (cancelled by its waiter); asyncio thread only."""
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)


_CLOSED = object()


class Inbox(Generic[T]):
    """Items from the trio thread to asyncio consumers, with at most `capacity` not yet taken.

    When the node falls behind, `put` waits in trio, so the stream readers stop reading and the muxer's flow
    control slows the sending peer, instead of a queue growing without bound.
    """

    def __init__(self, bridge: ThreadBridge, capacity: int) -> None:
        self._bridge = bridge
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._credit = trio.Semaphore(capacity)

    async def put(self, item: T) -> None:
        """Trio side: wait for room, then hand the item to asyncio."""
        await self._credit.acquire()
        self._bridge.notify_asyncio(self._queue.put_nowait, item)

    def close(self) -> None:
        """Trio side: consumers get NetworkClosed once the items before this are taken."""
        self._bridge.notify_asyncio(self._queue.put_nowait, _CLOSED)

    async def get(self) -> T:
        """Asyncio side: the next item; NetworkClosed after close."""
        item = await self._queue.get()
        if item is _CLOSED:
            self._queue.put_nowait(_CLOSED)  # keep every other consumer informed too
            raise NetworkClosed("network closed")
        self._bridge.notify_trio(self._credit.release)
        return item
