"""Translations shared by the node and the desktop (gettext catalogs).

Every screen and document exists in French, Dutch, German and English. The
catalogs live in ``node/locale/<lang>/LC_MESSAGES/koprogo.po`` (sources) and
``.mo`` (compiled with ``make i18n``). Message ids are English.
"""

from __future__ import annotations

import contextlib
import gettext
import locale
import os
from datetime import date, datetime
from pathlib import Path

DOMAIN = "koprogo"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES: tuple[str, ...] = ("fr", "nl", "de", "en")
LANGUAGE_NAMES = {"fr": "Français", "nl": "Nederlands", "de": "Deutsch", "en": "English"}

_language = "en"
_translations: gettext.NullTranslations = gettext.NullTranslations()


def system_language() -> str:
    """The language of the system locale if we have it, else English."""
    candidates = [os.environ.get(var, "") for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")]
    with contextlib.suppress(ValueError):
        candidates.append(locale.getlocale()[0] or "")
    for value in candidates:
        for part in value.split(":"):
            code = part[:2].lower()
            if code in LANGUAGES:
                return code
    return "en"


def set_language(language: str) -> None:
    """Switch every later message to ``language`` (one of :data:`LANGUAGES`)."""
    global _language, _translations
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}; choose one of {LANGUAGES}")
    _language = language
    _translations = gettext.translation(
        DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True
    )


def current_language() -> str:
    return _language


def translator(language: str) -> gettext.NullTranslations:
    """A translation object for one language, e.g. for a document in the
    recipient's language while the screens stay in the user's."""
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True)


# The Belgian variant of each language for numbers and dates.
BABEL_LOCALES = {"fr": "fr_BE", "nl": "nl_BE", "de": "de_BE", "en": "en_GB"}


def format_number(value: int, signed: bool = False) -> str:
    """``10000`` → ``10.000`` (nl), ``10 000`` (fr), ``10,000`` (en)."""
    from babel.numbers import format_decimal

    text = format_decimal(abs(value) if signed else value, locale=BABEL_LOCALES[_language])
    if signed:
        return ("+" if value >= 0 else "−") + text
    return text


NUMERIC_DATE_PATTERNS = {
    "fr": "dd/MM/yyyy",
    "nl": "dd/MM/yyyy",
    "de": "dd.MM.yyyy",
    "en": "dd/MM/yyyy",
}
"""How each language writes a date in figures, in Babel's (and Qt's) pattern
language: ``15/04/2027``, in German ``15.04.2027``."""


def format_day(day: date, language: str | None = None) -> str:
    """A date the way the language writes it in figures, for screens and
    messages (``15/04/2027``, ``15.04.2027``); files, JSON and the relay keep
    ISO dates."""
    return _numeric(day, language or _language)


def format_moment(moment: datetime, language: str | None = None) -> str:
    """A date and time of day (the time as given, no zone shown):
    ``15/04/2027 18:30``."""
    return f"{_numeric(moment.date(), language or _language)} {moment:%H:%M}"


def format_instant(text: str, language: str | None = None) -> str:
    """An ISO instant as stored (UTC) in this computer's time, as
    :func:`format_moment` writes it; text that is not one as it is."""
    if not text:
        return ""
    try:
        return format_moment(datetime.fromisoformat(text).astimezone(), language)
    except ValueError:
        return text


def _numeric(day: date, language: str) -> str:
    pattern = NUMERIC_DATE_PATTERNS[language]
    separator = pattern[2]
    return f"{day.day:02d}{separator}{day.month:02d}{separator}{day.year:04d}"


def _(message: str) -> str:
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translations.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now."""
    return message


set_language(system_language())
