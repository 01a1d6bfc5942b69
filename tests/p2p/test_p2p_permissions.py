"""The operator's allowlist changes as data: entries in every accepted form, the rules of adding and removing, and
the file that keeps them across a restart."""

import coincurve
import pytest
from p2p_helpers import ADDRESSES, KEYS

from node.p2p import peer_id_from_private_key
from node.p2p.permissions import (
    AllowlistChanges,
    AllowlistFileError,
    DuplicateNodeEntry,
    InvalidNodeEntry,
    ManagedAllowlist,
    NodeAlreadyAllowed,
    NodeNotAllowed,
    ValidatorNotRemovable,
    load_changes,
    parse_node_entries,
    parse_node_entry,
)

KEY, ADDRESS = KEYS[0], ADDRESSES[0]


def test_a_node_is_named_by_address_peer_id_multiaddr_or_enode():
    peer_id = peer_id_from_private_key(KEY)
    public = coincurve.PrivateKey(KEY).public_key.format(compressed=False)[1:].hex()
    assert parse_node_entry("0x" + ADDRESS.hex()).address == ADDRESS
    assert parse_node_entry(peer_id).address == ADDRESS
    multiaddr = f"/ip4/127.0.0.1/tcp/30303/p2p/{peer_id}"
    assert parse_node_entry(multiaddr).dial == multiaddr
    assert parse_node_entry(f"enode://{public}@127.0.0.1:30303").dial == multiaddr
    for bad in ("", "0x1234", "enode://00@127.0.0.1:1", f"enode://{'00' * 64}@127.0.0.1:1", "/ip4/1.2.3.4", 7):
        with pytest.raises(InvalidNodeEntry):
            parse_node_entry(bad)
    for bad in ([], "0x" + ADDRESS.hex(), None):
        with pytest.raises(InvalidNodeEntry):
            parse_node_entries(bad)
    with pytest.raises(DuplicateNodeEntry):
        parse_node_entries(["0x" + ADDRESS.hex(), peer_id])


def test_changes_are_checked_applied_at_once_and_kept_in_the_datadir(tmp_path):
    validator, observer, stranger = ADDRESSES[1], ADDRESSES[2], ADDRESSES[3]
    calls = []
    allowlist = ManagedAllowlist(tmp_path, lambda: {validator, observer}, lambda: {validator},
                                 lambda a: calls.append(("allow", a)), lambda a: calls.append(("disallow", a)),
                                 lambda m: calls.append(("dial", m)))
    with pytest.raises(ValidatorNotRemovable):
        allowlist.remove(["0x" + validator.hex()])
    with pytest.raises(NodeNotAllowed):
        allowlist.remove(["0x" + stranger.hex()])
    with pytest.raises(NodeAlreadyAllowed):
        allowlist.add(["0x" + observer.hex()])
    assert calls == [] and not (tmp_path / "allowlist.json").exists(), "a refused change changes nothing"
    multiaddr = f"/ip4/127.0.0.1/tcp/1/p2p/{peer_id_from_private_key(KEYS[3])}"
    allowlist.add([multiaddr])
    allowlist.remove(["0x" + observer.hex()])
    assert calls == [("allow", stranger), ("dial", multiaddr), ("disallow", observer)]
    assert allowlist.applied == {validator, stranger}
    reopened = ManagedAllowlist(tmp_path, lambda: {validator, observer}, lambda: {validator}, *[lambda _: None] * 3)
    assert reopened.applied == {validator, stranger} and reopened.dial_targets() == [multiaddr]
    assert load_changes(tmp_path) == AllowlistChanges((multiaddr,), ("0x" + observer.hex(),))
    (tmp_path / "allowlist.json").write_text('{"added": ["nonsense"], "removed": []}')
    with pytest.raises(AllowlistFileError):
        load_changes(tmp_path)
