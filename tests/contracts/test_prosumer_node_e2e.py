"""A prosumer's April 2026 through a real node process: half-hourly import and export readings -> one invoice
with the import charged and the export bought and netted on it, the credit beyond the bill paid out; and the
same export certified as green certificates, sold and retired. Every figure asserted; bad input rejected with a
reason in the receipt."""

from __future__ import annotations

import secrets

import pytest

from contracts_py import invoices
from contracts_py.billing.periods import MOSCOW_UTC_OFFSET, period_start
from node_market import Participants

APRIL, MAY = 202604, 202605
INVOICE_ID = 1001202604000
INVOICE_TOTAL = 158_142
"""Day 150 Wh and night 80 Wh per half hour in April 2026 on the two-zone tariff (tests/data/billing)."""
SUN_WH = 9_000
"""Export per half hour from 10:00 to 16:00 Moscow time: 30 x 12 x 9,000 = 3,240,000 Wh in April."""
EXPORT_PRICE = 234_567
INFRA = bytes.fromhex("1f" * 20)
SERIAL = 1_000_001
"""The first certificate of the first issuance."""


class Prosumer(Participants):
    """Genesis participants plus a consumer with a rooftop plant behind one metered account, and its gateway."""

    def __init__(self, node) -> None:
        super().__init__(node)
        self.consumer = self.client.signer(secrets.token_bytes(32), "consumer")
        self.buyer = self.client.signer(secrets.token_bytes(32), "buyer")
        self.gateway = self.client.signer(secrets.token_bytes(32), "gateway")

    def set_up(self) -> None:
        g, r, b = self.grid, self.retailer, self.bank
        calls = [
            (g, "Tariffs", "setVatRate", (20190101, 2000)),
            (g, "Tariffs", "setVatRate", (20260101, 2200)),
            (g, "ParticipantRegistry", "grantRole", (self.consumer.address, "consumer")),
            (g, "ParticipantRegistry", "grantRole", (self.buyer.address, "consumer")),
            (g, "ParticipantRegistry", "grantRole", (self.gateway.address, "gateway")),
            (b, "RubleToken", "mint", (b.address, 10_000_000)),
            (b, "RubleToken", "transfer", (r.address, 1_000_000)),
            (b, "RubleToken", "transfer", (self.buyer.address, 1_000_000)),
            (r, "Tariffs", "saveGroup", (1, "Households")),
            (r, "Tariffs", "saveOption", (1, 1, 2, 20260101, MOSCOW_UTC_OFFSET, r.address, [420, 1380],
                                          [1380, 420], [1, 2], [520_000, 310_000], [], [], 0, 0, [3, 5, 6],
                                          [g.address, r.address, INFRA], [181_234, 52_345, 1_287])),
            (r, "Registry", "saveAccount", (1001, 1, 1, self.consumer.address, "Kazan, Baumana 1", 1, 5_430, 0)),
            (r, "ProsumerSettlement", "setExportPrice", (20260101, EXPORT_PRICE)),
            (g, "Registry", "saveMeteringPoint", (1001, 1001, "Kazan, Baumana 1", "apartment")),
            (g, "Registry", "registerInstalledMeter",
             (1001, 1001, "Mercury 234", "SN1", "Kazan, Baumana 1", 1, True, False, 20_000, MOSCOW_UTC_OFFSET,
              1_000_000, 0, period_start(APRIL, MOSCOW_UTC_OFFSET) - 1_800)),
            (g, "Registry", "bindGateway", (1001, self.gateway.address)),
            (g, "GreenCertificates", "registerFacility",
             (7, self.consumer.address, 1, 15_000, 20260301, 1001, "Rooftop PV, Kazan")),
        ]
        self.client.wait(self.client.send_many((s, c, f, a, 1_000_000) for s, c, f, a in calls))

    def post_april(self) -> None:
        """April in two halves (a transaction is at most 128 KiB)."""
        first, last = period_start(APRIL, MOSCOW_UTC_OFFSET), period_start(MAY, MOSCOW_UTC_OFFSET)
        starts, imports, exports = [], [], []
        imported, exported = 1_000_000, 0
        for start in range(first, last, 1_800):
            half_hour = (start + MOSCOW_UTC_OFFSET) // 1_800 % 48
            imported += 150 if 14 <= half_hour < 46 else 80
            exported += SUN_WH if 20 <= half_hour < 32 else 0
            starts.append(start)
            imports.append(imported)
            exports.append(exported)
        half = len(starts) // 2
        self.client.wait(self.client.send_many(
            (self.gateway, "Readings", "postReadings",
             (1001, starts[i:i + half], imports[i:i + half], exports[i:i + half]), 20_000_000) for i in (0, half)))


