"""Meters on a CAN bus (socketcan on the Pi, python-can's `virtual` interface in tests).

CAN has no standard metering protocol, so this defines a small one. Every frame has 8 data bytes:

    request  id 0x600 + node:  op, register, argument (u32 LE), sequence, CRC-8
    response id 0x580 + node:  register, status, value (u32 LE), sequence, CRC-8

Ops: 01h read a register; 02h read a profile register for the half hour whose number (start // 1800) is
the argument; 03h latch: the meter freezes all its registers and answers its clock, so the reads that
follow form one consistent snapshot. Registers: 00h A+, 01h A-, 02h R+, 03h R- (Wh/varh), 10h+z A+ of zone
z+1, 20h serial number, 21h clock (unix seconds), 22h event flags, 23h number of zones. Status: 0 ok,
1 unknown op or register, 2 no profile record for that half hour. The CRC-8 (poly 07h, init 00h) over the
first 7 bytes protects the payload end to end, beyond the bus CRC, through gateways and bridges; the
sequence byte pairs an answer with its request, so a late answer is never taken for the next one.
Values are u32: 4.29 GWh per register, enough for any consumer meter.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import can

from meter_io.reading import (HALF_HOUR, CrcError, EventKind, FrameError, IntervalRecord, MeterEvent,
                              MeterProtocolError, MeterSnapshot, MeterTimeout, with_retries)

REQUEST_BASE, RESPONSE_BASE = 0x600, 0x580
OP_READ, OP_PROFILE, OP_LATCH = 0x01, 0x02, 0x03
REG_IMPORT, REG_EXPORT, REG_REACTIVE_IMPORT, REG_REACTIVE_EXPORT = 0x00, 0x01, 0x02, 0x03
REG_ZONE_BASE, REG_SERIAL, REG_CLOCK, REG_EVENTS, REG_ZONE_COUNT = 0x10, 0x20, 0x21, 0x22, 0x23
STATUS_OK, STATUS_UNKNOWN, STATUS_NO_RECORD = 0, 1, 2
EVENT_BITS = {EventKind.COVER_OPEN: 0x01, EventKind.POWER_LOSS: 0x02, EventKind.FIRMWARE_INTEGRITY: 0x04,
              EventKind.MAGNETIC_FIELD: 0x08}


def crc8(data: bytes) -> int:
    """CRC-8 with polynomial 07h, initial value 00h (CRC-8/SMBUS)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc << 1 ^ 0x07) & 0xFF if crc & 0x80 else crc << 1 & 0xFF
    return crc


def seal(payload7: bytes) -> bytes:
    """Seven payload bytes followed by their CRC-8."""
    return payload7 + bytes([crc8(payload7)])


def request_frame(op: int, register: int, argument: int, sequence: int) -> bytes:
    return seal(bytes([op, register]) + argument.to_bytes(4, "little") + bytes([sequence]))


def response_frame(register: int, status: int, value: int, sequence: int) -> bytes:
    return seal(bytes([register, status]) + value.to_bytes(4, "little") + bytes([sequence]))


def open_can_bus(interface: str = "socketcan", channel: str = "can0") -> can.BusABC:
    """A python-can bus, shared by the drivers of every meter on it."""
    return can.Bus(interface=interface, channel=channel)


@dataclass(frozen=True)
class CanMeterConfig:
    node_id: int
    """1..127; requests go to 0x600 + node_id."""
    timeout: float = 0.5
    attempts: int = 3
    zones: int | None = None
    """Zones to read; None asks the meter (register 23h)."""


