"""`energy-node seed-demo` against a real node: the demo market the portals show is on the chain — companies,
tariff groups of every kind, 20 accounts with meters on gateways and their history, invoices in every status,
payments split among the payees — and seeding it twice fails clearly."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from node_harness import ROOT
from contracts_py.billing.bill import OptionKind
from contracts_py.billing.periods import days_in_period, period_start
from genesis.chain_client import ChainClient, ChainClientError, encode_call
from genesis.demo_market import BUILDING, CONSUMERS, GROUPS, RETAILER_1, RETAILER_2, UTC_OFFSET_S
from genesis.demo_profiles import half_hour_volumes, registers
from node.keystore import keystore_address

MONTHS = 2
ISSUED, CONFIRMED, DISPUTED, PAID = 1, 2, 3, 5



def seed(node, months: int = MONTHS) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "node.cli", "seed-demo", "--rpc", node.url, "--network-dir",
                           str(node.network.directory), "--months", str(months)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)


def month_starts(period: int) -> list[int]:
    first = period_start(period, UTC_OFFSET_S)
    return list(range(first, first + days_in_period(period) * 86_400, 1_800))


def test_load_profiles_are_deterministic_and_registers_never_decrease():
    starts = month_starts(202610)
    first = half_hour_volumes("apartment", 100, "consumer-01", starts, UTC_OFFSET_S)
    assert first == half_hour_volumes("apartment", 100, "consumer-01", starts, UTC_OFFSET_S)
    assert first != half_hour_volumes("apartment", 100, "consumer-02", starts, UTC_OFFSET_S)
    series = registers(first, 1_000_000, 0)
    assert all(b[0] >= a[0] for a, b in zip(series, series[1:])) and series[-1][0] - 1_000_000 == sum(
        v[0] for v in first)
    assert 150_000 < sum(v[0] for v in first) < 300_000
    with pytest.raises(ValueError, match="unknown load profile"):
        half_hour_volumes("bakery", 100, "x", starts, UTC_OFFSET_S)


def test_the_prosumer_exports_at_midday_in_summer_and_the_heated_house_crosses_the_first_band_in_autumn():
    august = half_hour_volumes("prosumer", 100, "consumer-09", month_starts(202608), UTC_OFFSET_S)
    noon = [v for i, v in enumerate(august) if i % 48 in (19, 20)]  # 12:30-13:30 Moscow
    night = [v for i, v in enumerate(august) if i % 48 < 8]
    assert sum(v[1] for v in noon) > 0 and all(v[1] == 0 for v in night)
    october = half_hour_volumes("electric_heating", 100, "consumer-10", month_starts(202610), UTC_OFFSET_S)
    assert sum(v[0] for v in october) > 3_900_000


def test_the_client_refuses_a_call_that_does_not_match_the_contracts_abi():
    with pytest.raises(ChainClientError, match=r"issueInvoice takes 2 arguments \(accountNumber, period\), got 1"):
        encode_call("Invoices", "issueInvoice", 1001)
    with pytest.raises(ChainClientError, match="cannot encode"):
        encode_call("Invoices", "issueInvoice", -1, 202604)
    with pytest.raises(ChainClientError, match="has no function 'mintForFree'"):
        encode_call("RubleToken", "mintForFree")


@pytest.fixture
def seeded(solo_node):
    result = seed(solo_node)
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads((solo_node.network.directory / "demo.json").read_text(encoding="utf-8"))
    return solo_node, ChainClient(solo_node.url), manifest, result.stdout


def address(hex_address: str) -> bytes:
    return bytes.fromhex(hex_address[2:])


@pytest.mark.slow
def test_seed_demo_writes_the_market_the_portals_need_and_refuses_a_second_run(seeded):
    node, chain, manifest, output = seeded
    companies = {c["key"]: address(c["address"]) for c in manifest["companies"]}
    assert "demo seeded:" in output and f"{20 * MONTHS} invoices" in output

    grid = chain.call("Registry", "company", companies["grid-company"])
    assert grid[1] == "Сетевая компания"
    for retailer in (RETAILER_1, RETAILER_2):
        assert chain.call("Registry", "company", companies[retailer])[10] == companies["grid-company"]
    assert chain.call("Registry", "company", companies["management-company"])[1] == "УК «Уютный дом»"
    assert chain.call("Registry", "contractor", companies["grid-company"], 1)[0] == "ООО «Электромонтаж»"

    periods = manifest["periods"]
    kinds = {chain.call("Tariffs", "option", g.group_id, 1, periods[-1])[0] for g in GROUPS}
    assert kinds == {int(k) for k in OptionKind}

    assert len(manifest["consumers"]) == 20
    for entry, consumer in zip(manifest["consumers"], CONSUMERS):
        account = chain.call("Registry", "account", entry["account"])
        assert account[4] == address(entry["address"]) and account[9] == (entry["meter"],)
        assert keystore_address(node.network.directory / "keys" / f"{entry['key']}.json") == account[4]
        meter = chain.call("Registry", "meter", entry["meter"])
        gateway = next(g for g in manifest["gateways"] if g["key"] == consumer.gateway)
        assert meter[13] == address(gateway["address"])
        volume, _, _, recorded = chain.call("Readings", "meterMonth", entry["meter"], periods[0])[:4]
        assert volume > 0 and recorded == 48 * days_in_period(periods[0])

    shares = chain.call("Invoices", "commonHouse", BUILDING.building_id, periods[0])
    assert shares[2] > 0 and len(shares[3]) == 8 and sum(shares[4]) == shares[2]

    statuses, paid_total = [], 0
    for entry in manifest["consumers"]:
        for period in periods:
            invoice = chain.call("Invoices", "invoice", entry["invoices"][str(period)])
            assert invoice[0] == entry["account"] and invoice[1] == period and invoice[6] > 0
            statuses.append(invoice[3])
            paid_total += invoice[7]
            if invoice[3] == PAID:
                assert invoice[7] == invoice[6]
            if invoice[3] == DISPUTED:
                assert invoice[13].startswith("Показания")
    assert {ISSUED, CONFIRMED, DISPUTED, PAID} <= set(statuses) and statuses.count(DISPUTED) == 1
    payees = ("grid-company", "retailer-1", "retailer-2", "infrastructure")
    assert sum(chain.call("RubleToken", "balanceOf", companies[p]) for p in payees) == paid_total

    again = seed(node)
    assert again.returncode != 0 and "already on this chain" in again.stderr
