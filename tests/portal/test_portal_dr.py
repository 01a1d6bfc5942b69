"""Demand-response and prosumer pages over real HTTP against a real node (the demo market of `portal.demo_dr`),
and one browser flow: an event announced, the consumer notified, an obligation traded."""

import datetime as dt
import re
import time

from pathlib import Path

import jinja2
import pytest

import portal
from contracts_py.demand_response_rules import Rates
from node.crypto import private_key_to_address
from portal.app import kwh, rub
from portal.dr_reads import EventView, ShareView, outcome_of
from portal.i18n import gettext_, ngettext_
from portal.views_dr import _not_started
from portal.web import MOSCOW, BadInput
from portal_fixtures import browser, portal_server  # noqa: F401  (fixtures)
from test_portal_browser import login, page, shots, wait_for_text  # noqa: F401  (fixtures)
from test_portal_http import Client

TX_HASH = re.compile(r'class="tx-hash" href="/x/tx/(0x[0-9a-f]{64})"')


@pytest.fixture(scope="module")
def logged_in(portal_server):
    """A logged-in client per user, shared by the module's tests (a login costs an argon2 hash)."""
    clients: dict[str, Client] = {}

    def client_of(username: str) -> Client:
        if username not in clients:
            clients[username] = Client(portal_server.url)
            status, _ = clients[username].login(username)
            assert status == 200
        return clients[username]
    return client_of


def post_form(client: Client, page_path: str, action: str, fields: dict) -> tuple[int, str]:
    _, page = client.get(page_path)
    return client.post(action, {**fields, "csrf_token": client.csrf(page)})


