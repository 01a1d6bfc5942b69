"""A read model rebuilt from genesis (a new schema version, `energy-node reindex`) behind the webhook cursor
announces nothing again: neither the events it indexes a second time nor readings that look missing at a
historical head; once it passes the cursor, new events go out as before."""

import json

from indexer.store import Checkpoint, Readers, open_writer, write_checkpoint
from rpc.apidb import ApiDb
from rpc.webhooks import WebhookProducer, WebhookSettings

CONSUMER = "0x" + "c1" * 20


def notified(db, block_number: int, event_id: int) -> None:
    args = {"event_id": event_id, "meter_id": 5001, "consumer": CONSUMER, "obligation_w": 2_000,
            "start": 1_800_000_000, "end": 1_800_007_200}
    db.execute("INSERT INTO events VALUES (?,0,'0x00','DemandResponse','ParticipantNotified',?,?)",
               (block_number, json.dumps(args), 1_700_000_000 + block_number))
    write_checkpoint(db, Checkpoint(block_number, f"0x{block_number:064x}"))


def test_a_read_model_behind_the_cursor_announces_nothing_again(tmp_path):
    db = open_writer(tmp_path / "index.sqlite")
    api = ApiDb.for_datadir(tmp_path)
    api.execute("INSERT INTO webhooks (owner, role, url, secret, events, created_at) VALUES (?,?,?,?,?,0)",
                ("0x" + "99" * 20, "grid_company", "http://127.0.0.1:9/hook", "s" * 16, "dr_event_announced"))
    api.execute("INSERT INTO webhook_cursor VALUES ('events', 10)")  # announced up to block 10 before the rebuild
    producer = WebhookProducer(api, Readers(tmp_path / "index.sqlite"), WebhookSettings())

    notified(db, 3, 1)  # indexed again, already announced
    assert producer.scan() == 0
    assert api.query("SELECT value FROM webhook_cursor") == [{"value": 10}]
    notified(db, 11, 2)  # past the cursor: new
    assert producer.scan() == 1
    ((payload,),) = [tuple(row.values()) for row in api.query("SELECT payload FROM deliveries")]
    assert json.loads(payload)["data"]["event_id"] == 2
    assert api.query("SELECT value FROM webhook_cursor") == [{"value": 11}]
    api.close()
