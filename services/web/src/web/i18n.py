"""English and Finnish: gettext catalogues (Babel) chosen from the browser's language.

The catalogues are ``locales/<lang>/LC_MESSAGES/messages.po``, compiled in memory at
start-up (no build step, no binary in the repository). A ``fv-lang`` cookie, set by
the language switch, wins over ``Accept-Language``; it holds only ``en`` or ``fi``.
"""

from __future__ import annotations

import io
from datetime import datetime, tzinfo
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from starlette.requests import Request

LANGUAGES = ("en", "fi")
DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "fv-lang"
LOCALES_DIR = Path(__file__).parent / "locales"


@cache
def translations(language: str) -> NullTranslations:
    po_file = LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT_LANGUAGE or not po_file.exists():
        return NullTranslations()
    with po_file.open("rb") as source:
        catalog = read_po(source, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def language_of(request: Request) -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    return negotiate(request.headers.get("accept-language", ""))


def negotiate(accept_language: str) -> str:
    """The first of our languages the browser asks for, by its q-values."""
    wanted: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        wanted.append((-quality, position, tag.strip().lower().split("-")[0]))
    for _, _, language in sorted(wanted):
        if language in LANGUAGES:
            return language
    return DEFAULT_LANGUAGE


class Formatter:
    """Times and dates in the reader's language and the app's time zone."""

    def __init__(self, language: str, zone: tzinfo) -> None:
        self.locale = Locale.parse(language)
        self.zone = zone

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def time(self, moment: datetime) -> str:
        return format_time(self.local(moment), format="short", locale=self.locale)

    def date(self, moment: datetime) -> str:
        return format_date(self.local(moment), format="medium", locale=self.locale)

    def day_and_time(self, moment: datetime) -> str:
        return f"{self.date(moment)} {self.time(moment)}"
