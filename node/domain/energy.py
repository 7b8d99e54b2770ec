"""Group energy purchase: the campaign's rules (issue 6, DOMAIN §11).

Pure rules, no CRDT and no keys: which state a campaign may move to and
why not, what a valid opt-in holds, how a bill's kWh become a yearly
figure, what the building may show (k-anonymity: at least
:data:`shared.energy.K_ANONYMITY` verified participants; count,
participation rate, total, average, median — never a minimum or a
maximum) and when per-unit data and audit events are due for deletion.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from shared.energy import ENERGY_TYPES, K_ANONYMITY, MAX_KWH, aggregate_figures
from shared.energy import valid_postal_code as _valid_postal_code

from ..i18n import N_, _

RETENTION_DAYS = 90
"""Per-unit data is deleted this many days after a campaign ends."""
AUDIT_YEARS = 5
"""Audit events are kept this many years."""


class Status(StrEnum):
    DRAFT = "draft"
    AWAITING_AG_VOTE = "awaiting_ag_vote"
    COLLECTING_DATA = "collecting_data"
    NEGOTIATING = "negotiating"
    AWAITING_FINAL_VOTE = "awaiting_final_vote"
    FINALIZED = "finalized"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


STATUS_LABELS = {
    Status.DRAFT: N_("Draft"),
    Status.AWAITING_AG_VOTE: N_("Awaiting the assembly's vote"),
    Status.COLLECTING_DATA: N_("Collecting consumption data"),
    Status.NEGOTIATING: N_("Negotiating"),
    Status.AWAITING_FINAL_VOTE: N_("Awaiting the final vote"),
    Status.FINALIZED: N_("Finalized"),
    Status.COMPLETED: N_("Completed"),
    Status.CANCELLED: N_("Cancelled"),
}

FINAL = frozenset({Status.COMPLETED, Status.CANCELLED})
"""States a campaign never leaves."""

_NEXT = {
    Status.DRAFT: Status.AWAITING_AG_VOTE,
    Status.AWAITING_AG_VOTE: Status.COLLECTING_DATA,
    Status.COLLECTING_DATA: Status.NEGOTIATING,
    Status.NEGOTIATING: Status.AWAITING_FINAL_VOTE,
    Status.AWAITING_FINAL_VOTE: Status.FINALIZED,
    Status.FINALIZED: Status.COMPLETED,
}

# data collection is open from the mandate until negotiation starts
OPT_IN_OPEN = frozenset({Status.COLLECTING_DATA})


class EnergyType(StrEnum):
    ELECTRICITY = "electricity"
    GAS = "gas"
    BOTH = "both"

    @property
    def carriers(self) -> tuple[str, ...]:
        """The energies a bill of this type measures."""
        return ENERGY_TYPES if self is EnergyType.BOTH else (self.value,)


ENERGY_LABELS = {
    "electricity": N_("Electricity"),
    "gas": N_("Gas"),
    "both": N_("Electricity and gas"),
}


class ContractType(StrEnum):
    FIXED = "fixed"
    VARIABLE = "variable"


@dataclass(frozen=True)
class Gate:
    """What a transition needs that only the service can look up."""

    mandate_adopted: bool = False  # the linked resolution passed by absolute majority
    verified_enough: bool = False  # at least K_ANONYMITY verified participants
    final_vote_linked: bool = False
    final_vote_decided: bool = False  # the final resolution/poll chose the offer


def transition_problem(current: Status, target: Status, gate: Gate) -> str | None:
    """Why ``current`` may not move to ``target`` (an untranslated message
    for ``_()``), or ``None`` when it may."""
    if current in FINAL:
        return N_("The campaign is over: it does not change any more.")
    if target is Status.CANCELLED:
        return None
    if current is Status.FINALIZED and target is Status.COMPLETED:
        return None
    if _NEXT.get(current) is not target:
        return N_("A campaign goes step by step: it cannot move from this state to that one.")
    if target is Status.COLLECTING_DATA and not gate.mandate_adopted:
        return N_(
            "Collecting data needs the assembly's mandate: a resolution adopted by "
            "absolute majority, linked to the campaign."
        )
    if target is Status.NEGOTIATING and not gate.verified_enough:
        return N_(
            "Negotiation needs at least 5 verified participants: below that nothing "
            "may leave the building."
        )
    if target is Status.AWAITING_FINAL_VOTE and not gate.final_vote_linked:
        return N_("Link the final vote (an assembly resolution or a poll) first.")
    if target is Status.FINALIZED and not gate.final_vote_decided:
        return N_("The final vote has not chosen this offer.")
    return None


@dataclass(frozen=True)
class Reading:
    """One unit's bill, as the owner gives it (kWh per energy)."""

    energy_type: EnergyType
    kwh: Mapping[str, int]  # "electricity"/"gas" -> kWh over the period
    period_start: date
    period_end: date
    postal_code: str
    bill_sha256: str


