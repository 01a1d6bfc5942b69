"""The portal's reads over the indexer's read model (`indexer/schema.sql`), each scoped by role.

Every function takes `Readers` and plain filter values; every value reaches SQL as a bound parameter. A consumer's
queries are scoped by his address, a retailer's by its address; the grid company sees the whole market."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from indexer.store import Readers


@dataclass(frozen=True)
class Scope:
    """Whose data a query may return: `consumer` or `retailer` limit it to one address; None is the whole market."""

    consumer: str | None = None
    retailer: str | None = None

    def accounts_where(self, alias: str = "a") -> tuple[str, list]:
        if self.consumer is not None:
            return f"{alias}.consumer = ?", [self.consumer]
        if self.retailer is not None:
            return f"{alias}.retailer = ?", [self.retailer]
        return "1 = 1", []


@dataclass(frozen=True)
class Page:
    rows: list[dict]
    page: int
    page_size: int
    total: int | None
    """Rows matching in all; None where counting them would cost more than the page (readings)."""
    has_next: bool

    @property
    def pages(self) -> int | None:
        return None if self.total is None else max(1, -(-self.total // self.page_size))


def _paged(db: Readers, sql: str, params: list, page: int, page_size: int, order: str) -> Page:
    total = db.one(f"SELECT count(*) AS n FROM ({sql})", params)["n"]
    rows = db.query(f"{sql} ORDER BY {order} LIMIT ? OFFSET ?", params + [page_size, (page - 1) * page_size])
    return Page(rows, page, page_size, total, page * page_size < total)


def _uncounted(db: Readers, sql: str, params: list, page: int, page_size: int, order: str) -> Page:
    """A page without the total: one row more than asked tells whether a next page exists."""
    rows = db.query(f"{sql} ORDER BY {order} LIMIT ? OFFSET ?", params + [page_size + 1, (page - 1) * page_size])
    return Page(rows[:page_size], page, page_size, None, len(rows) > page_size)


# --- accounts and meters -------------------------------------------------------------------------------------
def accounts(db: Readers, scope: Scope, *, number: int | None = None, section: int | None = None,
             retailer: str | None = None, address: str = "", page: int = 1, page_size: int = 20) -> Page:
    where, params = scope.accounts_where()
    sql = ("SELECT a.*, coalesce(c.name, p.name, a.retailer) AS retailer_name FROM accounts a "
           "LEFT JOIN companies c ON c.address = a.retailer LEFT JOIN participants p ON p.address = a.retailer "
           f"WHERE {where}")
    if number is not None:
        sql += " AND a.number = ?"
        params.append(number)
    if section is not None:
        sql += " AND a.section = ?"
        params.append(section)
    if retailer:
        sql += " AND a.retailer = ?"
        params.append(retailer)
    if address:
        sql += " AND a.premises_address LIKE ? ESCAPE '\\'"
        params.append("%" + _like(address) + "%")
    return _paged(db, sql, params, page, page_size, "a.number")


def account(db: Readers, scope: Scope, number: int) -> dict | None:
    where, params = scope.accounts_where()
    return db.one(f"SELECT a.* FROM accounts a WHERE a.number = ? AND {where}", [number] + params)


def meters(db: Readers, scope: Scope, *, account_number: int | None = None, serial: str = "", model: str = "",
           address: str = "", page: int = 1, page_size: int = 20) -> Page:
    where, params = scope.accounts_where()
    sql = f"SELECT m.* FROM meters m JOIN accounts a ON a.number = m.account_number WHERE {where}"
    for column, value in (("m.serial", serial), ("m.model", model), ("m.installation_address", address)):
        if value:
            sql += f" AND {column} LIKE ? ESCAPE '\\'"
            params.append("%" + _like(value) + "%")
    if account_number is not None:
        sql += " AND m.account_number = ?"
        params.append(account_number)
    return _paged(db, sql, params, page, page_size, "m.meter_id")


def meter(db: Readers, scope: Scope, meter_id: int) -> dict | None:
    where, params = scope.accounts_where()
    return db.one(f"SELECT m.* FROM meters m JOIN accounts a ON a.number = m.account_number "
                  f"WHERE m.meter_id = ? AND {where}", [meter_id] + params)


def account_history(db: Readers, number: int, names: tuple[str, ...], key: str = "number") -> list[dict]:
    """Events about one account (its saves, meters...) with the transaction hash and decoded contents."""
    marks = ",".join("?" * len(names))
    return db.query(f"SELECT e.*, t.function, t.args_json AS call_json FROM events e "
                    f"LEFT JOIN transactions t ON t.hash = e.tx_hash WHERE e.name IN ({marks}) "
                    f"AND json_extract(e.args_json, '$.{key}') = ? ORDER BY e.block_number DESC, e.log_index",
                    list(names) + [number])


# --- readings ------------------------------------------------------------------------------------------------
MAX_LISTED_METERS = 500
"""Up to this many meters in scope, readings are read meter by meter (primary key); beyond, by time."""


def _meters_in_scope(db: Readers, scope: Scope, account_number, serial: str, address: str) -> list[int] | None:
    """The meter ids a readings query may touch, or None when the whole market's meters are in scope."""
    where, params = scope.accounts_where()
    if where == "1 = 1" and account_number is None and not serial and not address:
        return None
    sql = f"SELECT m.meter_id FROM meters m JOIN accounts a ON a.number = m.account_number WHERE {where}"
    sql, params = _meter_filters(sql, params, account_number, serial, address)
    rows = db.query(sql + " LIMIT ?", params + [MAX_LISTED_METERS + 1])
    return None if len(rows) > MAX_LISTED_METERS and where == "1 = 1" else [r["meter_id"] for r in rows]


