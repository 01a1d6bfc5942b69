"""Length-prefixed frames on a libp2p stream: a 4-byte big-endian length, then that many bytes.

`INetStream.read(n)` in py-libp2p returns up to n bytes (whatever the muxer has buffered) and raises
`StreamEOF` at the end, so a reader keeps its own buffer and reads in large chunks. The length is checked against
the limit before any payload is buffered: a peer cannot make us allocate more than the limit.
"""

from __future__ import annotations

from libp2p.abc import INetStream
from libp2p.network.stream.exceptions import StreamEOF

from .errors import MalformedFrame, MessageTooLarge

LENGTH_PREFIX_BYTES = 4
READ_CHUNK_BYTES = 256 * 1024


def encode_frame(payload: bytes) -> bytes:
    """One frame: length prefix and payload."""
    return len(payload).to_bytes(LENGTH_PREFIX_BYTES, "big") + payload


class FrameReader:
    """Reads whole frames from one stream, never more than `max_size` bytes of payload each."""

    def __init__(self, stream: INetStream, max_size: int) -> None:
        self._stream = stream
        self._max_size = max_size
        self._buffer = bytearray()

    async def read_frame(self) -> bytes | None:
        """The next frame's payload; None at a clean end of stream (between frames).

        Raises MessageTooLarge for a length above the limit and MalformedFrame if the stream ends mid-frame.
        """
        if not await self._fill(LENGTH_PREFIX_BYTES):
            if self._buffer:
                raise MalformedFrame(f"stream ended inside a length prefix ({len(self._buffer)} bytes)")
            return None
        size = int.from_bytes(self._buffer[:LENGTH_PREFIX_BYTES], "big")
        if size > self._max_size:
            raise MessageTooLarge(size, self._max_size)
        if not await self._fill(LENGTH_PREFIX_BYTES + size):
            raise MalformedFrame(f"stream ended inside a frame of {size} bytes")
        payload = bytes(self._buffer[LENGTH_PREFIX_BYTES : LENGTH_PREFIX_BYTES + size])
        del self._buffer[: LENGTH_PREFIX_BYTES + size]
        return payload

    async def _fill(self, wanted: int) -> bool:
        """Read until `wanted` bytes are buffered; False if the stream ends first."""
        while len(self._buffer) < wanted:
            try:
                chunk = await self._stream.read(READ_CHUNK_BYTES)
            except StreamEOF:
                return False
            if not chunk:
                return False
            self._buffer += chunk
        return True
