"""Operations: HTTPS from a certificate named in api.json (JSON-RPC, REST and metrics on one port), Prometheus
metrics, JSON log lines, and `energy-node reindex` / `energy-node token create` from the command line."""

import datetime
import ipaddress
import json
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from click.testing import CliRunner

from market_harness import ROOT_CONFTEST, new_solo_network
from node.cli import cli
from rpc.apidb import ApiDb
from node.service import init_datadir


def self_signed(directory):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    (directory / "node.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "node.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))
    return directory / "node.crt"


class TlsNodeProcess(ROOT_CONFTEST.NodeProcess):
    """The conftest NodeProcess, answering on https (its readiness probe speaks TLS)."""

    def __init__(self, *args, context, **kwargs):
        super().__init__(*args, **kwargs)
        self.url = f"https://127.0.0.1:{self.port}"
        self.context = context

    def start(self, wait=20.0):
        command = [sys.executable, "-m", "node.cli", "run", "--datadir", str(self.datadir), "--rpc",
                   f"127.0.0.1:{self.port}", "--key", str(self.network.keys["validator-1"]), "--password-file",
                   str(self.network.directory / "password")]
        self.process = subprocess.Popen(command, cwd=ROOT_CONFTEST.ROOT, stdout=open(self.log_path, "ab"),
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                self.get("/metrics")
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(self.log_path.read_text()[-2000:])

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=5, context=self.context) as response:
            return response.read()


def test_https_metrics_and_json_logs(tmp_path):
    network = new_solo_network(tmp_path / "net")
    datadir = tmp_path / "node"
    init_datadir(datadir, network.directory / "genesis.json")
    cert = self_signed(datadir)
    (datadir / "api.json").write_text(json.dumps({"tls_cert": "node.crt", "tls_key": "node.key", "json_logs": True,
                                                  "public_reads": False}))
    context = ssl.create_default_context(cafile=str(cert))
    node = TlsNodeProcess(network, datadir, context=context).start()
    try:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
        request = urllib.request.Request(node.url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5, context=context) as response:
            assert json.loads(response.read())["result"] == hex(7700)
        metrics = node.get("/metrics").decode()
        values = dict(line.split(" ") for line in metrics.splitlines() if not line.startswith("#"))
        assert values["energy_chain_height"] == "0" and values["energy_mempool_transactions"] == "0"
        assert values["energy_validator_signing"] == "1"
        try:
            node.get("/api/v1/status")
            raise AssertionError("public_reads false still answered without a token")
        except urllib.error.HTTPError as exc:
            assert exc.code == 401 and json.loads(exc.read())["error"]["code"] == "token_required"
        assert {"energy_indexer_lag_blocks", "energy_webhook_backlog", "energy_peers", "energy_finality_lag_seconds",
                "energy_transactions_per_second", "energy_validator_signing"} <= set(values)
        plain = urllib.request.Request(node.url.replace("https", "http") + "/metrics")
        try:
            urllib.request.urlopen(plain, timeout=5)
            raise AssertionError("plain HTTP answered on a TLS port")
        except OSError:
            pass
    finally:
        node.stop()
    lines = [line for line in node.log_path.read_text().splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "logger", "message"} <= set(json.loads(line)) for line in lines)


def test_reindex_and_token_commands(tmp_path):
    network = new_solo_network(tmp_path / "net")
    datadir = tmp_path / "node"
    init_datadir(datadir, network.directory / "genesis.json")
    runner = CliRunner()
    reindexed = runner.invoke(cli, ["reindex", "--datadir", str(datadir)])
    assert reindexed.exit_code == 0 and "indexed 1 blocks" in reindexed.output, reindexed.output
    token = runner.invoke(cli, ["token", "create", "--datadir", str(datadir), "--role", "retailer", "--address",
                                "0x" + "ab" * 20])
    assert token.exit_code == 0 and token.output.startswith("elt_")
    assert ApiDb.for_datadir(datadir).token_holder(token.output.strip()).role == "retailer"
    bad = runner.invoke(cli, ["token", "create", "--datadir", str(datadir), "--role", "king", "--address",
                              "0x" + "ab" * 20])
    assert bad.exit_code != 0 and "unknown role" in bad.output
