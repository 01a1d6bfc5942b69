"""A proposer's block always fits a consensus message, however much waits in the mempool."""

from consensus.messages import MAX_MESSAGE_BYTES
from contracts_py import ruble
from node.crypto import private_key_to_address
from node.service import MAX_BLOCK_TRANSACTION_BYTES, Node, init_datadir
from node.transactions import sign_fee_market_transaction


def test_block_stops_at_the_byte_limit(tmp_path, solo_network):
    init_datadir(tmp_path / "node", solo_network.directory / "genesis.json")
    node = Node.open(tmp_path / "node")
    faucet = solo_network.private_key("faucet")
    for nonce in range(20):  # 20 x 100 KiB: twice what a block may carry
        node.submit_transaction(sign_fee_market_transaction(
            faucet, chain_id=7700, nonce=nonce, to=ruble.ADDRESS, data=b"\x01" * (100 * 1024), gas=3_000_000))
    executed = node.build_block(private_key_to_address(solo_network.private_key("validator-1")))
    encoded = executed.block.encode()
    assert 0 < len(executed.block.transactions) < 20
    assert sum(len(tx.raw) for tx in executed.block.transactions) <= MAX_BLOCK_TRANSACTION_BYTES
    assert len(encoded) + 64 * 1024 < MAX_MESSAGE_BYTES
    node.close()
