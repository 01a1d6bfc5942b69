"""The invoice as a PDF document (fpdf2), in Russian, with the DejaVu font for Cyrillic."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from portal.i18n import gettext_ as _
from portal.labels import COMPONENTS, label

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path(__file__).parent / "static" / "fonts")


class FontMissing(RuntimeError):
    """No Cyrillic-capable font: install Debian's fonts-dejavu-core."""


def _font() -> Path:
    for directory in FONT_DIRS:
        if (directory / "DejaVuSans.ttf").exists():
            return directory / "DejaVuSans.ttf"
    raise FontMissing("DejaVuSans.ttf not found; install the fonts-dejavu-core package")


def _rub(kopecks: int) -> str:
    return f"{kopecks // 100:,}".replace(",", " ") + f",{kopecks % 100:02d}"


def _document(title: str) -> FPDF:
    pdf = FPDF(format="A4")
    regular = _font()
    pdf.add_font("DejaVu", fname=str(regular))
    bold = regular.with_name("DejaVuSans-Bold.ttf")
    pdf.add_font("DejaVu", style="B", fname=str(bold if bold.exists() else regular))
    pdf.set_font("DejaVu", size=16)
    pdf.add_page()
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font_size(11)
    return pdf


def contract_pdf(contract: dict, account: dict, retailer: dict | None, consumer) -> bytes:
    """The supply contract's particulars as recorded on the ledger, with the hash of the signed document."""
    pdf = _document(_("Supply contract %(id)s", id=contract["contract_id"]))
    for caption, value in ((_("Account"), account["number"]),
                           (_("Retailer"), (retailer or {}).get("name") or account["retailer"]),
                           (_("Consumer"), consumer.full_name or account["consumer"]),
                           (_("Address"), account["premises_address"]),
                           (_("Hash of the signed document"), contract["document_hash"]),
                           (_("Registered in block"), contract["block_number"])):
        pdf.multi_cell(0, 7, f"{caption}: {value}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def invoice_pdf(invoice: dict, lines: list[dict], account: dict | None, consumer) -> bytes:
    period = f"{invoice['period'] // 100}-{invoice['period'] % 100:02d}"
    pdf = _document(_("Invoice %(id)s for %(period)s", id=invoice["invoice_id"], period=period))
    for caption, value in ((_("Account"), invoice["account_number"]),
                           (_("Consumer"), consumer.full_name or invoice["consumer"]),
                           (_("Address"), account["premises_address"] if account else ""),
                           (_("Volume"), f"{invoice['volume_wh'] / 1000:.3f} " + _("kWh")),
                           (_("Status"), invoice["status"]),
                           (_("Transaction"), invoice["tx_hash"])):
        pdf.cell(0, 7, f"{caption}: {value}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    with pdf.table(col_widths=(50, 30, 30, 30, 30)) as table:
        table.row([_("Component"), _("Quantity"), _("Net, ₽"), _("VAT, ₽"), _("Total, ₽")])
        for line in lines:
            table.row([label(COMPONENTS, line["component"]), str(line["quantity"]), _rub(line["net"]),
                       _rub(line["vat"]), _rub(line["net"] + line["vat"])])
    pdf.ln(4)
    pdf.set_font_size(13)
    pdf.cell(0, 8, _("Total due: %(total)s ₽", total=_rub(invoice["total"])), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
