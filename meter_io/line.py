"""Serial line plumbing shared by the drivers: opening a port, checksums, and receiving one frame by a deadline.

Every driver reads through `receive_frame`, which keeps reading until a frame extractor recognises a valid
frame anywhere in the buffer (so garbage before it is skipped) or the deadline passes. On the deadline it
tells silence (`MeterTimeout`) from noise (`FrameError`/`CrcError`), so retries and the final error say
what was wrong with the line.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, TypeVar

import serial

from meter_io.reading import CrcError, FrameError, MeterTimeout, MeterUnreachable

F = TypeVar("F")


@dataclass(frozen=True)
class LineSettings:
    """How to open a serial port; drivers default to the settings their protocol mandates."""

    baudrate: int = 9600
    bytesize: int = serial.EIGHTBITS
    parity: str = serial.PARITY_NONE
    stopbits: float = serial.STOPBITS_ONE
    timeout: float = 1.0
    """Seconds to wait for a complete answer to one request."""


def open_line(port: str, settings: LineSettings) -> serial.Serial:
    """Open `port` (a device path such as /dev/ttyUSB0 or a pty slave) with `settings`.

    A port that cannot be opened (adapter unplugged, no permission, framing the device refuses) makes
    every meter behind it unreachable: `MeterUnreachable`, not a pyserial exception.
    """
    try:
        return serial.Serial(port=port, baudrate=settings.baudrate, bytesize=settings.bytesize,
                             parity=settings.parity, stopbits=settings.stopbits, timeout=settings.timeout)
    except (serial.SerialException, ValueError) as error:
        raise MeterUnreachable(port, f"cannot open the line: {error}") from None


def crc16_modbus(data: bytes) -> int:
    """CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF), used by Modbus RTU and Mercury; sent low byte first."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def with_crc16(data: bytes) -> bytes:
    """`data` followed by its CRC-16/MODBUS, little-endian."""
    return data + crc16_modbus(data).to_bytes(2, "little")


def crc16_ok(frame: bytes) -> bool:
    """Whether the last two bytes of `frame` are the CRC-16/MODBUS of the rest."""
    return len(frame) > 2 and crc16_modbus(frame[:-2]) == int.from_bytes(frame[-2:], "little")


class NoFrameYet(Exception):
    """Raised by an extractor to say the buffer holds no complete valid frame; carries the diagnosis."""

    def __init__(self, suspect_crc: bool) -> None:
        super().__init__("no frame yet")
        self.suspect_crc = suspect_crc
        """True when a frame of the right shape is present but its checksum is wrong."""


def receive_frame(port: serial.Serial, meter: str, timeout: float,
                  extract: Callable[[bytes], F]) -> F:
    """Read from `port` until `extract(buffer)` returns a frame or `timeout` seconds pass.

    `extract` raises `NoFrameYet` while the buffer has no valid frame; other `MeterError`s it raises
    (a protocol error frame) pass through at once.
    """
    deadline = time.monotonic() + timeout
    buffer = b""
    suspect_crc = False
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        port.timeout = remaining
        try:
            chunk = port.read(max(1, port.in_waiting))
        except serial.SerialException as error:
            raise MeterUnreachable(meter, f"line failed: {error}") from None
        if not chunk:
            continue
        buffer += chunk
        try:
            return extract(buffer)
        except NoFrameYet as missing:
            suspect_crc = missing.suspect_crc
    if not buffer:
        raise MeterTimeout(meter, f"no answer within {timeout:g} s")
    if suspect_crc:
        raise CrcError(meter, f"checksum mismatch in answer {buffer.hex()}")
    raise FrameError(meter, f"no valid frame in {len(buffer)} bytes received: {buffer[:64].hex()}")


def send_request(port: serial.Serial, frame: bytes) -> None:
    """Drop stale input (late answers, noise) and send `frame`."""
    try:
        port.reset_input_buffer()
        port.write(frame)
        port.flush()
    except serial.SerialException as error:
        raise MeterUnreachable(port.port or "?", f"line failed: {error}") from None


def bcd(byte: int) -> int:
    """Value of one packed-BCD byte, e.g. 0x59 -> 59."""
    high, low = byte >> 4, byte & 0x0F
    if high > 9 or low > 9:
        raise ValueError(f"not a BCD byte: {byte:#04x}")
    return high * 10 + low


def to_bcd(value: int) -> int:
    """Packed-BCD byte of 0..99."""
    if not 0 <= value <= 99:
        raise ValueError(f"BCD byte holds 0..99, got {value}")
    return (value // 10) << 4 | value % 10
