"""The retirement statement of green certificates as a PDF, from the contract's own `retirementStatement` view."""

from __future__ import annotations

import datetime as dt

from portal.i18n import gettext_ as _
from portal.pdf import _document
from portal.web import MOSCOW


def _month(value: int) -> str:
    return f"{value // 100:04d}-{value % 100:02d}"


def retirement_pdf(retirement_id: int, statement: tuple, facility_names: dict[int, str],
                   technologies: dict[int, str], chain_id: int) -> bytes:
    """`statement` is the view's tuple: (retiredBy, beneficiary, beneficiaryAccount, purpose, consumptionPeriod,
    retiredAt, blockNumber, txHash, serials, facilityIds, generationPeriods, technologies)."""
    (retired_by, beneficiary, account, purpose, consumption_period, retired_at, block_number, tx_hash, serials,
     facility_ids, periods, techs) = statement
    pdf = _document(_("Green certificate retirement statement No. %(id)s", id=retirement_id))
    at = dt.datetime.fromtimestamp(retired_at, MOSCOW).strftime("%Y-%m-%d %H:%M")
    for caption, value in ((_("Beneficiary"), "0x" + beneficiary.hex()),
                           (_("Beneficiary's account"), account or "—"),
                           (_("Purpose"), purpose),
                           (_("Consumption period"), _month(consumption_period)),
                           (_("Retired by"), "0x" + retired_by.hex()),
                           (_("Retired at (Moscow time)"), at),
                           (_("Energy"), _("%(mwh)s MWh (one certificate per MWh)", mwh=len(serials))),
                           (_("Retirement transaction"), "0x" + tx_hash.hex()),
                           (_("Block"), block_number),
                           (_("Issuing chain id"), chain_id)):
        pdf.multi_cell(0, 7, f"{caption}: {value}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    with pdf.table(col_widths=(30, 70, 30, 30, 20)) as table:
        table.row([_("Serial number"), _("Facility"), _("Technology"), _("Generated in"), _("Energy, MWh")])
        for serial, facility_id, period, technology in zip(serials, facility_ids, periods, techs):
            table.row([str(serial), f"{facility_id} {facility_names.get(facility_id, '')}".strip(),
                       technologies.get(technology, str(technology)), _month(period), "1"])
    return bytes(pdf.output())
