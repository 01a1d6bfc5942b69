"""The indexer: final blocks into an SQLite read model (WAL) that the REST API, webhooks and portals read.

It is derived data: `energy-node reindex --datadir D` drops `D/index.sqlite` and rebuilds it from the chain. The
tables (`indexer/schema.sql` holds the columns):

- `meta` — schema_version, the checkpoint (`last_block`, `last_hash`), chain_id.
- `blocks`, `transactions` (decoded call: `contract`, `function`, `args_json`; status, gas, revert reason),
  `events` (every native-contract log decoded by ABI: contract, name, args_json).
- `participants` (genesis names), `roles` (address, role name); `companies` (profile, bank requisites, the grid
  company a retailer is attached to), `contractors`.
- `accounts` (personal accounts: retailer, section, tariff group, consumer address, premises address...),
  `buildings`, `consumer_contracts`, `metering_points`, `meters` (model, serial, installation address, scheme and
  ratios, gateway, UTC offset), `gateway_bindings` (history).
- `readings` — one row per meter and half-hour interval: registers, the increase credited to the interval (delta),
  manual flag, tx hash, block; `readings_daily` — per meter and local day (YYYYMMDD) sums for reports;
  `meter_events`, `reading_conflicts`, `reading_rejections`.
- `tariff_groups`, `tariff_options` (versions by effective_from).
- `invoices` (status issued/confirmed/disputed/superseded/paid, paid_total), `invoice_lines`; `payments`,
  `payment_splits`, `top_ups`, `token_transfers`; `documents` (notarized hashes).

Addresses and hashes are lowercase 0x-hex; kopecks, Wh and unix seconds are integers."""
