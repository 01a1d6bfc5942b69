"""Webhooks: signed deliveries of market events survive a receiver that is down for a while, in order, without
loss, and the delivery log shows every attempt."""

import asyncio
import hashlib
import hmac
import json
import threading
import time
import urllib.request

from aiohttp import web

from market_harness import api_get, free_port_for_tests, start_market_node, wait_indexed
from rpc.apidb import ApiDb

SECRET = "s3cret-s3cret-s3cret"
EVENTS = ["meter_event", "invoice_issued", "invoice_disputed", "payment_received", "reading_missing"]


class Receiver:
    """An HTTP receiver on a port that refuses connections until `start()`."""

    def __init__(self, port):
        self.port = port
        self.received = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runner = None

    async def _handle(self, request):
        body = await request.read()
        expected = "sha256=" + hmac.new(SECRET.encode(), request.headers["X-Energy-Timestamp"].encode() + b"." + body,
                                        hashlib.sha256).hexdigest()
        self.received.append((int(request.headers["X-Energy-Delivery"]), request.headers["X-Energy-Event"],
                              hmac.compare_digest(expected, request.headers["X-Energy-Signature"]), json.loads(body)))
        return web.Response(text="ok")

    async def _start(self):
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    def start(self):
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    def stop(self):
        if self.runner:
            asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def test_deliveries_survive_a_receiver_down_for_a_while_in_order_and_signed(tmp_path):
    port = free_port_for_tests()
    receiver = Receiver(port)
    subscription = {}

    other = {}

    def subscribe(url, datadir, network):
        api = ApiDb.for_datadir(datadir)
        for name, record in (("retailer-1", subscription), ("retailer-2", other)):
            token = api.create_token("0x" + network.address(name).hex(), "retailer")
            body = json.dumps({"url": f"http://127.0.0.1:{port}/hook", "secret": SECRET, "events": EVENTS}).encode()
            request = urllib.request.Request(url + "/api/v1/webhooks", body, {
                "Authorization": f"Bearer {token}", "Content-Type": "application/json"}, method="POST")
            with urllib.request.urlopen(request, timeout=10) as response:
                record.update(json.loads(response.read()), token=token, status=response.status)
        api.close()

    settings = {"webhooks": {"base_delay_s": 0.1, "max_delay_s": 0.5, "max_attempts": 1000,
                             "reading_missing_after_s": 3600}}
    node = start_market_node(tmp_path, settings, before_market=subscribe)
    try:
        assert subscription["status"] == 201
        wait_indexed(node.url)
        log_path = f"/api/v1/webhooks/{subscription['id']}/deliveries"
        deadline = time.monotonic() + 20
        while True:  # the receiver is down: attempts pile up, nothing is lost
            _, log = api_get(node.url, log_path, subscription["token"])
            if log["total"] >= 4 and log["items"][0]["attempts"] >= 3:
                break
            assert time.monotonic() < deadline, log
            time.sleep(0.1)
        assert all(d["status"] == "pending" for d in log["items"])
        assert "ConnectionRefused" in log["items"][0]["last_error"] or "Cannot connect" in log["items"][0]["last_error"]
        receiver.start()
        deadline = time.monotonic() + 20
        while True:
            _, log = api_get(node.url, log_path, subscription["token"])
            if all(d["status"] == "delivered" for d in log["items"]):
                break
            assert time.monotonic() < deadline, log
            time.sleep(0.1)
        ids = [d["id"] for d in log["items"]]
        assert [r[0] for r in receiver.received] == ids  # each once, in order
        assert all(r[2] for r in receiver.received)  # HMAC-SHA256 signatures check out
        kinds = [r[1] for r in receiver.received]
        assert sorted(kinds) == sorted(["meter_event", "invoice_issued", "payment_received", "reading_missing"])
        payment = next(r[3] for r in receiver.received if r[1] == "payment_received")
        assert payment["data"]["invoice_id"] == node.market.invoice_id
        _, missing = api_get(node.url, "/api/v1/webhooks/999/deliveries", subscription["token"])
        assert missing["error"]["code"] == "not_found"
        _, foreign = api_get(node.url, f"/api/v1/webhooks/{other['id']}/deliveries", subscription["token"])
        assert foreign["error"]["code"] == "not_found"  # another retailer's log is not yours
        _, others_log = api_get(node.url, f"/api/v1/webhooks/{other['id']}/deliveries", other["token"])
        assert others_log["total"] == 0  # retailer-2 has no accounts in this market: it sees none of its events
    finally:
        node.process.stop()
        receiver.stop()
