"""What the relay may know of a group energy purchase (ARCHITECTURE §7,
DOMAIN §11, docs/sync-protocol.md §9): a building's anonymous aggregate,
signed by the syndic's device, and the offers a broker posts to a pool.

Both the node and the relay apply these rules. Nothing here holds a single
unit's consumption: an aggregate exists only for at least
:data:`K_ANONYMITY` verified participants, and carries no minimum or
maximum.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import nacl.exceptions
import nacl.signing

K_ANONYMITY = 5
"""Nothing is shown or published for fewer verified participants."""

ENERGY_TYPES = ("electricity", "gas")
AGGREGATE_CONTEXT = b"koprogo-energy-aggregate-v1\x00"
AGGREGATE_SIGNATURE_HEADER = "X-Koprogo-Aggregate-Signature"  # base64 sign_aggregate(...)
MAX_KWH = 10_000_000  # one unit's yearly consumption, far above any flat's

MILLICENTS_PER_EURO = 100_000  # Offer.price_kwh_millicents
CENTS_PER_EURO = 100  # Offer.fixed_monthly_fee_cents

_POSTAL = re.compile(r"^[1-9][0-9]{3}$")


class EnergyError(ValueError):
    """A malformed aggregate or offer; the message says what is wrong."""


def valid_postal_code(code: str) -> bool:
    """A Belgian postal code: four digits, 1000–9999."""
    return bool(_POSTAL.match(code))


def region_of(postal_code: str) -> str:
    """The pool region of a Belgian postal code: its first digit (1: Brussels
    and Brabant, 2: Antwerp, 3: Limburg and Flemish Brabant, 4: Liège,
    5: Namur, 6–7: Hainaut and Luxembourg, 8: West Flanders, 9: East
    Flanders) — coarse enough that a pool holds many buildings."""
    if not valid_postal_code(postal_code):
        raise EnergyError(f"{postal_code!r} is not a Belgian postal code (four digits)")
    return postal_code[0]


def green_score(green_pct: int) -> int:
    """DOMAIN §11: 10 if the offer is 100 % green, 5 if at least half, else 0."""
    if green_pct >= 100:
        return 10
    if green_pct >= 50:
        return 5
    return 0


def _canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise EnergyError(message)


def _int(value: Any, name: str, low: int = 0, high: int | None = None) -> int:
    _require(
        isinstance(value, int) and not isinstance(value, bool), f"{name} is not a whole number"
    )
    _require(value >= low and (high is None or value <= high), f"{name} is out of range")
    return value


@dataclass(frozen=True)
class Aggregate:
    """One building's anonymous figures for one energy type of a campaign."""

    building_id: str
    campaign_id: str
    energy_type: str  # "electricity" or "gas"
    region: str  # first digit of the postal code (region_of)
    participants: int  # verified participants with this energy type (>= K_ANONYMITY)
    units: int  # the building's lots that could take part (for the participation rate)
    total_kwh: int
    average_kwh: int  # total / participants, rounded half up
    median_kwh: int  # of the participants' yearly kWh, rounded half up
    published_at: str  # ISO 8601 instant, UTC

    def __post_init__(self) -> None:
        _require(self.energy_type in ENERGY_TYPES, "unknown energy type")
        _require(len(self.region) == 1 and self.region in "123456789", "bad region")
        _int(self.participants, "participants", K_ANONYMITY)
        _int(self.units, "units", self.participants)
        _int(self.total_kwh, "total_kwh", 0, MAX_KWH * self.participants)
        _int(self.average_kwh, "average_kwh", 0, MAX_KWH)
        _int(self.median_kwh, "median_kwh", 0, MAX_KWH)

    def body(self) -> bytes:
        """The canonical bytes that are signed and sent."""
        return _canonical(asdict(self))

    @classmethod
    def parse(cls, body: bytes) -> Aggregate:
        try:
            data = json.loads(body)
            _require(isinstance(data, dict), "an aggregate is a JSON object")
            _require(set(data) == {f for f in cls.__dataclass_fields__}, "unexpected fields")
            aggregate = cls(**data)
        except (ValueError, TypeError, RecursionError) as exc:
            raise EnergyError(f"malformed aggregate: {exc}") from None
        _require(aggregate.body() == body, "an aggregate is sent in canonical form")
        return aggregate


