"""The indexer turns a market's blocks into the read model, and rebuilds the same model from the chain."""

import datetime
import sqlite3

from click.testing import CliRunner

from contracts_py.billing.periods import MOSCOW_UTC_OFFSET
from indexer.follower import Indexer
from indexer.store import drop
from market_harness import ACCOUNT, METER, build_market, pay_invoice
from node.cli import cli
from rpc import ats80020


def rows(path, sql, *params):
    with sqlite3.connect(path) as db:
        return db.execute(sql, params).fetchall()


def test_market_is_indexed_with_decoded_calls_readings_invoice_and_payment(local_chain, solo_network, tmp_path):
    market = build_market(local_chain, solo_network)
    for name, tx in market.tx.items():
        assert local_chain.receipt_ok(tx), name
    path = tmp_path / "index.sqlite"
    indexer = Indexer(local_chain.node, path)
    progress = indexer.catch_up()
    assert progress.blocks == local_chain.node.head.number + 1 and progress.readings == market.intervals
    ((invoice_id, total, status),) = rows(path, "SELECT invoice_id, total, status FROM invoices")
    paid = pay_invoice(local_chain, invoice_id, total)
    indexer.catch_up()
    assert rows(path, "SELECT status, revert_reason FROM transactions WHERE hash=?", "0x" + paid.hex()) == [(1, None)]
    assert rows(path, "SELECT retailer, section, premises_address FROM accounts") == [
        ("0x" + market.retailer.hex(), 7, "Kazan, Baumana 1")]
    assert rows(path, "SELECT model, serial, utc_offset_s, gateway FROM meters WHERE meter_id=?", METER) == [
        ("Mercury 230", "SN1001", 10800, "0x" + market.gateway.hex())]
    assert rows(path, "SELECT count(*), sum(delta_import_wh) FROM readings") == [(market.intervals,
                                                                                  100 * market.intervals)]
    assert rows(path, "SELECT sum(import_wh), sum(intervals) FROM readings_daily") == [(100 * market.intervals,
                                                                                       market.intervals)]
    assert rows(path, "SELECT status, paid_total FROM invoices") == [("paid", total)]
    assert rows(path, "SELECT sum(amount) FROM payment_splits") == [(total,)]
    assert rows(path, "SELECT account_number, amount FROM payments") == [(ACCOUNT, total)]
    assert rows(path, "SELECT count(*) FROM meter_events") == [(1,)]
    assert rows(path, "SELECT amount FROM top_ups") == [(500_000,)]
    assert rows(path, "SELECT doc_type FROM documents") == [("act",)]
    assert ("0x" + market.gateway.hex(), "gateway") in rows(path, "SELECT address, role FROM roles")
    assert rows(path, "SELECT function FROM transactions WHERE hash=?", "0x" + market.tx["invoice"].hex()) == [
        ("issueInvoice",)]
    assert rows(path, "SELECT name FROM companies ORDER BY name") == [("Grid Kazan",), ("Retail Kazan",)]
    before = {table: rows(path, f"SELECT * FROM {table} ORDER BY 1, 2")
              for table in ("accounts", "meters", "readings", "invoices", "payments", "events", "transactions")}
    indexer.close()
    drop(path)
    rebuilt = Indexer(local_chain.node, path)
    rebuilt.catch_up()
    assert {table: rows(path, f"SELECT * FROM {table} ORDER BY 1, 2") for table in before} == before
    rebuilt.close()


def test_ats80020_export_command_writes_the_standard_file_from_the_read_model(local_chain, solo_network, tmp_path):
    market = build_market(local_chain, solo_network)
    datadir = tmp_path / "local"
    indexer = Indexer.for_datadir(local_chain.node, datadir)
    indexer.catch_up()
    indexer.close()
    first_day = datetime.datetime.fromtimestamp(market.first_interval + MOSCOW_UTC_OFFSET, datetime.UTC).date()
    runner = CliRunner()
    result = runner.invoke(cli, ["ats80020", "export", "--datadir", str(datadir), "--date", f"{first_day}",
                                 "--sender-inn", "1655000000", "--points", str(ACCOUNT), "--number", "3",
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    path = tmp_path / "out" / f"80020_1655000000_{first_day:%Y%m%d}_3.xml"
    assert result.output.strip() == str(path)
    (point,) = ats80020.parse(path.read_bytes()).points
    assert [i.value_wh for i in point.channels["01"]] == [100] * 48 and point.code == str(ACCOUNT)
    unknown = runner.invoke(cli, ["ats80020", "export", "--datadir", str(datadir), "--date", f"{first_day}",
                                  "--sender-inn", "1655000000", "--points", "77", "--out", str(tmp_path / "out")])
    assert unknown.exit_code != 0 and "no metering point 77" in unknown.output