MIN_BILL_DAYS = 28  # a shorter bill's yearly figure would be a guess


def reading_problems(
    reading: Reading, campaign_types: Iterable[str], today: date | None = None
) -> list[str]:
    """Readable problems of an opt-in's figures (untranslated messages). A
    bill's period includes its last day, as bills write it (found by hand:
    01-01 to 12-31 counted 364 days); it is four weeks to about a year
    long, and no unit's yearly figure exceeds
    :data:`MAX_KWH` (found by hand: 9,000,000 kWh over one day made the
    building's total impossible to publish); a bill is of the past (its
    period ends by ``today``, the day of the opt-in, when given)."""
    problems = []
    wanted = set(campaign_types)
    if not set(reading.energy_type.carriers) <= wanted:
        problems.append(N_("This campaign does not buy that energy."))
    if set(reading.kwh) != set(reading.energy_type.carriers):
        problems.append(N_("Give the kWh of each energy on the bill, and only those."))
    for value in reading.kwh.values():
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_KWH:
            problems.append(N_("A consumption is a whole number of kWh above zero."))
            break
    days = (reading.period_end - reading.period_start).days + 1
    if days < 1:
        problems.append(N_("The bill's period ends before it starts."))
    elif today is not None and reading.period_end > today:
        # found by hand: a bill typed with next year's dates was taken
        problems.append(N_("The bill's period ends in the future: give the dates on the bill."))
    elif days > 400:
        problems.append(N_("A bill covers at most about a year (400 days)."))
    elif days < MIN_BILL_DAYS:
        problems.append(N_("A bill covers at least four weeks: give a longer one."))
    elif any(
        isinstance(v, int) and yearly_kwh(v, reading.period_start, reading.period_end) > MAX_KWH
        for v in reading.kwh.values()
    ):
        problems.append(
            N_("That is more than any flat uses in a year: check the kWh and the dates.")
        )
    if not valid_postal_code(reading.postal_code):
        problems.append(N_("A Belgian postal code has four digits (1000–9999)."))
    if not is_sha256(reading.bill_sha256):
        problems.append(N_("The bill's fingerprint is not a SHA-256 (64 hexadecimal digits)."))
    return problems


def valid_postal_code(code: str) -> bool:
    return _valid_postal_code(code)


def is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def yearly_kwh(kwh: int, start: date, end: date) -> int:
    """A bill's kWh over ``start``–``end`` (both days included, as a bill
    writes its period) brought to 365 days, rounded half up (bills cover
    different periods; the figures compared are yearly)."""
    days = (end - start).days + 1
    return (2 * kwh * 365 + days) // (2 * days)