def readings(db: Readers, scope: Scope, *, start: int, end: int, account_number: int | None = None,
             serial: str = "", address: str = "", page: int = 1, page_size: int = 50) -> Page:
    """Readings newest first with their transaction hashes; not counted (a month holds millions)."""
    meter_ids = _meters_in_scope(db, scope, account_number, serial, address)
    sql = ("SELECT r.*, m.serial, m.account_number, m.installation_address FROM readings r "
           "JOIN meters m ON m.meter_id = r.meter_id WHERE r.interval_start >= ? AND r.interval_start < ?")
    params: list = [start, end]
    if meter_ids is not None and len(meter_ids) <= MAX_LISTED_METERS:
        sql += f" AND r.meter_id IN ({','.join('?' * len(meter_ids)) or 'NULL'})"
        params += meter_ids
    else:
        where, scope_params = scope.accounts_where()
        sql = sql.replace("WHERE", f"JOIN accounts a ON a.number = m.account_number WHERE {where} AND", 1)
        params = scope_params + params
        sql, params = _meter_filters(sql, params, account_number, serial, address)
    return _uncounted(db, sql, params, page, page_size, "r.interval_start DESC, r.meter_id")


def consumption_series(db: Readers, scope: Scope, *, start: int, end: int, group: str,
                       account_number: int | None = None, serial: str = "", address: str = "",
                       utc_offset_s: int = 3 * 3600) -> list[tuple[int, int]]:
    """(bucket start, Wh imported) per local day (from the indexer's daily sums) or per half hour."""
    where, params = scope.accounts_where()
    if group == "30min":
        sql = ("SELECT r.interval_start AS bucket, sum(r.delta_import_wh) AS wh FROM readings r "
               "JOIN meters m ON m.meter_id = r.meter_id JOIN accounts a ON a.number = m.account_number "
               f"WHERE {where} AND r.interval_start >= ? AND r.interval_start < ?")
        params += [start, end]
    else:
        sql = ("SELECT d.day AS bucket, sum(d.import_wh) AS wh FROM readings_daily d "
               "JOIN meters m ON m.meter_id = d.meter_id JOIN accounts a ON a.number = m.account_number "
               f"WHERE {where} AND d.day >= ? AND d.day < ?")
        params += [_local_day(start, utc_offset_s), _local_day(end, utc_offset_s)]
    sql, params = _meter_filters(sql, params, account_number, serial, address)
    rows = db.query(sql + " GROUP BY bucket ORDER BY bucket", params)
    if group == "30min":
        return [(row["bucket"], row["wh"]) for row in rows]
    return [(_day_start(row["bucket"], utc_offset_s), row["wh"]) for row in rows]


def _local_day(moment: int, utc_offset_s: int) -> int:
    day = datetime.datetime.fromtimestamp(moment + utc_offset_s, datetime.timezone.utc)
    return day.year * 10_000 + day.month * 100 + day.day


def _day_start(yyyymmdd: int, utc_offset_s: int) -> int:
    year, rest = divmod(yyyymmdd, 10_000)
    month, day = divmod(rest, 100)
    return int(datetime.datetime(year, month, day, tzinfo=datetime.timezone.utc).timestamp()) - utc_offset_s


def _meter_filters(sql: str, params: list, account_number, serial: str, address: str) -> tuple[str, list]:
    if account_number is not None:
        sql += " AND m.account_number = ?"
        params.append(account_number)
    if serial:
        sql += " AND m.serial LIKE ? ESCAPE '\\'"
        params.append("%" + _like(serial) + "%")
    if address:
        sql += " AND m.installation_address LIKE ? ESCAPE '\\'"
        params.append("%" + _like(address) + "%")
    return sql, params


