"""Virtual meters on a python-can bus, answering the framing defined in `meter_io.can_meter`."""
from __future__ import annotations

import threading

import can

from meter_io.can_meter import (EVENT_BITS, OP_LATCH, OP_PROFILE, OP_READ, REG_CLOCK, REG_EVENTS, REG_EXPORT,
                                REG_IMPORT, REG_REACTIVE_EXPORT, REG_REACTIVE_IMPORT, REG_SERIAL,
                                REG_ZONE_BASE, REG_ZONE_COUNT, REQUEST_BASE, RESPONSE_BASE, STATUS_NO_RECORD,
                                STATUS_OK, STATUS_UNKNOWN, crc8, response_frame)
from meter_io.reading import HALF_HOUR
from meter_io.sim_line import FaultPlan
from meter_io.sim_model import Registers, SimulatedMeter

PROFILE_CAPACITY = 4096
"""Half hours of profile memory (85 days)."""


class CanServer:
    """Serves every simulated meter of one virtual CAN channel from one thread until `stop()`."""

    def __init__(self, channel: str, interface: str = "virtual") -> None:
        self.channel = channel
        self._bus = can.Bus(interface=interface, channel=channel)
        self._meters: dict[int, tuple[SimulatedMeter, FaultPlan]] = {}
        self._latched: dict[int, tuple[int, Registers]] = {}
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="can-meter-simulator", daemon=True)

    def add(self, meter: SimulatedMeter, faults: FaultPlan) -> str:
        self._meters[meter.identity.address] = (meter, faults)
        return self.channel

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._bus.shutdown()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            message = self._bus.recv(timeout=0.05)
            if message is None or message.is_extended_id:
                continue
            node = message.arbitration_id - REQUEST_BASE
            data = bytes(message.data)
            if node not in self._meters or len(data) != 8 or crc8(data[:7]) != data[7]:
                continue
            meter, faults = self._meters[node]
            answer = self._answer(node, meter, data)
            shaped = faults.shape(answer, lambda frame: frame[:7] + bytes([frame[7] ^ 0xFF]))
            noise, frame = (shaped, b"") if shaped == faults.noise else (shaped[:-8], shaped[-8:])
            for payload in (noise[:8], frame):
                if payload:
                    self._bus.send(can.Message(arbitration_id=RESPONSE_BASE + node, is_extended_id=False,
                                               data=payload))

    def _answer(self, node: int, meter: SimulatedMeter, request: bytes) -> bytes:
        op, register, argument, sequence = request[0], request[1], int.from_bytes(request[2:6], "little"), request[6]
        if op == OP_LATCH:
            now = meter.clock.now()
            self._latched[node] = (now, meter.registers(now))
            return response_frame(register, STATUS_OK, now, sequence)
        if op == OP_PROFILE and register <= REG_REACTIVE_EXPORT:
            records = meter.profile(argument * HALF_HOUR, (argument + 1) * HALF_HOUR, PROFILE_CAPACITY)
            if not records:
                return response_frame(register, STATUS_NO_RECORD, 0, sequence)
            record = records[0]
            values = (record.import_wh, record.export_wh, record.reactive_import_varh, record.reactive_export_varh)
            return response_frame(register, STATUS_OK, values[register], sequence)
        if op != OP_READ:
            return response_frame(register, STATUS_UNKNOWN, 0, sequence)
        now, registers = self._latched.get(node) or (meter.clock.now(), meter.registers())
        values = {REG_IMPORT: registers.import_wh, REG_EXPORT: registers.export_wh,
                  REG_REACTIVE_IMPORT: registers.reactive_import_varh,
                  REG_REACTIVE_EXPORT: registers.reactive_export_varh, REG_SERIAL: int(meter.serial),
                  REG_CLOCK: now, REG_ZONE_COUNT: len(registers.zones_import_wh),
                  REG_EVENTS: sum({EVENT_BITS[e.kind] for e in meter.events})}
        values.update({REG_ZONE_BASE + z: wh for z, wh in enumerate(registers.zones_import_wh)})
        if register not in values:
            return response_frame(register, STATUS_UNKNOWN, 0, sequence)
        return response_frame(register, STATUS_OK, values[register] & 0xFFFFFFFF, sequence)
