"""Data validation: the notarized datasets of the read model re-checked against the chain on request, one mark per
row, and any file checked by its hash (keccak-256 and SHA-256) against the notary."""

from __future__ import annotations

import hashlib
import sqlite3
import time

from aiohttp import web

from contracts_py import notary
from node.crypto import keccak256
from portal.i18n import gettext_ as _
from portal.web import flash, redirect, render, state
from portal.writes import WriteRejected

routes = web.RouteTableDef()
MAX_FILE_BYTES = 20 * 1024 * 1024

CHECKS_SCHEMA = """CREATE TABLE IF NOT EXISTS document_checks (
    document_hash TEXT PRIMARY KEY, checked_at INTEGER NOT NULL, result TEXT NOT NULL)"""


def _checks(request: web.Request) -> sqlite3.Connection:
    db = state(request).users.db
    db.execute(CHECKS_SCHEMA)
    return db


def check_document(request: web.Request, row: dict) -> str:
    """'valid', or the fields in which the read model's record differs from the chain's anchor."""
    anchored, anchorer, doc_type, start, end, block, _at = state(request).writer.view(
        notary.ADDRESS, "verify", bytes.fromhex(row["document_hash"][2:]))
    if not anchored:
        return "not anchored"
    chain = {"anchorer": "0x" + anchorer.hex(), "doc_type": doc_type, "period_start": start, "period_end": end,
             "block_number": block}
    differs = [name for name, value in chain.items() if row[name] != value]
    return "valid" if not differs else "differs: " + ", ".join(differs)


@routes.get("/x/documents")
async def documents(request: web.Request):
    rows = state(request).readers.query("SELECT * FROM documents ORDER BY block_number DESC LIMIT 500")
    checks = {h: (t, r) for h, t, r in _checks(request).execute("SELECT * FROM document_checks")}
    for row in rows:
        row["checked_at"], row["result"] = checks.get(row["document_hash"], (None, None))
    return render(request, "explorer/documents.html", {"documents": rows})


@routes.post("/x/documents/validate")
async def validate(request: web.Request):
    rows = state(request).readers.query("SELECT * FROM documents ORDER BY block_number DESC LIMIT 500")
    db, now = _checks(request), int(time.time())
    with db:
        for row in rows:
            db.execute("INSERT OR REPLACE INTO document_checks VALUES (?, ?, ?)",
                       (row["document_hash"], now, check_document(request, row)))
    await flash(request, "ok", _("%(count)s datasets re-validated against the chain.", count=len(rows)))
    raise redirect("/x/documents")


@routes.post("/x/documents/file")
async def check_file(request: web.Request):
    form = await request.post()
    upload = form.get("file")
    if upload is None or not hasattr(upload, "file"):
        await flash(request, "error", _("Choose a file to check."))
        raise redirect("/x/documents")
    content = upload.file.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        await flash(request, "error", _("The file is larger than 20 MB."))
        raise redirect("/x/documents")
    for digest in (keccak256(content), hashlib.sha256(content).digest()):
        try:
            anchored, anchorer, doc_type, _start, _end, block, _at = state(request).writer.view(
                notary.ADDRESS, "verify", digest)
        except WriteRejected:
            continue
        if anchored:
            await flash(request, "ok", _("The file matches dataset %(type)s anchored in block %(block)s.",
                                         type=doc_type, block=block), None)
            raise redirect("/x/documents")
    await flash(request, "error", _("No anchored dataset has this file's hash: it is unknown or was changed."))
    raise redirect("/x/documents")
