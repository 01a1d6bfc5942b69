"""Eastron SDM120 / SDM630 over Modbus RTU, through pymodbus' serial client.

Energy registers are input registers (function 04h) holding IEEE-754 float32 in big-endian word and byte
order: 0048h total import kWh (A+), 004Ah total export kWh (A-), 004Ch import kVArh (R+), 004Eh export
kVArh (R-); one request reads all eight registers. The serial number is the unsigned 32-bit holding
register FC00h (function 03h). Floats become integer Wh with `kwh_float_to_wh` (exact value, half up).

The SDM has no clock, no tariff zones and no profile memory: `taken_at` is the host's clock at the read
(injectable), `zones_import_wh` is empty and `read_profile` raises `NotSupported`.

pymodbus notes: the unit is chosen with `device_id=` (older releases called it `slave=`/`unit=`); the client
drops a frame whose CRC fails and waits for more, so a wrong CRC looks like silence to it, and its RTU framer
does not find a frame behind line noise. We keep its own retries at 0 and watch the raw bytes through its
`trace_packet` hook: there we resynchronise on the first CRC-valid answer to our request (noise before it is
dropped), and after a failed request we tell CRC errors and noise from silence.
"""
from __future__ import annotations

import struct
import time
from dataclasses import dataclass, field
from typing import Callable

from pymodbus.client import ModbusSerialClient
from pymodbus.exceptions import ConnectionException, ModbusIOException

from meter_io.line import LineSettings, crc16_ok
from meter_io.reading import (CrcError, FrameError, IntervalRecord, MeterProtocolError, MeterSnapshot,
                              MeterTimeout, MeterUnreachable, NotSupported, kwh_float_to_wh, with_retries)

ENERGY_REGISTERS = 0x0048
"""First of four float32 energy registers: A+ kWh, A- kWh, R+ kVArh, R- kVArh."""
ENERGY_REGISTER_COUNT = 8
SERIAL_NUMBER_REGISTER = 0xFC00
READ_HOLDING, READ_INPUT = 0x03, 0x04


@dataclass(frozen=True)
class SdmConfig:
    """How to reach one Eastron SDM on a line."""

    unit_id: int
    """Modbus device id 1..247 (factory default 1)."""
    attempts: int = 3
    line: LineSettings = field(default_factory=lambda: LineSettings(baudrate=9600, timeout=1.0))
    clock: Callable[[], float] = time.time
    """Stamps snapshots, since the meter has no clock."""


def registers_to_float(high: int, low: int) -> float:
    """float32 from two 16-bit registers, high word first."""
    return struct.unpack(">f", struct.pack(">HH", high, low))[0]


class EastronSdm:
    """Driver for one Eastron SDM on a serial line; implements `MeterDriver`."""

    def __init__(self, port: str, config: SdmConfig) -> None:
        if not 1 <= config.unit_id <= 247:
            raise ValueError(f"Modbus unit id must be 1..247, got {config.unit_id}")
        self.config = config
        self.meter = f"{port}#{config.unit_id}"
        self._received = b""
        self._expected = (READ_INPUT, 0)
        self._client = ModbusSerialClient(
            port, baudrate=config.line.baudrate, bytesize=config.line.bytesize, parity=config.line.parity,
            stopbits=config.line.stopbits, timeout=config.line.timeout, retries=0,
            trace_packet=self._trace_packet)

    def close(self) -> None:
        self._client.close()

    def read_serial(self) -> str:
        high, low = self._read(READ_HOLDING, SERIAL_NUMBER_REGISTER, 2)
        return str(high << 16 | low)

    def read_snapshot(self) -> MeterSnapshot:
        serial = self.read_serial()
        registers = self._read(READ_INPUT, ENERGY_REGISTERS, ENERGY_REGISTER_COUNT)
        try:
            a_plus, a_minus, r_plus, r_minus = (
                kwh_float_to_wh(registers_to_float(registers[i], registers[i + 1])) for i in range(0, 8, 2))
        except ValueError as error:
            raise MeterProtocolError(self.meter, f"bad energy register: {error}") from None
        return MeterSnapshot(serial, int(self.config.clock()), a_plus, a_minus, r_plus, r_minus)

    def read_profile(self, since: int, until: int) -> list[IntervalRecord]:
        raise NotSupported(self.meter, "Eastron SDM keeps no load profile")

    def _trace_packet(self, sending: bool, data: bytes) -> bytes:
        """pymodbus hands us its receive buffer before decoding: keep it, and skip noise before our answer."""
        if sending:
            return data
        self._received += data
        start = self._answer_start(data)
        return data if start is None else data[start:]

    def _answer_start(self, data: bytes) -> int | None:
        """Offset of the first CRC-valid answer (or exception answer) to the request in flight."""
        function, count = self._expected
        for start in range(len(data)):
            if data[start] != self.config.unit_id or start + 1 >= len(data):
                continue
            length = 5 if data[start + 1] == function | 0x80 else 5 + 2 * count
            candidate = data[start:start + length]
            if data[start + 1] in (function, function | 0x80) and len(candidate) == length and crc16_ok(candidate):
                return start
        return None

    def _read(self, function: int, address: int, count: int) -> list[int]:
        def attempt() -> list[int]:
            self._received = b""
            self._expected = (function, count)
            try:
                if function == READ_INPUT:
                    response = self._client.read_input_registers(address, count=count,
                                                                 device_id=self.config.unit_id)
                else:
                    response = self._client.read_holding_registers(address, count=count,
                                                                   device_id=self.config.unit_id)
            except ConnectionException as error:
                raise MeterUnreachable(self.meter, f"cannot open the line: {error}") from None
            except ModbusIOException:
                raise self._diagnose(function, count) from None
            if response.isError():
                raise MeterProtocolError(self.meter, f"exception code {response.exception_code} "
                                                     f"reading {address:#06x}")
            if len(response.registers) != count:
                raise FrameError(self.meter, f"{len(response.registers)} registers instead of {count}")
            return list(response.registers)

        return with_retries(self.meter, self.config.attempts, attempt)

    def _diagnose(self, function: int, count: int):
        """Why no response was decoded: silence, a frame with a wrong CRC, or noise."""
        received = self._received
        if not received:
            return MeterTimeout(self.meter, f"no answer within {self.config.line.timeout:g} s")
        length = 5 + 2 * count
        for start in range(len(received)):
            candidate = received[start:start + length]
            if (len(candidate) == length and candidate[0] == self.config.unit_id and candidate[1] == function
                    and candidate[2] == 2 * count and not crc16_ok(candidate)):
                return CrcError(self.meter, f"checksum mismatch in answer {received.hex()}")
        return FrameError(self.meter, f"no valid frame in {received[:64].hex()}")
