"""Mercury 230 (Incotex) over RS-485: the meter's own binary protocol.

Frame: network address (1 byte), request code, parameters, CRC-16/MODBUS little-endian. Answers start with
the same address; a 4-byte answer [addr, status, crc] is a status: 0 = OK, 1 bad command or parameter,
2 internal error, 3 access level too low (also a wrong password), 4 clock already corrected today,
5 channel not open. Requests used here:

- 01h level password[6]: open the channel (level 1 = user, factory password 01 01 01 01 01 01);
- 05h (array<<4 | month) tariff: energy array 0 "from reset", tariff 0 = sum, 1..4 = zone. The answer is
  A+, A-, R+, R- as four 4-byte words whose bytes come in the order B2 B3 B0 B1 of the big-endian value
  (value = b1<<24 | b0<<16 | b3<<8 | b2), in Wh (0.001 kWh); FFFFFFFFh means "not measured" -> 0;
- 08h 00h: serial number (4 bytes, each two decimal digits) and manufacture date;
- 04h 00h: clock, 8 BCD bytes ss mm hh weekday DD MM YY winter-flag, local time of the meter;
- 04h 01h n / 04h 12h n: journal of power off/on and of cover opening/closing, record n (0 = latest here),
  12 BCD bytes: time of the start and time of the end of the event (end all zero while it lasts);
- 08h 13h: header of the latest average-power record: record address (big-endian), status, hh mm DD MM YY
  (BCD), period in minutes;
- 06h 03h addr_hi addr_lo 0Fh: one 15-byte record of memory 3 (average powers): status, hh mm DD MM YY,
  period, then P+, P-, Q+, Q- as 16-bit little-endian impulse counts. Records are 16 bytes apart, the header
  time is the start of the interval. With meter constant A (imp/kWh) an interval holds N * 1000 / (2 A) Wh;
  we round half up to integer Wh.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timezone

from meter_io.line import (LineSettings, NoFrameYet, bcd, crc16_ok, open_line, receive_frame, send_request,
                           with_crc16)
from meter_io.reading import (HALF_HOUR, EventKind, IntervalRecord, MeterEvent, MeterProtocolError,
                              MeterSnapshot, NotSupported, with_retries)

STATUS_MESSAGES = {1: "invalid command or parameter", 2: "internal meter error",
                   3: "access level too low or wrong password", 4: "clock already corrected today",
                   5: "channel not open"}
CHANNEL_NOT_OPEN = 5
NOT_MEASURED = 0xFFFFFFFF
PROFILE_RECORD_STEP = 0x10
PROFILE_CAPACITY = 0x10000 // PROFILE_RECORD_STEP
JOURNAL_POWER = 0x01
JOURNAL_COVER = 0x12


class MercuryStatusError(MeterProtocolError):
    """The meter answered with a non-zero status byte."""

    def __init__(self, meter: str, status: int) -> None:
        super().__init__(meter, STATUS_MESSAGES.get(status, f"status {status:#04x}"))
        self.status = status


@dataclass(frozen=True)
class Mercury230Config:
    """How to reach one Mercury 230 on a line."""

    address: int
    """Network address 1..247 (factory default: last digits of the serial number)."""
    password: bytes = b"\x01" * 6
    """Level-1 (user) password, six bytes."""
    access_level: int = 1
    zones: int = 2
    """Tariff zones to read into `zones_import_wh`."""
    utc_offset: int = 3 * 3600
    """The meter clock runs in local time; seconds east of UTC."""
    meter_constant: int = 1000
    """A, impulses per kWh, printed on the meter; scales the profile records."""
    attempts: int = 3
    line: LineSettings = field(default_factory=lambda: LineSettings(baudrate=9600, timeout=1.0))


def pack_energy_word(value: int) -> bytes:
    """The Mercury wire order of a 32-bit energy value: B2 B3 B0 B1 of its big-endian bytes."""
    b = value.to_bytes(4, "big")
    return bytes([b[1], b[0], b[3], b[2]])


def unpack_energy_word(word: bytes) -> int:
    """Inverse of `pack_energy_word`."""
    return word[1] << 24 | word[0] << 16 | word[3] << 8 | word[2]


def local_bcd_to_unix(fields: bytes, utc_offset: int) -> int:
    """Unix seconds from BCD ss mm hh DD MM YY in the meter's local time."""
    second, minute, hour, day, month, year = (bcd(b) for b in fields)
    moment = datetime(2000 + year, month, day, hour, minute, second, tzinfo=timezone.utc)  # validates fields
    return int(moment.timestamp()) - utc_offset


