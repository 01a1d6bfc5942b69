"""The portal over real HTTP without a browser: login, roles, CSRF, bad input, documents."""

import base64
import http.cookiejar
import json
import re
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

from cryptography.fernet import Fernet

from portal.app import SESSION_MAX_AGE_S
from node.crypto import keccak256
from portal.demo import DEMO_PASSWORD, demo_contract
from portal_fixtures import browser, portal_server  # noqa: F401  (fixtures)


class Client:
    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=20) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")

    def post(self, path: str, fields: dict) -> tuple[int, str]:
        data = urllib.parse.urlencode(fields).encode()
        try:
            with self.opener.open(self.base + path, data, timeout=20) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")

    def csrf(self, page: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def login(self, username: str, password: str = DEMO_PASSWORD) -> tuple[int, str]:
        _, page = self.get("/login")
        return self.post("/login", {"username": username, "password": password, "csrf_token": self.csrf(page)})


def test_every_page_of_each_role_renders_in_russian(portal_server):
    pages = {"ivanov": ["/c/accounts", "/c/accounts/1001", "/c/invoices", "/c/payments", "/c/tariffs/1001",
                        "/c/balance", "/c/consumption?account=1001&group=day", "/faq", "/profile",
                        f"/c/invoices/{portal_server.market['invoice_id']}", "/x/blocks", "/x/blocks/1"],
             "retailer": ["/r/accounts", "/r/meters", "/r/readings", "/r/payments", "/r/reports", "/r/tariffs",
                          "/r/consumption", "/profile"],
             "grid": ["/g/accounts", "/g/accounts/1001", "/g/accounts/1001?tab=meter",
                      "/g/accounts/1001?tab=payments", "/g/accounts/1001?tab=readings", "/g/meters",
                      "/g/meters/1001", "/g/reports", "/g/readings", "/g/retailers", "/g/contractors"]}
    for username, paths in pages.items():
        client = Client(portal_server.url)
        status, _ = client.login(username)
        assert status == 200
        for path in paths:
            status, body = client.get(path)
            assert status == 200, (path, body[-600:])
            assert "Выйти" in body, path


def test_a_consumer_cannot_open_another_consumers_account_invoice_or_tariffs(portal_server):
    client = Client(portal_server.url)
    client.login("petrova")
    for path in ("/c/accounts/1001", f"/c/invoices/{portal_server.market['invoice_id']}",
                 "/c/accounts/1001/contracts/1001/pdf", "/c/accounts/1002/contracts/1001/pdf",
                 f"/c/invoices/{portal_server.market['invoice_id']}/pdf", "/c/tariffs/1001", "/g/accounts",
                 "/r/accounts"):
        status, _ = client.get(path)
        assert status in (403, 404), path
    status, body = client.get("/c/accounts")
    assert "1002" in body and "/c/accounts/1001" not in body


def test_a_forged_csrf_token_writes_nothing(portal_server):
    client = Client(portal_server.url)
    client.login("ivanov")
    invoice = portal_server.market["invoice_id"]
    status, body = client.post(f"/c/invoices/{invoice}/confirm", {"csrf_token": "forged"})
    assert status == 403
    assert portal_server.node.mempool.__len__() == 0


def test_bad_filters_and_typed_readings_get_a_clear_message(portal_server):
    client = Client(portal_server.url)
    client.login("retailer")
    status, body = client.get("/r/readings?from=2026-13-45")
    assert status == 400 and "2026-13-45" in body
    status, body = client.get("/r/accounts?number=1'%20OR%201=1--")
    assert status == 400
    status, body = client.get("/r/accounts?address=%25'%20OR%20'1'='1")
    assert status == 200 and "Ничего не найдено" in body
    client = Client(portal_server.url)
    client.login("petrova")
    _, page = client.get("/c/accounts/1002")
    status, body = client.post("/c/accounts/1002/reading", {"meter_id": "1002", "import_kwh": "12a3",
                                                            "csrf_token": client.csrf(page)})
    assert status == 400 and "12a3" in body
    assert len(portal_server.node.mempool) == 0


def test_the_invoice_and_the_contract_download_as_pdf(portal_server):
    client = Client(portal_server.url)
    client.login("ivanov")
    for path in (f"/c/invoices/{portal_server.market['invoice_id']}/pdf", "/c/accounts/1001/contracts/1001/pdf"):
        with client.opener.open(portal_server.url + path, timeout=20) as response:
            assert response.headers["Content-Type"] == "application/pdf"
            assert response.read().startswith(b"%PDF")
    _, page = client.get("/c/accounts/1001")
    assert "0x" + keccak256(demo_contract(1001)).hex() in page


def test_notarized_datasets_are_revalidated_and_a_file_is_checked_by_its_hash(portal_server):
    client = Client(portal_server.url)
    client.login("grid")
    _, page = client.get("/x/documents")
    assert "80020" in page and "✔" not in page
    status, page = client.post("/x/documents/validate", {"csrf_token": client.csrf(page)})
    assert status == 200 and "✔ верно" in page
    with sqlite3.connect(portal_server.indexer.path, isolation_level=None) as index:  # the read model tampered
        index.execute("UPDATE documents SET doc_type = 'forged' WHERE doc_type = '80020'")
        try:
            _, page = client.post("/x/documents/validate", {"csrf_token": client.csrf(page)})
            assert "✖ differs: doc_type" in page
        finally:
            index.execute("UPDATE documents SET doc_type = '80020' WHERE doc_type = 'forged'")
    from portal.demo import demo_dataset
    boundary = "----portal-test"
    for content, expected in ((demo_dataset(portal_server.market["period"]), "совпадает"),
                              (b"changed" + demo_dataset(portal_server.market["period"]), "неизвестен")):
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{client.csrf(page)}\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.xml\"\r\n"
                f"Content-Type: application/xml\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(portal_server.url + "/x/documents/file", body,
                                         {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        with client.opener.open(request, timeout=20) as response:
            page = response.read().decode()
        assert expected in page


def test_the_consumers_tree_finds_an_account_by_the_consumers_name(portal_server):
    client = Client(portal_server.url)
    client.login("grid")
    _, page = client.get("/g/tree?q=" + urllib.parse.quote("Петрова"))
    assert "/g/accounts/1002" in page and "/g/accounts/1001" not in page and "SN1002" in page


def session_cookie(secret_path, username: str, created: int) -> str:
    """A session cookie as the portal would have issued it at `created` (it holds the server secret)."""
    fernet = Fernet(base64.urlsafe_b64encode(secret_path.read_bytes()))
    data = json.dumps({"created": created, "session": {"user": username, "csrf_token": "t"}}).encode()
    return fernet.encrypt_at_time(data, created).decode()


def test_an_expired_session_goes_back_to_the_login_page(portal_server):
    now = int(time.time())
    for created, expected in ((now - 60, "/c/accounts"), (now - SESSION_MAX_AGE_S - 60, "/login")):
        client = Client(portal_server.url)
        cookie = http.cookiejar.Cookie(0, "energy_portal", session_cookie(portal_server.secret_path, "ivanov", created),
                                       None, False, "127.0.0.1", False, False, "/", True, False, None, False, None,
                                       None, {})
        client.jar.set_cookie(cookie)
        with client.opener.open(portal_server.url + "/c/accounts", timeout=20) as response:
            assert urllib.parse.urlparse(response.url).path == expected


def test_a_write_the_contract_refuses_shows_the_reason_and_sends_nothing(portal_server):
    client = Client(portal_server.url)
    client.login("ivanov")
    invoice = portal_server.market["invoice_id"]
    _, page = client.get(f"/c/invoices/{invoice}")
    status, page = client.post(f"/c/invoices/{invoice}/pay", {"amount": "999999,99", "csrf_token": client.csrf(page)})
    assert status == 409 and "Не сохранено: insufficient balance" in page
    assert len(portal_server.node.mempool) == 0
    status, page = client.post(f"/c/invoices/{invoice}/pay", {"amount": "-5", "csrf_token": client.csrf(page)})
    assert status == 400 and "-5" in page


def test_the_explorer_finds_blocks_and_transactions_and_checks_the_seals(portal_server):
    client = Client(portal_server.url)
    client.login("retailer")
    _, page = client.get("/x/search?q=3")
    assert "Блок 3" in page and "✔" in page
    tx_hash = re.search(r'href="/x/tx/(0x[0-9a-f]{64})"', page).group(1)
    _, page = client.get("/x/search?q=" + tx_hash)
    assert "финальна, выполнена" in page and "Registry.registerInstalledMeter" in page
    status, page = client.get("/x/search?q=%3Cscript%3E")
    assert status == 400 and "<script>" not in page


def test_a_retailer_sees_and_edits_only_its_own(portal_server):
    client = Client(portal_server.url)
    client.login("retailer2")
    _, page = client.get("/r/accounts")
    assert "2001" in page and "1001" not in page and "1002" not in page
    for path in ("/g/meters/1001", "/r/readings?account=1001&from=2026-01-01", "/g/accounts"):
        status, page = client.get(path)
        assert status in (403, 404) or "SN1001" not in page, path
    _, page = client.get("/r/tariffs")
    assert "Население, другой сбыт" in page and "Население, Казань" not in page
    token = client.csrf(page)
    status, _ = client.post("/r/tariffs/1/delete", {"csrf_token": token})
    assert status == 404
    status, _ = client.post("/r/tariffs", {"group_id": "1", "name": "taken over", "csrf_token": token})
    assert status == 403
    assert len(portal_server.node.mempool) == 0


def test_login_returns_only_to_a_page_of_this_site(portal_server):
    for target, landing in (("/c/payments", "/c/payments"), ("//evil.example/x", "/c/accounts"),
                            ("/\\evil.example", "/c/accounts"), ("https://evil.example/", "/c/accounts")):
        client = Client(portal_server.url)
        _, page = client.get("/login")
        with client.opener.open(portal_server.url + "/login", urllib.parse.urlencode({
                "username": "ivanov", "password": DEMO_PASSWORD, "next": target,
                "csrf_token": client.csrf(page)}).encode(), timeout=20) as response:
            assert urllib.parse.urlparse(response.url).path == landing
            assert urllib.parse.urlparse(response.url).netloc == urllib.parse.urlparse(portal_server.url).netloc
