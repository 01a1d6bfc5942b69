"""`energy-node seed-demo`: the demo market (`genesis.demo_market`) written to a running chain by transactions.

Every fact goes through the contracts exactly as the participants would send it, signed by their own keys:
the admin's VAT rates, company profiles, tariff groups of every kind, accounts, meters installed months ago and
bound to gateways, their half-hourly history, invoices of the past complete months, bank top-ups, payments, one
dispute. Transactions that do not depend on each other go out together, in waves; each wave waits for its
receipts, and any revert stops the seeding with the contract's reason.

Keys: the network's own (`grid-company` is also the admin, `retailer-1`, `retailer-2`, `bank`) plus keystores
written here under `<network>/keys/` for the management company, the infrastructure payee, 20 consumers and their
gateways, with the network's password. Seeding twice fails at once (`DemoAlreadySeeded`): the chain keeps what
the first run wrote. `<network>/demo.json` lists who is who for the portals and scripts."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from contracts_py import payments
from contracts_py.billing.bill import OptionKind
from contracts_py.billing.periods import add_months, days_in_period, period_of, period_start
from contracts_py.registry import ConsumerKind
from genesis.chain_client import ChainClient, ChainClientError, PendingTransaction, Signer
from genesis.demo_market import (AUTO_DEBIT, BUILDING, COMPANIES, CONSUMERS, CONTRACTORS, DISPUTED, GATEWAYS,
                                 GRID, GROUPS, HISTORY_MONTHS, HOURLY_RATES, HOUSE_METER_MAX_POWER_W,
                                 INFRASTRUCTURE, MANAGEMENT_COMPANY, RETAILER_1, RETAILER_2, TARIFFS_FROM,
                                 UTC_OFFSET_S, BANK, Consumer, TariffGroup)
from genesis.demo_dr import seed_dr
from genesis.demo_green import seed_green
from genesis.demo_profiles import half_hour_volumes, local_time, registers
from node.crypto import keccak256
from node.keystore import load_keystore, read_password, write_keystore

SETUP_GAS = 2_000_000
READINGS_GAS = 8_000_000
"""Execution gas of one posting of up to `HISTORY_CHUNK` intervals (they use about 3,300 gas per interval)."""
POSTINGS_PER_BLOCK = 4
"""History postings sent before waiting for them to be in a block: about 4,800 intervals and 0.45 MiB, so a block
executes in about a second on this machine, inside a QBFT round timeout even when the machine is busy (8 a block
caused round changes on a loaded 4-validator devnet), and the node keeps answering RPC between blocks."""
BILLING_GAS = 50_000_000
HISTORY_CHUNK = 1_200
"""Intervals per `postReadings`: 96 bytes each keeps a transaction under the node's 128 KiB limit."""
LIVE_INTERVALS = 8
"""The last four hours of every meter go out as a gateway's live `postMeterReadings` batch."""
BANK_RESERVE = 100_000_000_00
"""Rubles (in kopecks) the settlement bank issues to itself to back top-ups."""
ADMIN_KEYS = (GRID, RETAILER_1, RETAILER_2, BANK)
PEAK_HOURS_FILE = "peak-hours.csv"
"""Written beside the manifest: the system operator's peak hours of the seeded months (off-chain, for the portal)."""


class DemoAlreadySeeded(ChainClientError):
    """The chain already holds the demo market; seeding it again would collide with what is there."""


@dataclass(frozen=True)
class DemoReport:
    transactions: int
    readings: int
    invoices: int
    seconds: float
    manifest: Path


def demo_signers(client: ChainClient, network_dir: Path) -> dict[str, Signer]:
    """The network's keys, and keystores for the demo's own participants (written once, then reused)."""
    password = read_password(network_dir / "password")
    names = ADMIN_KEYS + (MANAGEMENT_COMPANY, INFRASTRUCTURE) + tuple(c.key for c in CONSUMERS) + GATEWAYS
    signers = {}
    for name in names:
        path = network_dir / "keys" / f"{name}.json"
        if path.exists():
            private_key = load_keystore(path, password)
        elif name in ADMIN_KEYS:
            raise ChainClientError(f"{path} is missing: seed-demo needs the network's {name} key")
        else:
            private_key = secrets.token_bytes(32)
            write_keystore(path, private_key, password)
        signers[name] = client.signer(private_key, name)
    return signers


