"""Virtual meters on pseudo-terminals (and a virtual CAN bus) for tests, demos and `energy-gateway simulate`.

    sim = start_simulated_meters(3, "mercury230")
    for meter in sim.meters:
        driver = open_meter(meter.protocol, meter.port, meter.address, device_address=meter.serial)
        print(driver.read_snapshot())
        driver.close()
    sim.stop()

(IEC 62056-21 on a pty needs `software_parity=True`; CAN needs `can_interface="virtual"`.)

Every meter follows a deterministic household profile (`sim_model`) on a shared clock: pass a `SimClock` to
fast-forward days in a test, or leave the default wall clock for a live demo. `sim.faults[serial]` switches
faults on for one meter; `sim.models[serial]` is its energy model (expected register values, events).
"""
from __future__ import annotations

from dataclasses import dataclass

from meter_io.drivers import PROTOCOLS
from meter_io.reading import HALF_HOUR
from meter_io.sim_dlms import PHYSICAL_ADDRESS_BASE
from meter_io.sim_line import FaultPlan, PtyServer, Session
from meter_io.sim_model import DAY, MeterIdentity, SimClock, SimulatedMeter, WallClock


@dataclass(frozen=True)
class SimulatedMeterInfo:
    """Where a driver finds one simulated meter."""

    port: str
    """Pty slave path (or the python-can virtual channel name for "can")."""
    serial: str
    address: int
    """What `drivers.open_meter` takes: Mercury address, Modbus unit id, HDLC physical address, CAN node id."""
    protocol: str
    prosumer: bool


class MeterSimulator:
    """Running virtual meters; `stop()` (or leaving the `with` block) ends the thread and closes the ports."""

    def __init__(self, meters: list[SimulatedMeterInfo], models: dict[str, SimulatedMeter],
                 faults: dict[str, FaultPlan], clock: SimClock | WallClock, server) -> None:
        self.meters = meters
        self.models = models
        self.faults = faults
        self.clock = clock
        self._server = server

    def __iter__(self):
        return iter(self.meters)

    def __len__(self) -> int:
        return len(self.meters)

    def __enter__(self) -> "MeterSimulator":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> None:
        self._server.stop()


def start_simulated_meters(count: int, protocol: str, clock: SimClock | WallClock | None = None,
                           prosumer_every: int = 3, installed_days_ago: int = 30,
                           first_serial: int = 41000001, can_channel: str | None = None,
                           shared_line: bool = False) -> MeterSimulator:
    """Start `count` virtual meters speaking `protocol` in a background thread.

    Every `prosumer_every`-th meter (the 1st, the 4th, ...) has a PV array; 0 means none. Registers count
    from `installed_days_ago` days before the clock's current time. With `shared_line` all meters hang on
    one pty like meters on one RS-485 bus (poll them one at a time; IEC meters then need their address);
    CAN meters always share their bus.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; expected one of {', '.join(PROTOCOLS)}")
    if not 1 <= count <= 247:
        raise ValueError(f"count must be 1..247 (bus addresses), got {count}")
    clock = clock or WallClock()
    installed_at = (clock.now() - installed_days_ago * DAY) // HALF_HOUR * HALF_HOUR
    models: dict[str, SimulatedMeter] = {}
    faults: dict[str, FaultPlan] = {}
    identities = []
    for index in range(count):
        identity = MeterIdentity(serial=str(first_serial + index), address=index + 1, installed_at=installed_at,
                                 prosumer=bool(prosumer_every) and index % prosumer_every == 0)
        identities.append(identity)
        models[identity.serial] = SimulatedMeter(identity, clock)
        faults[identity.serial] = FaultPlan()
    if protocol == "can":
        from meter_io.sim_can import CanServer

        server = CanServer(can_channel or f"energy-sim-{id(models)}")
        ports = [server.add(models[i.serial], faults[i.serial]) for i in identities]
    else:
        server = PtyServer()
        sessions = [_session(protocol, models[i.serial], faults[i.serial]) for i in identities]
        if shared_line:
            ports = [server.add(sessions)] * count
        else:
            ports = [server.add([session]) for session in sessions]
    server.start()
    offset = PHYSICAL_ADDRESS_BASE if protocol == "dlms_spodes" else 0
    meters = [SimulatedMeterInfo(port, i.serial, i.address + offset, protocol, i.prosumer)
              for port, i in zip(ports, identities)]
    return MeterSimulator(meters, models, faults, clock, server)


def _session(protocol: str, meter: SimulatedMeter, faults: FaultPlan) -> Session:
    if protocol == "mercury230":
        from meter_io.sim_mercury import MercurySession

        return MercurySession(meter, faults)
    if protocol == "modbus_sdm":
        from meter_io.sim_modbus import SdmSession

        return SdmSession(meter, faults)
    if protocol == "iec62056_21":
        from meter_io.sim_iec import IecSession

        return IecSession(meter, faults)
    from meter_io.sim_dlms import DlmsSession

    return DlmsSession(meter, faults)
