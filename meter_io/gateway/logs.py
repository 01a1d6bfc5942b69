"""Structured English logs: one JSON object a line (journald keeps it) or plain text for a terminal.

Callers pass their fields as `extra={"fields": {...}}`; the message stays a fixed phrase, so logs can be
searched by it and the fields carry the variable part.
"""
from __future__ import annotations

import json
import logging
import sys
import time


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": round(record.created, 3), "level": record.levelname.lower(), "logger": record.name,
                 "msg": record.getMessage()}
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={v}" for k, v in getattr(record, "fields", {}).items())
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp} {record.levelname} {record.name}: {record.getMessage()} {fields}".rstrip()


def configure_logging(fmt: str = "json", level: str = "INFO") -> None:
    """Gateway logs to stderr; the chatty libraries under it are turned down."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)  # logs an error on every missed answer
    logging.getLogger("can").setLevel(logging.WARNING)
    try:
        import structlog  # dlms-cosem logs debug frames through structlog

        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    except ImportError:
        pass
