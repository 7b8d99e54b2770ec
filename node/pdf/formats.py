"""Amounts, numbers, dates and bank identifiers written the way each
language writes them on paper (Belgian variants: fr_BE, nl_BE, de_BE and
en_GB, see :data:`node.i18n.BABEL_LOCALES`).

Euros, IBANs and structured communications go through
:mod:`node.domain.payments` (the one door between cents and text); Babel
does the rest. This module only picks patterns and cleans what comes back
so that every character prints with the PDF fonts (Babel writes French
thousands with U+202F, a narrow no-break space that the standard PDF fonts
do not have; a plain no-break space keeps the figures together as well).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from babel import Locale
from babel.dates import format_date as _babel_date
from babel.numbers import format_decimal

from ..domain import payments
from ..i18n import BABEL_LOCALES, format_day

PDF_LANGUAGE_TAGS = {"fr": "fr-BE", "nl": "nl-BE", "de": "de-BE", "en": "en-GB"}
"""The BCP 47 tag written in each PDF's ``/Lang`` entry."""


DateStyle = Literal["long", "numeric"]


def _printable(text: str) -> str:
    return text.replace("\u202f", "\xa0")


def _locale(language: str) -> str:
    return BABEL_LOCALES[language]


def format_amount(cents: int, language: str) -> str:
    """``123456`` → ``1 234,56 €`` (fr), ``€ 1.234,56`` (nl),
    ``1.234,56 €`` (de), ``€1,234.56`` (en); spaces are no-break spaces."""
    return _printable(payments.format_eur(cents, language))


def format_number(value: int, language: str) -> str:
    """``10000`` → ``10 000`` (fr), ``10.000`` (nl, de), ``10,000`` (en)."""
    return _printable(format_decimal(value, locale=_locale(language)))


def format_date(day: date, language: str, style: DateStyle = "long") -> str:
    """``15 avril 2027`` / ``15 april 2027`` / ``15. April 2027`` /
    ``15 April 2027`` (long), or ``15/04/2027`` (``15.04.2027`` in German)
    for tables."""
    if style == "numeric":
        return format_day(day, language)
    text = _babel_date(day, "long", locale=_locale(language))
    if language == "fr" and day.day == 1:
        text = "1er" + text[1:]  # French writes the first of the month « 1er avril »
    return _printable(text)


def format_share(weight: int, total: int, language: str) -> str:
    """The share ``weight / total`` as a percentage with two decimals, in
    the language's percent pattern: ``12,35 %`` (fr, de), ``12,35%`` (nl),
    ``12.35%`` (en). An empty total gives a dash."""
    if total <= 0:
        return "—"
    pattern = Locale.parse(_locale(language)).percent_formats[None].pattern
    pattern = pattern.replace("#,##0", "#,##0.00", 1)
    value = Decimal(weight) / Decimal(total)
    return _printable(format_decimal(value, format=pattern, locale=_locale(language)))


def format_weight(weight: int, total: int, language: str) -> str:
    """A lot's weight in a key: ``120 / 1 000``."""
    return f"{format_number(weight, language)}\xa0/\xa0{format_number(total, language)}"


def format_iban(number: str) -> str:
    """``BE68539007547034`` → ``BE68 5390 0754 7034`` (no validation)."""
    return payments.format_iban(number)


def format_structured_reference(reference: str) -> str:
    """The paper form of a Belgian structured communication written in any
    usual way: ``123456789002`` → ``+++123/4567/89002+++``; raises
    :class:`~node.errors.InputError` when it is not one."""
    return payments.format_structured_reference(payments.parse_structured_reference(reference))


def country_name(code: str, language: str) -> str:
    """The country of an address in the document's language (``FR`` →
    ``France``/``Frankrijk``/``Frankreich``/``France``)."""
    return Locale.parse(_locale(language)).territories.get(code.upper(), code)
