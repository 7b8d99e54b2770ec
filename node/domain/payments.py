"""Payment identifiers and amounts: structured communications, IBANs, euros
(DOMAIN §8).

The check-digit arithmetic comes from python-stdnum (``stdnum.be.ogm_vcs``,
``stdnum.iban``, ``stdnum.be.iban``) and the number formats from Babel; this
module only wraps them behind small functions with readable errors.

Amounts are integer cents everywhere (ARCHITECTURE §2): :func:`format_eur`
and :func:`parse_eur` are the only doors between cents and text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from stdnum import iban as _iban
from stdnum.be import iban as _be_iban
from stdnum.be import ogm_vcs as _ogm_vcs

from ..errors import InputError
from ..i18n import BABEL_LOCALES, _, current_language

# -- structured communications (+++DDD/DDDD/DDDDD+++) ---------------------------

_REFERENCE_MARKERS = ("+++", "***")
_REFERENCE_BODY_RE = re.compile(r"[0-9]{3}[ /]?[0-9]{4}[ /]?[0-9]{5}")


def _reference_check_digits(base10: str) -> str:
    """DOMAIN §8: the first ten digits modulo 97, with 0 written as 97."""
    return _ogm_vcs.calc_check_digits(base10)


def make_structured_reference(base10: int) -> str:
    """The structured communication for ten digits ``base10`` (0 to
    9 999 999 999), formatted ``+++DDD/DDDD/DDDDD+++`` (DOMAIN §8).

    >>> make_structured_reference(1234567890)
    '+++123/4567/89002+++'
    """
    if isinstance(base10, bool) or not isinstance(base10, int) or not 0 <= base10 < 10**10:
        raise InputError(
            _("A structured communication is built from a number of at most ten digits.")
        )
    digits = f"{base10:010d}"
    return format_structured_reference(digits + _reference_check_digits(digits))


def format_structured_reference(digits: str) -> str:
    """``'123456789002'`` → ``'+++123/4567/89002+++'`` (no validation)."""
    return f"+++{_ogm_vcs.format(digits)}+++"


def parse_structured_reference(text: str) -> str:
    """The 12 digits of a structured communication typed or printed in any
    usual way: ``+++123/4567/89002+++``, ``***123/4567/89002***``,
    ``123/4567/89002``, ``123 4567 89002`` or ``123456789002``.

    Raises :class:`InputError` with a readable message when the text is not
    twelve digits or the check digits are wrong (DOMAIN §8).
    """
    body = text.strip()
    for marker in _REFERENCE_MARKERS:
        if body.startswith(marker) and body.endswith(marker) and len(body) > 2 * len(marker):
            body = body[len(marker) : -len(marker)].strip()
            break
    if not _REFERENCE_BODY_RE.fullmatch(body):
        raise InputError(
            _(
                "{text!r} is not a structured communication: it has twelve digits, "
                "like +++123/4567/89002+++."
            ).format(text=text)
        )
    digits = re.sub(r"[ /]", "", body)
    if _reference_check_digits(digits) != digits[10:]:
        raise InputError(
            _(
                "The structured communication {reference} has wrong check digits: "
                "a digit is probably mistyped."
            ).format(reference=format_structured_reference(digits))
        )
    return digits


def is_valid_structured_reference(text: str) -> bool:
    """Whether ``text`` is a structured communication with correct check
    digits, in any form :func:`parse_structured_reference` accepts."""
    try:
        parse_structured_reference(text)
    except InputError:
        return False
    return True


MAX_CALL_NUMBER = 99
MAX_PAYER_INDEX = 9999


def call_reference(fiscal_year: int, call_number: int, payer_index: int) -> str:
    """The structured communication an owner quotes to pay one call for funds.

    The ten digits are ``YYYY`` (the year the fiscal year starts in),
    ``CC`` (the call's number in that fiscal year, 1–99) and ``IIII`` (the
    payer's index, 1–9999), followed by the two check digits of DOMAIN §8:
    fiscal year 2025, call 3, payer 12 gives ``+++202/5030/01206+++``.

    The reference is therefore unique for each (fiscal year, call, payer) of
    one association, readable by a person ("2025, call 03, payer 0012"), and
    the same on every device that derives it. The payer index must be
    unique within the fiscal year's calls: a number given to each lot (or
    each paying holder) when the call is issued, stored with the call, so
    that a later change to the registry does not move references already
    printed. The 99 calls and 9 999 payers a year are far beyond what an ACP
    issues (a monthly schedule is 12 calls).
    """
    if not (isinstance(fiscal_year, int) and 1000 <= fiscal_year <= 9999):
        raise InputError(_("The fiscal year of a call is a year of four digits."))
    if not (isinstance(call_number, int) and 1 <= call_number <= MAX_CALL_NUMBER):
        raise InputError(
            _("A call's number in its fiscal year is from 1 to {maximum}.").format(
                maximum=MAX_CALL_NUMBER
            )
        )
    if not (isinstance(payer_index, int) and 1 <= payer_index <= MAX_PAYER_INDEX):
        raise InputError(
            _("A payer's index in a call is from 1 to {maximum}.").format(maximum=MAX_PAYER_INDEX)
        )
    return make_structured_reference(fiscal_year * 10**6 + call_number * 10**4 + payer_index)


def split_call_reference(reference: str) -> tuple[int, int, int]:
    """``(fiscal_year, call_number, payer_index)`` of a reference made by
    :func:`call_reference`; raises :class:`InputError` for any other."""
    digits = parse_structured_reference(reference)
    year, call, payer = int(digits[:4]), int(digits[4:6]), int(digits[6:10])
    if year < 1000 or call == 0 or payer == 0:
        raise InputError(
            _("The structured communication {reference} was not made for a call for funds.").format(
                reference=format_structured_reference(digits)
            )
        )
    return year, call, payer


# -- IBAN ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IbanCheck:
    """What :func:`check_iban` found: ``valid`` decides, ``warnings`` inform.

    An unknown Belgian bank code is only a warning (DOMAIN §8): the National
    Bank's list that python-stdnum ships lags behind new banks, and a
    syndic must never be stopped from entering a real account.
    """

    iban: str
    """The compact form (``BE68539007547034``), or the text as typed when it
    is not an IBAN at all."""
    valid: bool
    problem: str = ""
    """Why it is not valid, for a person (empty when valid)."""
    warnings: tuple[str, ...] = ()


def check_iban(text: str) -> IbanCheck:
    """Check an IBAN (ISO 13616: country, two check digits, mod 97 = 1, the
    country's length and format), and for a Belgian one the national check
    digits; an unknown Belgian bank code is returned as a warning."""
    compact = _iban.compact(text)
    if not _iban.is_valid(compact, check_country=False):
        return IbanCheck(
            text.strip(),
            False,
            problem=_("{iban!r} is not a valid IBAN: a character is missing or mistyped.").format(
                iban=text.strip()
            ),
        )
    warnings: list[str] = []
    if compact.startswith("BE"):
        if _be_iban_national_check(compact):
            return IbanCheck(
                compact,
                False,
                problem=_("{iban} is not a valid Belgian account number: check the digits.").format(
                    iban=format_iban(compact)
                ),
            )
        if not _be_iban.info(compact):
            warnings.append(
                _(
                    "The bank code {code} of {iban} is not in the list of Belgian banks "
                    "KoproGo knows; check the number with the owner."
                ).format(code=compact[4:7], iban=format_iban(compact))
            )
    return IbanCheck(compact, True, warnings=tuple(warnings))


def _be_iban_national_check(compact: str) -> bool:
    """True when the Belgian account's own check digits (the first ten of
    the account modulo 97, 0 as 97) are wrong."""
    account = compact[4:]
    return f"{int(account[:10]) % 97 or 97:02d}" != account[10:]


def is_valid_iban(text: str) -> bool:
    """Whether ``text`` is a valid IBAN; an unknown Belgian bank is valid."""
    return check_iban(text).valid


def normalize_iban(text: str) -> str:
    """``'be68 5390 0754 7034'`` → ``'BE68539007547034'``; raises
    :class:`InputError` (the reason, readable) when it is not a valid IBAN."""
    result = check_iban(text)
    if not result.valid:
        raise InputError(result.problem)
    return result.iban


def format_iban(text: str) -> str:
    """``'BE68539007547034'`` → ``'BE68 5390 0754 7034'`` (groups of four,
    as printed on documents; no validation)."""
    return _iban.format(text)


# -- euros ----------------------------------------------------------------------------


def format_eur(cents: int, language: str) -> str:
    """An amount of cents written the way ``language`` (fr, nl, de, en) writes
    euros in Belgium: ``1 234,56 €`` (fr), ``€ 1.234,56`` (nl),
    ``1.234,56 €`` (de), ``€1,234.56`` (en)."""
    from babel.numbers import format_currency

    if language not in BABEL_LOCALES:
        raise ValueError(f"unsupported language {language!r}; choose one of {tuple(BABEL_LOCALES)}")
    return format_currency(Decimal(cents).scaleb(-2), "EUR", locale=BABEL_LOCALES[language])


_SPACES_RE = re.compile(r"[\s\u00a0\u202f\u2009']+")
_CURRENCY_RE = re.compile(r"€|EUR", re.IGNORECASE)
_AMOUNT_RE = re.compile(r"[0-9][0-9 .,]*")


def parse_eur(text: str) -> int:
    """Cents of an amount typed in euros, in the ways Belgians write them:
    ``1.234,56``, ``1 234,56 €``, ``1234.56``, ``1,234.56``, ``€ 12``,
    ``-12,5``.

    The decimal separator is the last ``,`` or ``.`` when followed by one or
    two digits; the others separate thousands (groups of three). Refused
    with a readable :class:`InputError`: more than two decimals, badly
    grouped thousands, and a single separator followed by exactly three
    digits (``1.234`` is 1234 € for a Belgian and 1.234 € for others).
    """
    body = _CURRENCY_RE.sub(" ", text)
    body = _SPACES_RE.sub(" ", body).strip()
    negative = body[:1] in ("-", "−")
    if body[:1] in ("-", "−", "+"):
        body = body[1:].strip()
    if not _AMOUNT_RE.fullmatch(body) or body[-1] in ".,":
        raise InputError(_("{text!r} is not an amount in euro.").format(text=text))
    whole, decimals = _split_decimals(body, text)
    if not _well_grouped(whole):
        raise InputError(_("{text!r} is not an amount in euro.").format(text=text))
    cents = int(re.sub(r"[ .,]", "", whole)) * 100 + int(decimals.ljust(2, "0"))
    return -cents if negative else cents


def _split_decimals(body: str, text: str) -> tuple[str, str]:
    """(whole part with its thousands separators, decimal digits)."""
    last = max(body.rfind("."), body.rfind(","))
    if last < 0:
        return body, ""
    separator, after = body[last], body[last + 1 :]
    marks = {c for c in body if c in ".,"}
    single = len(marks) == 1 and body.count(separator) == 1
    if " " in after or not after.isdigit():
        raise InputError(_("{text!r} is not an amount in euro.").format(text=text))
    if len(after) <= 2:
        if body.count(separator) > 1:
            raise InputError(_("{text!r} is not an amount in euro.").format(text=text))
        return body[:last], after
    if len(after) == 3 and single and re.fullmatch(r"[0-9]{1,3}", body[:last]):
        example = int(body.replace(separator, "")) * 100
        raise InputError(
            _(
                "{text!r} is ambiguous: write it with two decimals, e.g. {example}, "
                "or without the separator."
            ).format(text=text, example=format_eur(example, current_language()))
        )
    if len(after) == 3 and len(marks) == 1 and body.count(separator) > 1:
        return body, ""  # 1.234.567: thousands only
    raise InputError(
        _("{text!r} has more than two decimals; amounts are counted in cents.").format(text=text)
    )


def _well_grouped(whole: str) -> bool:
    """Digits, optionally grouped by threes with one kind of separator."""
    marks = {c for c in whole if c in " .,"}
    if not marks:
        return whole.isdigit()
    if len(marks) > 1:
        return False
    return re.fullmatch(r"[0-9]{1,3}(?:[ .,][0-9]{3})*", whole) is not None
