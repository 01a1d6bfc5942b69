"""The REST API of a running node: filters, pagination, decoded blocks, reports, tokens, errors as JSON."""

import json
import urllib.error
import urllib.request

import pytest

from market_harness import ACCOUNT, METER, api_get, start_market_node, wait_indexed


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """One node process holding the market, shared by this module's tests (they only read or add tokens)."""
    node = start_market_node(tmp_path_factory.mktemp("rest"))
    wait_indexed(node.url)
    yield node
    node.process.stop()


def post(url, body, token=None, content_type="application/json"):
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, headers, method="POST"), timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_accounts_meters_and_participants_filter_and_paginate(live):
    retailer = "0x" + live.market.retailer.hex()
    status, page = api_get(live.url, f"/api/v1/accounts?retailer={retailer}&section=7")
    assert status == 200 and page["total"] == 1 and page["items"][0]["number"] == ACCOUNT
    assert api_get(live.url, "/api/v1/accounts?section=8")[1]["total"] == 0
    assert api_get(live.url, "/api/v1/accounts/1001")[1]["premises_address"] == "Kazan, Baumana 1"
    _, meters = api_get(live.url, "/api/v1/meters?serial=SN1001&address=Baumana")
    assert [m["meter_id"] for m in meters["items"]] == [METER]
    _, people = api_get(live.url, "/api/v1/participants?role=retailer&limit=1&offset=1")
    assert people["total"] == 2 and len(people["items"]) == 1 and people["items"][0]["roles"] == ["retailer"]


def test_readings_half_hourly_and_daily_agree(live):
    market = live.market
    _, half_hours = api_get(live.url, f"/api/v1/readings?account={ACCOUNT}&limit=1000")
    assert half_hours["total"] == market.intervals and len(half_hours["items"]) == 1000
    assert half_hours["items"][0]["interval_start"] == market.first_interval
    _, days = api_get(live.url, "/api/v1/readings?serial=SN1001&grouping=day&limit=100")
    assert sum(d["intervals"] for d in days["items"]) == market.intervals
    assert sum(d["import_wh"] for d in days["items"]) == 100 * market.intervals
    first_day = days["items"][0]["day"]
    iso = f"{first_day // 10000}-{first_day // 100 % 100:02d}-{first_day % 100:02d}"
    _, one_day = api_get(live.url, f"/api/v1/readings?from={iso}&to={iso}&meter={METER}")
    assert one_day["total"] == 48
    _, report = api_get(live.url, f"/api/v1/reports/readings?grouping=month&account={ACCOUNT}")
    assert report["items"] == [{"bucket": market.period, "meters": 1, "import_wh": 100 * market.intervals,
                                "export_wh": 0, "intervals": market.intervals}]


def test_invoice_payment_and_payment_report(live):
    _, invoice = api_get(live.url, f"/api/v1/invoices/{live.market.invoice_id}")
    assert invoice["status"] == "paid" and invoice["paid_total"] == invoice["total"] and invoice["lines"]
    _, payments = api_get(live.url, f"/api/v1/payments?account={ACCOUNT}&source=2&address=Baumana")
    (payment,) = payments["items"]
    assert payment["amount"] == invoice["total"]
    _, report = api_get(live.url, "/api/v1/reports/payments?retailer=0x" + live.market.retailer.hex())
    (row,) = report["items"]
    assert row["payments"] == 1 and row["amount"] == invoice["total"]
    _, groups = api_get(live.url, "/api/v1/tariff-groups")
    assert groups["items"][0]["name"] == "Households, Kazan" and groups["items"][0]["options"][0]["option_id"] == 1


def test_blocks_and_transactions_are_decoded(live):
    tx_hash = "0x" + live.market.tx["invoice"].hex()
    _, tx = api_get(live.url, f"/api/v1/transactions/{tx_hash}")
    assert tx["function"] == "issueInvoice" and tx["args"] == {"accountNumber": ACCOUNT,
                                                               "period": live.market.period}
    assert "InvoiceIssued" in [e["name"] for e in tx["events"]]
    _, block = api_get(live.url, f"/api/v1/blocks/{tx['block_number']}")
    assert tx_hash in [t["hash"] for t in block["transactions"]]
    _, listed = api_get(live.url, "/api/v1/transactions?function=postReadings")
    assert listed["total"] == 2


def test_bad_input_gets_json_errors_with_codes(live):
    cases = {
        "/api/v1/accounts?colour=red": (400, "unknown_parameter"),
        "/api/v1/readings?from=2026-13-01": (400, "bad_parameter"),
        "/api/v1/readings?from=2026-02-01&to=2026-01-01": (400, "bad_parameter"),
        "/api/v1/accounts?limit=0": (400, "bad_parameter"),
        "/api/v1/accounts?retailer=0x12": (400, "bad_parameter"),
        "/api/v1/accounts/999999": (404, "not_found"),
        "/api/v1/no-such-thing": (404, "not_found"),
        "/api/v1/webhooks": (401, "token_required"),
    }
    for path, (status, code) in cases.items():
        got_status, body = api_get(live.url, path)
        assert (got_status, body["error"]["code"]) == (status, code), path
    status, page = api_get(live.url, "/api/v1/accounts?offset=100")
    assert status == 200 and page["items"] == [] and page["total"] == 1
    assert post(live.url + "/api/v1/transactions", {"raw": "0x02c0"})[1]["error"]["code"] == "transaction_rejected"
    assert post(live.url + "/api/v1/transactions", b"{")[1]["error"]["code"] == "bad_json"


def test_tokens_are_bound_to_roles(live):
    from rpc.apidb import ApiDb
    api = ApiDb.for_datadir(live.datadir)
    consumer_token = api.create_token("0x" + live.market.consumer.hex(), "consumer")
    grid_token = api.create_token("0x" + live.market.grid.hex(), "grid_company")
    api.close()
    status, body = api_get(live.url, "/api/v1/ats80020/export?date=2026-01-01&sender_inn=1655000000&points=1001",
                           consumer_token)
    assert (status, body["error"]["code"]) == (403, "wrong_role")
    assert api_get(live.url, "/api/v1/webhooks", "elt_forged")[1]["error"]["code"] == "bad_token"
    status, _ = api_get(live.url, "/api/v1/ats80020/export?date=2026-01-01&sender_inn=1655000000&points=1001",
                        grid_token)
    assert status == 200


def test_openapi_swagger_and_abi_are_served(live):
    _, spec = api_get(live.url, "/api/v1/openapi.json")
    assert spec["openapi"].startswith("3.") and "/api/v1/readings" in spec["paths"]
    _, page = api_get(live.url, "/api/docs")
    assert b"swagger-ui-bundle.js" in page
    _, script = api_get(live.url, "/api/docs/static/swagger-ui-bundle.js")
    assert len(script) > 100_000
    _, abi = api_get(live.url, "/abi/Readings.json")
    assert {"postReadings", "ReadingRecorded"} <= {entry["name"] for entry in abi}
