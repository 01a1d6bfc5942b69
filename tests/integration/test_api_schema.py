"""schemathesis against the generated OpenAPI document and a running node: no server error, every response
conforms to its declared status, content type and schema. Its positive-data check is left out: requests the
schema allows can still be refused for what a schema cannot say (from after to, a transaction that does not
decode), and those refusals are 4XX JSON errors as declared."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from market_harness import ROOT_CONFTEST, new_solo_network
from node.service import init_datadir
from rpc.openapi import openapi_document
from rpc.rest_app import ENDPOINTS

schema = schemathesis.openapi.from_dict(openapi_document(ENDPOINTS, "Energy Ledger REST API", "1.0.0"))


@pytest.fixture(scope="module")
def node_url(tmp_path_factory):
    directory = tmp_path_factory.mktemp("schema")
    network = new_solo_network(directory / "net")
    init_datadir(directory / "node", network.directory / "genesis.json")
    process = ROOT_CONFTEST.NodeProcess(network, directory / "node").start(wait=60)
    yield process.url
    process.stop()


@schema.parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case, node_url):
    case.call_and_validate(base_url=node_url, excluded_checks=[positive_data_acceptance])
