"""Capacity of a legal entity, the retailer's tariff price editing and the consumer's top-up and withdrawal, over
real HTTP (and one browser flow): every write lands on chain with its hash, every bad input writes nothing.

The bank's answers are signed with the demo bank's key and put in the node's pool; the solo engine seals them with
the next portal write (the portal wakes it), as a bank adapter's transactions would ride the next block."""

import datetime as dt
import os
import re
import sqlite3
import time
from pathlib import Path

import pytest

from contracts_py import registry, ruble, tariffs
from contracts_py.bank_sim import SimulatedBank, pending_requests, ruble_call_data
from contracts_py.billing.periods import MOSCOW_UTC_OFFSET, add_months, period_of
from indexer.store import Readers
from node.crypto import private_key_to_address
from node.transactions import sign_fee_market_transaction
from portal import demo_capacity
from portal.writes import ChainWriter, encode_call
from portal_fixtures import browser, portal_server  # noqa: F401  (fixtures)
from test_portal_http import Client

BIK, ACCOUNT, CLOSED = "049205603", "40817810000000000001", "40817810000000000099"
TX = re.compile(r'class="tx-hash" href="/x/tx/(0x[0-9a-f]{64})"')


def index(server) -> Readers:
    return Readers(server.secret_path.parent / "index.sqlite")


def until(server, sql: str, params, expected, timeout_s: float = 15.0):
    """Poll the read model until `sql` returns `expected` (a write is final once its block is indexed)."""
    db, deadline = index(server), time.monotonic() + timeout_s
    while True:
        row = db.one(sql, params)
        found = tuple(row.values()) if row else None
        if found == expected:
            return
        assert time.monotonic() < deadline, f"{sql} {params}: {found} never became {expected}"
        time.sleep(0.1)


def landed(server, body: str) -> str:
    """The transaction hash the page flashed, once the transaction is indexed as successful."""
    found = TX.search(body)
    assert found, body[-800:]
    until(server, "SELECT status FROM transactions WHERE hash = ?", [found.group(1)], (1,))
    return found.group(1)


def post(client: Client, page: str, path: str, fields: dict) -> tuple[int, str]:
    _, form = client.get(page)
    return client.post(path, {**fields, "csrf_token": client.csrf(form)})


def nonce(server, key: bytes) -> int:
    return server.node.pending_nonce(private_key_to_address(key))


def bank_answers(server, bank: SimulatedBank) -> int:
    """The bank answers every pending request (signed, in the pool); returns how many."""
    writer = ChainWriter(server.node)
    pending = pending_requests(lambda function, *args: writer.view(ruble.ADDRESS, function, *args))
    for request_id, request in pending:
        function, args = bank.answer(request_id, request)
        raw = sign_fee_market_transaction(server.keys.bank, chain_id=server.node.rules.chain_id,
                                          nonce=nonce(server, server.keys.bank), to=ruble.ADDRESS,
                                          data=ruble_call_data(function, args), gas=5_000_000)
        server.node.submit_transaction(raw)
    return len(pending)


