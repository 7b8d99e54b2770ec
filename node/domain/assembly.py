"""The general assembly's legal rules (Code civil art. 3.87–3.88, DOMAIN §3).

Each rule is one pure function with the article it implements; every count
(owners, quotas, votes) is given to it, derived elsewhere from the registry
and the recorded attendance — never typed in. Rules marked *to confirm* in
DOMAIN are configurable defaults, kept here in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from fractions import Fraction

from ..i18n import N_

# -- deadlines (art. 3.87 §2–§3) ---------------------------------------------------

CONVOCATION_DAYS = 15
"""Art. 3.87 §3: the convocation is sent at least 15 days before the meeting
(unless the by-laws say longer; urgency excepted)."""

AGENDA_REQUEST_WEEKS = 3
"""Art. 3.87 §3: items requested by owners or the council must reach the
syndic at least three weeks before the first day of the 15-day period in
which the ordinary assembly takes place; later ones go to the next one."""

EXTRAORDINARY_REQUEST_DAYS = 30
"""Art. 3.87 §2: owners holding at least 1/5 of the quotas may ask the
syndic to convene an assembly; he does so within 30 days, else one of them
may."""

SECOND_ASSEMBLY_DAYS = 15
"""Art. 3.87 §5: without quorum, a second assembly is held at least 15 days
later and deliberates whatever the attendance."""

MINUTES_DAYS = 30
"""Art. 3.87 §10: the minutes are sent to the owners within 30 days."""

CHALLENGE_MONTHS = 4
"""Art. 3.92 §3: a decision may be challenged before the justice of the
peace within four months of the assembly."""


def convocation_due(meeting: date, days: int = CONVOCATION_DAYS) -> date:
    """The last day the convocation may be sent (``days`` before the meeting)."""
    return meeting - timedelta(days=days)


def convocation_in_time(sent: date, meeting: date, days: int = CONVOCATION_DAYS) -> bool:
    return sent <= convocation_due(meeting, days)


def agenda_request_deadline(period_start: date) -> date:
    """The last day an owner's or the council's agenda item is taken for the
    ordinary assembly whose 15-day period starts on ``period_start``."""
    return period_start - timedelta(weeks=AGENDA_REQUEST_WEEKS)


def extraordinary_request_valid(requesting_quotas: int, total_quotas: int) -> bool:
    """Owners asking for an assembly hold at least one fifth of the quotas."""
    return 5 * requesting_quotas >= total_quotas


def extraordinary_convene_by(requested_on: date) -> date:
    return requested_on + timedelta(days=EXTRAORDINARY_REQUEST_DAYS)


def second_assembly_earliest(first: date) -> date:
    return first + timedelta(days=SECOND_ASSEMBLY_DAYS)


def minutes_due(meeting: date) -> date:
    return meeting + timedelta(days=MINUTES_DAYS)


def challenge_until(meeting: date) -> date:
    """Four months after the assembly (same day of the month, or the last
    day of a shorter month)."""
    month = meeting.month - 1 + CHALLENGE_MONTHS
    year, month = meeting.year + month // 12, month % 12 + 1
    day = meeting.day
    while True:
        try:
            return date(year, month, day)
        except ValueError:  # 31 October + 4 months: the last day of February
            day -= 1


# -- quorum (art. 3.87 §5) ----------------------------------------------------------


class QuorumRule(StrEnum):
    HEADS_AND_HALF = "heads_and_half"  # > 1/2 of owners holding ≥ 1/2 of the quotas
    THREE_QUARTERS = "three_quarters"  # > 3/4 of the quotas
    SECOND_ASSEMBLY = "second_assembly"  # a second assembly deliberates regardless


@dataclass(frozen=True)
class Quorum:
    reached: bool
    rule: QuorumRule | None
    owners_present: int  # present or represented
    owners_total: int
    quotas_present: int
    quotas_total: int


def quorum(
    owners_present: int,
    owners_total: int,
    quotas_present: int,
    quotas_total: int,
    second_assembly: bool = False,
) -> Quorum:
    """Art. 3.87 §5: the assembly deliberates validly if, at its opening,
    (A) more than half of the owners are present or represented and hold at
    least half of the quotas, or (B) those present or represented hold more
    than three quarters of the quotas. A second assembly deliberates
    whatever the attendance."""
    if 2 * owners_present > owners_total and 2 * quotas_present >= quotas_total:
        rule: QuorumRule | None = QuorumRule.HEADS_AND_HALF
    elif 4 * quotas_present > 3 * quotas_total:
        rule = QuorumRule.THREE_QUARTERS
    elif second_assembly:
        rule = QuorumRule.SECOND_ASSEMBLY
    else:
        rule = None
    return Quorum(
        rule is not None, rule, owners_present, owners_total, quotas_present, quotas_total
    )


# -- proxies (art. 3.87 §7) ------------------------------------------------------------

MAX_PROXIES = 3
PROXY_FREE_SHARE = Fraction(1, 10)


class ProxyRefusal(StrEnum):
    SYNDIC = "syndic"
    TOO_MANY = "too_many"
    SELF = "self"


PROXY_REASONS = {
    ProxyRefusal.SYNDIC: N_("The syndic can never hold a proxy (art. 3.87 §7)."),
    ProxyRefusal.TOO_MANY: N_(
        "{holder} already holds {count} proxies: a fourth is allowed only if their own votes "
        "and those they represent make at most 10 % of all votes (art. 3.87 §7)."
    ),
    ProxyRefusal.SELF: N_("An owner cannot hold their own proxy."),
}


def proxy_refusal(
    holder_is_syndic: bool,
    holder_is_principal: bool,
    proxies_held: int,
    holder_votes: int,
    principals_votes: int,
    all_votes: int,
) -> ProxyRefusal | None:
    """Art. 3.87 §7: nobody may hold more than three proxies, unless their
    own votes plus those of their principals (the new one included, in
    ``principals_votes``) are at most 10 % of the votes of all lots; the
    syndic may never be a proxy holder. ``None`` when the proxy is allowed."""
    if holder_is_syndic:
        return ProxyRefusal.SYNDIC
    if holder_is_principal:
        return ProxyRefusal.SELF
    if (
        proxies_held + 1 > MAX_PROXIES
        and Fraction(holder_votes + principals_votes, all_votes) > PROXY_FREE_SHARE
    ):
        return ProxyRefusal.TOO_MANY
    return None


# -- votes and majorities (art. 3.88) ------------------------------------------------------


def capped_votes(votes: Mapping[str, int]) -> dict[str, int]:
    """Art. 3.87 §6: nobody takes part in the vote, as owner or proxy, for
    more votes than the sum of the votes of the other owners present or
    represented; per person, across all their lots and proxies.
    Example (DOMAIN §3): A holds 600, the others 400 → A counts 400."""
    total = sum(votes.values())
    return {person: min(v, total - v) for person, v in votes.items()}


class Majority(StrEnum):
    ABSOLUTE = "absolute"  # > 1/2 of votes cast
    TWO_THIRDS = "two_thirds"  # ≥ 2/3 of votes cast (equality passes: to confirm)
    FOUR_FIFTHS = "four_fifths"  # ≥ 4/5 of votes cast
    UNANIMITY = "unanimity"  # all owners of the building (not only those present)


MAJORITY_FRACTION = {
    Majority.ABSOLUTE: Fraction(1, 2),
    Majority.TWO_THIRDS: Fraction(2, 3),
    Majority.FOUR_FIFTHS: Fraction(4, 5),
}

TWO_THIRDS_EQUALITY_PASSES = True
"""DOMAIN §3: 2/3 read as "at least two thirds" — to confirm; one place."""

# what each category of decision needs, with the article, for the agenda editor
DECISION_MAJORITIES: dict[str, tuple[Majority, str]] = {
    "ordinary": (Majority.ABSOLUTE, N_("Default: absolute majority (art. 3.88 §1).")),
    "syndic": (
        Majority.ABSOLUTE,
        N_("Appointing or dismissing the syndic: absolute majority (art. 3.88 §1)."),
    ),
    "budget_accounts": (
        Majority.ABSOLUTE,
        N_("Budgets and accounts: absolute majority (art. 3.88 §1)."),
    ),
    "auditor": (Majority.ABSOLUTE, N_("Auditor of accounts: absolute majority (art. 3.91).")),
    "council": (Majority.ABSOLUTE, N_("Members of the council: absolute majority (art. 3.90).")),
    "required_works": (
        Majority.ABSOLUTE,
        N_("Works required by law, conservatory works: absolute majority."),
    ),
    "common_works": (
        Majority.TWO_THIRDS,
        N_("Works on common parts: two thirds (art. 3.88 §1, 1°)."),
    ),
    "bylaws_use": (
        Majority.TWO_THIRDS,
        N_(
            "By-laws on enjoyment, use or administration of common parts: two "
            "thirds (art. 3.88 §1, 1°)."
        ),
    ),
    "quotes_threshold": (
        Majority.TWO_THIRDS,
        N_(
            "The amount above which competitive quotes are required: two thirds (art. 3.88 §1, 1°)."
        ),
    ),
    "statutes": (
        Majority.FOUR_FIFTHS,
        N_(
            "Other statute changes, including the charge allocation: four fifths "
            "(art. 3.88 §1, 2°)."
        ),
    ),
    "change_of_use": (
        Majority.FOUR_FIFTHS,
        N_("Change of use of the building: four fifths (art. 3.88 §1, 2°)."),
    ),
    "property": (
        Majority.FOUR_FIFTHS,
        N_("Acquiring or disposing of common property: four fifths (art. 3.88 §1, 2°)."),
    ),
    "reserve_waiver": (
        Majority.FOUR_FIFTHS,
        N_("Waiving the reserve fund: four fifths (art. 3.86 §3)."),
    ),
    "reconstruction": (
        Majority.FOUR_FIFTHS,
        N_("Reconstruction, demolition, dividing or merging lots: four fifths (art. 3.88 §1, 2°)."),
    ),
    "quotas": (
        Majority.UNANIMITY,
        N_("Changing the quotas: unanimity of all owners (art. 3.88 §2)."),
    ),
}


class Vote(StrEnum):
    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"  # abstentions, blank and void votes are not votes cast


@dataclass(frozen=True)
class Tally:
    votes_for: Fraction  # whole numbers unless a capped proxy holder split their votes
    votes_against: Fraction
    abstentions: Fraction
    majority: Majority
    passed: bool
    share: Fraction | None  # for / (for + against), None when no vote was cast


def tally(
    ballots: Mapping[str, Vote],
    attending: Mapping[str, int],
    majority: Majority,
    all_owners: set[str] | None = None,
) -> Tally:
    """Count one resolution where every attending person votes for
    themselves (:func:`tally_groups` with no proxies)."""
    return tally_groups(ballots, attending, {p: p for p in attending}, majority, all_owners)


def tally_groups(
    ballots: Mapping[str, Vote],
    weights: Mapping[str, int],
    holder: Mapping[str, str],
    majority: Majority,
    all_owners: set[str] | None = None,
) -> Tally:
    """Count one resolution (art. 3.88).

    ``weights`` gives the votes (quotas) of each owner present or
    represented for this item, ``holder`` who casts them: the owner, or the
    person holding their proxy. The vote cap (:func:`capped_votes`) applies
    per holder, across their own lots and every proxy they carry; a capped
    holder's owners each count in proportion. The majority is computed on
    votes cast — abstentions, blank and void votes are not votes cast.
    Unanimity needs every owner of the building (``all_owners``) to vote
    for. Example (DOMAIN §3): 400 for, 100 against, 150 abstain → 400/500 =
    80 %, which passes even at 4/5."""
    groups: dict[str, int] = {}
    for owner, weight in weights.items():
        groups[holder[owner]] = groups.get(holder[owner], 0) + weight
    capped = capped_votes(groups)

    def counted(owner: str) -> Fraction:
        group = holder[owner]
        return (
            Fraction(weights[owner] * capped[group], groups[group]) if groups[group] else Fraction()
        )

    def total(vote: Vote) -> Fraction:
        return sum(
            (counted(o) for o, v in ballots.items() if v is vote and o in weights), Fraction()
        )

    weight_for, weight_against, abstentions = (
        total(Vote.FOR),
        total(Vote.AGAINST),
        total(Vote.ABSTAIN),
    )
    cast = weight_for + weight_against
    share = weight_for / cast if cast else None
    if majority is Majority.UNANIMITY:
        everyone = all_owners if all_owners is not None else set(weights)
        passed = bool(everyone) and all(ballots.get(p) is Vote.FOR for p in everyone)
    elif share is None:
        passed = False
    elif majority is Majority.ABSOLUTE or (
        majority is Majority.TWO_THIRDS and not TWO_THIRDS_EQUALITY_PASSES
    ):
        passed = share > MAJORITY_FRACTION[majority]
    else:
        passed = share >= MAJORITY_FRACTION[majority]
    return Tally(weight_for, weight_against, abstentions, majority, passed, share)
