"""Settings of the node's HTTP endpoints, read from `<datadir>/api.json` when it exists (all keys optional):

    {"tls_cert": "/etc/energy/node.crt", "tls_key": "/etc/energy/node.key",   # HTTPS for RPC, REST, WS, portal
     "json_logs": true,                                                    # one JSON object per log line
     "indexer": true,                                                      # run the indexer in the node
     "public_reads": true,                            # false: every /api/v1 call needs a token (of any role)
     "webhooks": {"base_delay_s": 1, "max_delay_s": 300, "max_attempts": 15, "reading_missing_after_s": 7200}}

Relative paths are relative to the datadir."""

from __future__ import annotations

import json
import logging
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from rpc.webhooks import WebhookSettings

SETTINGS_FILE = "api.json"


class SettingsError(ValueError):
    """api.json is malformed or names files that cannot be used."""


@dataclass(frozen=True)
class ApiSettings:
    tls_cert: Path | None = None
    tls_key: Path | None = None
    json_logs: bool = False
    indexer: bool = True
    public_reads: bool = True
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)

    @classmethod
    def load(cls, datadir: Path) -> ApiSettings:
        path = Path(datadir) / SETTINGS_FILE
        if not path.exists():
            return cls()
        try:
            doc = json.loads(path.read_text())
            hooks = WebhookSettings(**doc.get("webhooks", {}))
        except (json.JSONDecodeError, TypeError) as exc:
            raise SettingsError(f"{path}: {exc}") from exc
        unknown = set(doc) - {"tls_cert", "tls_key", "json_logs", "indexer", "public_reads", "webhooks"}
        if unknown:
            raise SettingsError(f"{path}: unknown keys {sorted(unknown)}")
        if bool(doc.get("tls_cert")) != bool(doc.get("tls_key")):
            raise SettingsError(f"{path}: tls_cert and tls_key go together")
        resolve = (lambda p: (Path(datadir) / p) if p else None)
        return cls(resolve(doc.get("tls_cert")), resolve(doc.get("tls_key")), bool(doc.get("json_logs", False)),
                   bool(doc.get("indexer", True)), bool(doc.get("public_reads", True)), hooks)

    def ssl_context(self) -> ssl.SSLContext | None:
        if self.tls_cert is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(self.tls_cert, self.tls_key)
        except (OSError, ssl.SSLError) as exc:
            raise SettingsError(f"cannot load the TLS certificate {self.tls_cert}: {exc}") from exc
        return context


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the exception, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def use_json_logs() -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig()
    for handler in root.handlers:
        handler.setFormatter(JsonLogFormatter())
