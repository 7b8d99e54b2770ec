"""The council, the auditor of accounts and the syndic's deadlines.

Code civil art. 3.89–3.91, DOMAIN §2 and §4. Values are frozen and checked
when built; rules are pure functions of plain values (no document, no
clock: ``today`` is always given). The syndic's task list is built from
independent sources — this module's own, and those other modules add (the
assembly's convocation and minutes deadlines) — merged by
:func:`syndic_tasks`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from ..errors import InputError
from ..i18n import N_, _, format_day

SYNDIC_MANDATE_YEARS = 3
"""Art. 3.89 §1: the syndic's mandate lasts at most three years; it may be
renewed only by an express decision of the assembly."""

COUNCIL_ENDING_DAYS = 60
"""Council mandates ending within this many days are announced, so that the
next assembly can renew them or elect successors (a practice default)."""

SYNDIC_ENDING_DAYS = 90
"""The syndic's mandate is announced this many days before it ends: time to
convene an assembly (15 days' notice, art. 3.87 §3) that renews the mandate
or appoints another syndic (a practice default)."""

AUDITOR_SOON_DAYS = 45
"""A missing auditor becomes urgent this many days before the ordinary
assembly's period: the agenda is set before the convocation goes out."""

Translate = Callable[[str], str]


class CouncilRole(StrEnum):
    PRESIDENT = "president"
    MEMBER = "member"


ROLE_LABELS = {CouncilRole.PRESIDENT: N_("president"), CouncilRole.MEMBER: N_("member")}
"""The roles' names (message ids, translated when shown)."""


class Severity(StrEnum):
    OVERDUE = "overdue"  # the due day has passed (or the law is already not met)
    SOON = "soon"  # inside the task's own alert window
    LATER = "later"  # known, not urgent yet


_SEVERITY_ORDER = {Severity.OVERDUE: 0, Severity.SOON: 1, Severity.LATER: 2}


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise InputError(message)


def parse_council_role(text: str) -> CouncilRole:
    try:
        return CouncilRole(text.strip().lower())
    except ValueError:
        raise InputError(
            _("Unknown council role {text!r}; choose president or member.").format(text=text)
        ) from None


# -- values ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CouncilMandate:
    """One person's seat on the council (art. 3.90), from ``start`` to
    ``until`` included (``None``: until further notice)."""

    id: str
    person_id: str
    role: CouncilRole
    start: date
    until: date | None = None
    meeting_id: str = ""  # the assembly that appointed them

    def __post_init__(self) -> None:
        _require(bool(self.person_id.strip()), _("A council mandate needs a person."))
        _require(
            self.until is None or self.until >= self.start,
            _("A mandate cannot end ({until}) before it starts ({start}).").format(
                until=self.until, start=self.start
            ),
        )

    def running_on(self, day: date) -> bool:
        return self.start <= day and (self.until is None or day <= self.until)

    def seated_from(self, day: date) -> bool:
        """Whether the member sits on the council on ``day`` or will later:
        their council device is rightly in the building."""
        return self.running_on(day) or self.start > day

    def overlaps(self, other: CouncilMandate) -> bool:
        return self.start <= (other.until or date.max) and other.start <= (self.until or date.max)


@dataclass(frozen=True)
class Auditor:
    """The auditor of accounts (commissaire aux comptes, art. 3.91) the
    assembly appointed for one fiscal year: a person of the registry
    (``person_id``) or someone outside it (``name``), owner or not."""

    year: int
    person_id: str = ""
    name: str = ""
    owner: bool = False
    meeting_id: str = ""

    def __post_init__(self) -> None:
        _require(
            isinstance(self.year, int) and 1900 <= self.year <= 9999,
            _("A fiscal year is written with four digits, e.g. 2027."),
        )
        _require(
            bool(self.person_id.strip()) != bool(self.name.strip()),
            _("Name the auditor: a person of the registry or an outside name, not both."),
        )


@dataclass(frozen=True)
class Task:
    """Something the syndic must do by ``due``. ``kind`` is a stable code
    (``council-missing``...), ``ref`` the record or subject it is about (a
    mandate id, a year, a meeting id), ``message`` the sentence to show,
    already translated."""

    due: date
    kind: str
    message: str
    severity: Severity
    ref: str


def severity_of(due: date, today: date, window_days: int) -> Severity:
    """Overdue once ``due`` has passed, soon within ``window_days`` of it,
    later before that."""
    if due < today:
        return Severity.OVERDUE
    return Severity.SOON if (due - today).days <= window_days else Severity.LATER


def task(today: date, due: date, kind: str, message: str, ref: str, window_days: int) -> Task:
    """A task whose severity follows from its due day (see :func:`severity_of`)."""
    return Task(due, kind, message, severity_of(due, today, window_days), ref)


def syndic_tasks(today: date, *sources: Iterable[Task]) -> list[Task]:
    """The syndic's task list: every source's tasks merged, one per
    ``(kind, ref)`` (the earliest due wins), a task whose due day passed
    since its source built it marked overdue, sorted by due day then
    severity, kind and ref. Modules add their deadlines by passing their
    own iterable of :class:`Task` (e.g. the assembly's convocations)."""
    merged: dict[tuple[str, str], Task] = {}
    for source in sources:
        for item in source:
            if item.due < today and item.severity is not Severity.OVERDUE:
                item = replace(item, severity=Severity.OVERDUE)
            kept = merged.get((item.kind, item.ref))
            if kept is None or item.due < kept.due:
                merged[(item.kind, item.ref)] = item
    return sorted(
        merged.values(), key=lambda t: (t.due, _SEVERITY_ORDER[t.severity], t.kind, t.ref)
    )


def add_years(day: date, years: int) -> date:
    """The same day ``years`` later (29 February → 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


# -- rules ------------------------------------------------------------------------------------


def council_mandate_problems(
    mandate: CouncilMandate,
    others: Iterable[CouncilMandate],
    names: Mapping[str, str],
    syndic_person: str | None,
    translate: Translate = _,
) -> list[str]:
    """Why ``mandate`` cannot be recorded, given the council's ``others``
    (the mandate's own earlier version left out); empty when it can.

    - the member is a person of the registry (``names``: person id → name);
    - the syndic is not a member: the council supervises the syndic (art. 3.90 §1);
    - one person holds one seat at a time;
    - the council has one president at a time.
    """
    if mandate.person_id not in names:
        return [translate(N_("There is no person with id {id}.")).format(id=mandate.person_id)]
    problems = []
    if syndic_person and mandate.person_id == syndic_person:
        problems.append(
            translate(
                N_(
                    "The syndic cannot be a member of the council, which supervises the syndic "
                    "(art. 3.90)."
                )
            )
        )
    for other in sorted(others, key=lambda m: (m.start, m.id)):
        if other.id == mandate.id or not other.overlaps(mandate):
            continue
        period = _period(other, translate)
        if other.person_id == mandate.person_id:
            problems.append(
                translate(N_("{name} already sits on the council {period} (mandate {id}).")).format(
                    name=names[mandate.person_id], period=period, id=other.id
                )
            )
        elif mandate.role is CouncilRole.PRESIDENT and other.role is CouncilRole.PRESIDENT:
            problems.append(
                translate(
                    N_(
                        "{name} is already president of the council {period} (mandate {id}); "
                        "the council has one president at a time."
                    )
                ).format(
                    name=names.get(other.person_id, other.person_id), period=period, id=other.id
                )
            )
    return problems


def _period(mandate: CouncilMandate, translate: Translate) -> str:
    if mandate.until is None:
        return translate(N_("since {start}")).format(start=format_day(mandate.start))
    return translate(N_("from {start} to {until}")).format(
        start=format_day(mandate.start), until=format_day(mandate.until)
    )


def auditor_problems(
    auditor: Auditor,
    names: Mapping[str, str],
    syndic_person: str | None,
    translate: Translate = _,
) -> list[str]:
    """Why ``auditor`` cannot be recorded; empty when it can. The auditor
    is appointed by the assembly and is never the syndic (art. 3.91); an
    outside name equal to the syndic's is refused as well."""
    if auditor.person_id and auditor.person_id not in names:
        return [translate(N_("There is no person with id {id}.")).format(id=auditor.person_id)]
    syndic_name = names.get(syndic_person or "", "")
    if (syndic_person and auditor.person_id == syndic_person) or (
        syndic_name and auditor.name.strip().casefold() == syndic_name.strip().casefold()
    ):
        return [translate(N_("The syndic can never be the auditor of accounts (art. 3.91)."))]
    return []


def syndic_mandate_end(start: date | None, until: date | None) -> date | None:
    """The day the syndic's mandate ends by law: the recorded end, but never
    later than three years after it started (art. 3.89 §1)."""
    if start is None:
        return until
    latest = add_years(start, SYNDIC_MANDATE_YEARS)
    return latest if until is None else min(until, latest)


# -- the syndic's deadlines ---------------------------------------------------------------------


def council_tasks(
    today: date,
    required: bool,
    mandates: Sequence[CouncilMandate],
    names: Mapping[str, str],
    translate: Translate = _,
) -> list[Task]:
    """Art. 3.90 §1: from 20 lots (cellars, garages and parkings not counted)
    the council is mandatory — a task when nobody sits on it today; mandates
    ending within :data:`COUNCIL_ENDING_DAYS` and not taken over by a new
    mandate of the same person; two presidents at once (a merge of
    concurrent edits can make that)."""
    running = [m for m in mandates if m.running_on(today)]
    tasks = []
    if required and not running:
        ended = [m.until for m in mandates if m.until is not None and m.until < today]
        tasks.append(
            Task(
                max(ended) + timedelta(days=1) if ended else today,
                "council-missing",
                translate(
                    N_(
                        "The council is mandatory from 20 lots (art. 3.90 §1) but nobody sits "
                        "on it: put its election on the next assembly's agenda."
                    )
                ),
                Severity.OVERDUE,
                "council",
            )
        )
    for mandate in running:
        if mandate.until is None or (mandate.until - today).days > COUNCIL_ENDING_DAYS:
            continue
        if any(_takes_over(other, mandate) for other in mandates):
            continue
        tasks.append(
            task(
                today,
                mandate.until,
                "council-mandate-ending",
                translate(
                    N_(
                        "The council mandate of {name} ({role}) ends on {until}: renew it or "
                        "elect a successor at the assembly."
                    )
                ).format(
                    name=names.get(mandate.person_id, mandate.person_id),
                    role=translate(ROLE_LABELS[mandate.role]),
                    until=format_day(mandate.until),
                ),
                mandate.id,
                COUNCIL_ENDING_DAYS,
            )
        )
    presidents = sorted((m for m in running if m.role is CouncilRole.PRESIDENT), key=lambda m: m.id)
    if len(presidents) > 1:
        tasks.append(
            Task(
                today,
                "council-presidents",
                translate(
                    N_(
                        "The council has {count} presidents at once ({names}); end all mandates "
                        "but one."
                    )
                ).format(
                    count=len(presidents),
                    names=", ".join(names.get(m.person_id, m.person_id) for m in presidents),
                ),
                Severity.OVERDUE,
                ",".join(m.id for m in presidents),
            )
        )
    return tasks


def _takes_over(other: CouncilMandate, mandate: CouncilMandate) -> bool:
    """``other`` continues ``mandate``: same person, starting by the day after."""
    assert mandate.until is not None
    return (
        other.id != mandate.id
        and other.person_id == mandate.person_id
        and mandate.start < other.start <= mandate.until + timedelta(days=1)
        and (other.until is None or other.until > mandate.until)
    )


def auditor_tasks(
    today: date,
    fiscal_year: int,
    appointed: bool,
    assembly_period_start: date | None,
    translate: Translate = _,
) -> list[Task]:
    """Art. 3.91: the assembly appoints an auditor of accounts every year. A
    task, due on the first day of the ordinary assembly's period, when none
    is recorded for ``fiscal_year`` — once that period is known."""
    if appointed or assembly_period_start is None:
        return []
    return [
        task(
            today,
            assembly_period_start,
            "auditor-missing",
            translate(
                N_(
                    "No auditor of accounts is appointed for {year}: the ordinary assembly "
                    "appoints one every year (art. 3.91)."
                )
            ).format(year=fiscal_year),
            str(fiscal_year),
            AUDITOR_SOON_DAYS,
        )
    ]


def syndic_mandate_tasks(
    today: date, start: date | None, until: date | None, translate: Translate = _
) -> list[Task]:
    """Art. 3.89 §1: the syndic's mandate lasts at most three years. A task
    when the recorded mandate runs longer (it ends by law three years after
    it started, unless the assembly renews it expressly), and when it ends
    within :data:`SYNDIC_ENDING_DAYS` or has ended."""
    end = syndic_mandate_end(start, until)
    if end is None:
        return []
    if start is not None and (until is None or until > end):
        message = (
            translate(
                N_(
                    "The syndic's mandate is recorded until {until}, longer than the three years "
                    "the law allows (art. 3.89 §1): it ends on {end} unless the assembly renews it."
                )
            )
            if until is not None
            else translate(
                N_(
                    "The syndic's mandate has no end recorded; by law it ends on {end}, three "
                    "years after it started (art. 3.89 §1), unless the assembly renews it."
                )
            )
        )
        return [
            task(
                today,
                end,
                "syndic-mandate-too-long",
                message.format(until=format_day(until) if until else "", end=format_day(end)),
                "syndic",
                SYNDIC_ENDING_DAYS,
            )
        ]
    if (end - today).days > SYNDIC_ENDING_DAYS:
        return []
    message = (
        translate(
            N_(
                "The syndic's mandate ended on {end}: the assembly must renew it or appoint a "
                "syndic (art. 3.89 §1)."
            )
        )
        if end < today
        else translate(
            N_(
                "The syndic's mandate ends on {end}: convene the assembly to renew it or appoint "
                "a syndic (art. 3.89 §1)."
            )
        )
    )
    return [
        task(
            today,
            end,
            "syndic-mandate-ending",
            message.format(end=format_day(end)),
            "syndic",
            SYNDIC_ENDING_DAYS,
        )
    ]


def governance_tasks(
    today: date,
    *,
    council_required: bool,
    council: Sequence[CouncilMandate],
    names: Mapping[str, str],
    fiscal_year: int,
    auditor_appointed: bool,
    assembly_period_start: date | None = None,
    syndic_mandate_from: date | None = None,
    syndic_mandate_until: date | None = None,
    translate: Translate = _,
) -> list[Task]:
    """This module's share of the syndic's task list, sorted (see
    :func:`syndic_tasks` to merge it with other modules' tasks)."""
    return syndic_tasks(
        today,
        council_tasks(today, council_required, council, names, translate),
        auditor_tasks(today, fiscal_year, auditor_appointed, assembly_period_start, translate),
        syndic_mandate_tasks(today, syndic_mandate_from, syndic_mandate_until, translate),
    )
