"""The gateway's configuration: one TOML file naming its key, its nodes, its queue and its meters.

    [gateway]
    keystore = "/etc/energy-gateway/key.json"
    password_file = "/etc/energy-gateway/password"
    genesis = "/etc/energy-gateway/genesis.json"
    queue = "/var/lib/energy-gateway/queue.sqlite"
    rpc = ["http://10.0.0.1:8545", "http://10.0.0.2:8545"]

    [[meters]]
    meter_id = 1001
    protocol = "mercury230"
    port = "/dev/ttyAMA0"
    address = 41
    serial = "41000001"

Relative paths are taken from the directory of the file. Every mistake is a `ConfigError` naming the key.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from meter_io.drivers import PROTOCOLS
from meter_io.reading import HALF_HOUR


MAX_BATCH = 1000
"""Readings in one transaction at most: 128 bytes of calldata each keeps it under the 128 KiB transaction limit."""


class ConfigError(ValueError):
    """A gateway configuration that cannot be used as it is."""


@dataclass(frozen=True)
class MeterConfig:
    """One meter the gateway reads, and the on-chain meter id its readings are posted for."""

    meter_id: int
    """The meter's id in the registry contract."""
    protocol: str
    port: str
    """Serial device (or CAN channel) the meter hangs on."""
    address: int
    """Bus address as `drivers.open_meter` takes it."""
    serial: str = ""
    """Factory number the meter must report; empty skips the check (a meter answering for another address)."""
    device_address: str = ""
    """IEC 62056-21 sign-on address."""
    software_parity: bool = False
    """IEC 62056-21 7E1 emulated on an 8N1 line (pseudo-terminals)."""
    can_interface: str = "socketcan"


@dataclass(frozen=True)
class GatewayConfig:
    keystore: Path
    password_file: Path
    genesis: Path
    """The chain's genesis file: chain id and the validators the gateway starts tracking finality from."""
    queue: Path
    """SQLite file of the durable queue."""
    rpc: tuple[str, ...]
    """JSON-RPC URLs of nodes, tried in order with failover."""
    meters: tuple[MeterConfig, ...]
    poll_period_s: float = HALF_HOUR
    """Poll at every multiple of this period of the gateway clock (a half hour in production)."""
    poll_offset_s: float = 15
    """Seconds after the boundary to poll, so meters have closed their interval records."""
    submit_period_s: float = 5
    """How often queued transactions are sent and finality is checked."""
    clock_file: Path | None = None
    """Read the gateway clock (unix seconds) from this file instead of the system clock: simulations only."""
    max_batch: int = 500
    """Readings in one transaction (many meters and intervals in catch-up)."""
    max_in_flight: int = 64
    """Signed transactions not yet final before the gateway stops signing new ones."""
    max_clock_drift_s: int = 120
    """Log a meter whose clock differs from the gateway's by more; 0 turns the check off."""
    meter_timeout_s: float = 1.0
    meter_attempts: int = 3
    rpc_timeout_s: float = 5.0
    resend_after_s: float = 30.0
    """Send a pending transaction again (same raw bytes) when it is not mined after this long."""
    retry_reverted_after_s: float = 600.0
    """Readings of a reverted transaction wait this long, then go out again one meter per transaction."""
    log_format: str = "json"
    """"json" (one object a line, for journald) or "text"."""


def _require(table: dict, key: str, kind: type, where: str):
    if key not in table:
        raise ConfigError(f"{where}.{key} is missing")
    value = table[key]
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise ConfigError(f"{where}.{key} must be {kind.__name__}, got {value!r}")
    return value


def _optional(table: dict, key: str, kind: type | tuple, default, where: str):
    value = table.get(key, default)
    if value is None and default is None:
        return None
    if isinstance(value, bool) and kind in (int, float, (int, float)) or not isinstance(value, kind):
        raise ConfigError(f"{where}.{key} has a wrong type: {value!r}")
    return value


def parse_meter(table: dict, index: int) -> MeterConfig:
    where = f"meters[{index}]"
    protocol = _require(table, "protocol", str, where)
    if protocol not in PROTOCOLS:
        raise ConfigError(f"{where}.protocol {protocol!r} is unknown; expected one of {', '.join(PROTOCOLS)}")
    meter_id = _require(table, "meter_id", int, where)
    if meter_id <= 0:
        raise ConfigError(f"{where}.meter_id must be positive")
    return MeterConfig(meter_id=meter_id, protocol=protocol, port=_require(table, "port", str, where),
                       address=_require(table, "address", int, where),
                       serial=str(_optional(table, "serial", (str, int), "", where)),
                       device_address=str(_optional(table, "device_address", (str, int), "", where)),
                       software_parity=_optional(table, "software_parity", bool, False, where),
                       can_interface=_optional(table, "can_interface", str, "socketcan", where))