def test_top_up_and_withdrawal_requests_are_settled_by_the_bank_and_totalled(portal_server):
    client = Client(portal_server.url)
    client.login("ivanov")
    status, body = post(client, "/c/balance", "/c/balance/top-up", {"amount": "1000,00"})
    assert status == 200
    top_up_tx = landed(portal_server, body)
    assert bank_answers(portal_server, SimulatedBank(closed_accounts=frozenset({CLOSED}))) == 1
    _, body = post(client, "/c/balance", "/c/balance/withdraw", {"amount": "300", "bik": BIK,
                                                                 "bank_account": ACCOUNT})
    landed(portal_server, body)
    until(portal_server, "SELECT status FROM bank_requests WHERE request_id = 1", [], ("done",))
    _, page = client.get("/c/balance")
    assert top_up_tx in page and "Ожидает банка" in page and "Заблокировано" in page
    assert bank_answers(portal_server, SimulatedBank(closed_accounts=frozenset({CLOSED}))) == 1
    _, body = post(client, "/c/balance", "/c/balance/withdraw", {"amount": "50", "bik": BIK,
                                                                 "bank_account": CLOSED})
    landed(portal_server, body)
    assert bank_answers(portal_server, SimulatedBank(closed_accounts=frozenset({CLOSED}))) == 1
    _, body = post(client, "/c/balance", "/c/balance/top-up", {"amount": "1"})  # seals the bank's rejection
    landed(portal_server, body)
    until(portal_server, "SELECT status, reason FROM bank_requests WHERE request_id = 3", [],
          ("rejected", f"bank account {CLOSED} is closed"))
    _, page = client.get("/c/balance")
    totals = dict(re.findall(r'<dt>([^<]+)</dt><dd[^>]*>([^<]+)</dd>', page))
    assert totals["Пополнения"] == "+6\u202f000,00 ₽"  # the seeded bank top-up and the request paid in
    assert totals["Выводы"] == "−350,00 ₽" and totals["Возвраты отклонённых выводов"] == "+50,00 ₽"
    assert totals["Остаток на конец"] == "5\u202f700,00 ₽"
    balance = ChainWriter(portal_server.node).view(ruble.ADDRESS, "balanceOf",
                                                    private_key_to_address(portal_server.keys.consumers[0]))[0]
    assert balance == 570_000 and 'id="balance-now">5\u202f700,00 ₽' in page


@pytest.mark.parametrize("path, fields, message", [
    ("/c/balance/top-up", {"amount": "12a"}, "12a"),
    ("/c/balance/top-up", {"amount": "-5"}, "-5"),
    ("/c/balance/withdraw", {"amount": "10", "bik": "0492056", "bank_account": ACCOUNT}, "0492056"),
    ("/c/balance/withdraw", {"amount": "10", "bik": BIK, "bank_account": "4081781000000000000x"},
     "4081781000000000000x"),
    ("/c/balance/withdraw", {"amount": "1000000", "bik": BIK, "bank_account": ACCOUNT}, "больше вашего баланса"),
])
def test_bad_balance_requests_write_nothing(portal_server, path, fields, message):
    client = Client(portal_server.url)
    client.login("ivanov")
    before = nonce(portal_server, portal_server.keys.consumers[0])
    status, body = post(client, "/c/balance", path, fields)
    assert status == 400 and message in body
    assert nonce(portal_server, portal_server.keys.consumers[0]) == before


def test_retailer_publishes_new_prices_of_an_option(portal_server):
    client = Client(portal_server.url)
    client.login("retailer")
    _, page = client.get("/r/tariffs/1/options")
    assert 'name="price_1" value="5.20000"' in page and 'name="addon_3" value="1.81234"' in page
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=3))).date()
    status, body = post(client, "/r/tariffs/1/options", "/r/tariffs/1/options", {
        "option_id": "2", "kind": "2", "price_1": "5,75", "price_2": "3.1", "addon_3": "1.81234",
        "addon_5": "0.6", "addon_6": "0.01287", "effective_from": today.isoformat()})
    assert status == 200 and "Вариант 2 сохранён" in body
    landed(portal_server, body)
    next_period = add_months(period_of(int(time.time()), MOSCOW_UTC_OFFSET), 1)
    option = ChainWriter(portal_server.node).view(tariffs.ADDRESS, "option", 1, 2, next_period)
    assert option[1] == today.year * 10_000 + today.month * 100 + today.day
    assert option[7] == (575_000, 310_000) and option[14] == (181_234, 60_000, 1_287)
    assert option[4:7] == ((420, 1380), (1380, 420), (1, 2))  # the schedule kept