def published_words(result: Mapping[str, Sequence[str]]) -> str:
    """What ``EnergyService.publish`` did, in words (found by hand: "Published:
    —" when the figures were taken out of the pool, energies untranslated)."""

    def names(energies: Sequence[str]) -> str:
        return ", ".join(_(ENERGY_LABELS[e]) if e in ENERGY_LABELS else e for e in energies)

    parts = []
    if result.get("published"):
        parts.append(
            _("Sent to the purchase pool: {energies}.").format(energies=names(result["published"]))
        )
    if result.get("withdrawn"):
        parts.append(
            _("Taken out of the pool (fewer than {k} verified participants): {energies}.").format(
                k=K_ANONYMITY, energies=names(result["withdrawn"])
            )
        )
    if result.get("held"):
        parts.append(
            _(
                "Taken out of the pool: fewer than {k} participants changed since figures were "
                "last sent, and subtracting the two would tell someone's consumption: "
                "{energies}. They go again once {k} or more have joined or left."
            ).format(k=K_ANONYMITY, energies=names(result["held"]))
        )
    return " ".join(parts) or _("Nothing was sent.")


def differs_safely(counted: frozenset[str], sent: Iterable[frozenset[str]]) -> bool:
    """Whether figures counting ``counted`` may go to the pool after figures
    of the sets ``sent`` went there: each earlier set is the same, or differs
    by at least :data:`K_ANONYMITY` participants, else subtracting the two
    totals would give the consumption of fewer than five units."""
    return all(not (counted ^ earlier) or len(counted ^ earlier) >= K_ANONYMITY for earlier in sent)


@dataclass(frozen=True)
class Figures:
    """What the building may show for one energy."""

    energy: str
    participants: int  # verified, consenting
    units: int  # units that could take part
    total_kwh: int | None  # None below k-anonymity
    average_kwh: int | None
    median_kwh: int | None

    @property
    def shown(self) -> bool:
        return self.total_kwh is not None

    @property
    def rate_pct(self) -> int:
        """Participation rate in whole percent, rounded half up."""
        if not self.units:
            return 0
        return (200 * self.participants + self.units) // (2 * self.units)


def figures(energy: str, yearly: list[int], units: int) -> Figures:
    """The k-anonymous figures of one energy: the count always, the amounts
    only from K_ANONYMITY verified participants on."""
    if len(yearly) < K_ANONYMITY:
        return Figures(energy, len(yearly), units, None, None, None)
    total, average, median = aggregate_figures(yearly)
    return Figures(energy, len(yearly), units, total, average, median)


def purge_due(ended_on: date | None, today: date) -> bool:
    """Whether a campaign's per-unit data must be deleted today."""
    return ended_on is not None and today >= ended_on + timedelta(days=RETENTION_DAYS)


def audit_expired(on: date, today: date) -> bool:
    """Whether an audit event is older than five years."""
    try:
        limit = on.replace(year=on.year + AUDIT_YEARS)
    except ValueError:  # 29 February
        limit = on.replace(year=on.year + AUDIT_YEARS, day=28)
    return today >= limit


class Event(StrEnum):
    CAMPAIGN_CREATED = "CampaignCreated"
    BILL_UPLOADED = "BillUploaded"
    BILL_VERIFIED = "BillVerified"
    BILL_ANONYMIZED = "BillAnonymized"
    BILL_DELETED = "BillDeleted"
    CONSENT_GIVEN = "ConsentGiven"
    CONSENT_WITHDRAWN = "ConsentWithdrawn"
    DATA_DECRYPTED = "DataDecrypted"


def yearly_cost_cents(price_kwh_millicents: int, monthly_fee_cents: int, kwh: int) -> int:
    """An offer's yearly cost in cents for ``kwh`` a year, rounded half up."""
    energy = (2 * price_kwh_millicents * kwh + 1000) // 2000  # millicents -> cents
    return energy + 12 * monthly_fee_cents


def estimated_savings_cents(total_kwh: int, price_kwh_millicents: int, savings_pct: int) -> int:
    """The building's estimated yearly savings: the offer's announced
    percentage of what the participants' kWh cost at the offer's price
    before the saving (price / (1 − s))."""
    if savings_pct >= 100 or savings_pct <= 0:
        return 0
    before = price_kwh_millicents * total_kwh * 100 // (100 - savings_pct)  # millicents
    saved = before * savings_pct // 100
    return (saved + 500) // 1000
