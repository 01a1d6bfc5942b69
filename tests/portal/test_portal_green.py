"""Green certificates in the portal against a real node: the registry and its filters, each write signed and
landing with its hash, refused writes showing the contract's reason and sending nothing, the retirement statement
PDF for its parties only; and the whole flow issue -> offer -> buy -> retire -> PDF in Chromium."""

import functools
import io
import re
import time

import pypdf
import pytest

from indexer.store import Readers
from node.crypto import private_key_to_address
from portal_fixtures import browser, portal_server  # noqa: F401  (fixtures)
from test_portal_browser import login, shots, wait_for_text  # noqa: F401  (fixture)
from test_portal_http import Client

TX = re.compile(r'class="tx-hash" href="/x/tx/(0x[0-9a-f]{64})"')


def address(key: bytes) -> str:
    return "0x" + private_key_to_address(key).hex()


def month(period: int) -> str:
    return f"{period // 100}-{period % 100:02d}"


@functools.cache
def _readers(path) -> Readers:
    return Readers(path)


def one(server, sql: str, params: tuple = ()) -> tuple | None:
    """A row of the read model, through a read-only connection of this thread (the indexer writes in its own)."""
    found = _readers(server.indexer.path).one(sql, params)
    return None if found is None else tuple(found.values())


def client(server, username: str) -> Client:
    c = Client(server.url)
    status, _ = c.login(username)
    assert status == 200
    return c


def post(c: Client, path: str, form_page: str, fields: dict) -> tuple[int, str]:
    _, page = c.get(form_page)
    return c.post(path, {**fields, "csrf_token": c.csrf(page)})


def landed(server, c: Client, path: str, form_page: str, fields: dict) -> str:
    """Post a write; it must come back with its transaction hash, which must reach a block and the read model."""
    status, body = post(c, path, form_page, fields)
    assert status == 200, body[-800:]
    tx = TX.search(body).group(1)
    deadline = time.monotonic() + 15
    while one(server, "SELECT 1 FROM transactions WHERE hash = ? AND status = 1", (tx,)) is None:
        assert time.monotonic() < deadline, f"{tx} never reached the read model"
        time.sleep(0.05)
    return tx


def refused(server, c: Client, path: str, form_page: str, fields: dict, reason: str) -> None:
    pending = len(server.node.mempool)
    status, body = post(c, path, form_page, fields)
    assert status == 409 and "Не сохранено" in body and reason in body, body[-800:]
    assert len(server.node.mempool) == pending


def owner_of(server, serial: int) -> tuple[str, str]:
    return one(server, "SELECT owner, status FROM green_certificates WHERE serial = ?", (serial,))


def test_the_green_pages_render_in_russian_for_every_role(portal_server):
    serial = portal_server.market["green_retired"][0]
    for username in ("ivanov", "petrova", "retailer", "grid"):
        c = client(portal_server, username)
        for path in ("/green/certificates", "/green/my", "/green/offers", "/green/facilities",
                     "/green/facilities/1", f"/green/certificates/{serial}"):
            status, body = c.get(path)
            assert status == 200, (username, path, body[-600:])
            assert "Зелёные сертификаты" in body and "Выйти" in body, path
    c.get("/lang/en")
    _, body = c.get("/green/my")
    assert "My certificates" in body and "Retire" in body
    c.get("/lang/ru")
    _, body = c.get("/green/facilities/1")
    assert "СЭС «Солнечная долина»" in body and "Солнечная" in body and "История выпуска" in body
    assert month(portal_server.market["green_earlier"]) in body


def test_the_registry_filters_by_facility_technology_period_owner_and_status_and_pages(portal_server):
    market, c = portal_server.market, client(portal_server, "sidorov")
    first = market["green_first_serial"]

    def serials(query: str) -> list[int]:
        status, body = c.get("/green/certificates?" + query)
        assert status == 200, body[-600:]
        return [int(s) for s in re.findall(r'<a href="/green/certificates/(\d+)">', body)]

    assert serials("status=retired&page_size=100") == market["green_retired"]
    assert serials("facility=1&status=offered") == list(range(first, first + 10))
    assert serials(f"owner={address(portal_server.keys.retailer)}&status=issued") == list(range(first + 15,
                                                                                                 first + 20))
    assert serials("technology=2") == []
    assert serials(f"period={month(market['green_earlier'])}&page_size=10&page=2") == list(range(first + 10,
                                                                                                 first + 20))
    _, body = c.get("/green/certificates?page_size=10&page=2")
    assert "Страница 2 из" in body and 'rel="next"' in body
    status, body = c.get("/green/certificates?status=lost")
    assert status == 400 and "lost" in body
    status, body = c.get("/green/certificates?period=2026-13")
    assert status == 400 and "2026-13" in body


