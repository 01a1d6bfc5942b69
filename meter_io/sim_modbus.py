"""A virtual Eastron SDM630 answering Modbus RTU read requests from a `SimulatedMeter`."""
from __future__ import annotations

import struct

from meter_io.line import crc16_ok, with_crc16
from meter_io.modbus_sdm import ENERGY_REGISTERS, READ_HOLDING, READ_INPUT, SERIAL_NUMBER_REGISTER
from meter_io.sim_line import FaultPlan, Session
from meter_io.sim_model import SimulatedMeter

ILLEGAL_DATA_ADDRESS = 0x02


def float_registers(value: float) -> tuple[int, int]:
    """Two big-endian registers of a float32."""
    return struct.unpack(">HH", struct.pack(">f", value))  # type: ignore[return-value]


class SdmSession(Session):
    """Parses 8-byte read requests for our unit id and answers from the meter's register image."""

    def __init__(self, meter: SimulatedMeter, faults: FaultPlan) -> None:
        self.meter = meter
        self.faults = faults
        self.unit_id = meter.identity.address
        self._buffer = b""

    def corrupt(self, answer: bytes) -> bytes:
        return answer[:-2] + bytes([answer[-2] ^ 0xFF, answer[-1]])

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        answers = []
        while len(self._buffer) >= 8:
            request = self._buffer[:8]
            if request[0] != self.unit_id or request[1] not in (READ_HOLDING, READ_INPUT) or not crc16_ok(request):
                self._buffer = self._buffer[1:]
                continue
            self._buffer = self._buffer[8:]
            function = request[1]
            address, count = int.from_bytes(request[2:4], "big"), int.from_bytes(request[4:6], "big")
            answers.append(with_crc16(bytes([self.unit_id]) + self._answer(function, address, count)))
        return answers

    def _image(self, function: int) -> dict[int, int]:
        """Register address -> value, as the meter would hold them now."""
        if function == READ_HOLDING:
            serial = int(self.meter.serial)
            return {SERIAL_NUMBER_REGISTER: serial >> 16, SERIAL_NUMBER_REGISTER + 1: serial & 0xFFFF}
        registers = self.meter.registers()
        image = {}
        for index, wh in enumerate((registers.import_wh, registers.export_wh, registers.reactive_import_varh,
                                    registers.reactive_export_varh)):
            high, low = float_registers(wh / 1000)
            image[ENERGY_REGISTERS + 2 * index], image[ENERGY_REGISTERS + 2 * index + 1] = high, low
        return image

    def _answer(self, function: int, address: int, count: int) -> bytes:
        image = self._image(function)
        wanted = range(address, address + count)
        if not 1 <= count <= 125 or any(a not in image for a in wanted):
            return bytes([function | 0x80, ILLEGAL_DATA_ADDRESS])
        return bytes([function, 2 * count]) + b"".join(image[a].to_bytes(2, "big") for a in wanted)