@pytest.fixture
def prosumer(solo_node) -> Prosumer:
    p = Prosumer(solo_node)
    p.set_up()
    p.post_april()
    return p


def test_prosumer_month_with_import_and_export_on_one_invoice(prosumer):
    """The export credit (759,997 kopecks) exceeds the April bill (158,142): issuing the invoice settles every
    line - the retailer's own by offset, the grid company's and the infrastructure line paid by the retailer - and
    pays the rest of the credit out to the consumer; the invoice is paid and shows both sides."""
    p, c = prosumer, prosumer.client
    assert c.call("Readings", "meterMonth", 1001, APRIL)[:4] == (182_400, 3_240_000, 1_440, 1_440)
    reason = p.rejected(p.consumer, "ProsumerSettlement", "setExportPrice", 20260601, 1)
    assert reason == f"0x{p.consumer.address.hex()} lacks the retailer role"
    retailer_before = p.balance(p.retailer.address)
    receipt = p.ok(p.retailer, "Invoices", "issueInvoice", 1001, APRIL, gas=20_000_000)
    credit = 3_240_000 * EXPORT_PRICE // 1_000_000
    assert credit == 759_997  # 759,997.08 rounds to 759,997
    payout = credit - INVOICE_TOTAL
    statement = c.call("ProsumerSettlement", "exportStatement", 1001, APRIL)
    assert statement[:9] == (p.consumer.address, INVOICE_ID, 182_400, INVOICE_TOTAL, 3_240_000, EXPORT_PRICE,
                             credit, 0, payout)
    assert c.call("Invoices", "invoiceExport", INVOICE_ID) == (
        3_240_000, EXPORT_PRICE, credit, INVOICE_TOTAL, 0, payout, (105_876, 40_330, 11_649, 287))
    assert p.balance(p.consumer.address) == payout == 601_855
    assert retailer_before - p.balance(p.retailer.address) == 40_330 + 287 + payout
    assert p.balance(INFRA) == 287
    invoice = c.call("Invoices", "invoice", INVOICE_ID)
    assert (invoice[3], invoice[6], invoice[7]) == (5, 0, 0)  # PAID, nothing due
    topics = [bytes.fromhex(log["topics"][0][2:]) for log in receipt["logs"]]
    assert topics.count(invoices.InvoiceLine.__event_spec__.topic) == 5  # four charges and the export credit
    assert topics.count(invoices.ExportNetted.__event_spec__.topic) == 1
    again = p.rejected(p.consumer, "Payments", "payInvoice", INVOICE_ID, 1, 2)
    assert again == f"invoice {INVOICE_ID} is paid, not payable"


def test_readings_to_certificates_to_sale_to_retirement(prosumer):
    p, c = prosumer, prosumer.client
    p.ok(p.consumer, "GreenCertificates", "issue", 7, APRIL, gas=20_000_000)
    assert c.call("GreenCertificates", "issuance", 7, APRIL)[:6] == (1, 3_240_000, 0, 3, 240_000, SERIAL)
    twice = p.rejected(p.consumer, "GreenCertificates", "issue", 7, APRIL)
    assert twice == "facility 7 is already certified for 202604"
    p.ok(p.consumer, "GreenCertificates", "offer", [SERIAL, SERIAL + 1], 60_000)
    p.ok(p.buyer, "GreenCertificates", "buy", 1)
    assert p.balance(p.consumer.address) == 120_000
    p.ok(p.buyer, "GreenCertificates", "retire", [SERIAL, SERIAL + 1], p.buyer.address, 0, "Green May", MAY)
    statement = c.call("GreenCertificates", "retirementStatement", 1)
    assert statement[:5] == (p.buyer.address, p.buyer.address, 0, "Green May", MAY)
    assert statement[8:] == ((SERIAL, SERIAL + 1), (7, 7), (APRIL, APRIL), (1, 1))
    moved = p.rejected(p.buyer, "GreenCertificates", "transfer", p.consumer.address, [SERIAL])
    assert moved == f"certificate {SERIAL} is retired and can never move"
