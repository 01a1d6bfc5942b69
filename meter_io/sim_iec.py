"""A virtual IEC 62056-21 mode C meter: sign-on, identification, acknowledgement, data readout.

Characters go on the pty with the parity bit computed in software (7E1 emulated on 8N1), since a pty cannot
be set to 7E1; drivers talk to it with `Framing.SOFT_7E1`.
"""
from __future__ import annotations

import time

from meter_io.iec62056_21 import ACK, ETX, STX, add_parity, bcc, strip_parity
from meter_io.reading import EventKind
from meter_io.sim_line import FaultPlan, Session
from meter_io.sim_model import SimulatedMeter

BAUD_CODE = "5"  # 9600 baud


def kwh_text(wh: int) -> str:
    """A register value as meters print it: kWh with three decimals, zero-padded."""
    return f"{wh // 1000:06d}.{wh % 1000:03d}"


class IecSession(Session):
    """Mode C state: idle until a sign-on for us, then identified until the acknowledgement."""

    def __init__(self, meter: SimulatedMeter, faults: FaultPlan) -> None:
        self.meter = meter
        self.faults = faults
        self.identified = False
        self._buffer = b""

    def corrupt(self, answer: bytes) -> bytes:
        """Spoil the BCC of a data message; the identification message has no checksum to spoil."""
        return super().corrupt(answer) if answer[:1] == bytes([STX]) else answer

    def encode_line(self, data: bytes) -> bytes:
        return add_parity(data)

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += strip_parity(data)
        answers = []
        while b"\r\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\r\n", 1)
            if line.find(b"/?") >= 0:  # a sign-on restarts the dialogue wherever it was
                sign_on = line[line.find(b"/?"):]
                address = sign_on[2:-1].decode("ascii", "replace")
                self.identified = sign_on.endswith(b"!") and address in ("", self.meter.serial)
                if self.identified:
                    answers.append(f"/SIM{BAUD_CODE}EL-IEC-{self.meter.serial}\r\n".encode("ascii"))
            elif self.identified and line.endswith(f"0{BAUD_CODE}0".encode()) and bytes([ACK]) in line:
                self.identified = False
                answers.append(self._data_message())
        return answers

    def _data_message(self) -> bytes:
        now = self.meter.clock.now()
        local = time.gmtime(now + self.meter.identity.utc_offset)
        registers = self.meter.registers()
        firmware_broken = any(e.kind is EventKind.FIRMWARE_INTEGRITY for e in self.meter.events)
        lines = [
            f"C.1.0({self.meter.serial})",
            f"0.9.1({local.tm_hour:02d}:{local.tm_min:02d}:{local.tm_sec:02d})",
            f"0.9.2({local.tm_year % 100:02d}{local.tm_mon:02d}{local.tm_mday:02d})",
            f"1.8.0({kwh_text(registers.import_wh)}*kWh)",
            *(f"1.8.{zone + 1}({kwh_text(wh)}*kWh)" for zone, wh in enumerate(registers.zones_import_wh)),
            f"2.8.0({kwh_text(registers.export_wh)}*kWh)",
            f"3.8.0({kwh_text(registers.reactive_import_varh)}*kvarh)",
            f"4.8.0({kwh_text(registers.reactive_export_varh)}*kvarh)",
            f"F.F({'00000001' if firmware_broken else '00000000'})",
            "!",
        ]
        body = ("\r\n".join(lines) + "\r\n").encode("ascii") + bytes([ETX])
        return bytes([STX]) + body + bytes([bcc(body)])
