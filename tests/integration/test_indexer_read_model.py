"""The read model's own rules: handlers are chosen by (contract, event name), and a read model written by another
schema version is rebuilt from the chain in the same file."""

import sqlite3

from contracts_py import ruble
from contracts_py.catalog import CONTRACTS
from indexer.apply import HANDLERS, LogContext, apply_event
from indexer.decode import DecodedEvent
from indexer.follower import Indexer
from indexer.store import SCHEMA_VERSION, Readers, open_writer, schema_sql, schema_version

ALICE, BOB = bytes([0xA1]) * 20, bytes([0xB0]) * 20


def test_every_handler_names_an_event_its_contract_declares():
    declared = {(c.NAME, e.__event_spec__.name) for c in CONTRACTS.values() for e in c.EVENTS}
    assert set(HANDLERS) <= declared


def test_an_event_of_the_same_name_from_another_contract_does_not_reach_the_handler(tmp_path):
    db = open_writer(tmp_path / "index.sqlite")
    transfer = {"from": ALICE, "to": BOB, "value": 500}
    for log_index, contract in enumerate(("GreenCertificates", "RubleToken")):
        apply_event(db, LogContext(1, 1_700_000_000, "0x01", log_index, lambda *a: None),
                    DecodedEvent(contract, "Transfer", transfer))
    assert db.execute("SELECT contract FROM events ORDER BY log_index").fetchall() == [
        ("GreenCertificates",), ("RubleToken",)]
    assert db.execute("SELECT log_index, sender, value FROM token_transfers").fetchall() == [
        (1, "0x" + ALICE.hex(), 500)]


def test_the_schema_version_follows_the_schema_text_and_the_handlers_revision():
    sql = schema_sql()
    assert schema_version(sql) == SCHEMA_VERSION
    assert schema_version(sql + "CREATE TABLE IF NOT EXISTS t (x INTEGER);\n") != SCHEMA_VERSION
    assert schema_version(sql, handlers_revision=999) != SCHEMA_VERSION


def table_rows(path, table):
    with sqlite3.connect(path) as db:
        return db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()


def test_a_read_model_of_an_older_schema_is_rebuilt_with_the_events_it_missed(local_chain, solo_network, tmp_path):
    faucet = solo_network.private_key("faucet")
    for amount in (1_000, 2_000):
        local_chain.send(faucet, ruble.ADDRESS, "transfer", BOB, amount)
    local_chain.seal()
    path = tmp_path / "index.sqlite"
    indexer = Indexer(local_chain.node, path)
    indexer.catch_up()
    indexer.close()
    transfers, events = table_rows(path, "token_transfers"), table_rows(path, "events")
    assert [row[5] for row in transfers if row[4] == "0x" + BOB.hex()] == [1_000, 2_000]
    with sqlite3.connect(path) as old:  # as an earlier node left it: no table for later events, none indexed
        old.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
        old.execute("DELETE FROM token_transfers")
        old.execute("DROP TABLE dr_offers")
    readers = Readers(path)  # an API or portal reader with the file open before the node restarts
    assert readers.query("SELECT count(*) AS n FROM token_transfers") == [{"n": 0}]

    reopened = Indexer(local_chain.node, path)
    assert reopened.checkpoint.number == -1  # the checkpoint went with the old tables: indexing from genesis
    reopened.catch_up()
    reopened.close()
    assert table_rows(path, "token_transfers") == transfers and table_rows(path, "events") == events
    assert table_rows(path, "dr_offers") == []
    assert readers.query("SELECT value FROM meta WHERE key='schema_version'") == [{"value": SCHEMA_VERSION}]
    assert len(readers.query("SELECT * FROM token_transfers")) == len(transfers)


def test_a_read_model_of_this_version_keeps_its_checkpoint(local_chain, tmp_path):
    path = tmp_path / "index.sqlite"
    indexer = Indexer(local_chain.node, path)
    indexer.catch_up()
    indexer.close()
    reopened = Indexer(local_chain.node, path)
    assert reopened.checkpoint.number == local_chain.node.head.number >= 0
    reopened.close()
