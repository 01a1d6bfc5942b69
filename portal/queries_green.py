"""The portal's reads of green certificates over the read model (`indexer/apply_green.py`).

Certificates, facilities, offers and retirements are public registry data on the ledger: every participant sees
the whole registry; "my certificates" is the registry filtered by the user's address."""

from __future__ import annotations

from indexer.store import Readers
from portal.queries import Page, _paged

STATUSES = ("issued", "offered", "retired")
CERTIFICATE_SQL = (
    "SELECT c.*, f.name AS facility_name, r.beneficiary, r.beneficiary_account, r.purpose, r.consumption_period, "
    "r.retired_by, r.tx_hash AS retirement_tx, coalesce(co.name, c.owner) AS owner_name "
    "FROM green_certificates c JOIN green_facilities f ON f.facility_id = c.facility_id "
    "LEFT JOIN green_retirements r ON r.retirement_id = c.retirement_id "
    "LEFT JOIN companies co ON co.address = c.owner")


def certificates(db: Readers, *, facility_id: int | None = None, technology: int | None = None,
                 period: int | None = None, owner: str = "", status: str = "", page: int = 1,
                 page_size: int = 20) -> Page:
    """The registry, filtered; `owner` is a lowercase 0x address, `status` one of `STATUSES`."""
    sql, params = CERTIFICATE_SQL + " WHERE 1 = 1", []
    for column, value in (("c.facility_id", facility_id), ("c.technology", technology), ("c.period", period),
                          ("c.owner", owner or None), ("c.status", status or None)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    return _paged(db, sql, params, page, page_size, "c.serial")


def certificate(db: Readers, serial: int) -> dict | None:
    return db.one(CERTIFICATE_SQL + " WHERE c.serial = ?", [serial])


def moves(db: Readers, serial: int) -> list[dict]:
    return db.query("SELECT * FROM green_moves WHERE serial = ? ORDER BY block_number, log_index", [serial])


def facilities(db: Readers) -> list[dict]:
    return db.query("SELECT f.*, coalesce(co.name, f.owner) AS owner_name, "
                    "(SELECT coalesce(sum(certificates), 0) FROM green_issuances i "
                    " WHERE i.facility_id = f.facility_id) AS issued "
                    "FROM green_facilities f LEFT JOIN companies co ON co.address = f.owner ORDER BY f.facility_id")


def facility(db: Readers, facility_id: int) -> dict | None:
    return db.one("SELECT f.*, coalesce(co.name, f.owner) AS owner_name FROM green_facilities f "
                  "LEFT JOIN companies co ON co.address = f.owner WHERE f.facility_id = ?", [facility_id])


def issuances(db: Readers, facility_id: int) -> list[dict]:
    return db.query("SELECT * FROM green_issuances WHERE facility_id = ? ORDER BY period DESC", [facility_id])


def offers(db: Readers, *, status: str = "open", seller: str = "", limit: int = 500) -> list[dict]:
    """Offers in a status, newest last, with the serials an open one still locks (`serials`); at most `limit`
    of the newest."""
    sql = ("SELECT o.*, coalesce(co.name, o.seller) AS seller_name, "
           "(SELECT group_concat(serial, ', ') FROM (SELECT serial FROM green_certificates c "
           " WHERE c.offer_id = o.offer_id ORDER BY serial)) AS serials "
           "FROM green_offers o LEFT JOIN companies co ON co.address = o.seller WHERE o.status = ?")
    params: list = [status]
    if seller:
        sql += " AND o.seller = ?"
        params.append(seller)
    return db.query(f"SELECT * FROM ({sql} ORDER BY o.offer_id DESC LIMIT ?) ORDER BY offer_id", params + [limit])


def retirement(db: Readers, retirement_id: int) -> dict | None:
    return db.one("SELECT * FROM green_retirements WHERE retirement_id = ?", [retirement_id])


def retirements_of(db: Readers, party: str) -> list[dict]:
    """Retirements a participant made or was named the beneficiary of, newest first, with their serials."""
    return db.query("SELECT r.*, (SELECT group_concat(serial, ', ') FROM (SELECT serial FROM green_certificates c "
                    "WHERE c.retirement_id = r.retirement_id ORDER BY serial)) AS serials FROM green_retirements r "
                    "WHERE r.beneficiary = ? OR r.retired_by = ? ORDER BY r.retirement_id DESC", [party, party])


def periods(db: Readers) -> list[int]:
    """Generation months present in the registry, newest first (the period filter's choices)."""
    return [row["period"] for row in db.query("SELECT DISTINCT period FROM green_issuances ORDER BY period DESC")]


def account_consumer(db: Readers, number: int) -> dict | None:
    """The account a retirement names as its beneficiary's (any retailer's: the chain checks it again)."""
    return db.one("SELECT number, consumer, retailer FROM accounts WHERE number = ?", [number])
