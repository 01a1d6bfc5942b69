"""Serving the portal from a running node: on its own port, when `<datadir>/portal.json` asks for it.

`portal.json`: {"listen": "127.0.0.1:8080", "secure_cookies": false}. Users live in `<datadir>/portal-users.sqlite`,
the server-side secret (session cookies, users' keystores) in `<datadir>/portal.secret` (mode 0600)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from indexer.store import INDEX_FILE
from node.service import Node
from portal.app import create_portal_app

log = logging.getLogger("energy.portal")

CONFIG_FILE = "portal.json"
USERS_FILE = "portal-users.sqlite"
SECRET_FILE = "portal.secret"


class PortalConfigError(ValueError):
    """portal.json that cannot be used."""


def read_listen(datadir: Path) -> tuple[str, int] | None:
    path = Path(datadir) / CONFIG_FILE
    if not path.exists():
        return None
    try:
        host, _, port = json.loads(path.read_text())["listen"].rpartition(":")
        return host or "127.0.0.1", int(port)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PortalConfigError(f"{path}: needs {{\"listen\": \"host:port\"}} ({exc})") from exc


def write_config(datadir: Path, listen: str, secure_cookies: bool = False) -> None:
    (Path(datadir) / CONFIG_FILE).write_text(json.dumps({"listen": listen, "secure_cookies": secure_cookies}) + "\n")


async def start_portal(node: Node, datadir: Path, notify_transaction: Callable[[], None]) -> web.AppRunner | None:
    """Start the portal if `portal.json` exists; the caller cleans the returned runner up."""
    listen = read_listen(datadir)
    if listen is None:
        return None
    secure = bool(json.loads((Path(datadir) / CONFIG_FILE).read_text()).get("secure_cookies", False))
    app = create_portal_app(node, Path(datadir) / INDEX_FILE, Path(datadir) / USERS_FILE,
                            secret_path=Path(datadir) / SECRET_FILE, notify_transaction=notify_transaction,
                            secure_cookies=secure)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, *listen).start()
    log.info("portal listening on http://%s:%d", *listen)
    return runner
