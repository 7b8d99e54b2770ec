"""Words and number formats the screens share.

Labels are marked with ``N_`` and translated when shown, never at import, so
a language switch takes effect on the next rebuild of a window.
"""

from __future__ import annotations

import re
from datetime import date

from node.domain.registry import FULL_SHARE, LotType, Right, format_share
from node.i18n import LANGUAGE_NAMES, N_, _, current_language, format_number
from node.keys import KeyStorage

from .qt import QLocale

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
    return LANGUAGE_NAMES.get(code, code)


def locale() -> QLocale:
    return QLocale(_QT_LOCALES.get(current_language(), "en_GB"))


def apply_locale() -> None:
    """Make Qt's own number widgets (spin boxes) follow the app's language;
    widgets made afterwards use it."""
    QLocale.setDefault(locale())


def fmt_int(value: int | None) -> str:
    """A whole number with the language's digit grouping (10 000, 10.000,
    10,000), written by the node's formatter so the screens and the problem
    messages agree."""
    return "" if value is None else format_number(value)


def fmt_date(day: date | None) -> str:
    """A date as the app shows dates everywhere (ISO, as in the forms)."""
    return day.isoformat() if day else ""


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