# --- invoices and payments -----------------------------------------------------------------------------------
def invoices(db: Readers, scope: Scope, *, account_number: int | None = None, page: int = 1,
             page_size: int = 20) -> Page:
    where, params = scope.accounts_where()
    sql = f"SELECT i.* FROM invoices i JOIN accounts a ON a.number = i.account_number WHERE {where}"
    if account_number is not None:
        sql += " AND i.account_number = ?"
        params.append(account_number)
    return _paged(db, sql, params, page, page_size, "i.period DESC, i.invoice_id DESC")


def invoice(db: Readers, scope: Scope, invoice_id: int) -> dict | None:
    where, params = scope.accounts_where()
    return db.one(f"SELECT i.* FROM invoices i JOIN accounts a ON a.number = i.account_number "
                  f"WHERE i.invoice_id = ? AND {where}", [invoice_id] + params)


def invoice_lines(db: Readers, invoice_id: int) -> list[dict]:
    return db.query("SELECT l.*, coalesce(c.name, p.name, l.payee) AS payee_name FROM invoice_lines l "
                    "LEFT JOIN companies c ON c.address = l.payee LEFT JOIN participants p ON p.address = l.payee "
                    "WHERE l.invoice_id = ? ORDER BY l.line_no", [invoice_id])


def payments(db: Readers, scope: Scope, *, start: int | None = None, end: int | None = None,
             account_number: int | None = None, address: str = "", source: int | None = None,
             page: int = 1, page_size: int = 20) -> Page:
    sql, params = _payments_sql(scope, start, end, account_number, address, source)
    return _paged(db, sql, params, page, page_size, "p.paid_at DESC, p.payment_id DESC")


def payments_by_day(db: Readers, scope: Scope, *, start: int, end: int, account_number: int | None = None,
                    address: str = "", source: int | None = None) -> list[tuple[int, int]]:
    sql, params = _payments_sql(scope, start, end, account_number, address, source)
    rows = db.query(f"SELECT (paid_at / 86400) * 86400 AS bucket, sum(amount) AS total FROM ({sql}) "
                    "GROUP BY bucket ORDER BY bucket", params)
    return [(row["bucket"], row["total"]) for row in rows]


def _payments_sql(scope: Scope, start, end, account_number, address: str, source) -> tuple[str, list]:
    where, params = scope.accounts_where()
    sql = ("SELECT p.*, a.premises_address FROM payments p JOIN accounts a ON a.number = p.account_number "
           f"WHERE {where}")
    for clause, value in (("p.paid_at >= ?", start), ("p.paid_at < ?", end), ("p.account_number = ?", account_number),
                          ("p.source = ?", source)):
        if value is not None:
            sql += f" AND {clause}"
            params.append(value)
    if address:
        sql += " AND a.premises_address LIKE ? ESCAPE '\\'"
        params.append("%" + _like(address) + "%")
    return sql, params


def payment_splits(db: Readers, payment_id: int) -> list[dict]:
    return db.query("SELECT s.*, coalesce(c.name, p.name, s.payee) AS payee_name FROM payment_splits s "
                    "LEFT JOIN companies c ON c.address = s.payee LEFT JOIN participants p ON p.address = s.payee "
                    "WHERE s.payment_id = ? ORDER BY s.log_index", [payment_id])


def payment_report(db: Readers, scope: Scope, *, year: int, retailer: str | None = None) -> list[dict]:
    """Totals of payments per month of a year (UTC+3 months), with the number of accounts paying."""
    where, params = scope.accounts_where()
    sql = ("SELECT CAST(strftime('%m', p.paid_at + 10800, 'unixepoch') AS INTEGER) AS month, count(*) AS payments, "
           "count(DISTINCT p.account_number) AS accounts, sum(p.amount) AS total FROM payments p "
           f"JOIN accounts a ON a.number = p.account_number WHERE {where} "
           "AND strftime('%Y', p.paid_at + 10800, 'unixepoch') = ?")
    params.append(f"{year:04d}")
    if retailer:
        sql += " AND a.retailer = ?"
        params.append(retailer)
    return db.query(sql + " GROUP BY month ORDER BY month", params)


def month_accounts(db: Readers, scope: Scope, *, year: int, month: int, retailer: str | None = None) -> list[dict]:
    where, params = scope.accounts_where()
    sql = ("SELECT p.account_number, count(*) AS payments, sum(p.amount) AS total FROM payments p "
           f"JOIN accounts a ON a.number = p.account_number WHERE {where} "
           "AND strftime('%Y%m', p.paid_at + 10800, 'unixepoch') = ?")
    params.append(f"{year:04d}{month:02d}")
    if retailer:
        sql += " AND a.retailer = ?"
        params.append(retailer)
    return db.query(sql + " GROUP BY p.account_number ORDER BY p.account_number", params)


