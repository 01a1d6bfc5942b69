"""A holder's money over a period, from the read model: every ruble token transfer sorted into top-ups,
withdrawals (locked at request), refunds of rejected withdrawals, other receipts and debits (invoice payments).

The classes follow the chain: a top-up is a transfer in the transaction that recorded a bank top-up (`top_ups`)
or fulfilled a top-up request; a withdrawal moves money into the token contract's own balance and a refund moves
it back out. The period's closing balance is the opening one plus everything in, minus everything out."""

from __future__ import annotations

from dataclasses import dataclass

from contracts_py import ruble
from indexer.store import Readers
from portal import queries

TOKEN = "0x" + ruble.ADDRESS.hex()
KINDS = ("top_up", "refund", "receipt", "withdrawal", "debit")
INCOMING = ("top_up", "refund", "receipt")


@dataclass(frozen=True)
class PeriodTotals:
    """Kopecks per kind of move in [start, end), and the balances around them."""

    opening: int
    by_kind: dict[str, int]

    @property
    def closing(self) -> int:
        return self.opening + sum(v if k in INCOMING else -v for k, v in self.by_kind.items())


def kind_of(move: dict, holder: str, top_up_txs: set[str]) -> str:
    """What a transfer is to `holder` (who is its sender or recipient)."""
    if move["recipient"] == holder:
        if move["sender"] == TOKEN:
            return "refund"
        return "top_up" if move["tx_hash"] in top_up_txs else "receipt"
    return "withdrawal" if move["recipient"] == TOKEN else "debit"


def top_up_transactions(db: Readers, holder: str, start: int, end: int) -> set[str]:
    rows = db.query("SELECT tx_hash FROM top_ups WHERE consumer = ? AND at >= ? AND at < ? UNION "
                    "SELECT settle_tx FROM bank_requests WHERE holder = ? AND kind = 'top_up' AND status = 'done' "
                    "AND settled_at >= ? AND settled_at < ?", [holder, start, end, holder, start, end])
    return {row["tx_hash"] for row in rows}


def period_moves(db: Readers, holder: str, start: int, end: int) -> tuple[list[dict], PeriodTotals]:
    """The holder's transfers in [start, end), each with its `kind`, and the period's totals."""
    moves = queries.transfers(db, holder, start, end)
    top_ups = top_up_transactions(db, holder, start, end)
    by_kind = dict.fromkeys(KINDS, 0)
    for move in moves:
        move["kind"] = kind_of(move, holder, top_ups)
        by_kind[move["kind"]] += move["value"]
    return moves, PeriodTotals(queries.net_flow_before(db, holder, start), by_kind)


def bank_requests(db: Readers, holder: str, limit: int = 20) -> list[dict]:
    """The holder's latest top-up and withdrawal requests, newest first."""
    return db.query("SELECT * FROM bank_requests WHERE holder = ? ORDER BY request_id DESC LIMIT ?", [holder, limit])


def locked(db: Readers, holder: str) -> int:
    """Kopecks locked in the holder's withdrawals the bank has not settled yet."""
    row = db.one("SELECT coalesce(sum(amount), 0) AS total FROM bank_requests WHERE holder = ? AND "
                 "kind = 'withdrawal' AND status = 'pending'", [holder])
    return row["total"]