class Mercury230:
    """Driver for one Mercury 230 on a serial line; implements `MeterDriver`."""

    def __init__(self, port: str, config: Mercury230Config) -> None:
        if not 1 <= config.address <= 247:
            raise ValueError(f"Mercury address must be 1..247, got {config.address}")
        self.config = config
        self.meter = f"{port}#{config.address}"
        self._port = open_line(port, config.line)
        self._channel_open = False

    def close(self) -> None:
        self._port.close()

    def read_serial(self) -> str:
        data = self._request(b"\x08\x00", 7)
        return "".join(f"{b:02d}" for b in data[:4])

    def read_clock(self) -> int:
        """Meter time as unix seconds."""
        data = self._request(b"\x04\x00", 8)
        with self._decoding("clock"):
            return local_bcd_to_unix(data[0:3] + data[4:7], self.config.utc_offset)

    def read_energy(self, tariff: int) -> tuple[int, int, int, int]:
        """A+, A-, R+, R- from reset for `tariff` (0 = all zones), Wh / varh."""
        data = self._request(bytes([0x05, 0x00, tariff]), 16)
        words = [unpack_energy_word(data[i:i + 4]) for i in range(0, 16, 4)]
        return tuple(0 if word == NOT_MEASURED else word for word in words)  # type: ignore[return-value]

    def read_events(self) -> tuple[MeterEvent, ...]:
        """The latest cover opening and power loss from their journals, stamped with the time they began."""
        events = []
        for journal, kind in ((JOURNAL_COVER, EventKind.COVER_OPEN), (JOURNAL_POWER, EventKind.POWER_LOSS)):
            record = self._request(bytes([0x04, journal, 0x00]), 12)
            if any(record[:6]):
                with self._decoding("event journal"):
                    events.append(MeterEvent(kind, local_bcd_to_unix(record[:6], self.config.utc_offset)))
        return tuple(events)

    def read_snapshot(self) -> MeterSnapshot:
        serial = self.read_serial()
        taken_at = self.read_clock()
        a_plus, a_minus, r_plus, r_minus = self.read_energy(0)
        zones = tuple(self.read_energy(zone)[0] for zone in range(1, self.config.zones + 1))
        return MeterSnapshot(serial, taken_at, a_plus, a_minus, r_plus, r_minus, zones, self.read_events())

    def read_profile(self, since: int, until: int) -> list[IntervalRecord]:
        """Half-hour records from memory 3 with since <= start < until, oldest first; gaps are left out."""
        header = self._request(b"\x08\x13", 9)
        period = header[8]
        if period * 60 != HALF_HOUR:
            raise NotSupported(self.meter, f"profile period is {period} min, not 30")
        last_address = int.from_bytes(header[0:2], "big")
        with self._decoding("profile header"):
            last_start = self._stamp_to_unix(header[3:8])
        first_slot = max(-(-since // HALF_HOUR), last_start // HALF_HOUR - PROFILE_CAPACITY + 1)
        last_slot = min((until - 1) // HALF_HOUR, last_start // HALF_HOUR)
        records = []
        for slot in range(first_slot, last_slot + 1):
            back = last_start // HALF_HOUR - slot
            address = (last_address - back * PROFILE_RECORD_STEP) % 0x10000
            record = self._request(bytes([0x06, 0x03, address >> 8, address & 0xFF, 0x0F]), 15)
            if not any(record[1:6]):
                continue  # empty record: the meter was unpowered in that interval
            with self._decoding("profile record"):
                start = self._stamp_to_unix(record[1:6])
            if start != slot * HALF_HOUR:
                continue  # overwritten or clock corrected: not the interval we asked for
            counts = [int.from_bytes(record[i:i + 2], "little") for i in range(7, 15, 2)]
            records.append(IntervalRecord(start, *(self._counts_to_wh(n) for n in counts)))
        return records

    @contextlib.contextmanager
    def _decoding(self, what: str):
        """Turn a malformed field (a non-BCD byte, an impossible date) into a typed error naming the meter."""
        try:
            yield
        except ValueError as error:
            raise MeterProtocolError(self.meter, f"malformed {what}: {error}") from None

    def _stamp_to_unix(self, stamp: bytes) -> int:
        """Unix seconds of a profile stamp hh mm DD MM YY (BCD, local time)."""
        return local_bcd_to_unix(bytes([0, stamp[1], stamp[0]]) + stamp[2:5], self.config.utc_offset)

    def _counts_to_wh(self, counts: int) -> int:
        """Impulse count of one record to Wh: N * 1000 / (2 A), rounded half up."""
        return (counts * 1000 + self.config.meter_constant) // (2 * self.config.meter_constant)

    def _request(self, payload: bytes, answer_length: int) -> bytes:
        """Send one request (opening the channel first if needed) and return the answer's data bytes."""
        if not self._channel_open:
            self._open_channel()
        try:
            return self._exchange(payload, answer_length)
        except MeterProtocolError as error:
            if not isinstance(error, MercuryStatusError) or error.status != CHANNEL_NOT_OPEN:
                raise
            self._open_channel()  # the meter closes an idle channel after a few minutes
            return self._exchange(payload, answer_length)

    def _open_channel(self) -> None:
        self._channel_open = False
        self._exchange(bytes([0x01, self.config.access_level]) + self.config.password, 0)
        self._channel_open = True

    def _exchange(self, payload: bytes, answer_length: int) -> bytes:
        frame = with_crc16(bytes([self.config.address]) + payload)

        def attempt() -> bytes:
            send_request(self._port, frame)
            return receive_frame(self._port, self.meter, self.config.line.timeout,
                                 lambda buffer: self._extract(buffer, answer_length))

        return with_retries(self.meter, self.config.attempts, attempt)

    def _extract(self, buffer: bytes, answer_length: int) -> bytes:
        """The data of the first valid answer from our address in `buffer`; status answers raise."""
        address = self.config.address
        full = answer_length + 3 if answer_length else 4
        suspect = False
        for start in (i for i, byte in enumerate(buffer) if byte == address):
            candidate = buffer[start:start + full]
            if len(candidate) == full:
                if crc16_ok(candidate):
                    if answer_length == 0:
                        self._check_status(candidate[1])
                    return candidate[1:-2]
                suspect = True
            status = buffer[start:start + 4]
            if answer_length and len(status) == 4 and status[1] in STATUS_MESSAGES and crc16_ok(status):
                self._check_status(status[1])
        raise NoFrameYet(suspect)

    def _check_status(self, status: int) -> None:
        if status:
            raise MercuryStatusError(self.meter, status)
