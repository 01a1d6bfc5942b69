"""Demand-response webhooks through a real node: each participant's subscription hears of the event announced to it
and of its settled result, signed like every webhook, with the event's programme and period; nobody hears of
another consumer's share. On the way, the portal's reads of the indexed programme, event and obligation offers (an
accepted offer is closed, per the contract's `offer` view). The scenario and the dev-time node are those of
tests/contracts/test_dr_node_e2e.py."""

import json
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contracts"))  # the DR scenario lives beside its e2e

from indexer.store import Readers  # noqa: E402
from market_harness import api_get, free_port_for_tests, wait_indexed  # noqa: E402
from portal import dr_reads  # noqa: E402
from rpc.apidb import ApiDb  # noqa: E402
from test_api_webhooks import SECRET, Receiver  # noqa: E402
from test_dr_node_e2e import (A, B, BUDGET, HOUR, RATES, TRADE_PRICE, EveningPeak, fresh_datadir,  # noqa: E402
                              network, start_dev_node)

KINDS = ["dr_event_announced", "dr_settled"]


def subscribe(url: str, datadir: Path, address: bytes, port: int) -> dict:
    api = ApiDb.for_datadir(datadir)
    token = api.create_token("0x" + address.hex(), "consumer")
    api.close()
    body = json.dumps({"url": f"http://127.0.0.1:{port}/hook", "secret": SECRET, "events": KINDS}).encode()
    request = urllib.request.Request(url + "/api/v1/webhooks", body, {
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return {**json.loads(response.read()), "token": token}


def delivered(url: str, subscription: dict, count: int) -> list[dict]:
    """The subscription's delivery log once `count` deliveries are delivered (bounded wait)."""
    deadline = time.monotonic() + 20
    while True:
        _, log = api_get(url, f"/api/v1/webhooks/{subscription['id']}/deliveries", subscription["token"])
        if log["total"] >= count and all(d["status"] == "delivered" for d in log["items"]):
            return log["items"]
        assert time.monotonic() < deadline, log
        time.sleep(0.1)


@pytest.mark.slow
def test_participants_hear_of_their_event_and_its_result_by_signed_webhook(network):  # noqa: F811
    datadir = fresh_datadir(network, "dr-webhooks")
    (datadir / "api.json").write_text(json.dumps({"webhooks": {"base_delay_s": 0.1, "max_delay_s": 0.5}}))
    port = free_port_for_tests()
    receiver = Receiver(port)
    receiver.start()
    node = start_dev_node(network, datadir)
    try:
        p = EveningPeak(node)
        p.set_up()
        c, g, agg, a, b = p.client, p.grid, p.aggregator, p.consumers[A], p.consumers[B]
        hooks = {meter: subscribe(node.url, datadir, p.consumers[meter].address, port) for meter in (A, B)}
        p.post_until((c.latest_timestamp() - 60) // 1800 * 1800)
        p.dr(g, "createProgramme", 1, agg.address, "Evening peak, Kazan", 3, False, *RATES)
        p.dr(g, "fundProgramme", 1, BUDGET)
        p.dr(agg, "enrol", 1, A, 3_000)
        p.dr(agg, "enrol", 1, B, 3_000)
        p.dr(agg, "announceEvent", 1, p.event_start, p.event_end, [A, B], [2_000, 3_000])
        p.dr(a, "offerToTake", 1, A, 1_000, TRADE_PRICE)
        p.dr(b, "handOver", 1, B)
        p.dr(b, "offerToTake", 1, B, 500, 1_000)
        wait_indexed(node.url)  # the portal's reads of the indexed programme, event and offers
        readers = Readers(datadir / "index.sqlite")
        assert dr_reads.programme_ids(readers) == [1]
        assert [(e["event_id"], e["start"], e["end"], e["required_w"]) for e in dr_reads.programme_events(
            readers, 1)] == [(1, p.event_start, p.event_end, 5_000)]
        assert [(o["offer_id"], o["taker_meter_id"]) for o in dr_reads.open_offers(readers, 1)] == [(2, B)]
        assert (dr_reads.offer_event(readers, 1), dr_reads.offer_event(readers, 9)) == (1, None)
        c.request("evm_mine", hex(p.event_end + HOUR))
        p.post_until(p.event_end + HOUR)
        p.dr(agg, "settle", 1, [A, B], gas=20_000_000)

        logs = {meter: delivered(node.url, hooks[meter], 2) for meter in (A, B)}
        event = {"event_id": 1, "programme_id": 1, "programme_name": "Evening peak, Kazan",
                 "start": p.event_start, "end": p.event_end, "required_w": 5_000}
        for meter, obligation_w, settled in ((A, 2_000, (31_000, 0, 31_000, 0)), (B, 3_000, (4_000, 9_600, 0, 5_600))):
            announced, result = (json.loads(d["payload"]) for d in logs[meter])
            consumer = "0x" + p.consumers[meter].address.hex()
            assert [d["event_type"] for d in logs[meter]] == KINDS  # its own share only, in order
            assert announced["data"] == {"event_id": 1, "meter_id": meter, "consumer": consumer,
                                         "obligation_w": obligation_w, "start": p.event_start, "end": p.event_end}
            assert result["data"]["meter_id"] == meter and result["data"]["consumer"] == consumer
            assert tuple(result["data"][k] for k in ("reward", "penalty", "paid", "penalty_due")) == settled
            assert announced["dr_event"] == result["dr_event"] == event
        assert sorted(r[0] for r in receiver.received) == sorted(d["id"] for log in logs.values() for d in log)
        assert all(r[2] for r in receiver.received)  # each posted once, its HMAC-SHA256 signature checks out
    finally:
        node.stop()
        receiver.stop()