def parse_config(document: dict, base: Path) -> GatewayConfig:
    """A `GatewayConfig` from a parsed TOML document; relative paths resolve against `base`."""
    section = document.get("gateway")
    if not isinstance(section, dict):
        raise ConfigError("the [gateway] table is missing")
    where = "gateway"

    def path(key: str, required: bool = True) -> Path | None:
        value = _require(section, key, str, where) if required else section.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ConfigError(f"{where}.{key} must be a path string")
        return (base / value).resolve() if not Path(value).is_absolute() else Path(value)

    rpc = section.get("rpc")
    if isinstance(rpc, str):
        rpc = [rpc]
    if not isinstance(rpc, list) or not rpc or not all(isinstance(u, str) and u.startswith("http") for u in rpc):
        raise ConfigError(f"{where}.rpc must be a non-empty list of http(s) URLs, got {rpc!r}")
    meters = document.get("meters", [])
    if not isinstance(meters, list) or not all(isinstance(m, dict) for m in meters):
        raise ConfigError("meters must be an array of tables ([[meters]])")
    parsed = tuple(parse_meter(m, i) for i, m in enumerate(meters))
    ids = [m.meter_id for m in parsed]
    if len(set(ids)) != len(ids):
        raise ConfigError("meters: the same meter_id appears twice")
    number = (int, float)
    config = GatewayConfig(
        keystore=path("keystore"), password_file=path("password_file"), genesis=path("genesis"),
        queue=path("queue"), rpc=tuple(rpc), meters=parsed,
        poll_period_s=_optional(section, "poll_period_s", number, HALF_HOUR, where),
        poll_offset_s=_optional(section, "poll_offset_s", number, 15, where),
        submit_period_s=_optional(section, "submit_period_s", number, 5, where),
        clock_file=path("clock_file", required=False),
        max_batch=_optional(section, "max_batch", int, 500, where),
        max_in_flight=_optional(section, "max_in_flight", int, 64, where),
        max_clock_drift_s=_optional(section, "max_clock_drift_s", int, 120, where),
        meter_timeout_s=_optional(section, "meter_timeout_s", number, 1.0, where),
        meter_attempts=_optional(section, "meter_attempts", int, 3, where),
        rpc_timeout_s=_optional(section, "rpc_timeout_s", number, 5.0, where),
        resend_after_s=_optional(section, "resend_after_s", number, 30.0, where),
        retry_reverted_after_s=_optional(section, "retry_reverted_after_s", number, 600.0, where),
        log_format=_optional(section, "log_format", str, "json", where),
    )
    if config.poll_period_s <= 0 or config.submit_period_s <= 0:
        raise ConfigError("gateway.poll_period_s and gateway.submit_period_s must be positive")
    if not 1 <= config.max_batch <= MAX_BATCH:
        raise ConfigError(f"gateway.max_batch must be 1..{MAX_BATCH} (transaction size limit)")
    if config.log_format not in ("json", "text"):
        raise ConfigError("gateway.log_format must be \"json\" or \"text\"")
    return config


def load_config(path: Path) -> GatewayConfig:
    try:
        document = tomllib.loads(Path(path).read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    return parse_config(document, Path(path).resolve().parent)


def render_config(keystore: Path, password_file: Path, genesis: Path, queue: Path, rpc: list[str],
                  meters: list[MeterConfig], **settings) -> str:
    """TOML text of a configuration, for `energy-gateway simulate --write-config` and tests."""
    lines = ["[gateway]", f"keystore = {_toml(str(keystore))}", f"password_file = {_toml(str(password_file))}",
             f"genesis = {_toml(str(genesis))}", f"queue = {_toml(str(queue))}",
             "rpc = [" + ", ".join(_toml(u) for u in rpc) + "]"]
    lines += [f"{key} = {_toml(str(value) if isinstance(value, Path) else value)}" for key, value in settings.items()]
    for meter in meters:
        lines += ["", "[[meters]]", f"meter_id = {meter.meter_id}", f"protocol = {_toml(meter.protocol)}",
                  f"port = {_toml(meter.port)}", f"address = {meter.address}", f"serial = {_toml(meter.serial)}"]
        if meter.device_address:
            lines.append(f"device_address = {_toml(meter.device_address)}")
        if meter.software_parity:
            lines.append("software_parity = true")
        if meter.protocol == "can":
            lines.append(f"can_interface = {_toml(meter.can_interface)}")
    return "\n".join(lines) + "\n"


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