class DemoSeeder:
    """The demo market's transactions, relative to now: meters installed at the start of the first history
    month, readings up to an hour ago, invoices for every complete month since."""

    def __init__(self, client: ChainClient, signers: dict[str, Signer], history_months: int = HISTORY_MONTHS) -> None:
        if not 1 <= history_months <= 12:
            raise ValueError(f"the demo keeps 1 to 12 months of history, not {history_months}")
        self.client = client
        self.keys = signers
        self.now = int(time.time())
        current = period_of(self.now, UTC_OFFSET_S)
        self.periods = tuple(add_months(current, k - history_months) for k in range(history_months))
        """The complete months of history, oldest first; each is invoiced."""
        self.current_period = current
        self.first_start = period_start(self.periods[0], UTC_OFFSET_S)
        self.last_start = self.now // 1_800 * 1_800 - 3_600
        self.sent = 0
        self.invoices: dict[tuple[str, int], int] = {}

    def address(self, name: str) -> bytes:
        return self.keys[name].address

    def wave(self, calls: list[tuple], label: str, log: Callable[[str], None], receipts: bool = True) -> None:
        """Send (signer name, contract, function, args[, gas]) calls together and wait for them: for every
        receipt (a revert raises with its reason), or with `receipts` false only until they are in blocks."""
        started = time.monotonic()
        pending: list[PendingTransaction] = self.client.send_many(
            (self.keys[call[0]], call[1], call[2], call[3], call[4] if len(call) > 4 else SETUP_GAS)
            for call in calls)
        if receipts:
            self.client.wait(pending, timeout_s=300)
        else:
            self.client.wait_included({call[0]: self.keys[call[0]] for call in calls}.values())
        self.sent += len(calls)
        log(f"{label}: {len(calls)} transactions in {time.monotonic() - started:.1f} s")

    # --- the waves ------------------------------------------------------------------------------------------
    def run(self, manifest_path: Path, log: Callable[[str], None] = lambda _: None) -> DemoReport:
        started = time.monotonic()
        self.require_unseeded()
        self.wave(self.law_companies_and_tariffs(), "roles, profiles, tariffs, building", log)
        self.wave(self.accounts(), "accounts and contracts", log)
        self.wave(self.meters(), "metering points and meters", log)
        series = self.meter_series()
        readings_calls = self.readings(series)
        intervals = sum(len(starts) for _, starts, _ in series.values())
        posting_started = time.monotonic()
        for i in range(0, len(readings_calls), POSTINGS_PER_BLOCK):
            self.wave(readings_calls[i:i + POSTINGS_PER_BLOCK], "readings", lambda _: None, receipts=False)
        log(f"{intervals} half-hourly readings: {len(readings_calls)} transactions in "
            f"{time.monotonic() - posting_started:.1f} s")
        self.check_readings(series)
        self.wave([(MANAGEMENT_COMPANY, "Invoices", "shareCommonHouse", (BUILDING.building_id, p), BILLING_GAS)
                   for p in self.periods], "common-house needs", log)
        self.wave(self.issue_invoices(), "invoices", log)
        self.wave(self.top_ups_and_answers(), "top-ups, confirmations, dispute", log)
        self.wave(self.payments(), "payments", log)
        seed_dr(self, log)
        seed_green(self, log)
        self.write_manifest(manifest_path)
        peak_hours = manifest_path.parent / PEAK_HOURS_FILE
        peak_hours.write_text(peak_hours_csv(self.periods + (self.current_period,)), encoding="utf-8")
        log(f"peak hours for the portal's capacity pages: energy-node portal import-peak-hours --datadir D {peak_hours}")
        return DemoReport(self.sent, intervals, len(self.invoices), time.monotonic() - started, manifest_path)

    def require_unseeded(self) -> None:
        first = CONSUMERS[0].account
        try:
            self.client.call("Registry", "account", first)
        except ChainClientError as exc:
            if f"unknown account {first}" in str(exc):
                return
            raise
        raise DemoAlreadySeeded(f"the demo market is already on this chain (account {first} exists); "
                                "start from a new network to seed it again")

    def law_companies_and_tariffs(self) -> list[tuple]:
        b = BUILDING
        grid = [
            (GRID, "Tariffs", "setVatRate", (20190101, 2000)),
            (GRID, "Tariffs", "setVatRate", (20260101, 2200)),
            (GRID, "Tariffs", "setSubstituteRules", (20250101, 3, 6, 1, 87_000, 2)),
            (GRID, "ParticipantRegistry", "grantRole", (self.address(MANAGEMENT_COMPANY), "management_company")),
        ] + [(GRID, "ParticipantRegistry", "grantRole", (self.address(g), "gateway")) for g in GATEWAYS]
        grid += [(GRID, "Registry", "saveProfile", COMPANIES[0].args()),
                 (GRID, "Registry", "attachRetailer", (self.address(RETAILER_1),)),
                 (GRID, "Registry", "attachRetailer", (self.address(RETAILER_2),))]
        grid += [(GRID, "Registry", "saveContractor", (c.contractor_id, c.name, c.address, c.inn, c.kpp, c.bik,
                                                       c.bank_account, c.bank_name)) for c in CONTRACTORS]
        grid += [
            (GRID, "Registry", "saveMeteringPoint", (b.house_meter_id, 0, b.address, "ВРУ дома, общедомовой ПУ")),
            (GRID, "Registry", "registerInstalledMeter",
             (b.house_meter_id, b.house_meter_id, "Меркурий 234", f"ОДПУ-{b.house_meter_id}", b.address, 1, True,
              False, HOUSE_METER_MAX_POWER_W, UTC_OFFSET_S, 48_200_000, 0, self.first_start - 1_800)),
            (GRID, "Registry", "bindGateway", (b.house_meter_id, self.address(b.gateway))),
            (GRID, "Registry", "saveBuilding", (b.building_id, b.address, self.address(MANAGEMENT_COMPANY),
                                                b.house_meter_id)),
        ]
        retailers = [(c.key, "Registry", "saveProfile", c.args()) for c in COMPANIES if c.key.startswith("retailer")]
        for group in GROUPS:
            retailers += self.tariff_group(group)
        retailers += [(c.retailer, "ParticipantRegistry", "grantRole", (self.address(c.key), "consumer"))
                      for c in CONSUMERS]
        bank = [(BANK, "RubleToken", "mint", (self.address(BANK), BANK_RESERVE))]
        return grid + retailers + bank

    def tariff_group(self, group: TariffGroup) -> list[tuple]:
        payees = [self.address(GRID), self.address(group.retailer), self.address(INFRASTRUCTURE)]
        prices = [group.add_ons.transmission, group.add_ons.markup, group.add_ons.infrastructure]
        calls = [(group.retailer, "Tariffs", "saveGroup", (group.group_id, group.name))]
        for o in group.options:
            calls.append((group.retailer, "Tariffs", "saveOption", (
                group.group_id, o.option_id, int(o.kind), TARIFFS_FROM, UTC_OFFSET_S, self.address(group.retailer),
                [z[0] for z in o.zones], [z[1] for z in o.zones], [z[2] for z in o.zones], list(o.zone_prices),
                list(o.band_limits_wh), list(o.band_prices), 1 if o.kind == OptionKind.BANDED else 0,
                o.price_category, [3, 5, 6], payees, prices)))
            if o.kind == OptionKind.HOURLY:
                calls += [(group.retailer, "Tariffs", "publishHourlyPrices",
                           (group.group_id, o.option_id, p) + self.hourly_prices(group.group_id, p), 20_000_000)
                          for p in self.periods + (self.current_period,)]
        return calls

    def hourly_prices(self, group_id: int, period: int) -> tuple:
        rates = HOURLY_RATES[group_id]
        hours = days_in_period(period) * 24
        energy = [rates.night_price if h % 24 < 7 or h % 24 == 23 else rates.day_price for h in range(hours)]
        peaks = [day * 24 + rates.peak_hour for day in working_days(period)]
        return energy, peaks, rates.capacity_per_kw, *rates.network_window, rates.network_per_kw

    def accounts(self) -> list[tuple]:
        calls = [(MANAGEMENT_COMPANY, "Registry", "saveProfile", COMPANIES[3].args())]
        for c in CONSUMERS:
            calls.append((c.retailer, "Registry", "saveAccount", (c.account, 1 if c.building_id else 2, c.group_id,
                                                                  self.address(c.key), c.address, int(c.kind),
                                                                  c.area_dm2, c.building_id)))
            document = keccak256(f"Договор энергоснабжения № {c.account}, {c.name}".encode())
            calls.append((c.retailer, "Registry", "registerContract",
                          (c.account, c.account, document, int(self.periods[0]) * 100 + 1)))
            if c.residents:
                calls.append((c.retailer, "Invoices", "setResidents", (c.account, c.residents)))
        return calls

    def meters(self) -> list[tuple]:
        calls = []
        for c in CONSUMERS:
            calls += [
                (GRID, "Registry", "saveMeteringPoint", (c.meter_id, c.account, c.address, "ввод потребителя")),
                (GRID, "Registry", "registerInstalledMeter",
                 (c.meter_id, c.meter_id, c.model, f"{c.account:08d}", c.address, 1, True, c.hourly, c.max_power_w,
                  UTC_OFFSET_S, 1_000_000 + c.account % 1_000 * 7_919, 0, self.first_start - 1_800)),
                (GRID, "Registry", "bindGateway", (c.meter_id, self.address(c.gateway))),
            ]
        return calls

    # --- readings -------------------------------------------------------------------------------------------
    def meter_series(self) -> dict[int, tuple[str, list[int], list[tuple[int, int]]]]:
        """Every meter's (gateway, interval starts, registers) from the first history month to an hour ago."""
        starts = list(range(self.first_start, self.last_start + 1, 1_800))
        series = {}
        house = [0] * len(starts)
        for c in CONSUMERS:
            volumes = half_hour_volumes(c.profile, c.scale, c.key, starts, UTC_OFFSET_S)
            series[c.meter_id] = (c.gateway, starts, registers(volumes, 1_000_000 + c.account % 1_000 * 7_919, 0))
            if c.building_id == BUILDING.building_id:
                house = [h + v[0] for h, v in zip(house, volumes)]
        day_wh, night_wh = BUILDING.common_wh_per_half_hour
        common = [day_wh if 7 <= local_time(s, UTC_OFFSET_S).hour < 19 else night_wh for s in starts]
        house_volumes = [(h + extra, 0) for h, extra in zip(house, common)]
        series[BUILDING.house_meter_id] = (BUILDING.gateway, starts, registers(house_volumes, 48_200_000, 0))
        return series

    def readings(self, series: dict[int, tuple[str, list[int], list[tuple[int, int]]]]) -> list[tuple]:
        """History by `postReadings` (catch-up), then the last hours of each gateway's meters in one
        `postMeterReadings` (live), each meter oldest first."""
        history, live = [], {}
        for meter_id, (gateway, starts, regs) in series.items():
            cut = len(starts) - LIVE_INTERVALS
            for i in range(0, cut, HISTORY_CHUNK):
                j = min(i + HISTORY_CHUNK, cut)
                history.append((gateway, "Readings", "postReadings",
                                (meter_id, starts[i:j], [r[0] for r in regs[i:j]], [r[1] for r in regs[i:j]]),
                                READINGS_GAS))
            live.setdefault(gateway, []).extend((meter_id, s, r) for s, r in zip(starts[cut:], regs[cut:]))
        batches = [(gateway, "Readings", "postMeterReadings",
                    ([e[0] for e in rows], [e[1] for e in rows], [e[2][0] for e in rows], [e[2][1] for e in rows]),
                    READINGS_GAS) for gateway, rows in live.items()]
        return history + batches

    def check_readings(self, series: dict[int, tuple[str, list[int], list[tuple[int, int]]]]) -> None:
        """Every meter's state ends at its last posted interval and registers, with no conflict and no gap:
        the postings' outcome read from the contract, not from thousands of receipts."""
        for meter_id, (_, starts, regs) in series.items():
            state = self.client.call("Readings", "meterState", meter_id)
            got = (state[6], state[7], state[8], state[9], state[11])
            if got != (starts[-1], *regs[-1], 0, 0):
                raise ChainClientError(f"meter {meter_id}: readings state (last interval, A+, A-, conflicts, gaps) "
                                       f"is {got}, expected {(starts[-1], *regs[-1], 0, 0)}")

    # --- billing and settlement -----------------------------------------------------------------------------
    def issue_invoices(self) -> list[tuple]:
        calls = []
        for period in self.periods:
            for c in CONSUMERS:
                calls.append((c.retailer, "Invoices", "issueInvoice", (c.account, period), BILLING_GAS))
                self.invoices[(c.key, period)] = c.account * 10**9 + period * 1_000
        return calls

    def plan(self, index: int, c: Consumer, k: int) -> str:
        """What happened to consumer `c`'s invoice of history month `k` (0 oldest): paid, auto-debited,
        confirmed, disputed or left issued."""
        latest = k == len(self.periods) - 1
        if c.key in AUTO_DEBIT:
            return "auto-debit"
        if latest and c.key == DISPUTED[0]:
            return "disputed"
        if latest:
            return "confirmed" if index % 2 == 0 else "issued"
        if k == len(self.periods) - 2 and index % 3 == 2:
            return "confirmed"
        return "paid"

    def top_ups_and_answers(self) -> list[tuple]:
        calls = []
        for index, c in enumerate(CONSUMERS):
            owed = 0
            for k, period in enumerate(self.periods):
                invoice_id = self.invoices[(c.key, period)]
                plan = self.plan(index, c, k)
                if plan in ("paid", "auto-debit"):
                    owed += self.client.call("Invoices", "invoice", invoice_id)[6]
                if plan in ("paid", "auto-debit", "confirmed"):
                    calls.append((c.key, "Invoices", "confirmInvoice", (invoice_id,)))
                elif plan == "disputed":
                    calls.append((c.key, "Invoices", "disputeInvoice", (invoice_id, DISPUTED[1])))
            if c.key in AUTO_DEBIT:
                calls.append((c.key, "RubleToken", "approve", (payments.ADDRESS, 10**12)))
            top_up = (owed * 11 // 10 // 10_000 + 1) * 10_000
            source = payments.Source.BANK if c.kind == ConsumerKind.LEGAL_ENTITY else (
                payments.Source.CARD, payments.Source.CASH_DESK)[index % 2]
            reference = keccak256(f"demo bank statement {c.account}".encode())
            calls.append((BANK, "Payments", "topUp", (self.address(c.key), top_up, reference, int(source))))
        return calls

    def payments(self) -> list[tuple]:
        calls = []
        for index, c in enumerate(CONSUMERS):
            for k, period in enumerate(self.periods):
                invoice_id = self.invoices[(c.key, period)]
                plan = self.plan(index, c, k)
                if plan == "paid":
                    total = self.client.call("Invoices", "invoice", invoice_id)[6]
                    calls.append((c.key, "Payments", "payInvoice", (invoice_id, total, int(payments.Source.CARD)),
                                  BILLING_GAS))
                elif plan == "auto-debit":
                    calls.append((c.retailer, "Payments", "autoDebit", (invoice_id,), BILLING_GAS))
        return calls

    # --- the manifest ---------------------------------------------------------------------------------------
    def write_manifest(self, path: Path) -> None:
        """Who is who (off-chain: names stay here, never on the chain), for the portals and scripts."""
        def hex_of(name: str) -> str:
            return "0x" + self.address(name).hex()

        manifest = {
            "periods": list(self.periods),
            "companies": [{"key": c.key, "name": c.name, "address": hex_of(c.key)} for c in COMPANIES]
            + [{"key": INFRASTRUCTURE, "name": "Инфраструктурные платежи (СО, АТС, ЦФР)",
                "address": hex_of(INFRASTRUCTURE)}, {"key": BANK, "name": "Расчётный банк", "address": hex_of(BANK)}],
            "building": {"id": BUILDING.building_id, "address": BUILDING.address,
                         "houseMeter": BUILDING.house_meter_id, "managementCompany": hex_of(MANAGEMENT_COMPANY)},
            "gateways": [{"key": g, "address": hex_of(g)} for g in GATEWAYS],
            "consumers": [{
                "key": c.key, "name": c.name, "address": hex_of(c.key), "account": c.account, "meter": c.meter_id,
                "retailer": c.retailer, "tariffGroup": c.group_id, "kind": c.kind.name.lower(),
                "premises": c.address, "gateway": c.gateway,
                "invoices": {str(p): self.invoices[(c.key, p)] for p in self.periods},
            } for c in CONSUMERS],
        }
        path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def working_days(period: int) -> list[int]:
    """Days of `period` (0 for the 1st) that are working days in Moscow: the system operator names a peak hour for
    each, which the hourly prices and the capacity figures use."""
    start = period_start(period, UTC_OFFSET_S)
    return [day for day in range(days_in_period(period))
            if local_time(start + day * 86_400, UTC_OFFSET_S).working_day]


def peak_hours_csv(periods: Sequence[int]) -> str:
    """The system operator's peak hours of `periods` as `energy-node portal import-peak-hours` reads them: the
    peak hour of the demo's hourly prices on every working day, so the portal's capacity figures of the legal
    entities agree with their invoices."""
    (rates,) = HOURLY_RATES.values()  # the demo publishes one hourly price list
    rows = ["date,hour"]
    for period in periods:
        year, month = divmod(period, 100)
        rows += [f"{year:04d}-{month:02d}-{day + 1:02d},{rates.peak_hour}" for day in working_days(period)]
    return "\n".join(rows) + "\n"


def seed_demo(rpc_url: str, network_dir: Path, history_months: int = HISTORY_MONTHS,
              log: Callable[[str], None] = lambda _: None) -> DemoReport:
    """Seed the demo market on the chain behind `rpc_url`, with the keys of `network_dir`."""
    client = ChainClient(rpc_url)
    seeder = DemoSeeder(client, demo_signers(client, network_dir), history_months)
    return seeder.run(network_dir / "demo.json", log)
