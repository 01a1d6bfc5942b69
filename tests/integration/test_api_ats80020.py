"""ATS 80020 XML: the hand-written sample parses; export of a day round-trips to the ledger's registers; an
imported day becomes readings signed by the gateway; bad files are refused whole, each problem with its path."""

import datetime
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from market_harness import ACCOUNT, GATEWAY_KEY, METER, api_get, start_market_node, wait_indexed
from contracts_py.billing.periods import MOSCOW_UTC_OFFSET, add_months
from node.crypto import private_key_to_address
from node.transactions import sign_fee_market_transaction
from rpc import ats80020

SAMPLE = Path(__file__).parent.parent / "data" / "ats80020" / "80020_1655000000_20260101_17.xml"


def test_hand_written_sample_parses_with_its_channels_and_statuses():
    message = ats80020.parse(SAMPLE.read_bytes())
    assert (message.number, message.day, message.sender_inn) == (17, datetime.date(2026, 1, 1), "1655000000")
    (point,) = message.points
    assert point.code == "1001" and point.name == "Казань, Баумана 1, кв. 1"
    assert sum(i.value_wh for i in point.channels["01"]) == 14 * 60 + 32 * 110 + 2 * 60
    assert {i.status for i in point.channels["03"]} == {"1"}
    assert ats80020.file_name("1655000000", message.day, 17) == SAMPLE.name
    again = ats80020.parse(ats80020.render(message))
    assert again.points == message.points


@pytest.mark.parametrize("mutate, path, words", [
    (lambda x: x.replace(b"</message>", b""), "/", "well-formed"),
    (lambda x: x.replace(b'class="80020"', b'class="80040"'), "/message", "80020"),
    (lambda x: x.replace(b'code="02"', b'code="07"'), "/message/area[1]/measuringpoint[1]/measuringchannel[2]/@code",
     "unknown channel"),
    (lambda x: x.replace(b'<value status="0">110</value>', b'<value status="0">-5</value>', 1),
     "/message/area[1]/measuringpoint[1]/measuringchannel[1]/period[15]/value", "whole number"),
    (lambda x: x.replace(b'<period start="0000" end="0030"><value status="1">0</value></period>', b"", 1),
     "/message/area[1]/measuringpoint[1]/measuringchannel[3]", "48 periods"),
    (lambda x: x.replace(b"<inn>1655000000</inn>", b"<inn>16550</inn>", 1), "/message/sender/inn", "10 or 12"),
    (lambda x: x.replace(b"<?xml", b'<!DOCTYPE x [<!ENTITY a "b">]><?xml'), "/", "DOCTYPE"),
])
def test_bad_files_are_refused_with_the_element_path(mutate, path, words):
    with pytest.raises(ats80020.Ats80020Error) as caught:
        ats80020.parse(mutate(SAMPLE.read_bytes()))
    assert any(p.path == path and words in p.message for p in caught.value.problems), caught.value.problems


def post_xml(url, body, token):
    request = urllib.request.Request(url + "/api/v1/ats80020/import", body, {
        "Authorization": f"Bearer {token}", "Content-Type": "application/xml"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def iso(day: int) -> str:
    return f"{day // 10000}-{day // 100 % 100:02d}-{day % 100:02d}"


def test_export_round_trips_and_an_imported_day_becomes_readings(tmp_path):
    live = start_market_node(tmp_path, pay=False)
    try:
        from rpc.apidb import ApiDb
        api = ApiDb.for_datadir(live.datadir)
        grid = api.create_token("0x" + live.market.grid.hex(), "grid_company")
        api.close()
        wait_indexed(live.url)
        _, days = api_get(live.url, f"/api/v1/readings?meter={METER}&grouping=day&limit=3")
        second_day = days["items"][1]["day"]
        status, xml = api_get(live.url, f"/api/v1/ats80020/export?date={iso(second_day)}&sender_inn=1655000000"
                                        f"&points={ACCOUNT}&number=5", grid)
        assert status == 200
        exported = ats80020.parse(xml)
        assert [i.value_wh for i in exported.points[0].channels["01"]] == [100] * 48
        status, plan = post_xml(live.url, xml, grid)
        assert status == 200 and plan["readings"] == 48
        _, recorded = api_get(live.url, f"/api/v1/readings?meter={METER}&from={iso(second_day)}&to={iso(second_day)}")
        # the file rebuilt exactly the registers on the ledger
        assert recorded["items"][-1]["import_wh"] == 1_000_000 + 100 * 96

        # a day after the last recorded reading: the sample's profile, signed by the meter's gateway
        current = add_months(live.market.period, 1)
        new_day = datetime.date(current // 100, current % 100, 1)
        sample = SAMPLE.read_bytes().replace(b"<day>20260101</day>", f"<day>{new_day:%Y%m%d}</day>".encode())
        status, plan = post_xml(live.url, sample, grid)
        assert status == 200 and plan["points"] == 1
        gateway = "0x" + private_key_to_address(GATEWAY_KEY).hex()
        nonce = live.chain.nonces[private_key_to_address(GATEWAY_KEY)]
        raws = [("0x" + sign_fee_market_transaction(GATEWAY_KEY, chain_id=7700, nonce=nonce + i,
                                                    to=bytes.fromhex(call["to"][2:]),
                                                    data=bytes.fromhex(call["data"][2:]), gas=400_000_000).hex())
                for i, call in enumerate(plan["calls"])]
        body = json.dumps({"raw": raws}).encode()
        request = urllib.request.Request(live.url + "/api/v1/transactions", body,
                                         {"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            (result,) = json.loads(response.read())["results"]
        live.chain.pending.append(bytes.fromhex(result["hash"][2:]))
        live.chain.seal()
        wait_indexed(live.url)
        _, tx = api_get(live.url, f"/api/v1/transactions/{result['hash']}")
        assert tx["status"] == 1 and tx["sender"] == gateway and tx["function"] == "postMeterReadings"
        start = int(datetime.datetime(new_day.year, new_day.month, 1, tzinfo=datetime.UTC).timestamp()) \
            - MOSCOW_UTC_OFFSET
        in_past = sum(1 for i in range(48) if start + 1800 * i + 1800 <= tx["timestamp"] + 300)
        _, day_rows = api_get(live.url, f"/api/v1/readings?meter={METER}&from={new_day}&to={new_day}")
        assert plan["readings"] == 48 and day_rows["total"] == in_past  # intervals not yet over are refused
        profile = [60] * 14 + [110] * 32 + [60] * 2
        assert [r["delta_import_wh"] for r in day_rows["items"]] == profile[:in_past]

        unknown = sample.replace(b'code="1001"', b'code="4242"')
        status, error = post_xml(live.url, unknown, grid)
        assert status == 422 and error["error"]["details"][0]["path"] == "/message/area[1]/measuringpoint[1]/@code"
        status, error = post_xml(live.url, b"<message", grid)
        assert status == 422 and error["error"]["code"] == "invalid_80020"
        _, after = api_get(live.url, f"/api/v1/readings?meter={METER}&limit=1")
        assert after["total"] == live.market.intervals + in_past  # nothing half-imported
    finally:
        live.process.stop()
