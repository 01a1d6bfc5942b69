"""The meter gateway of a consumer's premises (a Raspberry Pi): `energy-gateway run --config gateway.toml`.

- `config`: the TOML configuration (key, nodes, queue, meters).
- `poller`: reads meters at each interval boundary and backfills missed intervals from profile memory.
- `queue`: the durable SQLite queue of readings, events and signed transactions.
- `submitter`: signs readings into `postMeterReadings` transactions, sends them with failover, follows receipts.
- `follower`: checks headers (seals of the validator set it tracks) and inclusion: finality without trusting a node.
- `service`: the loop that ties them together; `enroll`: the grid company's registration steps.
"""
