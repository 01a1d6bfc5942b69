"""The indexer's fast paths write exactly what the general ones do: events decoded by a per-event plan, JSON of
flat arguments built directly, and a block's append-only rows written together at its end."""

import json
import random
import sqlite3

import pytest

from contracts_py.catalog import CONTRACTS
from indexer.apply import Appends, LogContext, apply_event
from indexer.decode import EVENT_PLANS, DecodedEvent, _decode_by_abi, args_json, decode_log, jsonable
from indexer.store import open_writer

ALICE, BOB, CAROL = bytes([0xA1]) * 20, bytes([0xB0]) * 20, bytes([0xC4]) * 20


@pytest.mark.parametrize("args", [
    {}, {"to": ALICE, "amount": 10**30}, {"ok": True, "no": False, "n": -5, "zero": 0},
    {"name": "Счётчик \"№1\"\n\\", "empty": b"", "text": ""},
    {"ids": (1, 2, 3), "nested": [(ALICE, 1)], "hash": bytes(32)},
    {"ключ": None, "x": 1},
])
def test_arguments_json_is_the_text_json_dumps_writes(args):
    assert args_json(args) == json.dumps(jsonable(args))


def random_word(rng: random.Random, abi_type: str) -> bytes:
    if abi_type == "address":
        return bytes(12) + rng.randbytes(20)
    if abi_type == "bool":
        return rng.choice((0, 1)).to_bytes(32, "big")
    return rng.randbytes(32)


def test_every_planned_event_decodes_as_eth_abi_decodes_it():
    rng = random.Random(7)
    planned = [(address, plan) for (address, _), plan in EVENT_PLANS.items() if plan.words is not None]
    assert len(planned) > 20
    for address, plan in planned:
        spec = plan.spec
        topics = [spec.topic] + [random_word(rng, t) for t, indexed in zip(spec.field_types, spec.indexed)
                                 if indexed]
        payload = b"".join(random_word(rng, t) for t, indexed in zip(spec.field_types, spec.indexed)
                           if not indexed)
        fast = decode_log(address, tuple(topics), payload)
        assert fast is not None and fast == _decode_by_abi(plan, tuple(topics), payload), spec.name
        if plan.indexed_count:
            assert decode_log(address, tuple(topics[:-1]), payload) is None


def dump(db: sqlite3.Connection) -> list[str]:
    return [line for line in db.iterdump() if "schema_version" not in line]


def test_a_block_of_transfers_written_at_its_end_holds_the_rows_written_one_by_one(tmp_path):
    """Transfers between the same accounts, with a role grant (written at once) between them."""
    events = [DecodedEvent("RubleToken", "Transfer", {"from": a, "to": b, "value": v})
              for a, b, v in ((ALICE, BOB, 5), (BOB, CAROL, 3), (ALICE, BOB, 7), (CAROL, ALICE, 2**70))]
    events.insert(2, DecodedEvent("ParticipantRegistry", "RoleGranted", {"account": CAROL, "role": 1}))
    at_once, per_block = open_writer(tmp_path / "a.sqlite"), open_writer(tmp_path / "b.sqlite")
    appends = Appends()
    for log_index, event in enumerate(events):
        tx_hash = f"0x{log_index:02x}"
        apply_event(at_once, LogContext(3, 1_700_000_000, tx_hash, log_index, lambda *a: None), event)
        apply_event(per_block, LogContext(3, 1_700_000_000, tx_hash, log_index, lambda *a: None, appends=appends),
                    event)
    assert per_block.execute("SELECT count(*) FROM token_transfers").fetchone() == (0,)
    appends.write(per_block)
    assert per_block.execute("SELECT count(*) FROM token_transfers").fetchone() == (4,)
    assert per_block.execute("SELECT address, role FROM roles").fetchall() == [("0x" + CAROL.hex(), "admin")]
    assert dump(per_block) == dump(at_once)
