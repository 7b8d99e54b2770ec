"""Words and number formats the screens share.

Labels are marked with ``N_`` and translated when shown, never at import, so
a language switch takes effect on the next rebuild of a window.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from node.domain.payments import format_eur
from node.domain.registry import FULL_SHARE, LotType, Right, format_share
from node.i18n import (
    LANGUAGE_NAMES,
    N_,
    NUMERIC_DATE_PATTERNS,
    _,
    current_language,
    format_day,
    format_moment,
    format_number,
    ngettext,
)
from node.keys import KeyStorage

from .qt import QCoreApplication, QLibraryInfo, QLocale, QTranslator

LOT_TYPE_LABELS = {
    LotType.APARTMENT: N_("Apartment"),
    LotType.HOUSE: N_("House"),
    LotType.COMMERCIAL: N_("Commercial"),
    LotType.OFFICE: N_("Office"),
    LotType.CELLAR: N_("Cellar"),
    LotType.GARAGE: N_("Garage"),
    LotType.PARKING: N_("Parking"),
    LotType.OTHER: N_("Other"),
}

RIGHT_LABELS = {
    Right.FULL: N_("Full ownership"),
    Right.USUFRUCT: N_("Usufruct"),
    Right.BARE: N_("Bare ownership"),
}

KEY_STORAGE_LABELS = {
    KeyStorage.KEYRING: N_("system keyring"),
    KeyStorage.PASSPHRASE_FILE: N_("passphrase-protected key file"),
}

# Belgian conventions for the three national languages; British for English.
_QT_LOCALES = {"fr": "fr_BE", "nl": "nl_BE", "de": "de_BE", "en": "en_GB"}


def lot_type_label(lot_type: LotType) -> str:
    return _(LOT_TYPE_LABELS[lot_type])


def right_label(right: Right) -> str:
    return _(RIGHT_LABELS[right])


def key_storage_label(storage: KeyStorage | None) -> str:
    return _(KEY_STORAGE_LABELS[storage]) if storage else _("unknown")


def language_label(code: str) -> str:
    """A language as it names itself (in lists to choose from)."""
    return LANGUAGE_NAMES.get(code, code)


def language_in_words(code: str) -> str:
    """A language named in the current one, inside a sentence (found by hand:
    German screens said "Protokoll auf Français")."""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(code).get_display_name(current_language()) or code
    except (ValueError, UnknownLocaleError):
        return code


def locale() -> QLocale:
    return QLocale(_QT_LOCALES.get(current_language(), "en_GB"))


_qt_translator: QTranslator | None = None


def apply_locale() -> None:
    """Make Qt's own number widgets (spin boxes) follow the app's language,
    and Qt's own words too (found by hand: the file dialogs said "Look in:",
    "File name:", "Cancel" in every language); widgets made afterwards use it."""
    global _qt_translator
    QLocale.setDefault(locale())
    app = QCoreApplication.instance()
    if app is None:
        return
    if _qt_translator is not None:
        app.removeTranslator(_qt_translator)
        _qt_translator = None
    language = current_language()
    if language == "en":
        return
    translator = QTranslator()
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if translator.load(f"qtbase_{language}", folder):  # absent from a trimmed build: English
        app.installTranslator(translator)
        _qt_translator = translator


def fmt_int(value: int | None) -> str:
    """A whole number with the language's digit grouping (10 000, 10.000,
    10,000), written by the node's formatter so the screens and the problem
    messages agree."""
    return "" if value is None else format_number(value)


def fmt_eur(cents: int | None) -> str:
    """An amount (integer cents, as node keeps them) in euros, written the
    way the app's language writes them (``1 234,56 €``, ``€1,234.56``)."""
    return "" if cents is None else format_eur(cents, current_language())


def fmt_date(day: date | str | None) -> str:
    """A date as the app's language writes it in figures, as in the forms
    (``15/04/2027``, ``15.04.2027``); also a date kept as ISO text in a
    document (shown as it is if it is not one)."""
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day)
        except ValueError:
            return day
    return format_day(day) if day else ""


def fmt_period(start: date | str, end: date | str) -> str:
    """From one day to another: ``01/01/2027 – 31/12/2027``."""
    return f"{fmt_date(start)} – {fmt_date(end)}"


def fmt_moment(moment: datetime | None) -> str:
    """A date and time of day as given (``15/04/2027 18:30``)."""
    return format_moment(moment) if moment else ""


def date_pattern(with_time: bool = False) -> str:
    """The display format of the app's date fields in its language, so a
    typed date reads as the screens write it."""
    pattern = NUMERIC_DATE_PATTERNS[current_language()]
    return f"{pattern} HH:mm" if with_time else pattern


def fmt_percent(share: int) -> str:
    """A holder's share (hundredths of a percent) as the user reads it."""
    text = format_share(share)
    if current_language() != "en":
        text = text.replace(".", ",")
    return f"{text} %"


def fmt_ratio(part: int, whole: int) -> str:
    """``part`` of ``whole`` as a percentage, always with two decimals so a
    column of them lines up."""
    if whole <= 0:
        return ""
    whole_part, cents = divmod(round(part * FULL_SHARE / whole), 100)
    separator = "." if current_language() == "en" else ","
    return f"{whole_part}{separator}{cents:02d} %"


def yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def natural_key(text: str) -> tuple:
    """Sort lot numbers the way people do: A2 before A10."""
    parts = re.split(r"(\d+)", text.casefold())
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts))


ROLE_LABELS = {
    "syndic": N_("Syndic"),
    "council": N_("Council member"),
    "owner": N_("Owner"),
    "kiosk": N_("Building's shared computer"),
}

ROLE_DESCRIPTIONS = {
    "syndic": N_("Another computer of the syndic: edits everything, invites and removes devices."),
    "council": N_("A member of the council of co-owners: reads the registry, cannot change it."),
    "owner": N_(
        "An owner's own device: sees what concerns the whole building, never the registry."
    ),
    "kiosk": N_(
        "The shared computer in the building: sees what concerns the whole building, "
        "never the registry."
    ),
}


def role_label(role: str | None) -> str:
    return _(ROLE_LABELS[role]) if role in ROLE_LABELS else (role or "")


def role_description(role: str) -> str:
    return _(ROLE_DESCRIPTIONS[role])


def fmt_time(ts: float | None) -> str:
    """A moment (seconds since the epoch) in local time, as the app shows times."""
    if ts is None:
        return ""
    return format_moment(datetime.fromtimestamp(ts))


def fmt_ago(ts: float, now: float) -> str:
    """How long ago ``ts`` was, in words: "just now", "2 min ago"..."""
    seconds = max(0, int(now - ts))
    if seconds < 60:
        return _("just now")
    if seconds < 3600:
        n = seconds // 60
        return ngettext("{n} min ago", "{n} min ago", n).format(n=n)
    if seconds < 86_400:
        n = seconds // 3600
        return ngettext("{n} hour ago", "{n} hours ago", n).format(n=n)
    n = seconds // 86_400
    return ngettext("{n} day ago", "{n} days ago", n).format(n=n)
