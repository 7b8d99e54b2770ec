"""Belgian identifiers, wrapped behind our own small functions (DOMAIN §1, §8).

The check-digit arithmetic comes from python-stdnum, a well-kept library,
rather than being rewritten here.
"""

from __future__ import annotations

import re

from stdnum import iban as _iban
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
    """ISO 13616 mod-97 check (DOMAIN §8). A Belgian bank code python-stdnum
    does not know is accepted: an unknown bank is never a refusal."""
    number = compact_iban(text)
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{8,30}", number):
        return False
    try:
        _iban.validate(number, check_country=False)
        return True
    except Exception:
        rearranged = number[4:] + number[:4]
        digits = "".join(str(int(c, 36)) for c in rearranged)
        return int(digits) % 97 == 1 and number.startswith("BE") and len(number) == 16


def format_iban(text: str) -> str:
    number = compact_iban(text)
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