@pytest.mark.parametrize("fields, message", [
    ({"price_0": "4,1a"}, "4,1a"),
    ({"price_0": "-1"}, "не может быть отрицательной"),
    ({"effective_from": "2026-02-30"}, "2026-02-30"),
    ({"effective_from": "2020-01-01"}, "уже прошла"),
    ({"kind": "2"}, "другого вида"),
    ({"kind": "5"}, "одноставочные"),
])
def test_bad_tariff_prices_write_nothing(portal_server, fields, message):
    client = Client(portal_server.url)
    client.login("retailer")
    good = {"option_id": "1", "kind": "1", "price_0": "4.2", "addon_3": "1.8", "addon_5": "0.5",
            "addon_6": "0.01", "effective_from": "2099-01-01"}
    before = nonce(portal_server, portal_server.keys.retailer)
    status, body = post(client, "/r/tariffs/1/options", "/r/tariffs/1/options", {**good, **fields})
    assert status == 400 and message in body, body[-600:]
    assert nonce(portal_server, portal_server.keys.retailer) == before


def test_another_retailers_group_cannot_be_edited(portal_server):
    client = Client(portal_server.url)
    client.login("retailer2")
    assert client.get("/r/tariffs/1/options")[0] == 404


def make_legal_entity(server, number: int) -> None:
    """The retailer re-registers an account as a legal entity (put in the pool; the next portal write seals it)."""
    account = index(server).one("SELECT * FROM accounts WHERE number = ?", [number])
    data = encode_call(registry.ADDRESS, "saveAccount", number, account["section"], account["tariff_group"],
                       bytes.fromhex(account["consumer"][2:]), account["premises_address"], 2,
                       account["floor_area_dm2"], account["building_id"])
    server.node.submit_transaction(sign_fee_market_transaction(
        server.keys.retailer, chain_id=server.node.rules.chain_id, nonce=nonce(server, server.keys.retailer),
        to=registry.ADDRESS, data=data, gas=5_000_000))


def test_actual_and_reserved_capacity_of_a_legal_entity(portal_server):
    period = portal_server.market["period"]
    year, month = divmod(period, 100)
    make_legal_entity(portal_server, 1001)
    grid = Client(portal_server.url)
    grid.login("grid")
    # seven working days: five peaks at 18:00 (300 Wh in that hour), two at 03:00 (600 Wh): 2700 Wh / 7 = 385.7
    rows = [f"{year:04d}-{month:02d}-{day:02d},{18 if day <= 5 else 3}" for day in range(1, 8)]
    status, body = post(grid, "/capacity", "/capacity/peak-hours", {"csv": "date,hour\n" + "\n".join(rows)})
    assert status == 200 and "Загружено часов пиковой нагрузки: 7" in body
    retailer = Client(portal_server.url)
    retailer.login("retailer")
    _, body = post(retailer, "/r/tariffs", "/r/tariffs", {"group_id": "2", "name": "Население, село"})
    landed(portal_server, body)  # this write woke the engine: the account change rode along
    until(portal_server, "SELECT consumer_kind FROM accounts WHERE number = 1001", [], (2,))
    month_text = f"{year:04d}-{month:02d}"
    for client in (grid, retailer):
        status, page = client.get(f"/capacity?account=1001&month={month_text}")
        assert status == 200, page[-600:]
        assert 'id="actual-capacity">386 Вт' in page and 'id="max-capacity">20 000 Вт' in page
        assert 'id="reserved-capacity">19 614 Вт' in page
        assert page.count("<td>18:00–19:00</td>") == 5 and page.count("<td>03:00–04:00</td>") == 2
        assert "2700 Вт·ч за 7 рабочих дней" in page and "capacity-incomplete" not in page
    owner, other = Client(portal_server.url), Client(portal_server.url)
    owner.login("ivanov")
    other.login("petrova")
    assert 'id="actual-capacity">386 Вт' in owner.get(f"/capacity?account=1001&month={month_text}")[1]
    assert other.get(f"/capacity?account=1001&month={month_text}")[0] == 404
    status, page = retailer.get(f"/capacity?account=1002&month={month_text}")
    assert status == 400 and "физическому лицу" in page
    status, page = retailer.get("/capacity?account=1001&month=2026-13")
    assert status == 400 and "2026-13" in page
    status, page = retailer.get("/capacity?account=1001&month=2001-01")
    assert status == 200 and "не загружены" in page
    status, page = post(grid, "/capacity", "/capacity/peak-hours", {"csv": f"{month_text}-01,25"})
    assert status == 400 and "hour 25" in page
    assert retailer.get("/capacity")[0] == 200


