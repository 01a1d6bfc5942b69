"""Reading electricity meters on the consumer's premises, and simulating them.

- `reading`: the common interface (`MeterSnapshot`, `IntervalRecord`, `MeterDriver`) and typed errors.
- One driver module per protocol: `mercury230`, `modbus_sdm`, `iec62056_21`, `dlms_spodes`, `can_meter`;
  `drivers.open_meter(protocol, port, address)` picks one.
- `simulator.start_simulated_meters(count, protocol)`: virtual meters on pty pairs (a virtual CAN bus for
  "can") with a deterministic household load profile (`sim_model`) and fault injection (`sim_line`).
"""
