"""One call to get a driver for any supported protocol, for the gateway's configuration and the CLI.

    driver = open_meter("mercury230", "/dev/ttyUSB0", address=41)
    snapshot = driver.read_snapshot()

`address` is what the protocol addresses a meter by: Mercury network address, Modbus unit id, HDLC
physical address (DLMS), CAN node id; IEC 62056-21 signs on with `device_address` (often the serial
number) instead. For "can", `port` is the python-can channel (can0 on the Pi).
"""
from __future__ import annotations

from meter_io.line import LineSettings
from meter_io.reading import MeterDriver

PROTOCOLS = ("mercury230", "modbus_sdm", "iec62056_21", "dlms_spodes", "can")


def open_meter(protocol: str, port: str, address: int, *, device_address: str = "", timeout: float = 1.0,
               attempts: int = 3, software_parity: bool = False, can_interface: str = "socketcan") -> MeterDriver:
    """A ready driver for one meter; `software_parity` selects 7E1 emulated on 8N1 for IEC on a pty."""
    if protocol == "mercury230":
        from meter_io.mercury230 import Mercury230, Mercury230Config

        return Mercury230(port, Mercury230Config(address=address, attempts=attempts,
                                                 line=LineSettings(baudrate=9600, timeout=timeout)))
    if protocol == "modbus_sdm":
        from meter_io.modbus_sdm import EastronSdm, SdmConfig

        return EastronSdm(port, SdmConfig(unit_id=address, attempts=attempts,
                                          line=LineSettings(baudrate=9600, timeout=timeout)))
    if protocol == "iec62056_21":
        from meter_io.iec62056_21 import Framing, IecConfig, Iec62056Meter

        framing = Framing.SOFT_7E1 if software_parity else Framing.UART_7E1
        return Iec62056Meter(port, IecConfig(address=device_address, framing=framing, attempts=attempts,
                                             line=LineSettings(baudrate=300, timeout=timeout)))
    if protocol == "dlms_spodes":
        from meter_io.dlms_spodes import DlmsConfig, DlmsSpodesMeter

        return DlmsSpodesMeter(port, DlmsConfig(physical_address=address, attempts=attempts,
                                                line=LineSettings(baudrate=9600, timeout=timeout)))
    if protocol == "can":
        from meter_io.can_meter import CanMeter, CanMeterConfig, open_can_bus

        return CanMeter(open_can_bus(can_interface, port), CanMeterConfig(node_id=address, timeout=timeout,
                                                                          attempts=attempts), owns_bus=True)
    raise ValueError(f"unknown protocol {protocol!r}; expected one of {', '.join(PROTOCOLS)}")
