"""The genesis participants of a test network as signers on one node process, with receipt helpers, for the
contracts' end-to-end tests through a running node (test_*_node_e2e.py)."""

from __future__ import annotations

from genesis.chain_client import ChainClient, Signer


class Participants:
    def __init__(self, node) -> None:
        self.client = c = ChainClient(node.url)
        network = node.network
        self.grid = c.signer(network.private_key("grid-company"), "grid company")
        self.retailer = c.signer(network.private_key("retailer-1"), "retailer-1")
        self.bank = c.signer(network.private_key("bank"), "bank")

    def ok(self, signer: Signer, contract: str, function: str, *args, gas: int = 5_000_000) -> dict:
        return self.client.transact(signer, contract, function, *args, execution_gas=gas)

    def rejected(self, signer: Signer, contract: str, function: str, *args) -> str:
        """The revert reason of a call that must fail."""
        receipt = self.client.transact(signer, contract, function, *args, check=False)
        assert receipt["status"] == "0x0", f"{function} should have been rejected"
        return receipt["revertReason"]

    def balance(self, who: bytes) -> int:
        return self.client.call("RubleToken", "balanceOf", who)
