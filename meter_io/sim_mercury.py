"""A virtual Mercury 230: answers the requests `meter_io.mercury230` sends, from a `SimulatedMeter`."""
from __future__ import annotations

import time

from meter_io.line import crc16_ok, to_bcd, with_crc16
from meter_io.mercury230 import (JOURNAL_COVER, JOURNAL_POWER, PROFILE_CAPACITY, PROFILE_RECORD_STEP,
                                 pack_energy_word)
from meter_io.reading import HALF_HOUR, EventKind
from meter_io.sim_line import FaultPlan, Session
from meter_io.sim_model import SimulatedMeter

REQUEST_LENGTHS = {0x00: 4, 0x01: 11, 0x02: 4, 0x05: 6, 0x06: 8, 0x08: 5}
"""Full request length (address and CRC included) by request code; 04h depends on its parameter."""
PASSWORD = b"\x01" * 6


def local_bcd(unix: int, utc_offset: int) -> bytes:
    """ss mm hh DD MM YY in BCD, local time."""
    t = time.gmtime(unix + utc_offset)
    return bytes(to_bcd(v) for v in (t.tm_sec, t.tm_min, t.tm_hour, t.tm_mday, t.tm_mon, t.tm_year - 2000))


def profile_stamp(unix: int, utc_offset: int) -> bytes:
    """hh mm DD MM YY in BCD, local time: the stamp of a profile record."""
    fields = local_bcd(unix, utc_offset)
    return bytes([fields[2], fields[1]]) + fields[3:]


class MercurySession(Session):
    """Protocol state of one virtual Mercury 230: the request buffer and whether the channel is open."""

    def __init__(self, meter: SimulatedMeter, faults: FaultPlan) -> None:
        self.meter = meter
        self.faults = faults
        self.address = meter.identity.address
        self.channel_open = False
        self._buffer = b""

    def corrupt(self, answer: bytes) -> bytes:
        return answer[:-2] + bytes([answer[-2] ^ 0xFF, answer[-1]])

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        answers = []
        while len(self._buffer) >= 4:
            if self._buffer[0] != self.address:
                self._buffer = self._buffer[1:]
                continue
            code = self._buffer[1]
            length = REQUEST_LENGTHS.get(code) or (5 if code == 0x04 and self._buffer[2] == 0x00 else 6)
            if len(self._buffer) < length:
                break
            request, rest = self._buffer[:length], self._buffer[length:]
            if not crc16_ok(request):
                self._buffer = self._buffer[1:]
                continue
            self._buffer = rest
            answers.append(with_crc16(bytes([self.address]) + self._answer(code, request[2:-2])))
        return answers

    def _answer(self, code: int, params: bytes) -> bytes:
        if code == 0x00:
            return b"\x00"
        if code == 0x01:
            self.channel_open = params[1:7] == PASSWORD and params[0] in (1, 2)
            return b"\x00" if self.channel_open else b"\x03"
        if code == 0x02:
            self.channel_open = False
            return b"\x00"
        if not self.channel_open:
            return b"\x05"
        if code == 0x05 and params[0] == 0x00 and params[1] <= 4:
            return self._energy(params[1])
        if code == 0x08 and params[0] == 0x00:
            serial = self.meter.serial
            return bytes(int(serial[i:i + 2]) for i in range(0, 8, 2)) + b"\x0f\x03\x19"
        if code == 0x04 and params[0] == 0x00:
            now = self.meter.clock.now()
            fields = local_bcd(now, self.meter.identity.utc_offset)
            weekday = (time.gmtime(now + self.meter.identity.utc_offset).tm_wday + 1) % 7
            return fields[:3] + bytes([weekday]) + fields[3:] + b"\x01"
        if code == 0x04 and params[0] in (JOURNAL_COVER, JOURNAL_POWER):
            return self._journal(params[0])
        if code == 0x08 and params[0] == 0x13:
            return self._profile_header()
        if code == 0x06 and params[0] == 0x03 and params[3] == 0x0F:
            return self._profile_record(params[1] << 8 | params[2])
        return b"\x01"

    def _energy(self, tariff: int) -> bytes:
        registers = self.meter.registers()
        if tariff == 0:
            values = (registers.import_wh, registers.export_wh, registers.reactive_import_varh,
                      registers.reactive_export_varh)
        elif tariff <= len(registers.zones_import_wh):
            values = (registers.zones_import_wh[tariff - 1], 0, 0, 0)
        else:
            values = (0, 0, 0, 0)
        return b"".join(pack_energy_word(v) for v in values)

    def _journal(self, journal: int) -> bytes:
        kind = EventKind.COVER_OPEN if journal == JOURNAL_COVER else EventKind.POWER_LOSS
        times = [event.at for event in self.meter.events if event.kind == kind and event.at is not None]
        if not times:
            return bytes(12)
        return local_bcd(max(times), self.meter.identity.utc_offset) + bytes(6)

    def _last_slot(self) -> int:
        return self.meter.clock.now() // HALF_HOUR - 1

    def _slot_address(self, slot: int) -> int:
        installed = self.meter.identity.installed_at // HALF_HOUR
        return (slot - installed) * PROFILE_RECORD_STEP % 0x10000

    def _profile_header(self) -> bytes:
        slot = self._last_slot()
        stamp = profile_stamp(slot * HALF_HOUR, self.meter.identity.utc_offset)
        return self._slot_address(slot).to_bytes(2, "big") + b"\x00" + stamp + bytes([HALF_HOUR // 60])

    def _profile_record(self, address: int) -> bytes:
        last = self._last_slot()
        back = (self._slot_address(last) - address) % 0x10000 // PROFILE_RECORD_STEP
        slot = last - back
        if back >= PROFILE_CAPACITY or slot < self.meter.identity.installed_at // HALF_HOUR:
            return bytes(15)
        record = self.meter.profile(slot * HALF_HOUR, (slot + 1) * HALF_HOUR, PROFILE_CAPACITY)[0]
        stamp = profile_stamp(slot * HALF_HOUR, self.meter.identity.utc_offset)
        counts = (record.import_wh, record.export_wh, record.reactive_import_varh, record.reactive_export_varh)
        return (b"\x00" + stamp + bytes([HALF_HOUR // 60])
                + b"".join(min(2 * wh, 0xFFFF).to_bytes(2, "little") for wh in counts))
