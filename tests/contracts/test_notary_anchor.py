"""Notary: anchoring document hashes and verifying documents against the chain."""

import eth_abi
from eth_hash.auto import keccak

from contracts_py import notary
from test_registry_contract import GATEWAY, RETAILER, STRANGER, T0, Market

ANCHOR = "anchor(bytes32,string,uint64,uint64)"
VERIFY = ("verify(bytes32)", ["bool", "address", "string", "uint64", "uint64", "uint64", "uint64"])
DOCUMENT = keccak(b"<80020>march 2026 export</80020>")


def test_anchored_document_verifies_with_who_and_when():
    market = Market(now=T0 + 100)
    result = market.ok(notary.ADDRESS, RETAILER, ANCHOR, DOCUMENT, "80020-xml", T0, T0 + 31 * 86_400)
    (log,) = result.logs
    assert log.topics[1] == DOCUMENT and log.topics[2][-20:] == RETAILER
    assert eth_abi.decode(["string", "uint64", "uint64"], log.data) == ("80020-xml", T0, T0 + 31 * 86_400)
    assert market.view(notary.ADDRESS, *VERIFY, DOCUMENT) == (
        True, "0x" + RETAILER.hex(), "80020-xml", T0, T0 + 31 * 86_400, 1, T0 + 100)


def test_changed_document_does_not_verify():
    market = Market()
    market.ok(notary.ADDRESS, RETAILER, ANCHOR, DOCUMENT, "invoice", T0, T0)
    changed = keccak(b"<80020>march 2026 export, edited</80020>")
    assert market.view(notary.ADDRESS, *VERIFY, changed) == (False, "0x" + "00" * 20, "", 0, 0, 0, 0)


def test_second_anchoring_of_the_same_hash_is_refused_and_names_the_first():
    market = Market()
    market.ok(notary.ADDRESS, RETAILER, ANCHOR, DOCUMENT, "invoice", T0, T0)
    again = market.call(notary.ADDRESS, RETAILER, ANCHOR, DOCUMENT, "invoice", T0, T0)
    assert not again.success and f"anchored by 0x{RETAILER.hex()} in block 1" in again.revert_reason


def test_bad_anchors_are_refused():
    market = Market()
    for sender, args, reason in [
        (STRANGER, (DOCUMENT, "invoice", T0, T0), "lacks the grid_company or retailer"),
        (GATEWAY, (DOCUMENT, "invoice", T0, T0), "lacks"),
        (RETAILER, (bytes(32), "invoice", T0, T0), "zero hash"),
        (RETAILER, (DOCUMENT, " ", T0, T0), "document type"),
        (RETAILER, (DOCUMENT, "x" * 65, T0, T0), "document type"),
        (RETAILER, (DOCUMENT, "invoice", T0 + 1, T0), "is after its end"),
    ]:
        result = market.call(notary.ADDRESS, sender, ANCHOR, *args)
        assert not result.success and reason in result.revert_reason, result.revert_reason
    assert market.view(notary.ADDRESS, *VERIFY, DOCUMENT)[0] is False
