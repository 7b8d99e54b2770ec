"""Belgian identifiers, wrapped behind our own small functions (DOMAIN §1, §8).

The check-digit arithmetic comes from python-stdnum, a well-kept library,
rather than being rewritten here.
"""

from __future__ import annotations

import re

from stdnum.be import vat as _be_vat

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_POSTAL_CODE_RE = re.compile(r"^[1-9][0-9]{3}$")


def compact_bce(number: str) -> str:
    """``'BE 0403.170.701'`` → ``'0403170701'`` (no validation)."""
    return re.sub(r"[^0-9]", "", number.upper().removeprefix("BE").strip())


def is_valid_bce(number: str) -> bool:
    """An enterprise number (BCE/KBO): 10 digits, ``97 - first8 % 97 == last2``."""
    digits = compact_bce(number)
    return len(digits) == 10 and _be_vat.is_valid(digits)


def format_bce(number: str) -> str:
    """``'0403170701'`` → ``'0403.170.701'``, the way it is printed on documents."""
    d = compact_bce(number)
    return f"{d[:4]}.{d[4:7]}.{d[7:]}" if len(d) == 10 else number


def is_valid_email(address: str) -> bool:
    return bool(_EMAIL_RE.match(address))


def is_valid_postal_code(code: str) -> bool:
    """A Belgian postal code: four digits, 1000–9999."""
    return bool(_POSTAL_CODE_RE.match(code))


def compact_iban(text: str) -> str:
    """``'be68 5390 0754 7034'`` → ``'BE68539007547034'`` (no validation)."""
    return re.sub(r"\s+", "", text).upper()


def is_valid_iban(text: str) -> bool:
    """ISO 13616 (and the Belgian national check): :mod:`payments` holds the
    one rule; an unknown bank code is a warning there, never a refusal."""
    from .payments import is_valid_iban as check

    return check(text)


def format_iban(text: str) -> str:
    from .payments import format_iban as fmt

    return fmt(text)
