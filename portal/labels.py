"""Names people read for the codes stored on chain (translated at render time)."""

from __future__ import annotations

from portal.i18n import gettext_ as _

OPTION_KINDS = {1: "Single rate", 2: "Two zones (day/night)", 3: "Three zones (peak/half-peak/night)",
                4: "Consumption bands", 5: "Hourly (price categories 3-6)"}
COMPONENTS = {1: "Energy", 2: "Capacity", 3: "Transmission", 4: "Network capacity", 5: "Retail markup",
              6: "Infrastructure payments", 7: "Common-house needs", 8: "Export credit (netted)"}
SOURCES = {1: "Bank", 2: "Card", 3: "Cash desk", 4: "Auto-debit"}
INVOICE_STATUS = {"issued": "Issued", "confirmed": "Confirmed", "disputed": "Disputed",
                  "superseded": "Superseded", "paid": "Paid"}
CONSUMER_KINDS = {1: "Household", 2: "Legal entity"}


def label(table: dict, code) -> str:
    text = table.get(code)
    return _(text) if text else str(code)
