"""IEC 62056-21 (ex IEC 61107) mode C data readout over an optical head or RS-485.

Sequence: the driver sends the sign-on `/?address!CR LF`; the meter identifies itself with
`/XXXZ ident CR LF` (XXX manufacturer, Z its top baud rate code); the driver acknowledges with
`ACK 0 Z 0 CR LF` (normal protocol, baud Z, data readout) and both switch to that baud rate; the meter sends
`STX data ! CR LF ETX BCC`, where BCC is the XOR of every byte after STX up to and including ETX. Each data
line is `OBIS(value*unit)`: 1.8.0 A+, 2.8.0 A-, 3.8.0 R+, 4.8.0 R-, 1.8.1.. A+ per zone, C.1.0 serial,
0.9.1 time and 0.9.2 date (local), F.F the fatal error register.

The line is 7E1. Pseudo-terminals refuse 7 data bits and parity (EINVAL from termios on some kernels; on
others, this one included, the setting is silently dropped), and so do some USB adapters. `SOFT_7E1`
opens the port as 8N1 and computes the parity bit in software: bit 7 of each byte is the even parity of
the low seven; a byte whose parity is wrong is replaced by NUL, which then fails the BCC or the parse.
Use `UART_7E1` (the default) on a real UART such as the Raspberry Pi's; the driver reads the termios
settings back and refuses a port that did not take 7E1, rather than misread every byte.

Decimal register values become integer Wh exactly (decimal arithmetic, never floats): kWh times 1000,
rounded half up when a meter shows more than three decimals.
"""
from __future__ import annotations

import enum
import re
import termios
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import serial

from meter_io.line import LineSettings, NoFrameYet, open_line, receive_frame, send_request
from meter_io.reading import (EventKind, FrameError, IntervalRecord, MeterEvent, MeterProtocolError,
                              MeterSnapshot, MeterUnreachable, NotSupported, with_retries)

STX, ETX, ACK = 0x02, 0x03, 0x06
BAUD_CODES = {"0": 300, "1": 600, "2": 1200, "3": 2400, "4": 4800, "5": 9600, "6": 19200}
UNIT_TO_WH = {"wh": Decimal(1), "kwh": Decimal(1000), "mwh": Decimal(1_000_000), "varh": Decimal(1),
              "kvarh": Decimal(1000), "mvarh": Decimal(1_000_000)}
DATA_LINE = re.compile(r"^([0-9A-Z.:*&-]+)\(([^()*]*)(?:\*([^()]*))?\)")


class Framing(enum.Enum):
    """How the 7E1 character format is put on the port."""

    UART_7E1 = "7E1"
    """The UART does 7 data bits and even parity itself."""
    SOFT_7E1 = "8N1+soft-parity"
    """8N1 port, parity bit computed and checked here (pseudo-terminals, USB adapters without 7-bit mode)."""


def add_parity(data: bytes) -> bytes:
    """Set bit 7 of each 7-bit character to its even parity."""
    return bytes(b | (bin(b).count("1") & 1) << 7 for b in data)


def strip_parity(data: bytes) -> bytes:
    """The 7-bit characters of 8-bit bytes; a byte with odd parity becomes NUL."""
    return bytes(b & 0x7F if bin(b).count("1") % 2 == 0 else 0 for b in data)


def bcc(data: bytes) -> int:
    """Block check character: XOR of all bytes."""
    value = 0
    for byte in data:
        value ^= byte
    return value


@dataclass(frozen=True)
class IecConfig:
    """How to reach one IEC 62056-21 meter."""

    address: str = ""
    """Device address for the sign-on (often the serial number); empty addresses the only meter on the line."""
    framing: Framing = Framing.UART_7E1
    utc_offset: int = 3 * 3600
    zones: int = 2
    event_registers: tuple[tuple[str, EventKind], ...] = (("F.F", EventKind.FIRMWARE_INTEGRITY),)
    """OBIS codes whose non-zero value raises an event (tamper registers are manufacturer-specific)."""
    switch_baud: bool = True
    """Change the port to the baud rate the meter offers after the acknowledgement."""
    attempts: int = 3
    line: LineSettings = field(default_factory=lambda: LineSettings(baudrate=300, timeout=2.0))


def parse_data_block(text: str) -> dict[str, tuple[str, str]]:
    """OBIS code -> (value, unit) of each data line; lines that are not data are refused."""
    values = {}
    for line in text.split("\r\n"):
        if not line or line == "!":
            continue
        match = DATA_LINE.match(line)
        if match is None:
            raise ValueError(f"not a data line: {line!r}")
        values[match.group(1)] = (match.group(2), (match.group(3) or "").lower())
    return values