# --- wallet ----------------------------------------------------------------------------------------------------
def transfers(db: Readers, address: str, start: int, end: int) -> list[dict]:
    return db.query("SELECT * FROM token_transfers WHERE (sender = ? OR recipient = ?) AND at >= ? AND at < ? "
                    "ORDER BY block_number, log_index", [address, address, start, end])


def net_flow_before(db: Readers, address: str, moment: int) -> int:
    row = db.one("SELECT coalesce(sum(CASE WHEN recipient = ? THEN value ELSE 0 END), 0) - "
                 "coalesce(sum(CASE WHEN sender = ? THEN value ELSE 0 END), 0) AS net FROM token_transfers "
                 "WHERE (sender = ? OR recipient = ?) AND at < ?", [address, address, address, address, moment])
    return row["net"]


# --- companies, tariffs ----------------------------------------------------------------------------------------
def company(db: Readers, address: str) -> dict | None:
    return db.one("SELECT * FROM companies WHERE address = ?", [address])


def retailers(db: Readers) -> list[dict]:
    return db.query("SELECT r.address, coalesce(c.name, p.name, r.address) AS name, c.phone, c.inn, c.bank_name, "
                    "c.postal_address, c.director, (SELECT count(*) FROM accounts a WHERE a.retailer = r.address) "
                    "AS accounts FROM roles r LEFT JOIN companies c ON c.address = r.address "
                    "LEFT JOIN participants p ON p.address = r.address WHERE r.role = 'retailer' ORDER BY name")


def contractors(db: Readers, grid_company: str) -> list[dict]:
    return db.query("SELECT * FROM contractors WHERE grid_company = ? ORDER BY contractor_id", [grid_company])


def tariff_groups(db: Readers, retailer: str | None) -> list[dict]:
    sql = ("SELECT g.*, (SELECT count(*) FROM tariff_options o WHERE o.group_id = g.group_id AND o.removed = 0) "
           "AS options FROM tariff_groups g WHERE g.deleted = 0")
    if retailer is None:
        return db.query(sql + " ORDER BY g.group_id")
    return db.query(sql + " AND g.retailer = ? ORDER BY g.group_id", [retailer])


def tariff_options(db: Readers, group_id: int) -> list[dict]:
    return db.query("SELECT * FROM tariff_options WHERE group_id = ? AND removed = 0 ORDER BY option_id, "
                    "effective_from", [group_id])


# --- explorer --------------------------------------------------------------------------------------------------
def blocks(db: Readers, page: int = 1, page_size: int = 20) -> Page:
    return _paged(db, "SELECT * FROM blocks", [], page, page_size, "number DESC")


def block(db: Readers, number: int) -> dict | None:
    return db.one("SELECT * FROM blocks WHERE number = ?", [number])


def block_by_hash(db: Readers, block_hash: str) -> dict | None:
    return db.one("SELECT * FROM blocks WHERE hash = ?", [block_hash])


def block_transactions(db: Readers, number: int) -> list[dict]:
    return db.query("SELECT * FROM transactions WHERE block_number = ? ORDER BY tx_index", [number])


def transaction(db: Readers, tx_hash: str) -> dict | None:
    return db.one("SELECT * FROM transactions WHERE hash = ?", [tx_hash])


def transaction_events(db: Readers, tx_hash: str) -> list[dict]:
    return db.query("SELECT * FROM events WHERE tx_hash = ? ORDER BY log_index", [tx_hash])


def transactions_of(db: Readers, sender: str, page: int = 1, page_size: int = 20) -> Page:
    return _paged(db, "SELECT * FROM transactions WHERE sender = ?", [sender], page, page_size,
                  "block_number DESC, tx_index DESC")


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def account_tree(db: Readers, scope: Scope, *, text: str = "", consumers: tuple[str, ...] = (),
                 limit: int = 50) -> list[dict]:
    """Accounts whose number, address or consumer (addresses found by name off-chain) match, each with its
    metering points and their meters: the navigation tree of the grid company's consumers."""
    where, params = scope.accounts_where()
    sql = f"SELECT a.* FROM accounts a WHERE {where}"
    if text:
        marks = ",".join("?" * len(consumers)) or "NULL"
        sql += (f" AND (CAST(a.number AS TEXT) LIKE ? ESCAPE '\\' OR a.premises_address LIKE ? ESCAPE '\\' "
                f"OR a.consumer IN ({marks}))")
        params += ["%" + _like(text) + "%", "%" + _like(text) + "%", *consumers]
    found = db.query(sql + " ORDER BY a.number LIMIT ?", params + [limit])
    for account_row in found:
        account_row["points"] = db.query("SELECT * FROM metering_points WHERE account_number = ? ORDER BY point_id",
                                         [account_row["number"]])
        for point in account_row["points"]:
            point["meters"] = db.query("SELECT * FROM meters WHERE point_id = ? ORDER BY meter_id",
                                       [point["point_id"]])
    return found