def test_the_demo_legal_entity_shows_its_capacity_from_the_demo_peak_hours(portal_server):
    """The seeded bakery (account 1101) with the system operator's table of its month, as the demo imports it.
    Starts from an empty peak-hours table: the test above imported a week of its own into this portal."""
    period = portal_server.market["period"]
    month_text = f"{period // 100:04d}-{period % 100:02d}"
    with sqlite3.connect(portal_server.secret_path.parent / "users.sqlite") as db:
        db.execute("DELETE FROM peak_hours")
    csv = demo_capacity.peak_hours_csv(period)
    grid = Client(portal_server.url)
    grid.login("grid")
    status, body = post(grid, "/capacity", "/capacity/peak-hours", {"csv": csv})
    peak_days = [line.split(",") for line in csv.splitlines()[1:]]
    assert status == 200 and f"Загружено часов пиковой нагрузки: {len(peak_days)}" in body
    peak_wh = [sum(demo_capacity.half_hour_wh(int(dt.datetime.fromisoformat(f"{day}T{int(hour):02d}:00+03:00")
                                                  .timestamp()) + half * 1_800) for half in (0, 1))
               for day, hour in peak_days]
    actual = (2 * sum(peak_wh) + len(peak_wh)) // (2 * len(peak_wh))  # the mean, rounded half up
    assert 0 < actual < demo_capacity.MAX_CAPACITY_W
    retailer = Client(portal_server.url)
    retailer.login("retailer")
    _, page = retailer.get("/capacity")
    assert 'value="1101"' in page  # offered among the retailer's legal entities
    status, page = retailer.get(f"/capacity?account={demo_capacity.ACCOUNT}&month={month_text}")
    assert status == 200, page[-600:]
    assert f'id="actual-capacity">{actual:,} Вт'.replace(",", " ") in page
    assert 'id="max-capacity">150 000 Вт' in page
    assert f'id="reserved-capacity">{demo_capacity.MAX_CAPACITY_W - actual:,} Вт'.replace(",", " ") in page
    assert f"{sum(peak_wh)} Вт·ч за {len(peak_wh)} рабочих дней" in page and "capacity-incomplete" not in page

def test_consumer_requests_a_top_up_in_the_browser(portal_server, browser, tmp_path):
    context = browser.new_context(base_url=portal_server.url, viewport={"width": 412, "height": 915})
    page = context.new_page()
    try:
        page.goto("/login")
        page.fill("input[name=username]", "sidorov")
        page.fill("input[name=password]", "demo-password-1")
        page.click("button[type=submit]")
        page.goto("/c/balance")
        page.fill("#top-up-form input[name=amount]", "250,50")
        page.click("#top-up-form button[type=submit]")
        tx_hash = page.locator(".flash a.tx-hash").inner_text()
        assert re.fullmatch(r"0x[0-9a-f]{64}", tx_hash)
        deadline = time.monotonic() + 15
        while "250,50" not in page.locator("#bank-requests").inner_text():
            assert time.monotonic() < deadline, "the request never showed"
            page.wait_for_timeout(200)
            page.reload()
        assert "Ожидает банка" in page.locator("#bank-requests").inner_text()
        shots = Path(os.environ.get("PORTAL_SCREENSHOTS") or tmp_path)
        page.screenshot(path=shots / "consumer-balance.png", full_page=True)
    finally:
        context.close()
