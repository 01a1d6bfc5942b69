"""The portal served by `energy-node run` (a real node process): enabled by `energy-node portal enable`, filled by
`energy-node portal demo`, a consumer logs in and confirms his invoice on chain."""

import time

from click.testing import CliRunner

from node_harness import NodeProcess, free_port
from node.cli import cli
from node.service import init_datadir
from test_portal_http import Client


def energy_node(*args: str) -> str:
    """The `energy-node` command line, run in this process (the node itself runs in its own)."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_node_serves_the_portal_and_a_write_lands_on_chain(solo_network, tmp_path):
    datadir = tmp_path / "node"
    init_datadir(datadir, solo_network.directory / "genesis.json")
    energy_node("portal", "demo", "--datadir", str(datadir), "--network-dir", str(solo_network.directory))
    port = free_port()
    energy_node("portal", "enable", "--datadir", str(datadir), "--listen", f"127.0.0.1:{port}")
    process = NodeProcess(solo_network, datadir).start()
    try:
        client = Client(f"http://127.0.0.1:{port}")
        status, _ = client.login("ivanov")
        assert status == 200
        status, page = client.get("/c/invoices")
        invoice = page.split('href="/c/invoices/')[1].split('"')[0]
        status, page = client.get(f"/c/invoices/{invoice}")
        status, page = client.post(f"/c/invoices/{invoice}/confirm", {"csrf_token": client.csrf(page)})
        tx_hash = page.split('class="tx-hash" href="/x/tx/')[1].split('"')[0]
        deadline = time.monotonic() + 20
        while "финальна, выполнена" not in client.get(f"/x/tx/{tx_hash}")[1]:
            assert time.monotonic() < deadline, "the confirmation never became final"
            time.sleep(0.2)
        assert "Подтверждён" in client.get(f"/c/invoices/{invoice}")[1]
    finally:
        process.stop()
