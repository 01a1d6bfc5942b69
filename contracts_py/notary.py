"""Notarization: anchor the hash of an off-chain document or dataset (an invoice PDF, an 80020 XML export, a
signed act) with its type and period, so that anyone holding the document can later show that it existed, who
anchored it and when, and that it has not changed since. The document itself never goes on-chain."""

from __future__ import annotations

from dataclasses import dataclass

from contracts_py.abi import Address, Bool, Bytes32, Indexed, String, Uint64
from contracts_py.participants import Role, require_role
from contracts_py.runtime import Context, NativeContract, Revert, event, external, require, view

ADDRESS = bytes.fromhex("000000000000000000000000000000000000e005")

MAX_TYPE_LENGTH = 64
ANCHORING_ROLES = (Role.GRID_COMPANY, Role.RETAILER, Role.MANAGEMENT_COMPANY, Role.AUDITOR, Role.ADMIN,
                   Role.ISSUER, Role.CONSUMER)
"""Market participants who may anchor documents (gateways and validators have no documents of their own)."""


@dataclass(frozen=True, slots=True)
class Anchor:
    """The first anchoring of one document hash."""

    anchorer: bytes
    doc_type: str
    """What the document is, e.g. "invoice", "80020-xml", "act"; free text, at most 64 characters."""
    period_start: int
    """UTC seconds; the period the document covers, [start, end)."""
    period_end: int
    block_number: int
    timestamp: int
    """The block's timestamp: when the document was anchored."""


@event
class DocumentAnchored:
    document_hash: Indexed(Bytes32)
    anchorer: Indexed(Address)
    doc_type: String
    period_start: Uint64
    period_end: Uint64


def _anchor_key(document_hash: bytes) -> bytes:
    return b"doc" + document_hash


class Notary(NativeContract):
    NAME = "Notary"
    EVENTS = (DocumentAnchored,)

    @external
    def anchor(self, ctx: Context, documentHash: Bytes32, docType: String, periodStart: Uint64,
               periodEnd: Uint64) -> None:
        """Anchor a document's hash once; anchoring the same hash again reverts and names the first anchoring."""
        require_role(ctx, ctx.sender, *ANCHORING_ROLES)
        require(documentHash != bytes(32), "the zero hash is not a document hash")
        require(0 < len(docType.strip()) and len(docType) <= MAX_TYPE_LENGTH,
                f"document type must be 1 to {MAX_TYPE_LENGTH} characters")
        require(periodStart <= periodEnd, f"period start {periodStart} is after its end {periodEnd}")
        first = ctx.storage.get_record(_anchor_key(documentHash), Anchor)
        if first is not None:
            raise Revert(f"document 0x{documentHash.hex()} was anchored by 0x{first.anchorer.hex()} "
                         f"in block {first.block_number}")
        ctx.storage.set_record(_anchor_key(documentHash), Anchor(ctx.sender, docType, periodStart, periodEnd,
                                                                 ctx.block.number, ctx.block.timestamp))
        ctx.emit(DocumentAnchored(document_hash=documentHash, anchorer=ctx.sender, doc_type=docType,
                                  period_start=periodStart, period_end=periodEnd))

    @view
    def verify(self, ctx: Context, documentHash: Bytes32) -> tuple[
            Bool, Address, String, Uint64, Uint64, Uint64, Uint64]:
        """(anchored, anchorer, docType, periodStart, periodEnd, blockNumber, timestamp); all zero when the hash
        was never anchored, i.e. the document is unknown to the chain or was changed."""
        found = ctx.storage.get_record(_anchor_key(documentHash), Anchor)
        if found is None:
            return False, bytes(20), "", 0, 0, 0, 0
        return (True, found.anchorer, found.doc_type, found.period_start, found.period_end, found.block_number,
                found.timestamp)