def energy_to_wh(value: str, unit: str) -> int:
    """Integer Wh (or varh) of a decimal register value, rounded half up."""
    if unit not in UNIT_TO_WH:
        raise ValueError(f"unknown energy unit {unit!r}")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"energy must be finite and non-negative: {value!r}")
    return int((amount * UNIT_TO_WH[unit]).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _has_7e1(port: serial.Serial) -> bool:
    """Whether the open port really runs 7 data bits with even parity (read back from termios)."""
    flags = termios.tcgetattr(port.fd)[2]
    return flags & termios.CSIZE == termios.CS7 and bool(flags & termios.PARENB) and not flags & termios.PARODD


class Iec62056Meter:
    """Driver for one meter read by IEC 62056-21 mode C data readout; implements `MeterDriver`."""

    def __init__(self, port: str, config: IecConfig) -> None:
        self.config = config
        self.meter = f"{port}#{config.address or '-'}"
        settings = config.line
        if config.framing is Framing.UART_7E1:
            settings = LineSettings(settings.baudrate, serial.SEVENBITS, serial.PARITY_EVEN,
                                    settings.stopbits, settings.timeout)
        self._settings = settings
        self._port = open_line(port, settings)
        if config.framing is Framing.UART_7E1 and not _has_7e1(self._port):
            self._port.close()
            raise MeterUnreachable(self.meter, "the port did not take 7E1 framing; use Framing.SOFT_7E1")

    def close(self) -> None:
        self._port.close()

    def read_serial(self) -> str:
        return self.read_snapshot().serial

    def read_profile(self, since: int, until: int) -> list[IntervalRecord]:
        raise NotSupported(self.meter, "mode C data readout carries no load profile")

    def read_registers(self) -> dict[str, tuple[str, str]]:
        """One complete data readout: OBIS code -> (value, unit)."""
        return with_retries(self.meter, self.config.attempts, self._readout)

    def read_snapshot(self) -> MeterSnapshot:
        values = self.read_registers()
        try:
            return self._snapshot(values)
        except (KeyError, ValueError) as error:
            raise MeterProtocolError(self.meter, f"unusable data readout: {error!r}") from None

    def _snapshot(self, values: dict[str, tuple[str, str]]) -> MeterSnapshot:
        def energy(code: str, required: bool = True) -> int:
            if code not in values and not required:
                return 0
            return energy_to_wh(*values[code])

        hh, mm, ss = (int(part) for part in values["0.9.1"][0].split(":"))
        date = values["0.9.2"][0][-6:]  # YYMMDD, some meters prefix a century digit
        taken_at = int(datetime(2000 + int(date[0:2]), int(date[2:4]), int(date[4:6]), hh, mm, ss,
                                tzinfo=timezone.utc).timestamp())
        events = tuple(MeterEvent(kind, None) for code, kind in self.config.event_registers
                       if code in values and int(values[code][0] or "0", 16) != 0)
        return MeterSnapshot(
            serial=values.get("C.1.0", values.get("0.0.0", ("", "")))[0],
            taken_at=taken_at - self.config.utc_offset,
            import_wh=energy("1.8.0"), export_wh=energy("2.8.0", False),
            reactive_import_varh=energy("3.8.0", False), reactive_export_varh=energy("4.8.0", False),
            zones_import_wh=tuple(energy(f"1.8.{zone}") for zone in range(1, self.config.zones + 1)),
            events=events)

    def _send(self, text: bytes) -> None:
        send_request(self._port, add_parity(text) if self.config.framing is Framing.SOFT_7E1 else text)

    def _decode(self, raw: bytes) -> bytes:
        return strip_parity(raw) if self.config.framing is Framing.SOFT_7E1 else raw

    def _readout(self) -> dict[str, tuple[str, str]]:
        """Sign on, acknowledge, read the data message; one attempt."""
        self._port.baudrate = self._settings.baudrate
        self._send(f"/?{self.config.address}!\r\n".encode("ascii"))
        identification = receive_frame(self._port, self.meter, self._settings.timeout, self._extract_identification)
        baud_code = identification[4:5].decode("ascii")
        if baud_code not in BAUD_CODES:
            raise FrameError(self.meter, f"identification has no mode C baud code: {identification!r}")
        self._send(bytes([ACK]) + f"0{baud_code}0\r\n".encode("ascii"))
        if self.config.switch_baud:
            self._port.flush()
            self._port.baudrate = BAUD_CODES[baud_code]
        block = receive_frame(self._port, self.meter, self._settings.timeout, self._extract_data_message)
        try:
            return parse_data_block(block.decode("ascii"))
        except (UnicodeDecodeError, ValueError) as error:
            raise FrameError(self.meter, f"bad data block: {error}") from None

    def _extract_identification(self, raw: bytes) -> bytes:
        text = self._decode(raw)
        start = text.rfind(b"/")
        end = text.find(b"\r\n", start)
        if start < 0 or end < 0 or end - start < 5:
            raise NoFrameYet(False)
        return text[start:end]

    def _extract_data_message(self, raw: bytes) -> bytes:
        """The data block between STX and `!CR LF ETX`, with a correct BCC; noise before STX is skipped."""
        text = self._decode(raw)
        suspect = False
        for start in (i for i, byte in enumerate(text) if byte == STX):
            end = text.find(bytes([ETX]), start)
            if end < 0 or end + 1 >= len(text):
                continue
            if bcc(text[start + 1:end + 1]) == text[end + 1]:
                return text[start + 1:end]
            suspect = True
        raise NoFrameYet(suspect)
