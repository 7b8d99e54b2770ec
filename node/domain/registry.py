"""The building's registry: association, lots, persons, ownership, keys.

DOMAIN §1–§2 (Code civil art. 3.84–3.100). Values are frozen and checked
when built (a lot cannot have a negative quota); whole-registry rules are
pure functions that return readable problems and never fix anything
silently, because a merged state may break rules no single edit broke.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType

from ..errors import InputError
from ..i18n import LANGUAGES, _
from .governance import Auditor, CouncilMandate
from .identifiers import (
    compact_bce,
    compact_iban,
    is_valid_bce,
    is_valid_email,
    is_valid_iban,
    is_valid_postal_code,
)

FULL_SHARE = 10_000
"""A holder's share is kept in hundredths of a percent: 10 000 = 100 %."""

COUNCIL_THRESHOLD = 20
"""Art. 3.90 §1: a council is mandatory from 20 lots (cellars, garages and
parkings not counted)."""

FULL_ACCOUNTING_THRESHOLD = 20
"""AR 12/07/2012: full double-entry accounting from 20 lots (same count)."""


class LotType(StrEnum):
    APARTMENT = "apartment"
    HOUSE = "house"
    COMMERCIAL = "commercial"
    OFFICE = "office"
    CELLAR = "cellar"
    GARAGE = "garage"
    PARKING = "parking"
    OTHER = "other"


ANCILLARY_LOT_TYPES = frozenset({LotType.CELLAR, LotType.GARAGE, LotType.PARKING})
"""Lot types left out of the legal lot count (DOMAIN §1)."""


class Right(StrEnum):
    """The real right a holder has on a lot."""

    FULL = "full"  # pleine propriété / volle eigendom
    USUFRUCT = "usufruct"  # usufruit / vruchtgebruik
    BARE = "bare"  # nue-propriété / blote eigendom


# -- values ---------------------------------------------------------------


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise InputError(message)


@dataclass(frozen=True)
class Address:
    street: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = "BE"

    def __post_init__(self) -> None:
        if self.postal_code and self.country == "BE":
            _require(
                is_valid_postal_code(self.postal_code),
                _("A Belgian postal code has four digits (1000–9999), not {code!r}.").format(
                    code=self.postal_code
                ),
            )

    def one_line(self) -> str:
        return ", ".join(p for p in (self.street, f"{self.postal_code} {self.city}".strip()) if p)


