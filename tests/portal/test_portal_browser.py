"""The portals in Debian's Chromium driven by Playwright: each role's main flows against a real node."""

import json
import os
import re
import time
from pathlib import Path

import pytest

from node.crypto import private_key_to_address
from portal.demo import DEMO_PASSWORD
from portal_fixtures import browser, portal_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Screenshots of the main pages: PORTAL_SCREENSHOTS=dir keeps them, else pytest's temporary directory."""
    directory = Path(os.environ.get("PORTAL_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def page(browser, portal_server):
    context = browser.new_context(base_url=portal_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def login(page, username, password=DEMO_PASSWORD):
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def wait_for_text(page, selector: str, pattern: str, timeout_s: float = 15.0) -> None:
    """Reload until `selector` shows `pattern` (a write is final once its block is indexed), with a deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        locator = page.locator(selector)
        if locator.count() and re.search(pattern, locator.first.inner_text()):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{selector} never showed {pattern!r}: {locator.first.inner_text()!r}")
        page.wait_for_timeout(200)
        page.reload()


def plotted(page, box: str) -> dict[str, int]:
    """Waits until plotly.js has drawn the chart in `box`: the bars in its figure data, the bars drawn and the
    lines drawn (the air temperature)."""
    page.locator(f"{box} .js-plotly-plot g.barlayer g.point").first.wait_for()
    figure = page.locator(f"{box} script[type='application/json']").text_content()
    return {"points": len(json.loads(figure)["data"][0]["x"]),
            "bars": page.locator(f"{box} g.barlayer g.point").count(),
            "lines": page.locator(f"{box} g.scatterlayer g.trace path.js-line").count()}


def test_wrong_password_is_refused_and_repeated_failures_are_rate_limited(page, portal_server, shots):
    login(page, "retailer2", "not-the-password")
    assert "Неверный логин или пароль" in page.inner_text("#login-error")
    for _ in range(4):
        login(page, "retailer2", "still-wrong")
    login(page, "retailer2", DEMO_PASSWORD)  # even the right password waits out the limit
    assert "Слишком много неудачных попыток" in page.inner_text("#login-error")
    page.screenshot(path=shots / "login-rate-limited.png")
    assert page.url.endswith("/login")


def test_a_consumer_sees_only_his_accounts_and_cannot_open_anothers(page, portal_server, shots):
    login(page, "petrova")
    page.wait_for_url("**/c/accounts")
    rows = page.locator("#accounts tbody tr")
    assert rows.count() == 1 and "1002" in rows.first.inner_text()
    page.screenshot(path=shots / "consumer-accounts.png", full_page=True)
    response = page.goto("/c/accounts/1001")
    assert response.status == 404
    response = page.goto(f"/c/invoices/{portal_server.market['invoice_id']}")
    assert response.status == 404


def test_a_consumer_sends_a_manual_reading_and_bad_input_writes_nothing(page, portal_server):
    login(page, "petrova")
    page.goto("/c/accounts/1002")
    page.fill("#reading-form-1002 input[name=import_kwh]", "12x4")
    page.click("#reading-form-1002 button[type=submit]")
    assert "12x4" in page.inner_text("#error-message")
    page.goto("/c/accounts/1002")
    page.fill("#reading-form-1002 input[name=import_kwh]", "1234,5")
    page.click("#reading-form-1002 button[type=submit]")
    tx_hash = page.inner_text(".flash.ok .tx-hash")
    assert re.fullmatch(r"0x[0-9a-f]{64}", tx_hash)
    page.goto(f"/x/tx/{tx_hash}")
    wait_for_text(page, "#tx-status", "финальна, выполнена")
    assert "postManualReading" in page.inner_text("#tx-call")


def test_a_consumer_confirms_and_pays_an_invoice_and_sees_the_hashes(page, portal_server, shots):
    invoice = portal_server.market["invoice_id"]
    login(page, "ivanov")
    page.goto(f"/c/invoices/{invoice}")
    page.screenshot(path=shots / "consumer-invoice.png", full_page=True)
    page.click("#confirm")
    confirm_hash = page.inner_text(".flash.ok .tx-hash")
    assert re.fullmatch(r"0x[0-9a-f]{64}", confirm_hash)
    wait_for_text(page, "#invoice-status", "Подтверждён")
    page.click("#pay")
    pay_hash = page.inner_text(".flash.ok .tx-hash")
    assert re.fullmatch(r"0x[0-9a-f]{64}", pay_hash) and pay_hash != confirm_hash
    wait_for_text(page, "#invoice-status", "Оплачено")
    page.goto("/c/payments")
    splits = page.inner_text("#payments tbody")
    assert "Услуги по передаче" in splits and "Сбытовая надбавка" in splits
    page.screenshot(path=shots / "consumer-payments.png", full_page=True)
    page.goto("/c/balance")
    assert page.locator("table.data tbody tr").count() >= 2  # the top-up and the payment


def test_the_consumer_compares_tariffs_and_sees_a_consumption_chart(page, portal_server, shots):
    login(page, "ivanov")
    page.goto("/c/tariffs/1001")
    rows = page.locator("#tariff-comparison tbody tr")
    assert rows.count() == 2
    costs = [int(re.sub(r"\D", "", rows.nth(i).locator("td").nth(2).inner_text())) for i in range(2)]
    assert costs == sorted(costs)
    page.goto("/c/consumption?account=1001&from=2026-01-01&group=day")
    chart = plotted(page, "#consumption-chart")
    assert chart["bars"] == chart["points"] >= 28 and chart["lines"] == 1  # a bar a day, the imported temperature
    assert page.locator("#consumption-chart .ytitle").all_text_contents() == ["кВт·ч"]
    page.screenshot(path=shots / "consumer-consumption.png", full_page=True)


def test_the_chart_draws_under_a_policy_that_forbids_inline_script_and_eval(page, portal_server):
    policy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security" in message.text else None)
    login(page, "ivanov")

    def with_policy(route):
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": policy})
    page.route("**/c/consumption*", with_policy)
    page.goto("/c/consumption?account=1001&from=2026-10-01&to=2026-10-31")
    chart = plotted(page, "#consumption-chart")
    assert chart["bars"] == chart["points"] == 31 and chart["lines"] == 1 and refused == []


def test_the_consumer_pages_fit_a_phone_screen(browser, portal_server, shots):
    context = browser.new_context(base_url=portal_server.url, viewport={"width": 390, "height": 844},
                                  is_mobile=True)
    phone = context.new_page()
    try:
        login(phone, "ivanov")
        phone.goto(f"/c/invoices/{portal_server.market['invoice_id']}")
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the page is {overflow}px wider than the phone"
        phone.screenshot(path=shots / "phone-invoice.png", full_page=True)
        phone.goto("/c/consumption?account=1001&from=2026-01-01&group=day")
        assert plotted(phone, "#consumption-chart")["bars"] >= 28
        assert phone.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
        width = phone.locator("#consumption-chart .main-svg").first.bounding_box()["width"]
        assert 300 <= width <= 390, f"the chart is {width}px wide on a 390px phone"
        phone.screenshot(path=shots / "phone-consumption.png", full_page=True)
    finally:
        context.close()


def test_the_language_switch_turns_the_portal_english_and_back(page, portal_server):
    login(page, "ivanov")
    assert "Выйти" in page.inner_text("header")
    page.click("#lang-en")
    assert "Log out" in page.inner_text("header") and "My accounts" in page.inner_text("h1")
    page.click("#lang-ru")
    assert "Мои лицевые счета" in page.inner_text("h1")


def test_a_retailer_renames_a_tariff_group_on_chain(page, portal_server, shots):
    login(page, "retailer")
    page.goto("/r/tariffs")
    page.fill("#edit-group-2 input[name=name]", "Население, сельская местность")
    page.click("#edit-group-2 button[type=submit]")
    assert re.fullmatch(r"0x[0-9a-f]{64}", page.inner_text(".flash.ok .tx-hash"))
    deadline = time.monotonic() + 15
    while page.input_value("#edit-group-2 input[name=name]") != "Население, сельская местность":
        assert time.monotonic() < deadline, "the renamed group never showed"
        page.wait_for_timeout(200)
        page.reload()
    assert page.locator("#tariff-groups tbody tr").count() == 2  # not retailer-2's group
    page.screenshot(path=shots / "retailer-tariffs.png", full_page=True)
    page.goto("/r/readings?from=2026-01-01")
    chart = plotted(page, "#readings-chart")
    assert chart["bars"] == chart["points"] >= 28 and chart["lines"] == 0
    assert page.locator("#readings tbody tr").count() == 50
    page.screenshot(path=shots / "retailer-readings.png", full_page=True)
    page.goto("/r/payments?from=2026-01-01")
    chart = plotted(page, "#payments-chart")
    assert chart["bars"] == chart["points"] >= 1
    assert page.locator("#payments-chart .ytitle").all_text_contents() == ["₽"]
    page.screenshot(path=shots / "retailer-payments.png", full_page=True)


def test_the_grid_company_filters_accounts_pages_and_resets(page, portal_server, shots):
    login(page, "grid")
    page.wait_for_url("**/g/accounts")
    assert page.locator("#accounts tbody tr").count() == 4  # three households and the bakery (demo_capacity)
    retailer2 = "0x" + private_key_to_address(portal_server.keys.other_retailer).hex()
    page.select_option("select[name=retailer]", retailer2)
    page.click("#account-filters button[type=submit]")
    rows = page.locator("#accounts tbody tr")
    assert rows.count() == 1 and "2001" in rows.first.inner_text()
    page.click("#reset")
    page.select_option("select[name=page_size]", "10")
    page.fill("input[name=section]", "7")
    page.click("#account-filters button[type=submit]")
    assert page.locator("#accounts tbody tr").count() == 2
    page.screenshot(path=shots / "grid-accounts.png", full_page=True)
    page.click("#accounts tbody tr >> nth=0 >> a")
    page.click("#tab-consumer")
    assert "AccountSaved" in page.inner_text("#history") and "saveAccount" in page.inner_text("#history")
    page.screenshot(path=shots / "grid-account.png", full_page=True)
    page.goto("/g/readings?from=2026-01-01&account=1001")
    chart = plotted(page, "#readings-chart")
    assert chart["bars"] == chart["points"] >= 28
    page.screenshot(path=shots / "grid-readings.png", full_page=True)
