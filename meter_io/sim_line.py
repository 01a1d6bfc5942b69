"""Pseudo-terminal pairs that virtual meters answer on, served by one background thread, with fault injection.

Each meter gets its own pty pair: the driver opens the slave path like a real /dev/ttyUSB0, the simulator
reads requests from the master end and writes answers back. Faults (silence, noise, wrong checksums) are
applied to the answers here, the same way for every protocol.
"""
from __future__ import annotations

import logging
import os
import selectors
import threading
import tty
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass
class FaultPlan:
    """Faults a test switches on for one meter; counters decrease as answers are sent."""

    silent: bool = False
    """Answer nothing at all (unpowered meter, cut line)."""
    corrupt_answers: int = 0
    """The next N answers carry a wrong checksum."""
    garbage_answers: int = 0
    """The next N answers are replaced by noise bytes."""
    noise_before_answers: int = 0
    """The next N answers are preceded by `noise`."""
    noise: bytes = b"\x00\xff\x13\x7e\x01\x55"
    """Line noise used by the two faults above."""

    def shape(self, answer: bytes, corrupt) -> bytes:
        """The bytes actually put on the line for `answer` after the planned faults."""
        if self.silent:
            return b""
        if self.garbage_answers > 0:
            self.garbage_answers -= 1
            return self.noise
        if self.corrupt_answers > 0:
            self.corrupt_answers -= 1
            answer = corrupt(answer)
        if self.noise_before_answers > 0:
            self.noise_before_answers -= 1
            answer = self.noise + answer
        return answer


class Session:
    """One virtual meter's protocol endpoint; subclasses parse requests and build answers."""

    faults: FaultPlan

    def feed(self, data: bytes) -> list[bytes]:
        """Take bytes from the line, return the complete answers they trigger (protocol bytes)."""
        raise NotImplementedError

    def corrupt(self, answer: bytes) -> bytes:
        """`answer` with its checksum spoiled; by default the last byte (most protocols end in it)."""
        return answer[:-1] + bytes([answer[-1] ^ 0x5A])

    def encode_line(self, data: bytes) -> bytes:
        """Line encoding applied last (e.g. software parity); identity by default."""
        return data


class PtyServer:
    """Serves sessions on pty pairs from one thread until `stop()`."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._wake_read, self._wake_write = os.pipe()
        self._selector.register(self._wake_read, selectors.EVENT_READ, None)
        self._fds: list[int] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="meter-simulator", daemon=True)

    def add(self, sessions: list[Session]) -> str:
        """Open a pty pair shared by `sessions` (one meter, or several on one RS-485 bus); returns its path.

        Every session sees every request, as every meter on a bus does; each answers only its own address.
        """
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line editing, before any driver opens it
        os.set_blocking(master, False)
        self._fds += [master, slave]  # keep the slave open so the master never sees EIO between drivers
        self._selector.register(master, selectors.EVENT_READ, list(sessions))
        return os.ttyname(slave)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close every pty; idempotent."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        os.write(self._wake_write, b"x")
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._selector.close()
        for fd in self._fds + [self._wake_read, self._wake_write]:
            os.close(fd)

    def _serve(self) -> None:
        while not self._stopping.is_set():
            for key, _ in self._selector.select(timeout=1.0):
                if key.data is None:
                    continue
                try:
                    data = os.read(key.fd, 4096)
                except (BlockingIOError, OSError):
                    continue
                for session in key.data:
                    self._answer(key.fd, session, data)

    @staticmethod
    def _answer(fd: int, session: Session, data: bytes) -> None:
        try:
            answers = session.feed(data)
        except Exception:  # noqa: BLE001 - a request the simulated meter cannot parse
            log.exception("simulated meter dropped an unparsable request")
            return
        for answer in answers:
            shaped = session.faults.shape(answer, session.corrupt)
            if shaped:
                _write_all(fd, session.encode_line(shaped))


def _write_all(fd: int, data: bytes) -> None:
    """Write everything to a non-blocking master; bounded, a pty buffer drains as the driver reads."""
    for _ in range(1000):
        try:
            written = os.write(fd, data)
        except BlockingIOError:
            threading.Event().wait(0.001)
            continue
        except OSError:
            return
        data = data[written:]
        if not data:
            return
