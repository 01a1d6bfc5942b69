"""The portal application factory: sessions, language, login, CSRF and roles around the role pages."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp_session import get_session, new_session, setup as setup_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from indexer.store import Readers
from node.service import Node
from portal import plots
from portal.labels import COMPONENTS, OPTION_KINDS, label
from portal.i18n import DEFAULT_LANGUAGE, LANGUAGES, current_language, gettext_, ngettext_
from portal.security import CSRF_FIELD, LoginLimiter, csrf_token, csrf_valid
from portal.users import UserStore, load_secret
from portal.web import MOSCOW, PAGE_SIZES, STATE, BadInput, PortalState, redirect, render, user
from portal.writes import ChainWriter, WriteRejected

log = logging.getLogger("energy.portal")

HERE = Path(__file__).parent
SESSION_MAX_AGE_S = 8 * 3600
"""A session expires eight hours after login."""
MAX_REQUEST_BYTES = 21 * 1024 * 1024
"""Room for a 20 MB dataset file checked against the notary; forms are far smaller."""
PUBLIC_PREFIXES = ("/login", "/static/", "/lang/")
LIMITER = web.AppKey("login_limiter", LoginLimiter)
HOME = {"consumer": "/c/accounts", "retailer": "/r/accounts", "grid": "/g/accounts"}


def create_portal_app(node: Node, indexer_db_path: Path, users_db_path: Path, *, secret_path: Path,
                      notify_transaction: Callable[[], None] = lambda: None,
                      limiter: LoginLimiter | None = None, secure_cookies: bool = False) -> web.Application:
    """The portals of the participant whose node this is; mount with `app.add_subapp` or serve alone."""
    secret = load_secret(secret_path)
    app = web.Application(middlewares=[_language, _authenticate, _csrf, _errors],
                          client_max_size=MAX_REQUEST_BYTES)
    setup_session(app, EncryptedCookieStorage(secret, cookie_name="energy_portal",
                                              max_age=SESSION_MAX_AGE_S, httponly=True, samesite="Lax",
                                              secure=secure_cookies))
    app.middlewares.insert(0, app.middlewares.pop())  # the session middleware runs first
    env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                               extensions=["jinja2.ext.i18n"], context_processors=[_context])
    env.install_gettext_callables(gettext_, ngettext_, newstyle=True)
    env.filters.update(rub=rub, kwh=kwh, when=when, day=day, short=short, period=period, decoded=decoded)
    env.globals.update(plotly_js=plots.PLOTLY_JS_URL, PAGE_SIZES=PAGE_SIZES, with_query=with_query,
                       component_name=lambda code: label(COMPONENTS, code),
                       option_kind=lambda code: label(OPTION_KINDS, code))
    users = UserStore(users_db_path, secret)
    app[STATE] = PortalState(Readers(indexer_db_path), users, ChainWriter(node, notify_transaction),
                             operator="")
    app[LIMITER] = limiter or LoginLimiter()
    app.on_cleanup.append(lambda _app: _close(users))
    app.router.add_get("/", _home)
    app.router.add_get("/login", _login_form)
    app.router.add_post("/login", _login)
    app.router.add_post("/logout", _logout)
    app.router.add_get("/lang/{code}", _switch_language)
    app.router.add_get(plots.PLOTLY_JS_URL, plots.plotly_js)  # before /static/, which would answer 404
    app.router.add_static("/static/", HERE / "static")
    from portal import (views_common, views_consumer, views_explorer, views_green, views_grid, views_retailer,
                        views_validation)
    for module in (views_common, views_consumer, views_retailer, views_grid, views_explorer, views_validation,
                   views_green):
        app.router.add_routes(module.routes)
    from portal import views_dr, views_prosumer
    app[aiohttp_jinja2.APP_CONTEXT_PROCESSORS_KEY].append(views_dr.upcoming_events)  # the DR box
    for module in (views_dr, views_prosumer):
        app.router.add_routes(module.routes)
    from portal import views_balance, views_capacity, views_tariff_options
    for module in (views_balance, views_capacity, views_tariff_options):
        app.router.add_routes(module.routes)
    return app


async def _close(users: UserStore) -> None:
    users.close()


# --- middlewares -------------------------------------------------------------------------------------------
@web.middleware
async def _language(request: web.Request, handler):
    code = request.cookies.get("lang", DEFAULT_LANGUAGE)
    token = current_language.set(code if code in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        return await handler(request)
    finally:
        current_language.reset(token)


@web.middleware
async def _authenticate(request: web.Request, handler):
    if request.path.startswith(PUBLIC_PREFIXES):
        return await handler(request)
    session = await get_session(request)
    username = session.get("user")
    current = request.config_dict[STATE].users.get(username) if username else None
    if current is None:
        if username:
            session.invalidate()
        raise redirect("/login?next=" + quote(request.path_qs, safe=""))
    request["user"] = current
    return await handler(request)


@web.middleware
async def _csrf(request: web.Request, handler):
    if request.method == "POST":
        session = await get_session(request)
        form = await request.post()
        if not csrf_valid(session, form.get(CSRF_FIELD)):
            return render(request, "error.html", {"message": gettext_(
                "The form has expired or did not come from this site. Reload the page and try again.")},
                status=403)
    return await handler(request)


@web.middleware
async def _errors(request: web.Request, handler):
    try:
        return await handler(request)
    except BadInput as exc:
        return render(request, "error.html", {"message": str(exc)}, status=400)
    except WriteRejected as exc:  # a write the chain refused: nothing was sent; say why
        return render(request, "error.html", {"message": gettext_("Not saved: %(reason)s", reason=exc.reason)},
                      status=409)
    except web.HTTPForbidden as exc:
        return render(request, "error.html", {"message": exc.text or gettext_("Access denied.")}, status=403)
    except web.HTTPNotFound:
        return render(request, "error.html", {"message": gettext_("Not found.")}, status=404)


async def _context(request: web.Request) -> dict:
    session = await get_session(request)
    messages = session.pop("flash", [])
    return {"user": request.get("user"), "csrf": csrf_token(session), "CSRF_FIELD": CSRF_FIELD,
            "flashes": messages, "lang": current_language.get(), "path_qs": request.path_qs,
            "query": request.query}


# --- login, logout, language -----------------------------------------------------------------------------
async def _home(request: web.Request):
    raise redirect(HOME[user(request).role])


def _safe_next(value: str | None) -> str:
    """Only a path on this site: never `//host` or `/\\host` (an open redirect)."""
    return value if value and value.startswith("/") and not value.startswith(("//", "/\\")) else "/"


async def _login_form(request: web.Request):
    return render(request, "login.html", {"next": _safe_next(request.query.get("next")), "error": None})


async def _login(request: web.Request):
    form = await request.post()
    username = (form.get("username") or "").strip()[:64]
    password = form.get("password") or ""
    target = _safe_next(form.get("next"))
    limiter = request.app[LIMITER]
    key = f"{username.lower()}|{request.remote}"
    if limiter.blocked(key):
        return render(request, "login.html", {"next": target, "error": gettext_(
            "Too many failed attempts. Wait a few minutes and try again.")}, status=429)
    found = request.app[STATE].users.authenticate(username, password)
    if found is None:
        limiter.failed(key)
        return render(request, "login.html", {"next": target, "error": gettext_("Wrong login or password.")},
                      status=401)
    limiter.succeeded(key)
    session = await new_session(request)  # a fresh session id and CSRF token on login
    session["user"] = found.username
    csrf_token(session)
    raise redirect(target if target != "/" else HOME[found.role])


async def _logout(request: web.Request):
    session = await get_session(request)
    session.invalidate()
    raise redirect("/login")


async def _switch_language(request: web.Request):
    code = request.match_info["code"]
    if code not in LANGUAGES:
        raise web.HTTPNotFound()
    response = redirect(_safe_next(request.query.get("next")))
    response.set_cookie("lang", code, max_age=365 * 86400, httponly=True, samesite="Lax")
    raise response


# --- formatting filters ----------------------------------------------------------------------------------
def rub(kopecks) -> str:
    if kopecks is None:
        return "—"
    kopecks = int(kopecks)
    sign = "−" if kopecks < 0 else ""
    rubles, rest = divmod(abs(kopecks), 100)
    return f"{sign}{rubles:,}".replace(",", "\u202f") + f",{rest:02d} ₽"


def kwh(wh) -> str:
    if wh is None:
        return "—"
    return f"{int(wh) / 1000:,.3f}".replace(",", "\u202f").replace(".", ",") + " " + gettext_("kWh")


def when(seconds) -> str:
    return dt.datetime.fromtimestamp(int(seconds), MOSCOW).strftime("%Y-%m-%d %H:%M") if seconds else "—"


def day(seconds) -> str:
    return dt.datetime.fromtimestamp(int(seconds), MOSCOW).strftime("%Y-%m-%d") if seconds else "—"


def short(value: str | None, keep: int = 10) -> str:
    return value if not value or len(value) <= keep + 6 else f"{value[:keep]}…{value[-4:]}"


def decoded(args_json: str | None, limit: int = 400) -> str:
    """Decoded call or event arguments as readable JSON (Cyrillic as is, long arrays cut)."""
    if not args_json:
        return ""
    try:
        args = json.loads(args_json)
    except ValueError:
        return args_json[:limit]
    if isinstance(args, dict):
        args = {k: (v[:8] + ["…"] if isinstance(v, list) and len(v) > 8 else v) for k, v in args.items()}
    text = json.dumps(args, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "…"


def period(value) -> str:
    return f"{int(value) // 100:04d}-{int(value) % 100:02d}" if value else "—"


def with_query(base: str, query, **changes) -> str:
    """`base` with the request's query string, some parameters replaced (pagination links keep the filters)."""
    params = {key: value for key, value in query.items() if key not in changes}
    params.update({key: value for key, value in changes.items() if value is not None})
    return f"{base}?{urlencode(params)}"
