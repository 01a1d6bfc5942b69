"""DLMS/COSEM meters with the Russian SPODES profile (GOST R 58940-2020) over HDLC, via the dlms-cosem library.

One attempt is one HDLC session: SNRM/UA, association (AARQ/AARE) as the SPODES "reader" client
(logical address 0x20, low level security with the reader password), GET of each attribute, release and
DISC. Objects read (logical names, interface class, attribute):

- 1.0.1.8.0.255 A+, 1.0.2.8.0.255 A-, 1.0.3.8.0.255 R+, 1.0.4.8.0.255 R-, 1.0.1.8.z.255 A+ of zone z:
  Register (class 3), value (2) and scaler_unit (3); the value times 10^scaler becomes integer Wh / varh
  (exact, half up when the scaler is negative); units other than Wh (30) / varh (32) are refused;
- 0.0.1.0.0.255 Clock (class 8) time (2): a 12-byte date-time; an unspecified deviation means the
  configured local offset;
- 0.0.96.1.0.255 Data (class 1) value (2): the factory serial number;
- 1.0.99.1.0.255 the half-hour load profile (Profile generic, class 7): capture_period (4) must be 1800,
  capture_objects (3) names the columns, buffer (2) is read with selective access by clock range. A row is
  captured at the END of its interval, so a row stamped T is the interval [T - 1800, T). Columns used:
  the clock and 1.0.{1,2,3,4}.29.0.255 (A+, A-, R+, R- over the interval), scaled by their scaler_unit.

- 0.0.96.51.0.255 case opened, 0.0.96.51.1.255 terminal cover opened, 0.0.96.51.3.255 magnetic field
  (SPODES status objects, STO 34.01-5.1-006 annex E.12; Data, value (2) unsigned): a non-zero value
  raises the event (no time: these are states); an object the meter does not have is skipped.

Not done yet: the event journals (0.0.99.98.x.255) with times, power-loss and self-diagnostic
(firmware integrity) events among them.
The library's serial I/O would wait forever on a silent meter, so `_LineIO` feeds it with deadlines,
skips noise before an HDLC opening flag, and tells a wrong FCS from silence.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from dlms_cosem import cosem, enumerations, exceptions as dlms_exceptions
from dlms_cosem.client import DataResultError, DlmsClient
from dlms_cosem.cosem.capture_object import CaptureObject
from dlms_cosem.cosem.selective_access import RangeDescriptor
from dlms_cosem.crc import CRCCCITT
from dlms_cosem.hdlc import exceptions as hdlc_exceptions, frames, state as hdlc_state
from dlms_cosem.io import HdlcTransport
from dlms_cosem.security import LowLevelSecurityAuthentication
from dlms_cosem.time import datetime_from_bytes
from dlms_cosem.utils import parse_as_dlms_data

from meter_io.line import LineSettings, open_line
from meter_io.reading import (HALF_HOUR, CrcError, EventKind, FrameError, IntervalRecord, MeterError, MeterEvent,
                              MeterProtocolError, MeterSnapshot, MeterTimeout, NotSupported, with_retries)

HDLC_FLAG = 0x7E
READER_CLIENT = 0x20
"""SPODES client address of the reader association (low level security)."""
MANAGEMENT_LOGICAL_DEVICE = 1
UNIT_WH, UNIT_VARH = 30, 32
OBIS_IMPORT, OBIS_EXPORT = "1.0.1.8.0.255", "1.0.2.8.0.255"
OBIS_REACTIVE_IMPORT, OBIS_REACTIVE_EXPORT = "1.0.3.8.0.255", "1.0.4.8.0.255"
OBIS_CLOCK, OBIS_SERIAL = "0.0.1.0.0.255", "0.0.96.1.0.255"
OBIS_LOAD_PROFILE = "1.0.99.1.0.255"
STATUS_OBJECTS = (("0.0.96.51.0.255", EventKind.COVER_OPEN), ("0.0.96.51.1.255", EventKind.COVER_OPEN),
                  ("0.0.96.51.3.255", EventKind.MAGNETIC_FIELD))
"""SPODES tamper status objects and the event a non-zero value raises."""
PROFILE_COLUMNS = ("1.0.1.29.0.255", "1.0.2.29.0.255", "1.0.3.29.0.255", "1.0.4.29.0.255")
"""A+, A-, R+, R- energy over one capture period, in `IntervalRecord` field order."""


@dataclass(frozen=True)
class DlmsConfig:
    """How to reach one SPODES meter on an RS-485 line."""

    physical_address: int
    """HDLC lower (physical) server address, 16..16383 in SPODES (often from the serial number)."""
    password: bytes = b"12345678"
    """Reader (LLS) password."""
    client_address: int = READER_CLIENT
    logical_device: int = MANAGEMENT_LOGICAL_DEVICE
    zones: int = 2
    utc_offset: int = 3 * 3600
    attempts: int = 3
    line: LineSettings = field(default_factory=lambda: LineSettings(baudrate=9600, timeout=1.0))


def fcs_ok(frame: bytes) -> bool:
    """Whether a flag-delimited HDLC frame's FCS (CRC-16/X.25, little-endian) is right."""
    return len(frame) > 5 and CRCCCITT().calculate_for(frame[1:-3]) == frame[-3:-1]


