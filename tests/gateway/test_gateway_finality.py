"""The gateway's own finality check over a fabricated chain: it follows the validator set through a header's vote
and refuses headers without a quorum of seals of that set, whichever node serves them."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from consensus.seals import BftExtraData, sign_commit_seal
from consensus.validators import Vote
from meter_io.gateway.follower import FinalityFollower
from meter_io.gateway.nodes import NodePool, NoNodeAvailable
from meter_io.gateway.queue import DurableQueue
from node.blocks import EMPTY_ROOT, Header, with_seals
from node.crypto import private_key_to_address
from rpc.formats import header_json

VALIDATOR_KEY, NEWCOMER_KEY = b"\x11" * 32, b"\x22" * 32
VALIDATOR, NEWCOMER = private_key_to_address(VALIDATOR_KEY), private_key_to_address(NEWCOMER_KEY)


def block(parent: bytes, number: int, validators: tuple[bytes, ...], vote: Vote | None, keys: list[bytes]) -> dict:
    extra = BftExtraData(bytes(32), tuple(sorted(validators)), vote, 0, ()).encode()
    header = Header(parent, number, 1_795_000_000 + number, VALIDATOR, b"\x01" * 32, EMPTY_ROOT, EMPTY_ROOT,
                    bytes(256), 10**9, 0, extra)
    header = with_seals(header, 0, tuple(sign_commit_seal(key, header.hash, 0) for key in keys))
    document = header_json(header, 0)
    document["transactions"] = []
    return document


class ChainServer:
    """A JSON-RPC node serving fixed blocks by number."""

    def __init__(self, blocks: list[dict]) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if request["method"] == "eth_blockNumber":
                    result = hex(len(blocks) - 1)
                else:
                    result = blocks[int(request["params"][0], 16)]
                answer = json.dumps({"jsonrpc": "2.0", "id": 1, "result": result}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def chains():
    genesis = block(bytes(32), 0, (VALIDATOR,), None, [])
    first = block(bytes.fromhex(genesis["hash"][2:]), 1, (VALIDATOR,), Vote(NEWCOMER, True), [VALIDATOR_KEY])
    both = (VALIDATOR, NEWCOMER)
    parent = bytes.fromhex(first["hash"][2:])
    one_seal = block(parent, 2, both, None, [VALIDATOR_KEY])  # a quorum of the old set, not of the new one
    two_seals = block(parent, 2, both, None, [VALIDATOR_KEY, NEWCOMER_KEY])
    servers = [ChainServer([genesis, first, one_seal]), ChainServer([genesis, first, two_seals])]
    yield servers
    for server in servers:
        server.stop()


def test_a_header_sealed_by_the_old_validator_set_is_refused_and_the_next_node_tried(chains, tmp_path, caplog):
    bad, good = chains
    queue = DurableQueue(tmp_path / "q.sqlite")
    follower = FinalityFollower(queue, (VALIDATOR,))
    with pytest.raises(NoNodeAvailable, match="1 seals, 2 needed of 2 validators"):
        follower.advance(NodePool((bad.url,), 2.0))
    assert follower.checkpoint.height == 1 and follower.checkpoint.snapshot.validators == tuple(sorted(
        (VALIDATOR, NEWCOMER)))
    assert FinalityFollower(queue, (VALIDATOR,)).checkpoint.height == 1  # the checked part was kept on disk
    assert follower.advance(NodePool((bad.url, good.url), 2.0)) == 2
    assert any(bad.url in record.getMessage() or bad.url in str(getattr(record, "fields", ""))
               for record in caplog.records)
    queue.close()


def test_a_node_claiming_another_genesis_validator_set_is_refused(chains, tmp_path):
    queue = DurableQueue(tmp_path / "q.sqlite")
    with pytest.raises(NoNodeAvailable, match="validators other than the genesis"):
        FinalityFollower(queue, (NEWCOMER,)).advance(NodePool((chains[1].url,), 2.0))
    queue.close()