class CanMeter:
    """Driver for one meter on a CAN bus; implements `MeterDriver`. Several drivers may share one bus."""

    def __init__(self, bus: can.BusABC, config: CanMeterConfig, owns_bus: bool = False) -> None:
        if not 1 <= config.node_id <= 127:
            raise ValueError(f"CAN node id must be 1..127, got {config.node_id}")
        self.config = config
        self.meter = f"{bus.channel_info}#{config.node_id}"
        self._bus = bus
        self._owns_bus = owns_bus
        self._sequence = 0

    def close(self) -> None:
        """Shut the bus down if this driver opened it; a shared bus belongs to the caller."""
        if self._owns_bus:
            self._bus.shutdown()

    def read_serial(self) -> str:
        return str(self._read(OP_READ, REG_SERIAL, 0))

    def read_snapshot(self) -> MeterSnapshot:
        taken_at = self._read(OP_LATCH, REG_CLOCK, 0)
        serial = self.read_serial()
        a_plus, a_minus, r_plus, r_minus = (self._read(OP_READ, register, 0) for register in
                                            (REG_IMPORT, REG_EXPORT, REG_REACTIVE_IMPORT, REG_REACTIVE_EXPORT))
        zones = self.config.zones if self.config.zones is not None else self._read(OP_READ, REG_ZONE_COUNT, 0)
        zones_import = tuple(self._read(OP_READ, REG_ZONE_BASE + zone, 0) for zone in range(zones))
        flags = self._read(OP_READ, REG_EVENTS, 0)
        events = tuple(MeterEvent(kind, None) for kind, bit in EVENT_BITS.items() if flags & bit)
        return MeterSnapshot(serial, taken_at, a_plus, a_minus, r_plus, r_minus, zones_import, events)

    def read_profile(self, since: int, until: int) -> list[IntervalRecord]:
        """Half-hour records with since <= start < until that the meter still holds, oldest first."""
        records = []
        for slot in range(-(-since // HALF_HOUR), -(-until // HALF_HOUR)):
            try:
                values = [self._read(OP_PROFILE, quantity, slot) for quantity in range(4)]
            except _NoRecord:
                continue
            records.append(IntervalRecord(slot * HALF_HOUR, *values))
        return records

    def _read(self, op: int, register: int, argument: int) -> int:
        def attempt() -> int:
            self._sequence = (self._sequence + 1) % 256
            sequence = self._sequence
            self._drain()
            self._bus.send(can.Message(arbitration_id=REQUEST_BASE + self.config.node_id, is_extended_id=False,
                                       data=request_frame(op, register, argument, sequence)))
            return self._receive(register, sequence)

        return with_retries(self.meter, self.config.attempts, attempt)

    def _drain(self, limit: int = 1000) -> None:
        """Drop frames queued before this request (late answers, noise), as a serial driver flushes input."""
        for _ in range(limit):
            if self._bus.recv(timeout=0) is None:
                return

    def _receive(self, register: int, sequence: int) -> int:
        """The value of the answer to (register, sequence); other frames on the bus are skipped."""
        deadline = time.monotonic() + self.config.timeout
        seen_ours, suspect = False, False
        while (remaining := deadline - time.monotonic()) > 0:
            message = self._bus.recv(timeout=remaining)
            if message is None:
                break
            if message.arbitration_id != RESPONSE_BASE + self.config.node_id or message.is_extended_id:
                continue
            seen_ours = True
            data = bytes(message.data)
            if len(data) != 8:
                continue
            if crc8(data[:7]) != data[7]:
                suspect = True
                continue
            if data[6] != sequence or data[0] != register:
                continue  # a late answer to an earlier request
            status, value = data[1], int.from_bytes(data[2:6], "little")
            if status == STATUS_NO_RECORD:
                raise _NoRecord(self.meter, "no profile record")
            if status != STATUS_OK:
                raise MeterProtocolError(self.meter, f"status {status} for register {register:#04x}")
            return value
        if suspect:
            raise CrcError(self.meter, "answer with a wrong CRC-8")
        if seen_ours:
            raise FrameError(self.meter, "malformed answers only")
        raise MeterTimeout(self.meter, f"no answer within {self.config.timeout:g} s")


class _NoRecord(MeterProtocolError):
    """The meter holds no profile record for the half hour asked; the gap is left out."""
