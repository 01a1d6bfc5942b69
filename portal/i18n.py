"""Russian by default, English on request: gettext catalogs read from the .po files at start-up.

The .po files under `portal/translations/` are the source; they are compiled in memory when the app starts, so a
fresh install needs no build step and no committed .mo files."""

from __future__ import annotations

import gettext
import io
from contextvars import ContextVar
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"


def load_catalogs(directory: Path = TRANSLATIONS_DIR) -> dict[str, gettext.NullTranslations]:
    catalogs: dict[str, gettext.NullTranslations] = {"en": gettext.NullTranslations()}
    for language in LANGUAGES:
        po = directory / language / "LC_MESSAGES" / "messages.po"
        if po.exists():
            with po.open("rb") as handle:
                catalog = read_po(handle, locale=language)
            buffer = io.BytesIO()
            write_mo(buffer, catalog)
            buffer.seek(0)
            catalogs[language] = gettext.GNUTranslations(buffer)
    return catalogs


CATALOGS = load_catalogs()
current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)


def gettext_(message: str, **params) -> str:
    """Translate into the request's language; `%(name)s` placeholders filled from `params`."""
    text = CATALOGS.get(current_language.get(), CATALOGS["en"]).gettext(message)
    return text % params if params else text


def ngettext_(singular: str, plural: str, n: int, **params) -> str:
    text = CATALOGS.get(current_language.get(), CATALOGS["en"]).ngettext(singular, plural, n)
    return text % {"num": n, **params}