def register_to_int(value: int, scaler: int, unit: int) -> int:
    """Integer Wh or varh of a COSEM register value with its scaler, rounded half up."""
    if unit not in (UNIT_WH, UNIT_VARH):
        raise ValueError(f"energy register in unit {unit}, expected Wh (30) or varh (32)")
    return int((Decimal(value).scaleb(scaler)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _dotted(logical_name: bytes) -> str:
    """A 6-byte COSEM logical name as "a.b.c.d.e.f"."""
    return ".".join(str(part) for part in logical_name)


class _LineIO:
    """The library's I/O interface over pyserial with a deadline per frame; see the module docstring."""

    def __init__(self, port, meter: str, timeout: float) -> None:
        self._port, self._meter, self._timeout = port, meter, timeout
        self._in_frame = False
        self.received = b""

    def connect(self) -> None:
        self._port.reset_input_buffer()
        self._in_frame = False

    def disconnect(self) -> None:
        """The port outlives the session; the driver closes it."""

    def send(self, data: bytes) -> None:
        self._port.write(data)

    def recv(self, amount: int = 1) -> bytes:
        return self._read(amount)

    def recv_until(self, end: bytes) -> bytes:
        """The library reads a frame as "up to the opening flag", then "up to the closing flag".

        DLMS HDLC does not escape 7Eh inside frames, so the second call returns the whole frame by its
        length field (format type A), skipping repeated flags and noise, whatever flags it contains.
        """
        if not self._in_frame:
            while self._read(1)[0] != HDLC_FLAG:
                pass  # noise between frames
            self._in_frame = True
            return bytes([HDLC_FLAG])
        while True:
            head = self._read(1)
            if head[0] == HDLC_FLAG:
                continue
            if head[0] & 0xF0 != 0xA0:
                while self._read(1)[0] != HDLC_FLAG:
                    pass  # not a frame format byte: noise up to the next flag
                continue
            head += self._read(1)
            length = (head[0] & 0x07) << 8 | head[1]
            self._in_frame = False
            return head + self._read(max(length - 2, 0) + 1)

    def _read(self, amount: int) -> bytes:
        deadline = time.monotonic() + self._timeout
        data = b""
        while len(data) < amount:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._diagnose()
            self._port.timeout = remaining
            data += self._port.read(amount - len(data))
        self.received += data
        return data

    def _diagnose(self) -> MeterError:
        if not self.received:
            return MeterTimeout(self._meter, f"no answer within {self._timeout:g} s")
        chunks = self.received.split(bytes([HDLC_FLAG]))
        if any(len(chunk) > 4 and not fcs_ok(bytes([HDLC_FLAG]) + chunk + bytes([HDLC_FLAG])) for chunk in chunks):
            return CrcError(self._meter, "HDLC frame with a wrong FCS")
        return FrameError(self._meter, f"no valid HDLC frame in {self.received[-64:].hex()}")


class _HdlcTransport(HdlcTransport):
    """The library's HDLC transport, made to search its whole buffer before reading more.

    Its frame search stops at the first 7Eh, which may be inside the frame (DLMS HDLC does not escape it:
    an HCS, FCS or data byte), and then waits for bytes that never come. We search on while the buffer
    still holds an unsearched flag; the search position only grows, so the loop is bounded.
    """

    def next_event(self):
        connection = self.hdlc_connection
        while True:
            event = connection.next_event()
            if event is not hdlc_state.NEED_DATA:
                return event
            if frames.HDLC_FLAG not in connection.buffer[connection.buffer_search_position:]:
                connection.receive_data(self.recv_frame())


class DlmsSpodesMeter:
    """Driver for one SPODES meter over HDLC; implements `MeterDriver` (no event journals yet)."""

    def __init__(self, port: str, config: DlmsConfig) -> None:
        self.config = config
        self.meter = f"{port}#{config.physical_address}"
        self._port = open_line(port, config.line)

    def close(self) -> None:
        self._port.close()

    def read_serial(self) -> str:
        return self._session(lambda client: self._serial(client))

    def read_profile(self, since: int, until: int) -> list[IntervalRecord]:
        """Half-hour records with since <= start < until, oldest first, from the SPODES load profile."""
        first_end = -(-since // HALF_HOUR) * HALF_HOUR + HALF_HOUR
        last_end = (until - 1) // HALF_HOUR * HALF_HOUR + HALF_HOUR
        if last_end < first_end:
            return []
        return self._session(lambda client: self._profile(client, first_end, last_end))

    def _profile(self, client: DlmsClient, first_end: int, last_end: int) -> list[IntervalRecord]:
        interface = enumerations.CosemInterface.PROFILE_GENERIC
        period = self._get(client, interface, OBIS_LOAD_PROFILE, 4)
        if period != HALF_HOUR:
            raise NotSupported(self.meter, f"load profile period is {period} s, not {HALF_HOUR}")
        columns = [_dotted(bytes(obj[1])) for obj in self._get(client, interface, OBIS_LOAD_PROFILE, 3)]
        missing = [obis for obis in (OBIS_CLOCK, *PROFILE_COLUMNS) if obis not in columns]
        if missing:
            raise NotSupported(self.meter, f"load profile lacks {', '.join(missing)}")
        scalers = {}
        for obis in PROFILE_COLUMNS:
            scaler, unit = self._get(client, enumerations.CosemInterface.REGISTER, obis, 3)
            scalers[obis] = (scaler, unit)
        offset = timezone(timedelta(seconds=self.config.utc_offset))
        clock = CaptureObject(cosem.CosemAttribute(enumerations.CosemInterface.CLOCK,
                                                   cosem.Obis.from_string(OBIS_CLOCK), 2))
        selection = RangeDescriptor(restricting_object=clock,
                                    from_value=datetime.fromtimestamp(first_end, tz=offset),
                                    to_value=datetime.fromtimestamp(last_end, tz=offset))
        raw = client.get(cosem.CosemAttribute(interface, cosem.Obis.from_string(OBIS_LOAD_PROFILE), 2),
                         access_descriptor=selection)
        records = []
        for row in parse_as_dlms_data(raw) or []:
            end = self._moment(bytes(row[columns.index(OBIS_CLOCK)]))
            values = [register_to_int(row[columns.index(obis)], *scalers[obis]) for obis in PROFILE_COLUMNS]
            if first_end <= end <= last_end and end % HALF_HOUR == 0:
                records.append(IntervalRecord(end - HALF_HOUR, *values))
        return sorted(records, key=lambda record: record.start)

    def read_snapshot(self) -> MeterSnapshot:
        def read(client: DlmsClient) -> MeterSnapshot:
            energy = [self._energy(client, obis) for obis in
                      (OBIS_IMPORT, OBIS_EXPORT, OBIS_REACTIVE_IMPORT, OBIS_REACTIVE_EXPORT)]
            zones = tuple(self._energy(client, f"1.0.1.8.{zone}.255") for zone in range(1, self.config.zones + 1))
            return MeterSnapshot(self._serial(client), self._clock(client), *energy, zones,
                                 self._status_events(client))

        return self._session(read)

    def _session(self, work):
        def attempt():
            io = _LineIO(self._port, self.meter, self.config.line.timeout)
            transport = _HdlcTransport(client_logical_address=self.config.client_address,
                                      server_logical_address=self.config.logical_device,
                                      server_physical_address=self.config.physical_address, io=io)
            client = DlmsClient(transport=transport,
                                authentication=LowLevelSecurityAuthentication(secret=self.config.password))
            try:
                client.connect()
                client.associate()
                result = work(client)
                client.release_association()
                client.disconnect()
                return result
            except (hdlc_exceptions.HdlcException, hdlc_exceptions.LocalProtocolError,
                    dlms_exceptions.LocalDlmsProtocolError) as error:
                raise FrameError(self.meter, f"HDLC/DLMS framing: {error!r}") from None
            except (dlms_exceptions.DlmsClientException, DataResultError) as error:
                raise MeterProtocolError(self.meter, f"refused: {error}") from None
            except (ValueError, TypeError) as error:  # a well-framed answer whose content makes no sense
                raise MeterProtocolError(self.meter, f"undecodable answer: {error!r}") from None

        return with_retries(self.meter, self.config.attempts, attempt)

    def _get(self, client: DlmsClient, interface: enumerations.CosemInterface, obis: str, attribute: int):
        raw = client.get(cosem.CosemAttribute(interface, cosem.Obis.from_string(obis), attribute))
        try:
            return parse_as_dlms_data(raw)
        except (ValueError, KeyError, IndexError) as error:
            raise MeterProtocolError(self.meter, f"undecodable {obis} attribute {attribute}: {error!r}") from None

    def _energy(self, client: DlmsClient, obis: str) -> int:
        value = self._get(client, enumerations.CosemInterface.REGISTER, obis, 2)
        scaler, unit = self._get(client, enumerations.CosemInterface.REGISTER, obis, 3)
        try:
            return register_to_int(value, scaler, unit)
        except (TypeError, ValueError) as error:
            raise MeterProtocolError(self.meter, f"{obis}: {error}") from None

    def _status_events(self, client: DlmsClient) -> tuple[MeterEvent, ...]:
        raised = []
        for obis, kind in STATUS_OBJECTS:
            try:
                value = self._get(client, enumerations.CosemInterface.DATA, obis, 2)
            except DataResultError:
                continue  # this model has no such object
            if value and kind not in raised:
                raised.append(kind)
        return tuple(MeterEvent(kind, None) for kind in raised)

    def _serial(self, client: DlmsClient) -> str:
        value = self._get(client, enumerations.CosemInterface.DATA, OBIS_SERIAL, 2)
        return value.decode("ascii") if isinstance(value, bytes) else str(value)

    def _clock(self, client: DlmsClient) -> int:
        return self._moment(bytes(self._get(client, enumerations.CosemInterface.CLOCK, OBIS_CLOCK, 2)))

    def _moment(self, date_time: bytes) -> int:
        """Unix seconds of a COSEM date-time; an unspecified deviation means the configured offset."""
        moment, _status = datetime_from_bytes(date_time)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone(timedelta(seconds=self.config.utc_offset)))
        return int(moment.timestamp())
