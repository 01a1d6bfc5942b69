"""A virtual SPODES meter: HDLC link layer and the COSEM objects `meter_io.dlms_spodes` reads.

The HDLC frames the client sends are parsed here (flags, addresses, control byte, FCS); answers are built
with the dlms-cosem library's frame and APDU classes, so the driver's library decodes what it expects.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from dlms_cosem import dlms_data, enumerations
from dlms_cosem.hdlc import frames
from dlms_cosem.hdlc.address import HdlcAddress
from dlms_cosem.protocol import acse, xdlms
from dlms_cosem.protocol.xdlms.conformance import Conformance
from dlms_cosem.time import datetime_to_bytes

from meter_io.dlms_spodes import (HDLC_FLAG, OBIS_CLOCK, OBIS_EXPORT, OBIS_IMPORT, OBIS_LOAD_PROFILE,
                                  OBIS_REACTIVE_EXPORT, OBIS_REACTIVE_IMPORT, OBIS_SERIAL, PROFILE_COLUMNS,
                                  UNIT_VARH, UNIT_WH, fcs_ok)
from meter_io.reading import HALF_HOUR, EventKind
from meter_io.sim_line import FaultPlan, Session
from meter_io.sim_model import SimulatedMeter

LLC_COMMAND, LLC_RESPONSE = b"\xe6\xe6\x00", b"\xe6\xe7\x00"
CONTROL_SNRM, CONTROL_DISC = 0x83, 0x43  # without the poll bit 0x10
CONTROL_RR = 0x01  # low nibble of a receive-ready frame
MAX_INFORMATION = 128
"""Default HDLC maximum information field length (no SNRM negotiation): longer answers are segmented."""
GET_RESPONSE, GET_RESPONSE_NORMAL = 0xC4, 0x01
READER_PASSWORD = b"12345678"
TAMPER_STATUS = {"0.0.96.51.0.255": EventKind.COVER_OPEN, "0.0.96.51.3.255": EventKind.MAGNETIC_FIELD}
"""Status objects this simulated model has (it lacks 0.0.96.51.1.255, the terminal cover switch)."""
PROFILE_DEPTH = 4096
"""Half hours the simulated load profile keeps (85 days)."""
PHYSICAL_ADDRESS_BASE = 16
"""Simulated meter n (1-based) answers HDLC physical address 16 + n."""


def _address_length(frame: bytes, start: int) -> int:
    """Bytes of the HDLC address field starting at `start`: up to the byte whose low bit is 1."""
    for length in range(1, 5):
        if frame[start + length - 1] & 1:
            return length
    raise ValueError("HDLC address longer than 4 bytes")


def _dotted(obis) -> str:
    """An OBIS code as "a.b.c.d.e.f", the spelling the driver uses."""
    return ".".join(str(part) for part in (obis.a, obis.b, obis.c, obis.d, obis.e, obis.f))


class DlmsSession(Session):
    """HDLC connection state (sequence numbers) and the association of one virtual SPODES meter."""

    def __init__(self, meter: SimulatedMeter, faults: FaultPlan) -> None:
        self.meter = meter
        self.faults = faults
        self.physical_address = PHYSICAL_ADDRESS_BASE + meter.identity.address
        self._buffer = b""
        self._send_sequence = self._receive_sequence = 0
        self._client: HdlcAddress | None = None
        self._associated = False

    def corrupt(self, answer: bytes) -> bytes:
        """Spoil the FCS (the two bytes before the closing flag)."""
        return answer[:-3] + bytes([answer[-3] ^ 0xFF]) + answer[-2:]

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        answers = []
        while True:
            start = self._buffer.find(bytes([HDLC_FLAG]))
            if start < 0 or len(self._buffer) < start + 3:
                break
            length = (self._buffer[start + 1] & 0x07) << 8 | self._buffer[start + 2]
            frame = self._buffer[start:start + length + 2]
            if len(frame) < length + 2:
                break
            if frame[-1] != HDLC_FLAG or not fcs_ok(frame):
                self._buffer = self._buffer[start + 1:]
                continue
            self._buffer = self._buffer[start + length + 2:]
            answer = self._answer(frame)
            if answer:
                answers.append(answer)
        return answers

    def _answer(self, frame: bytes) -> bytes | None:
        destination_length = _address_length(frame, 3)
        destination = frame[3:3 + destination_length]
        source_at = 3 + destination_length
        source_length = _address_length(frame, source_at)
        if destination_length != 2 or (destination[1] >> 1) != self.physical_address:
            return None  # another meter on the bus
        self._client = HdlcAddress(frame[source_at] >> 1, None, "client")
        server = HdlcAddress(destination[0] >> 1, self.physical_address, "server")
        control = frame[source_at + source_length]
        if control & ~0x10 in (CONTROL_SNRM, CONTROL_DISC):
            self._send_sequence = self._receive_sequence = 0
            self._associated = False
            return frames.UnNumberedAcknowledgmentFrame(self._client, server).to_bytes()
        if control & 0x0F == CONTROL_RR:
            return self._next_segment(server) if self._pending else None
        if control & 1:
            return None  # other supervisory frames
        self._receive_sequence = (control >> 1 & 7) + 1 & 7
        information = frame[source_at + source_length + 3:-3]
        answer = LLC_RESPONSE + self._apdu_answer(information[len(LLC_COMMAND):])
        self._pending = [answer[i:i + MAX_INFORMATION] for i in range(0, len(answer), MAX_INFORMATION)]
        return self._next_segment(server)

    def _next_segment(self, server: HdlcAddress) -> bytes:
        """The next I-frame of the answer; all but the last are marked segmented and wait for the client's RR."""
        payload = self._pending.pop(0)
        answer = frames.InformationFrame(self._client, server, payload, segmented=bool(self._pending),
                                         send_sequence_number=self._send_sequence,
                                         receive_sequence_number=self._receive_sequence)
        self._send_sequence = self._send_sequence + 1 & 7
        return answer.to_bytes()

    def _apdu_answer(self, apdu: bytes) -> bytes:
        if apdu[:1] == b"\x60":
            request = acse.ApplicationAssociationRequest.from_bytes(apdu)
            self._associated = request.authentication_value == READER_PASSWORD
            initiate = xdlms.InitiateResponse(negotiated_conformance=Conformance(get=True),
                                              server_max_receive_pdu_size=512)
            diagnostics = (enumerations.AcseServiceUserDiagnostics.NULL if self._associated else
                           enumerations.AcseServiceUserDiagnostics.AUTHENTICATION_FAILED)
            return acse.ApplicationAssociationResponse(
                result=enumerations.AssociationResult.ACCEPTED if self._associated
                else enumerations.AssociationResult.REJECTED_PERMANENT,
                result_source_diagnostics=diagnostics,
                user_information=acse.UserInformation(content=initiate) if self._associated else None,
            ).to_bytes()
        if apdu[:1] == b"\x62":
            self._associated = False
            return acse.ReleaseResponse(reason=enumerations.ReleaseResponseReason.NORMAL).to_bytes()
        request = xdlms.GetRequestNormal.from_bytes(apdu)
        attribute = request.cosem_attribute
        data = (self._attribute(_dotted(attribute.instance), attribute.attribute, request.access_selection)
                if self._associated else None)
        # GET-Response-Normal by hand: the library's encoder of it is broken (it appends bytes to a bytearray).
        head = bytes([GET_RESPONSE, GET_RESPONSE_NORMAL, request.invoke_id_and_priority.to_bytes()[0]])
        if data is None:
            return head + bytes([1, enumerations.DataAccessResult.OBJECT_UNDEFINED])
        return head + b"\x00" + data

    def _attribute(self, obis: str, attribute: int, selection) -> bytes | None:
        if obis == OBIS_LOAD_PROFILE:
            return self._profile_attribute(attribute, selection)
        if obis in PROFILE_COLUMNS and attribute == 3:
            unit = UNIT_WH if obis in PROFILE_COLUMNS[:2] else UNIT_VARH
            return dlms_data.DataStructure([dlms_data.IntegerData(0), dlms_data.EnumData(unit)]).to_bytes()
        registers = self.meter.registers()
        energy = {OBIS_IMPORT: (registers.import_wh, UNIT_WH), OBIS_EXPORT: (registers.export_wh, UNIT_WH),
                  OBIS_REACTIVE_IMPORT: (registers.reactive_import_varh, UNIT_VARH),
                  OBIS_REACTIVE_EXPORT: (registers.reactive_export_varh, UNIT_VARH)}
        energy.update({f"1.0.1.8.{z + 1}.255": (wh, UNIT_WH) for z, wh in enumerate(registers.zones_import_wh)})
        if obis in energy and attribute == 2:
            return dlms_data.DoubleLongUnsignedData(energy[obis][0]).to_bytes()
        if obis in energy and attribute == 3:
            return dlms_data.DataStructure([dlms_data.IntegerData(0), dlms_data.EnumData(energy[obis][1])]).to_bytes()
        if obis in TAMPER_STATUS and attribute == 2:
            raised = any(event.kind is TAMPER_STATUS[obis] for event in self.meter.events)
            return dlms_data.UnsignedIntegerData(1 if raised else 0).to_bytes()
        if obis == OBIS_SERIAL and attribute == 2:
            return dlms_data.OctetStringData(self.meter.serial.encode("ascii")).to_bytes()
        if obis == OBIS_CLOCK and attribute == 2:
            offset = timezone(timedelta(seconds=self.meter.identity.utc_offset))
            moment = datetime.fromtimestamp(self.meter.clock.now(), tz=offset)
            return dlms_data.OctetStringData(datetime_to_bytes(moment)).to_bytes()
        return None

    def _profile_attribute(self, attribute: int, selection) -> bytes | None:
        """Load profile attributes: buffer (2, by clock range), capture_objects (3), capture_period (4)."""
        if attribute == 4:
            return dlms_data.DoubleLongUnsignedData(HALF_HOUR).to_bytes()
        if attribute == 3:
            columns = [(8, OBIS_CLOCK)] + [(3, obis) for obis in PROFILE_COLUMNS]
            return dlms_data.DataArray([dlms_data.DataStructure([
                dlms_data.UnsignedLongData(interface),
                dlms_data.OctetStringData(bytes(int(part) for part in obis.split("."))),
                dlms_data.IntegerData(2), dlms_data.UnsignedLongData(0)]) for interface, obis in columns]).to_bytes()
        if attribute != 2 or selection is None:
            return None
        first_end, last_end = int(selection.from_value.timestamp()), int(selection.to_value.timestamp())
        offset = timezone(timedelta(seconds=self.meter.identity.utc_offset))
        rows = []
        for record in self.meter.profile(first_end - HALF_HOUR, last_end - HALF_HOUR + 1, PROFILE_DEPTH):
            end = datetime.fromtimestamp(record.start + HALF_HOUR, tz=offset)
            rows.append(dlms_data.DataStructure([dlms_data.OctetStringData(datetime_to_bytes(end))] + [
                dlms_data.DoubleLongUnsignedData(value) for value in
                (record.import_wh, record.export_wh, record.reactive_import_varh, record.reactive_export_varh)]))
        return dlms_data.DataArray(rows).to_bytes()