def test_an_owner_registers_a_facility_and_the_grid_company_confirms_it(portal_server):
    petrova = client(portal_server, "petrova")
    landed(portal_server, petrova, "/green/facilities", "/green/facilities", {
        "facility_id": "3", "name": "Крыша дома на ул. Баумана", "technology": "1", "capacity_kw": "15",
        "commissioned_on": "2026-03-01", "meter_id": "1002"})
    _, body = petrova.get("/green/facilities/3")
    assert "Ожидает подтверждения" in body and 'id="issue-form"' not in body
    refused(portal_server, petrova, "/green/facilities", "/green/facilities", {
        "facility_id": "4", "name": "Чужой счётчик", "technology": "2", "capacity_kw": "15",
        "commissioned_on": "2026-03-01", "meter_id": "1001"}, "is not on an account of")
    status, body = post(petrova, "/green/facilities", "/green/facilities", {
        "facility_id": "4", "name": "Без счётчика", "technology": "1", "capacity_kw": "15",
        "commissioned_on": "2026-03-01"})
    assert status == 400 and "прибор учёта" in body
    grid = client(portal_server, "grid")
    landed(portal_server, grid, "/green/facilities/3/confirm", "/green/facilities/3", {})
    _, body = petrova.get("/green/facilities/3")
    assert 'id="facility-status">Подтверждён' in body and 'id="issue-form"' in body


def test_issuance_for_a_period_lands_with_its_hash_and_a_second_one_is_refused(portal_server):
    petrova, period = client(portal_server, "petrova"), portal_server.market["green_period"]
    landed(portal_server, petrova, "/green/facilities/2/issue", "/green/facilities/2", {"period": month(period)})
    measured, count, carry = one(portal_server, "SELECT measured_wh, certificates, carry_out_wh "
                                                "FROM green_issuances WHERE facility_id = 2")
    assert count == measured // 1_000_000 > 0 and carry == measured % 1_000_000
    _, body = petrova.get("/green/facilities/2")
    assert f"<td>{month(period)}</td>" in body and f"<td>{count}</td>" in body
    refused(portal_server, petrova, "/green/facilities/2/issue", "/green/facilities/2", {"period": month(period)},
            f"already certified for {period}")
    status, body = post(petrova, "/green/facilities/2/issue", "/green/facilities/2", {"period": "май"})
    assert status == 400 and "2026-04" in body


def test_a_transfer_lands_and_a_retired_certificate_cannot_move(portal_server):
    retailer, market = client(portal_server, "retailer"), portal_server.market
    sidorov = address(portal_server.keys.consumers[2])
    refused(portal_server, retailer, "/green/transfer", "/green/my",
            {"serials": str(market["green_retired"][0]), "to": sidorov}, "is retired and can never move")
    serial = market["green_first_serial"] + 15
    landed(portal_server, retailer, "/green/transfer", "/green/my", {"serials": str(serial), "to": sidorov})
    assert owner_of(portal_server, serial) == (sidorov, "issued")
    status, body = post(retailer, "/green/transfer", "/green/my", {"serials": "1-9999", "to": sidorov})
    assert status == 400 and "500" in body
    status, body = post(retailer, "/green/transfer", "/green/my", {"serials": str(serial), "to": "0x12"})
    assert status == 400 and "0x" in body


def test_offers_are_made_withdrawn_and_bought_and_too_little_balance_is_refused(portal_server):
    petrova, market = client(portal_server, "petrova"), portal_server.market
    first = market["green_first_serial"] + 20
    serials = f"{first}-{first + 1}"
    landed(portal_server, petrova, "/green/offers", "/green/my", {"serials": serials, "price": "12,50"})
    offer_id, = one(portal_server, "SELECT max(offer_id) FROM green_offers")
    assert owner_of(portal_server, first)[1] == "offered"
    landed(portal_server, petrova, f"/green/offers/{offer_id}/withdraw", "/green/my", {})
    assert owner_of(portal_server, first)[1] == "issued"
    refused(portal_server, client(portal_server, "sidorov"), f"/green/offers/{market['green_offer']}/buy",
            "/green/offers", {}, "insufficient balance")
    landed(portal_server, petrova, "/green/offers", "/green/my", {"serials": serials, "price": "12,50"})
    ivanov = client(portal_server, "ivanov")
    landed(portal_server, ivanov, f"/green/offers/{offer_id + 1}/buy", "/green/offers", {})
    assert owner_of(portal_server, first + 1) == (address(portal_server.keys.consumers[0]), "issued")
    _, body = ivanov.get("/green/my")
    assert f'<a href="/green/certificates/{first + 1}">' in body


