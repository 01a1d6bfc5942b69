"""Request helpers shared by the page handlers: typed input parsing, rendering, flash messages, the current user."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from indexer.store import Readers
from portal.i18n import gettext_ as _
from portal.queries import Scope
from portal.users import User, UserStore
from portal.writes import ChainWriter

MOSCOW = dt.timezone(dt.timedelta(hours=3))
"""Portal times are Moscow time (UTC+3, no DST), like the billing periods."""
PAGE_SIZES = (10, 20, 50, 100)


@dataclass(frozen=True)
class PortalState:
    readers: Readers
    users: UserStore
    writer: ChainWriter
    operator: str
    """Lowercase 0x-hex address of the participant running this portal (for staff users)."""


STATE = web.AppKey("portal_state", PortalState)


class BadInput(ValueError):
    """A form or filter value that cannot be used; the message is shown on the page."""


def state(request: web.Request) -> PortalState:
    return request.config_dict[STATE]


def user(request: web.Request) -> User:
    return request["user"]


def scope(request: web.Request) -> Scope:
    current = user(request)
    if current.role == "consumer":
        return Scope(consumer=current.address)
    if current.role == "retailer":
        return Scope(retailer=current.address)
    return Scope()


def int_param(values, name: str, *, default: int | None = None, low: int = 0, high: int = 2**63 - 1) -> int | None:
    raw = (values.get(name) or "").strip()
    if not raw:
        return default
    if not re.fullmatch(r"\d{1,19}", raw):
        raise BadInput(_("%(field)s must be a whole number, got “%(value)s”", field=name, value=raw[:40]))
    value = int(raw)
    if not low <= value <= high:
        raise BadInput(_("%(field)s must be between %(low)s and %(high)s", field=name, low=low, high=high))
    return value


def text_param(values, name: str, limit: int = 100) -> str:
    return (values.get(name) or "").strip()[:limit]


def date_param(values, name: str, default: dt.date) -> dt.date:
    raw = (values.get(name) or "").strip()
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadInput(_("%(field)s must be a date like 2026-04-30, got “%(value)s”",
                         field=name, value=raw[:40])) from None


def date_range(values, default_days: int = 30) -> tuple[dt.date, dt.date, int, int]:
    """(from, to) dates and their [start, end) unix seconds in Moscow time; `to` is inclusive."""
    today = dt.datetime.now(MOSCOW).date()
    first = date_param(values, "from", today - dt.timedelta(days=default_days))
    last = date_param(values, "to", today)
    if last < first:
        raise BadInput(_("the end date is before the start date"))
    if (last - first).days > 3660:
        raise BadInput(_("the date range is longer than ten years"))
    return first, last, day_start(first), day_start(last + dt.timedelta(days=1))


def day_start(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=MOSCOW).timestamp())


def paging(values, default_size: int = 20) -> tuple[int, int]:
    size = int_param(values, "page_size", default=default_size, low=1, high=100)
    return int_param(values, "page", default=1, low=1, high=10**6), size


async def flash(request: web.Request, kind: str, text: str, tx_hash: str | None = None) -> None:
    session = await get_session(request)
    session["flash"] = session.get("flash", []) + [[kind, text, tx_hash]]


def render(request: web.Request, template: str, context: dict, status: int = 200) -> web.Response:
    return aiohttp_jinja2.render_template(template, request, context, status=status)


def redirect(location: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(location)


def require_role(request: web.Request, *roles: str) -> None:
    if user(request).role not in roles:
        raise web.HTTPForbidden(text=_("This page is not available to your role."))
