-- The indexer's read model (SQLite, WAL). Derived from final blocks only: drop the file and `energy-node reindex`
-- rebuilds it. Addresses and hashes are lowercase 0x-hex TEXT; money in kopecks, energy in Wh, times in unix
-- seconds (UTC) as INTEGER; `period` is YYYYMM. Every row that comes from a log keeps block_number and tx_hash.

CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- keys: schema_version, last_block, last_hash (the checkpoint), chain_id, utc_offset_s (the market's local time)

CREATE TABLE IF NOT EXISTS blocks (
    number INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, parent_hash TEXT NOT NULL, timestamp INTEGER NOT NULL,
    proposer TEXT NOT NULL, tx_count INTEGER NOT NULL, gas_used INTEGER NOT NULL, log_count INTEGER NOT NULL);

CREATE TABLE IF NOT EXISTS transactions (
    hash TEXT PRIMARY KEY, block_number INTEGER NOT NULL, tx_index INTEGER NOT NULL, sender TEXT NOT NULL,
    to_address TEXT NOT NULL, nonce INTEGER NOT NULL, contract TEXT, function TEXT, args_json TEXT,
    status INTEGER NOT NULL, gas_used INTEGER NOT NULL, revert_reason TEXT, timestamp INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS transactions_block ON transactions (block_number, tx_index);
CREATE INDEX IF NOT EXISTS transactions_sender ON transactions (sender, block_number);

-- every log, decoded by ABI (args_json: field name -> value; bytes as 0x-hex, integers as JSON numbers)
CREATE TABLE IF NOT EXISTS events (
    block_number INTEGER NOT NULL, log_index INTEGER NOT NULL, tx_hash TEXT NOT NULL, contract TEXT NOT NULL,
    name TEXT NOT NULL, args_json TEXT NOT NULL, timestamp INTEGER NOT NULL, PRIMARY KEY (block_number, log_index));
CREATE INDEX IF NOT EXISTS events_name ON events (name, block_number);

CREATE TABLE IF NOT EXISTS participants (address TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS roles (
    address TEXT NOT NULL, role TEXT NOT NULL, granted_block INTEGER NOT NULL, PRIMARY KEY (address, role));

CREATE TABLE IF NOT EXISTS companies (
    address TEXT PRIMARY KEY, kind INTEGER NOT NULL, name TEXT NOT NULL, phone TEXT, director TEXT,
    postal_address TEXT, inn TEXT, kpp TEXT, bik TEXT, bank_account TEXT, bank_name TEXT, grid_company TEXT,
    updated_block INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS contractors (
    grid_company TEXT NOT NULL, contractor_id INTEGER NOT NULL, name TEXT NOT NULL, postal_address TEXT,
    inn TEXT, kpp TEXT, bik TEXT, bank_account TEXT, bank_name TEXT, PRIMARY KEY (grid_company, contractor_id));

CREATE TABLE IF NOT EXISTS accounts (
    number INTEGER PRIMARY KEY, retailer TEXT NOT NULL, section INTEGER NOT NULL, tariff_group INTEGER NOT NULL,
    contract_id INTEGER NOT NULL, consumer TEXT NOT NULL, premises_address TEXT NOT NULL,
    consumer_kind INTEGER NOT NULL, floor_area_dm2 INTEGER NOT NULL, building_id INTEGER NOT NULL,
    updated_block INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS accounts_retailer ON accounts (retailer, section);
CREATE INDEX IF NOT EXISTS accounts_consumer ON accounts (consumer);

CREATE TABLE IF NOT EXISTS buildings (
    building_id INTEGER PRIMARY KEY, postal_address TEXT, management_company TEXT, house_meter_id INTEGER);
CREATE TABLE IF NOT EXISTS consumer_contracts (
    contract_id INTEGER PRIMARY KEY, account_number INTEGER NOT NULL, document_hash TEXT NOT NULL,
    block_number INTEGER NOT NULL);

CREATE TABLE IF NOT EXISTS metering_points (
    point_id INTEGER PRIMARY KEY, account_number INTEGER NOT NULL, postal_address TEXT NOT NULL,
    description TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS meters (
    meter_id INTEGER PRIMARY KEY, point_id INTEGER NOT NULL, account_number INTEGER NOT NULL, model TEXT NOT NULL,
    serial TEXT NOT NULL, installation_address TEXT NOT NULL, scheme INTEGER, ct_ratio INTEGER, vt_ratio INTEGER,
    loss_ppm INTEGER, remote INTEGER, hourly INTEGER, max_power_w INTEGER, utc_offset_s INTEGER NOT NULL DEFAULT 0,
    gateway TEXT, registered_block INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS meters_account ON meters (account_number);
CREATE INDEX IF NOT EXISTS meters_serial ON meters (serial);

CREATE TABLE IF NOT EXISTS gateway_bindings (
    meter_id INTEGER NOT NULL, gateway TEXT NOT NULL, block_number INTEGER NOT NULL, tx_hash TEXT NOT NULL,
    PRIMARY KEY (meter_id, block_number, gateway));

-- one row per meter and half-hour interval (interval_start, UTC); registers and the increase credited to it
CREATE TABLE IF NOT EXISTS readings (
    meter_id INTEGER NOT NULL, interval_start INTEGER NOT NULL, import_wh INTEGER NOT NULL,
    export_wh INTEGER NOT NULL, delta_import_wh INTEGER NOT NULL, delta_export_wh INTEGER NOT NULL,
    manual INTEGER NOT NULL, tx_hash TEXT NOT NULL, block_number INTEGER NOT NULL,
    PRIMARY KEY (meter_id, interval_start)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS readings_interval ON readings (interval_start);
-- daily sums per meter (day = local date of the meter as YYYYMMDD), kept with the readings for fast reports
CREATE TABLE IF NOT EXISTS readings_daily (
    meter_id INTEGER NOT NULL, day INTEGER NOT NULL, import_wh INTEGER NOT NULL, export_wh INTEGER NOT NULL,
    intervals INTEGER NOT NULL, PRIMARY KEY (meter_id, day)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS readings_daily_day ON readings_daily (day);

CREATE TABLE IF NOT EXISTS meter_events (
    meter_id INTEGER NOT NULL, kind INTEGER NOT NULL, at INTEGER NOT NULL, alarms INTEGER NOT NULL,
    tx_hash TEXT NOT NULL, block_number INTEGER NOT NULL, log_index INTEGER NOT NULL,
    PRIMARY KEY (block_number, log_index));
CREATE INDEX IF NOT EXISTS meter_events_meter ON meter_events (meter_id, at);
CREATE TABLE IF NOT EXISTS reading_conflicts (
    meter_id INTEGER NOT NULL, interval_start INTEGER NOT NULL, import_wh INTEGER NOT NULL,
    export_wh INTEGER NOT NULL, recorded_import_wh INTEGER NOT NULL, recorded_export_wh INTEGER NOT NULL,
    tx_hash TEXT NOT NULL, block_number INTEGER NOT NULL, log_index INTEGER NOT NULL,
    PRIMARY KEY (block_number, log_index));
CREATE TABLE IF NOT EXISTS reading_rejections (
    meter_id INTEGER NOT NULL, interval_start INTEGER NOT NULL, code INTEGER NOT NULL, reason TEXT NOT NULL,
    tx_hash TEXT NOT NULL, block_number INTEGER NOT NULL, log_index INTEGER NOT NULL,
    PRIMARY KEY (block_number, log_index));

CREATE TABLE IF NOT EXISTS tariff_groups (
    group_id INTEGER PRIMARY KEY, retailer TEXT NOT NULL, name TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS tariff_options (
    group_id INTEGER NOT NULL, option_id INTEGER NOT NULL, effective_from INTEGER NOT NULL, kind INTEGER NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0, block_number INTEGER NOT NULL,
    PRIMARY KEY (group_id, option_id, effective_from));

-- status: issued, confirmed, disputed, superseded, paid
CREATE TABLE IF NOT EXISTS invoices (
    invoice_id INTEGER PRIMARY KEY, account_number INTEGER NOT NULL, period INTEGER NOT NULL, consumer TEXT NOT NULL,
    total INTEGER NOT NULL, volume_wh INTEGER NOT NULL, method INTEGER NOT NULL, supersedes INTEGER NOT NULL,
    due_at INTEGER NOT NULL, status TEXT NOT NULL, dispute_reason TEXT, superseded_by INTEGER,
    paid_total INTEGER NOT NULL DEFAULT 0, issued_at INTEGER NOT NULL, block_number INTEGER NOT NULL,
    tx_hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS invoices_account ON invoices (account_number, period);
CREATE TABLE IF NOT EXISTS invoice_lines (
    invoice_id INTEGER NOT NULL, line_no INTEGER NOT NULL, payee TEXT NOT NULL, component INTEGER NOT NULL,
    quantity INTEGER NOT NULL, net INTEGER NOT NULL, vat INTEGER NOT NULL, PRIMARY KEY (invoice_id, line_no));

CREATE TABLE IF NOT EXISTS payments (
    payment_id INTEGER PRIMARY KEY, invoice_id INTEGER NOT NULL, account_number INTEGER NOT NULL,
    payer TEXT NOT NULL, amount INTEGER NOT NULL, applied INTEGER NOT NULL, source INTEGER NOT NULL,
    paid_at INTEGER NOT NULL, block_number INTEGER NOT NULL, tx_hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS payments_account ON payments (account_number, paid_at);
CREATE INDEX IF NOT EXISTS payments_paid_at ON payments (paid_at);
CREATE TABLE IF NOT EXISTS payment_splits (
    payment_id INTEGER NOT NULL, payee TEXT NOT NULL, invoice_id INTEGER NOT NULL, component INTEGER NOT NULL,
    amount INTEGER NOT NULL, log_index INTEGER NOT NULL, block_number INTEGER NOT NULL,
    PRIMARY KEY (block_number, log_index));
CREATE INDEX IF NOT EXISTS payment_splits_payment ON payment_splits (payment_id);
CREATE TABLE IF NOT EXISTS top_ups (
    reference TEXT PRIMARY KEY, consumer TEXT NOT NULL, amount INTEGER NOT NULL, source INTEGER NOT NULL,
    at INTEGER NOT NULL, block_number INTEGER NOT NULL, tx_hash TEXT NOT NULL);
-- a holder's top-up or withdrawal request to the bank (ruble token); status: pending, done, rejected
CREATE TABLE IF NOT EXISTS bank_requests (
    request_id INTEGER PRIMARY KEY, kind TEXT NOT NULL, holder TEXT NOT NULL, amount INTEGER NOT NULL,
    bank_account TEXT, status TEXT NOT NULL, reason TEXT, bank_reference TEXT, requested_at INTEGER NOT NULL,
    settled_at INTEGER, request_tx TEXT NOT NULL, settle_tx TEXT);
CREATE INDEX IF NOT EXISTS bank_requests_holder ON bank_requests (holder, requested_at);
CREATE TABLE IF NOT EXISTS token_transfers (
    block_number INTEGER NOT NULL, log_index INTEGER NOT NULL, tx_hash TEXT NOT NULL, sender TEXT NOT NULL,
    recipient TEXT NOT NULL, value INTEGER NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (block_number, log_index));
CREATE INDEX IF NOT EXISTS token_transfers_sender ON token_transfers (sender);
CREATE INDEX IF NOT EXISTS token_transfers_recipient ON token_transfers (recipient);

CREATE TABLE IF NOT EXISTS documents (
    document_hash TEXT PRIMARY KEY, anchorer TEXT NOT NULL, doc_type TEXT NOT NULL, period_start INTEGER NOT NULL,
    period_end INTEGER NOT NULL, at INTEGER NOT NULL, block_number INTEGER NOT NULL, tx_hash TEXT NOT NULL);

-- green certificates (contracts_py/green.py); status: issued, offered, retired
CREATE TABLE IF NOT EXISTS green_facilities (
    facility_id INTEGER PRIMARY KEY, owner TEXT NOT NULL, technology INTEGER NOT NULL, capacity_w INTEGER NOT NULL,
    commissioned_on INTEGER NOT NULL, meter_id INTEGER NOT NULL, name TEXT NOT NULL, confirmed INTEGER NOT NULL,
    last_period INTEGER NOT NULL, carry_wh INTEGER NOT NULL, block_number INTEGER NOT NULL, tx_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS green_issuances (
    issuance_id INTEGER PRIMARY KEY, facility_id INTEGER NOT NULL, period INTEGER NOT NULL, owner TEXT NOT NULL,
    technology INTEGER NOT NULL, first_serial INTEGER NOT NULL, certificates INTEGER NOT NULL,
    measured_wh INTEGER NOT NULL, carry_in_wh INTEGER NOT NULL, carry_out_wh INTEGER NOT NULL,
    issued_at INTEGER NOT NULL, block_number INTEGER NOT NULL, tx_hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS green_issuances_facility ON green_issuances (facility_id, period);
CREATE TABLE IF NOT EXISTS green_certificates (
    serial INTEGER PRIMARY KEY, issuance_id INTEGER NOT NULL, facility_id INTEGER NOT NULL,
    technology INTEGER NOT NULL, period INTEGER NOT NULL, owner TEXT NOT NULL, status TEXT NOT NULL,
    offer_id INTEGER, retirement_id INTEGER, updated_block INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS green_certificates_owner ON green_certificates (owner, status);
CREATE INDEX IF NOT EXISTS green_certificates_offer ON green_certificates (offer_id);
CREATE INDEX IF NOT EXISTS green_certificates_retirement ON green_certificates (retirement_id);
-- every change of a certificate's owner or status after issuance; kind: transferred, offered, withdrawn, retired
CREATE TABLE IF NOT EXISTS green_moves (
    serial INTEGER NOT NULL, kind TEXT NOT NULL, sender TEXT, recipient TEXT, at INTEGER NOT NULL,
    block_number INTEGER NOT NULL, log_index INTEGER NOT NULL, tx_hash TEXT NOT NULL,
    PRIMARY KEY (serial, block_number, log_index));
-- status: open, sold, withdrawn
CREATE TABLE IF NOT EXISTS green_offers (
    offer_id INTEGER PRIMARY KEY, seller TEXT NOT NULL, price_each INTEGER NOT NULL, certificates INTEGER NOT NULL,
    status TEXT NOT NULL, buyer TEXT, total INTEGER, offered_at INTEGER NOT NULL, block_number INTEGER NOT NULL,
    tx_hash TEXT NOT NULL, closed_tx_hash TEXT);
CREATE TABLE IF NOT EXISTS green_retirements (
    retirement_id INTEGER PRIMARY KEY, retired_by TEXT NOT NULL, beneficiary TEXT NOT NULL,
    beneficiary_account INTEGER NOT NULL, purpose TEXT NOT NULL, consumption_period INTEGER NOT NULL,
    certificates INTEGER NOT NULL, retired_at INTEGER NOT NULL, block_number INTEGER NOT NULL,
    tx_hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS green_retirements_beneficiary ON green_retirements (beneficiary);

-- demand response (contracts_py/demand_response.py): programmes and announced events (start, end: unix seconds)
CREATE TABLE IF NOT EXISTS dr_programmes (
    programme_id INTEGER PRIMARY KEY, operator TEXT NOT NULL, aggregator TEXT NOT NULL, name TEXT NOT NULL,
    block_number INTEGER NOT NULL, tx_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dr_events (
    event_id INTEGER PRIMARY KEY, programme_id INTEGER NOT NULL, start_at INTEGER NOT NULL, end_at INTEGER NOT NULL,
    required_w INTEGER NOT NULL, announced_at INTEGER NOT NULL, block_number INTEGER NOT NULL,
    tx_hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS dr_events_programme ON dr_events (programme_id);
-- offers to take part of an event's obligation; open until a handOver accepts one (the contract's `offer` view)
CREATE TABLE IF NOT EXISTS dr_offers (
    offer_id INTEGER PRIMARY KEY, event_id INTEGER NOT NULL, taker_meter_id INTEGER NOT NULL,
    reduction_w INTEGER NOT NULL, price INTEGER NOT NULL, open INTEGER NOT NULL, offered_at INTEGER NOT NULL,
    block_number INTEGER NOT NULL, tx_hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS dr_offers_event ON dr_offers (event_id, open);