@dataclass(frozen=True)
class Association:
    """The ACP/VME itself."""

    name: str
    quota_total: int
    bce_number: str = ""
    address: Address = field(default_factory=Address)
    provisional_acceptance: date | None = None
    fiscal_year_start: str = "01-01"  # MM-DD
    iban: str = ""  # the current account, in the ACP's name (art. 3.86 §3)
    reserve_iban: str = ""  # the reserve fund's separate account
    bic: str = ""
    syndic_mandate_from: date | None = None  # art. 3.89 §1: at most three years
    syndic_mandate_until: date | None = None

    def __post_init__(self) -> None:
        _require(bool(self.name.strip()), _("The association needs a name."))
        for name in ("iban", "reserve_iban"):
            value = getattr(self, name)
            if value:
                object.__setattr__(self, name, compact_iban(value))
                _require(
                    is_valid_iban(value),
                    _("{iban!r} is not a valid IBAN (its check digits do not match).").format(
                        iban=value
                    ),
                )
        if self.bic:
            object.__setattr__(self, "bic", self.bic.replace(" ", "").upper())
            _require(
                re.fullmatch(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?", self.bic) is not None,
                _("{bic!r} is not a BIC (8 or 11 letters and digits).").format(bic=self.bic),
            )
        _require(
            isinstance(self.quota_total, int) and self.quota_total > 0,
            _("The quota total of the deed must be a whole number above zero."),
        )
        if self.bce_number:
            object.__setattr__(self, "bce_number", compact_bce(self.bce_number))
        _require(
            re.fullmatch(r"(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])", self.fiscal_year_start)
            is not None,
            _("The fiscal year start is a day of the year written MM-DD, e.g. 01-01."),
        )


@dataclass(frozen=True)
class Lot:
    id: str
    number: str
    type: LotType
    quota: int
    floor: int | None = None

    def __post_init__(self) -> None:
        _require(bool(self.number.strip()), _("A lot needs a number."))
        _require(
            isinstance(self.quota, int) and self.quota >= 0,
            _("The quota of lot {number} must be a whole number, zero or more.").format(
                number=self.number
            ),
        )

    @property
    def counts_as_lot(self) -> bool:
        """Whether this lot counts for the legal thresholds (not a cellar,
        garage or parking)."""
        return self.type not in ANCILLARY_LOT_TYPES


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    email: str = ""
    phone: str = ""
    address: Address = field(default_factory=Address)
    language: str = "fr"
    email_consent: bool = False
    """Agreed in writing to receive convocations by e-mail (art. 3.87 §3);
    otherwise convocations go by registered mail."""

    def __post_init__(self) -> None:
        _require(bool(self.name.strip()), _("A person needs a name."))
        _require(
            not self.email or is_valid_email(self.email),
            _("{email!r} is not an e-mail address.").format(email=self.email),
        )
        _require(
            self.language in LANGUAGES,
            _("The language must be one of {choices}.").format(choices=", ".join(LANGUAGES)),
        )
        _require(
            not (self.email_consent and not self.email),
            _("E-mail convocations need an e-mail address."),
        )


@dataclass(frozen=True)
class Ownership:
    """One holder's right on one lot."""

    id: str
    lot_id: str
    person_id: str
    share: int  # hundredths of a percent, 10 000 = 100 %
    right: Right = Right.FULL
    voting: bool = False

    def __post_init__(self) -> None:
        _require(
            isinstance(self.share, int) and 0 < self.share <= FULL_SHARE,
            _("A holder's share is above 0 % and at most 100 %."),
        )


@dataclass(frozen=True)
class Occupant:
    """Someone living in or using a lot who is not (necessarily) a holder."""

    id: str
    lot_id: str
    person_id: str
    since: date | None = None


@dataclass(frozen=True)
class DistributionKey:
    """A special key from the deed (lift, heating...): weights over some lots.

    The general key is not stored: it is the lots' quotas (see
    :func:`general_key`)."""

    id: str
    name: str
    weights: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _require(bool(self.name.strip()), _("A distribution key needs a name."))
        _require(
            all(isinstance(w, int) and w >= 0 for w in self.weights.values()),
            _("The weights of a distribution key are whole numbers, zero or more."),
        )
        object.__setattr__(self, "weights", MappingProxyType(dict(self.weights)))

    @property
    def total(self) -> int:
        return sum(self.weights.values())


GENERAL_KEY_ID = "general"


@dataclass(frozen=True)
class Registry:
    """Everything the registry document holds, read at one moment."""

    association: Association | None = None
    lots: tuple[Lot, ...] = ()
    persons: tuple[Person, ...] = ()
    ownerships: tuple[Ownership, ...] = ()
    occupants: tuple[Occupant, ...] = ()
    keys: tuple[DistributionKey, ...] = ()
    council: tuple[CouncilMandate, ...] = ()
    auditors: tuple[Auditor, ...] = ()
    unreadable: tuple[tuple[str, str], ...] = ()
    """(collection, record id) of records that could not be read back."""

    def lot(self, lot_id: str) -> Lot | None:
        return next((lot for lot in self.lots if lot.id == lot_id), None)

    def lot_by_number(self, number: str) -> Lot | None:
        return next((lot for lot in self.lots if lot.number == number), None)

    def person(self, person_id: str) -> Person | None:
        return next((p for p in self.persons if p.id == person_id), None)

    def holders(self, lot_id: str) -> tuple[Ownership, ...]:
        return tuple(o for o in self.ownerships if o.lot_id == lot_id)

    def key(self, key_id: str) -> DistributionKey | None:
        if key_id == GENERAL_KEY_ID:
            return general_key(self)
        return next((k for k in self.keys if k.id == key_id), None)

    def auditor(self, year: int) -> Auditor | None:
        return next((a for a in self.auditors if a.year == year), None)


# -- parsing user input -------------------------------------------------------


def match_names(names: Mapping[str, str], ref: str) -> list[str]:
    """The ids ``ref`` may mean among ``names`` (id -> name): the id itself,
    else the names equal to it (case-insensitive), else those starting with it."""
    if ref in names:
        return [ref]
    folded = ref.strip().casefold()
    if not folded:
        return []
    exact = [i for i, n in names.items() if n.casefold() == folded]
    return exact or [i for i, n in names.items() if n.casefold().startswith(folded)]


def parse_share(text: str) -> int:
    """``'50'``, ``'33.33'``, ``'33,34 %'`` → hundredths of a percent."""
    cleaned = text.strip().removesuffix("%").strip().replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InputError(_("{text!r} is not a percentage.").format(text=text)) from None
    hundredths = value * 100
    if hundredths != hundredths.to_integral_value() or not 0 < hundredths <= FULL_SHARE:
        raise InputError(
            _("A share is a percentage above 0 and at most 100, with at most two decimals.")
        )
    return int(hundredths)


def format_share(share: int) -> str:
    whole, cents = divmod(share, 100)
    return f"{whole}" if cents == 0 else f"{whole}.{cents:02d}"


def parse_lot_type(text: str) -> LotType:
    try:
        return LotType(text.strip().lower())
    except ValueError:
        raise InputError(
            _("Unknown lot type {text!r}; choose one of {choices}.").format(
                text=text, choices=", ".join(t.value for t in LotType)
            )
        ) from None


def parse_right(text: str) -> Right:
    try:
        return Right(text.strip().lower())
    except ValueError:
        raise InputError(
            _("Unknown right {text!r}; choose full, usufruct or bare.").format(text=text)
        ) from None


def parse_date(text: str) -> date | None:
    """``'2024-03-01'`` → a date; empty → None; anything else is refused."""
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            _("{text!r} is not a date; write it YYYY-MM-DD.").format(text=text)
        ) from None