def sign_aggregate(aggregate: Aggregate, seed: bytes) -> bytes:
    """Ed25519 signature of the syndic's device over context + body."""
    return nacl.signing.SigningKey(seed).sign(AGGREGATE_CONTEXT + aggregate.body()).signature


def verify_aggregate(body: bytes, signature: bytes, sign_key: bytes) -> Aggregate:
    try:
        nacl.signing.VerifyKey(sign_key).verify(AGGREGATE_CONTEXT + body, signature)
    except (nacl.exceptions.BadSignatureError, ValueError):
        raise EnergyError("the aggregate's signature does not verify") from None
    return Aggregate.parse(body)


def aggregate_figures(kwh: list[int]) -> tuple[int, int, int]:
    """(total, average, median) of verified participants' yearly kWh, whole
    kWh rounded half up. Refuses fewer than K_ANONYMITY values."""
    _require(len(kwh) >= K_ANONYMITY, f"fewer than {K_ANONYMITY} participants")
    values = sorted(kwh)
    total = sum(values)
    average = (2 * total + len(values)) // (2 * len(values))
    middle = len(values) // 2
    odd = len(values) % 2
    median = values[middle] if odd else (values[middle - 1] + values[middle] + 1) // 2
    return total, average, median


@dataclass(frozen=True)
class Offer:
    """A supplier's offer a broker posts to a pool. Money is in integer
    units: the price per kWh in millicents (1/100,000 €: 0.2735 € = 27_350),
    the monthly fee in cents."""

    id: str
    pool: str  # "<energy type>:<region>"
    provider: str
    price_kwh_millicents: int
    fixed_monthly_fee_cents: int
    green_pct: int  # 0–100
    contract_months: int
    estimated_savings_pct: int  # 0–100
    valid_until: str  # ISO date

    def __post_init__(self) -> None:
        _require(bool(self.provider.strip()) and len(self.provider) <= 120, "bad provider name")
        energy, _sep, region = self.pool.partition(":")
        _require(energy in ENERGY_TYPES and len(region) == 1 and region in "123456789", "bad pool")
        _int(self.price_kwh_millicents, "price_kwh_millicents", 1, 1_000_000)
        _int(self.fixed_monthly_fee_cents, "fixed_monthly_fee_cents", 0, 1_000_000)
        _int(self.green_pct, "green_pct", 0, 100)
        _int(self.contract_months, "contract_months", 1, 120)
        _int(self.estimated_savings_pct, "estimated_savings_pct", 0, 100)
        try:
            date.fromisoformat(self.valid_until)
        except (TypeError, ValueError):
            raise EnergyError("valid_until is not a date (YYYY-MM-DD)") from None

    @property
    def green_score(self) -> int:
        return green_score(self.green_pct)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Offer:
        try:
            _require(isinstance(data, dict), "an offer is a JSON object")
            _require(set(data) == {f for f in cls.__dataclass_fields__}, "unexpected fields")
            return cls(**data)
        except TypeError as exc:
            raise EnergyError(f"malformed offer: {exc}") from None


def euros_to_units(text: str, units_per_euro: int) -> int:
    """An amount of euros written in decimal ("0.2735") as whole units
    (:data:`MILLICENTS_PER_EURO`, :data:`CENTS_PER_EURO`), exactly: refuses
    more decimals than the unit holds, negative amounts and non-numbers."""
    try:
        amount = Decimal(text)
    except (InvalidOperation, TypeError, ValueError):
        raise EnergyError(f"{text!r} is not an amount in euros") from None
    _require(amount.is_finite() and amount >= 0, f"{text!r} is not an amount in euros")
    units = amount * units_per_euro
    decimals = len(str(units_per_euro)) - 1
    _require(units == units.to_integral_value(), f"{text!r} has more than {decimals} decimals")
    return int(units)


def units_to_euros(units: int, units_per_euro: int) -> Decimal:
    """The inverse of :func:`euros_to_units`, for display."""
    return Decimal(units) / units_per_euro


def pool_of(aggregate: Aggregate) -> str:
    return f"{aggregate.energy_type}:{aggregate.region}"