def landed(client: Client, path: str, text: str, timeout_s: float = 15.0) -> str:
    """The page once it shows `text` (a write is on the page when its block is indexed), with a deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        _, body = client.get(path)
        if text in body:
            return body
        assert time.monotonic() < deadline, f"{path} never showed {text!r}"
        time.sleep(0.1)


def tomorrow() -> str:
    return (dt.datetime.now(MOSCOW).date() + dt.timedelta(days=1)).isoformat()


def test_the_pages_render_in_russian_with_the_demo_programme_event_and_prosumer_month(portal_server, logged_in):
    pages = {"grid": ["/dr/programmes", "/dr/programmes/1", "/dr/events/1"],
             "retailer": ["/dr/programmes", "/dr/programmes/1", "/dr/events/1", "/r/prosumer"],
             "retailer2": ["/r/prosumer"], "ivanov": ["/c/dr", "/c/prosumer/1001", "/c/accounts"],
             "sidorov": ["/c/prosumer/2001"]}
    bodies = {}
    for username, paths in pages.items():
        client = logged_in(username)
        for path in paths:
            status, body = client.get(path)
            assert status == 200 and "Выйти" in body, (path, body[-600:])
            bodies[username, path] = body
    programme = bodies["grid", "/dr/programmes/1"]
    assert "Вечерний пик, Казань" in programme and "АО «Татэнергосбыт»" in programme  # the aggregator by name
    assert "среднее 5 последних сопоставимых дней" in programme and "5\u202f000,00 ₽" in programme
    assert "1001" in programme and "2000" in programme and "1500" in programme  # meters and their offers
    assert 'id="announce"' in programme and 'id="announce"' in bodies["retailer", "/dr/programmes/1"]
    box = bodies["ivanov", "/c/dr"]
    assert "Предстоящие события управления спросом" in box and "снизить на 1500 Вт" in box
    # The demo's half hours 18:00-20:00 hold 150 Wh each: 600 Wh over the event's hours on comparable days.
    assert "ваша базовая линия: 0,600 кВт·ч" in re.sub(r"\s+", " ", box)
    assert 'id="dr-upcoming"' in bodies["ivanov", "/c/accounts"]  # the box is on each of his pages
    assert 'id="dr-upcoming"' not in bodies["sidorov", "/c/prosumer/2001"]  # not enrolled, nothing announced
    statement = bodies["sidorov", "/c/prosumer/2001"]
    assert "Цена выкупа в силе" in statement and "2,95 ₽" in statement
    # 2,056.12 RUB charged for the import, 96.72 kWh exported x 2.95 RUB = 285.32 RUB credit, 1,770.80 RUB net due.
    assert "2\u202f056,12 ₽" in statement and "96,720 кВт·ч" in statement
    assert "285,32 ₽" in statement and "1\u202f770,80 ₽" in statement
    assert "Пока нет месяцев с выдачей в сеть в счёте" in bodies["ivanov", "/c/prosumer/1001"]
    assert "<td>20260101</td><td>3,10 ₽</td>" in bodies["retailer", "/r/prosumer"]
    netted = bodies["retailer2", "/r/prosumer"]
    assert "<td>2001</td>" in netted and "285,32 ₽" in netted  # retailer-2's prosumer, not retailer-1's page
    english = Client(portal_server.url)
    english.login("grid")
    _, page = english.get("/lang/en?next=/dr/programmes/1")
    assert "Programme 1: Вечерний пик, Казань" in page and "Announce an event" in page and "Budget" in page


def test_an_announced_event_lands_with_its_hash_and_notifies_the_consumer(logged_in):
    retailer = logged_in("retailer")
    status, body = post_form(retailer, "/dr/programmes/1", "/dr/programmes/1/events",
                             {"day": tomorrow(), "from_hour": "10", "to_hour": "12", "reduction_1001": "700",
                              "reduction_1002": ""})
    assert status == 200 and "Событие объявлено" in body
    assert TX_HASH.search(body)
    ivanov = logged_in("ivanov")
    page = landed(ivanov, "/c/dr", "снизить на 700 Вт")
    assert "10:00" in page and "12:00" in page
    petrova = logged_in("petrova")
    _, page = petrova.get("/c/dr")
    assert "снизить на 700 Вт" not in page  # only the named participant is notified


def test_bad_input_gets_a_clear_message_and_writes_nothing(portal_server, logged_in):
    retailer = logged_in("retailer")
    sender = private_key_to_address(portal_server.keys.retailer)
    nonce = portal_server.node.pending_nonce(sender)
    yesterday = (dt.datetime.now(MOSCOW).date() - dt.timedelta(days=1)).isoformat()
    cases = [({"day": tomorrow(), "from_hour": "20", "to_hour": "18", "reduction_1001": "500"}, "Период события пуст"),
             ({"day": tomorrow(), "from_hour": "18", "to_hour": "20", "reduction_1001": "5x0"}, "целое число"),
             ({"day": yesterday, "from_hour": "18", "to_hour": "20", "reduction_1001": "500"}, "в будущем"),
             ({"day": "завтра", "from_hour": "18", "to_hour": "20", "reduction_1001": "500"}, "2026-04-30"),
             ({"day": tomorrow(), "from_hour": "18", "to_hour": "20"}, "хотя бы одному участнику")]
    for fields, message in cases:
        status, body = post_form(retailer, "/dr/programmes/1", "/dr/programmes/1/events", fields)
        assert status == 400 and message in body, (fields, body[-800:])
    status, body = post_form(retailer, "/r/prosumer", "/r/prosumer/prices",
                             {"effective_from": "2027-01-01", "price": "3,1a"})
    assert status == 400 and "рублях за кВт·ч" in body
    status, body = post_form(retailer, "/r/prosumer", "/r/prosumer/prices", {"effective_from": "", "price": "3"})
    assert status == 400 and "дату начала действия" in body
    assert portal_server.node.pending_nonce(sender) == nonce


def test_writes_the_contract_refuses_show_its_reason_and_send_nothing(portal_server, logged_in):
    outsider = logged_in("retailer2")
    sender = private_key_to_address(portal_server.keys.other_retailer)
    nonce = portal_server.node.pending_nonce(sender)
    status, body = post_form(outsider, "/dr/programmes/1", "/dr/programmes/1/events",
                             {"day": tomorrow(), "from_hour": "18", "to_hour": "20", "reduction_1001": "500"})
    assert status == 409 and "Не сохранено:" in body and "runs neither programme 1 nor its events" in body
    status, body = post_form(outsider, "/r/prosumer", "/r/prosumer/prices", {"effective_from": "2025-12-31",
                                                                             "price": "3"})
    assert status == 409 and "prices go forward: the latest version is in force from 20260101" in body
    assert portal_server.node.pending_nonce(sender) == nonce
    aggregator = logged_in("retailer")
    status, body = post_form(aggregator, "/dr/programmes/1", "/dr/programmes/1/enrol",
                             {"meter_id": "2001", "offered_w": "1000"})
    assert status == 409 and "keeps no hourly profile" in body
    status, body = post_form(aggregator, "/dr/programmes/1", "/dr/programmes/1/events",
                             {"day": tomorrow(), "from_hour": "18", "to_hour": "20", "reduction_1001": "99000"})
    assert status == 409 and "is not within its offer of 2000 W" in body
    status, body = post_form(aggregator, "/dr/events/1", "/dr/events/1/settle", {})
    assert status == 409 and "event 1 has not ended" in body
    status, body = post_form(logged_in("ivanov"), "/c/dr", "/c/dr/events/1/penalty", {"meter_id": "1001"})
    assert status == 409 and "meter 1001 owes no penalty for event 1" in body


def test_the_grid_company_creates_and_funds_a_programme_and_the_aggregator_enrols_each_with_its_hash(
        portal_server, logged_in):
    grid = logged_in("grid")
    aggregator = "0x" + private_key_to_address(portal_server.keys.other_retailer).hex()
    fields = {"programme_id": "2", "name": "Зимний утренний пик", "aggregator": aggregator, "baseline_days": "x3",
              "same_day_kind": "on", "reward": "40", "bonus": "0", "penalty": "12,50", "threshold_pct": "60"}
    status, body = post_form(grid, "/dr/programmes", "/dr/programmes", fields)
    assert status == 400 and "целое число" in body  # letters in a number: nothing sent
    status, body = post_form(grid, "/dr/programmes", "/dr/programmes", {**fields, "baseline_days": "3"})
    assert status == 200 and TX_HASH.search(body) and "Программа 2 отправлена" in body
    page = landed(grid, "/dr/programmes/2", "Зимний утренний пик")
    assert "ООО «Энергосбыт-2»" in page and "среднее 3 последних сопоставимых дней" in page
    assert "40,00 ₽" in page and "12,50 ₽" in page and "60 %" in page
    status, body = post_form(grid, "/dr/programmes/2", "/dr/programmes/2/fund", {"amount": "1000"})
    assert status == 200 and TX_HASH.search(body)
    landed(grid, "/dr/programmes/2", '<dd id="budget">1\u202f000,00 ₽</dd>')
    retailer = logged_in("retailer")
    status, body = post_form(retailer, "/dr/programmes/1", "/dr/programmes/1/enrol",
                             {"meter_id": "1002", "offered_w": "1800"})
    assert status == 200 and TX_HASH.search(body) and "Прибор учёта 1002 записан" in body
    landed(retailer, "/dr/programmes/1", "<td>1800</td>")


def test_a_retailer_publishes_an_export_price_with_its_hash(logged_in):
    retailer = logged_in("retailer")
    status, body = post_form(retailer, "/r/prosumer", "/r/prosumer/prices", {"effective_from": "2027-01-01",
                                                                            "price": "3,25"})
    assert status == 200 and TX_HASH.search(body) and "Цена выкупа с 2027-01-01 отправлена" in body
    landed(retailer, "/r/prosumer", "<td>20270101</td><td>3,25 ₽</td>")
    ivanov = logged_in("ivanov")
    _, page = ivanov.get("/c/prosumer/1001")
    assert "3,10 ₽" in page and "3,25 ₽" in page  # in force now, and the coming version


def test_an_obligation_is_traded_before_the_event_each_step_with_its_hash(logged_in):
    petrova = logged_in("petrova")
    status, body = post_form(petrova, "/c/dr", "/c/dr/events/1/offers",
                             {"meter_id": "1002", "reduction_w": "500", "price": "10"})
    assert status == 200 and TX_HASH.search(body)
    ivanov = logged_in("ivanov")
    page = landed(ivanov, "/c/dr", "/c/dr/offers/1/accept")
    assert "10,00 ₽" in page
    status, body = post_form(ivanov, "/c/dr", "/c/dr/offers/1/accept", {"meter_id": "1001"})
    assert status == 200 and TX_HASH.search(body) and "передано" in body
    landed(petrova, "/c/dr", '<td class="obligation">1500</td>')  # 1,000 W of her own and the 500 W taken
    _, page = ivanov.get("/c/dr")
    assert '<td class="obligation">1000</td>' in page and "/c/dr/offers/1/accept" not in page


def test_a_consumer_cannot_reach_another_consumers_meters_or_export_by_editing_the_url(logged_in):
    petrova = logged_in("petrova")
    for path, fields in (("/c/dr/events/1/offers", {"meter_id": "1001", "reduction_w": "100", "price": "1"}),
                         ("/c/dr/offers/1/accept", {"meter_id": "1001"}),
                         ("/c/dr/events/1/penalty", {"meter_id": "1001"})):
        status, _ = post_form(petrova, "/c/dr", path, fields)
        assert status == 404, path
    for path in ("/c/prosumer/2001", "/c/prosumer/1001", "/dr/programmes", "/dr/events/1", "/r/prosumer"):
        status, _ = petrova.get(path)
        assert status in (403, 404), path
    ivanov = logged_in("ivanov")
    status, _ = ivanov.get("/c/prosumer/2001")
    assert status == 404


def test_an_event_that_has_started_cannot_be_traded_from_the_page():
    now = int(time.time())
    with pytest.raises(BadInput, match="началось"):
        _not_started(EventView(7, 1, now - 3600, now + 3600, (1001,)))
    _not_started(EventView(7, 1, now + 3600, now + 7200, (1001,)))


def test_a_settled_share_splits_the_reward_into_direct_and_bonus_as_the_contract_pays_it():
    rates = Rates(5_000_000, 2_500_000, 3_000_000, 500_000)
    # Baseline 8 kWh, actual 2 kWh, 2,000 W over 2 hours: 4 kWh x 50 RUB + 2 kWh x 25 RUB (test_dr_events).
    settled = outcome_of(8_000, 2_000, 2_000, 2, 25_000, 0, 0, rates)
    assert (settled.reduction_wh, settled.obligation_wh, settled.reward, settled.bonus) == (6_000, 4_000, 20_000,
                                                                                            5_000)
    short = outcome_of(8_000, 6_400, 3_000, 2, 8_000, 13_200, 5_200, rates)
    assert (short.reward, short.bonus, short.penalty, short.penalty_due) == (8_000, 0, 13_200, 5_200)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(portal.__file__).parent / "templates"),
                             extensions=["jinja2.ext.i18n"], autoescape=True)
    env.install_gettext_callables(gettext_, ngettext_, newstyle=True)
    env.filters.update(rub=rub, kwh=kwh)
    cells = env.get_template("dr/_outcome.html").render(s=ShareView(1, 1001, 2_000, True, settled))
    assert re.findall(r"<td>([^<]+)</td>", cells) == ["8,000 кВт·ч", "2,000 кВт·ч", "6,000 кВт·ч", "200,00 ₽",
                                                       "50,00 ₽", "0,00 ₽"]


@pytest.mark.browser
def test_announce_notify_and_trade_in_the_browser(page, shots):  # noqa: F811
    login(page, "grid")
    page.goto("/dr/programmes/1")
    page.fill("input[name=reduction_1001]", "900")
    page.fill("input[name=reduction_1002]", "600")
    page.fill("input[name=from_hour]", "14")
    page.fill("input[name=to_hour]", "16")
    page.click("#announce")
    assert re.fullmatch(r"0x[0-9a-f]{64}", page.inner_text(".flash.ok .tx-hash"))
    page.context.clear_cookies()
    login(page, "ivanov")
    page.click("#nav-dr")
    wait_for_text(page, "#dr-upcoming", "снизить на 900 Вт")
    event_id = re.search(r"Событие (\d+) \(Вечерний пик, Казань\): [-\d]+ 14:00",
                         page.inner_text("#dr-upcoming")).group(1)
    page.screenshot(path=shots / "dr-consumer-notified.png", full_page=True)
    page.context.clear_cookies()
    login(page, "petrova")
    page.goto("/c/dr")
    page.fill(f"#offer-{event_id} input[name=reduction_w]", "300")
    page.fill(f"#offer-{event_id} input[name=price]", "15")
    page.click(f"#offer-{event_id} button[type=submit]")
    assert re.fullmatch(r"0x[0-9a-f]{64}", page.inner_text(".flash.ok .tx-hash"))
    page.context.clear_cookies()
    login(page, "ivanov")
    page.goto("/c/dr")
    wait_for_text(page, f"#event-{event_id}", "15,00 ₽")
    page.click(f"#event-{event_id} form[id^=accept-] button[type=submit]")
    assert re.fullmatch(r"0x[0-9a-f]{64}", page.inner_text(".flash.ok .tx-hash"))
    wait_for_text(page, f"#event-{event_id} td.obligation", "^600$")
    page.screenshot(path=shots / "dr-obligation-traded.png", full_page=True)