def check_bce(number: str) -> str:
    """Return the compact BCE/KBO number or raise a readable error."""
    if not is_valid_bce(number):
        raise InputError(
            _(
                "{number} is not a valid enterprise number (BCE/KBO): check its ten digits "
                "(0123.456.749) against the association's registration, e.g. on the "
                "Crossroads Bank for Enterprises."
            ).format(number=number.strip())
        )
    return compact_bce(number)


# -- derived facts --------------------------------------------------------------


def legal_lot_count(lots: Iterable[Lot]) -> int:
    """Lots counted for the legal thresholds: every lot except cellars,
    garages and parkings (art. 3.90 §1, DOMAIN §1)."""
    return sum(1 for lot in lots if lot.counts_as_lot)


def council_mandatory(lots: Iterable[Lot]) -> bool:
    """Art. 3.90 §1: the council is mandatory from 20 lots (legal count)."""
    return legal_lot_count(lots) >= COUNCIL_THRESHOLD


def full_accounting_mandatory(lots: Iterable[Lot]) -> bool:
    """AR 12/07/2012: full double-entry accounting from 20 lots (legal count);
    below that, the simplified presentation is allowed."""
    return legal_lot_count(lots) >= FULL_ACCOUNTING_THRESHOLD


def quota_sum(lots: Iterable[Lot]) -> int:
    return sum(lot.quota for lot in lots)


def general_key(registry: Registry) -> DistributionKey:
    """General charges follow the quotas of all lots (DOMAIN §1)."""
    return DistributionKey(
        GENERAL_KEY_ID, _("General (quotas)"), {lot.id: lot.quota for lot in registry.lots}
    )


@dataclass(frozen=True)
class Facts:
    lot_count: int
    legal_lot_count: int
    quota_sum: int
    quota_total: int | None
    council_mandatory: bool
    full_accounting_mandatory: bool
    council_threshold: int = COUNCIL_THRESHOLD
    full_accounting_threshold: int = FULL_ACCOUNTING_THRESHOLD


def facts(registry: Registry) -> Facts:
    return Facts(
        lot_count=len(registry.lots),
        legal_lot_count=legal_lot_count(registry.lots),
        quota_sum=quota_sum(registry.lots),
        quota_total=registry.association.quota_total if registry.association else None,
        council_mandatory=council_mandatory(registry.lots),
        full_accounting_mandatory=full_accounting_mandatory(registry.lots),
    )