def test_the_retirement_statement_is_for_its_parties_and_the_grid_company_only(portal_server):
    market = portal_server.market
    path = f"/green/retirements/{market['green_retirement']}/pdf"
    retirement_tx, = one(portal_server, "SELECT tx_hash FROM green_retirements WHERE retirement_id = 1")
    documents = []
    for username in ("ivanov", "retailer", "grid"):
        c = client(portal_server, username)
        with c.opener.open(portal_server.url + path, timeout=20) as response:
            assert response.headers["Content-Type"] == "application/pdf"
            documents.append(response.read())
        _, page = c.get(f"/green/certificates/{market['green_retired'][0]}")
        assert 'id="statement-pdf"' in page
        if username != "grid":
            _, page = c.get("/green/my")
            assert f'href="{path}"' in page
    text = "".join(sheet.extract_text() for sheet in pypdf.PdfReader(io.BytesIO(documents[0])).pages)
    assert str(market["green_retired"][0]) in text and retirement_tx in text and "Солнечная" in text
    assert "Справка о погашении" in text and "1001" in text and str(portal_server.node.rules.chain_id) in text
    assert all(document.startswith(b"%PDF") for document in documents)
    for username in ("sidorov", "petrova", "retailer2"):
        c = client(portal_server, username)
        status, _ = c.get(path)
        assert status == 403, username
        _, page = c.get(f"/green/certificates/{market['green_retired'][0]}")
        assert 'id="statement-pdf"' not in page


@pytest.mark.browser
def test_issue_offer_buy_retire_and_download_the_statement_in_the_browser(browser, portal_server, shots):
    period = portal_server.market["green_period"]
    context = browser.new_context(base_url=portal_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        login(page, "petrova")
        page.goto("/green/facilities/1")
        page.fill("#issue-form input[name=period]", month(period))
        page.click("#issue-form button[type=submit]")
        assert re.fullmatch(r"0x[0-9a-f]{64}", page.inner_text(".flash.ok .tx-hash"))
        wait_for_text(page, "#issuances tbody tr", month(period))
        first = int(re.search(r"(\d+)–", page.inner_text("#issuances tbody tr >> nth=0")).group(1))
        page.screenshot(path=shots / "green-facility.png", full_page=True)
        page.goto("/green/my")
        page.fill("#offer-form input[name=serials]", f"{first}-{first + 1}")
        page.fill("#offer-form input[name=price]", "100")
        page.click("#offer-form button[type=submit]")
        assert re.fullmatch(r"0x[0-9a-f]{64}", page.inner_text(".flash.ok .tx-hash"))
        page.click("form[action='/logout'] button")
        login(page, "ivanov")
        page.goto("/green/offers")
        wait_for_text(page, "#offers", f"{first}, {first + 1}")
        page.locator("#offers tr", has_text=f"{first}, {first + 1}").locator("button").click()
        assert re.fullmatch(r"0x[0-9a-f]{64}", page.inner_text(".flash.ok .tx-hash"))
        wait_for_text(page, "#certificates", str(first + 1))
        page.fill("#retire-form input[name=serials]", f"{first}-{first + 1}")
        page.fill("#retire-form input[name=account]", "1001")
        page.fill("#retire-form input[name=purpose]", "Зелёная энергия для квартиры")
        page.fill("#retire-form input[name=period]", month(period))
        page.click("#retire-form button[type=submit]")
        assert re.fullmatch(r"0x[0-9a-f]{64}", page.inner_text(".flash.ok .tx-hash"))
        page.goto(f"/green/certificates/{first}")
        wait_for_text(page, "#certificate-status", "Погашен")
        page.screenshot(path=shots / "green-retired-certificate.png", full_page=True)
        response = page.request.get(page.get_attribute("#statement-pdf", "href"))
        assert response.headers["content-type"] == "application/pdf" and response.body().startswith(b"%PDF")
        page.goto("/green/my")
        page.screenshot(path=shots / "green-my-certificates.png", full_page=True)
    finally:
        context.close()
