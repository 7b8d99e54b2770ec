"""The council, the auditor of accounts, the syndic's mandate and the
syndic's task list: what the CLI and the desktop call.

Council mandates and auditors live in the ``registry`` document (its
``council`` and ``auditors`` maps), the syndic's mandate in its association.
Like :class:`~node.services.registry.RegistryService`, each operation checks
its input first (an :class:`InputError` changes nothing), makes one durable
edit that the registry's undo reverts, and returns a :class:`Change`.

Other modules add their deadlines to :meth:`GovernanceService.tasks` either
by passing them in (``tasks(today, assembly_tasks)``) or by registering a
source once with :meth:`GovernanceService.contribute`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from datetime import date
from typing import TYPE_CHECKING

from shared.ids import new_ulid
from shared.protocol import Role

from ..documents import registry_doc as rdoc
from ..documents.live import LiveDocument
from ..domain.accounting.ledger import fiscal_year_of
from ..domain.governance import (
    Auditor,
    CouncilMandate,
    CouncilRole,
    Task,
    auditor_problems,
    council_mandate_problems,
    governance_tasks,
    severity_of,
    syndic_tasks,
)
from ..domain.meeting import MeetingKind
from ..domain.registry import Registry, council_mandatory
from ..errors import InputError, NotFoundError, ProfileError
from ..i18n import _
from .registry import Change

if TYPE_CHECKING:
    from ..session import Session

TaskSource = Callable[[date], Iterable[Task]]
"""A module's contribution to the syndic's task list: its tasks on a day."""


class GovernanceService:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._sources: list[TaskSource] = []

    @property
    def _live(self) -> LiveDocument:
        return self._session.document("registry")

    def _read(self) -> Registry:
        return self._session.registry.read()

    def syndic_person(self) -> str | None:
        """The syndic's person id: the person of the syndic's own profile,
        when it names one (on other devices the syndic is not known here)."""
        store = self._session.profile.store
        role = store.get_meta("role")
        if role and role != Role.SYNDIC.value:
            return None
        return store.get_meta("person") or None

    def name_of(self, person_id: str) -> str:
        person = self._read().person(person_id)
        return person.name if person else person_id

    def _names(self, registry: Registry) -> dict[str, str]:
        return {p.id: p.name for p in registry.persons}

    # -- the council (art. 3.90) ------------------------------------------------------

    def council(self, on: date | None = None) -> tuple[CouncilMandate, ...]:
        """The council's mandates by start day; only those running ``on`` a day if given."""
        mandates = sorted(self._read().council, key=lambda m: (m.start, m.id))
        return tuple(m for m in mandates if on is None or m.running_on(on))

    def find_mandate(self, mandate_id: str) -> CouncilMandate:
        mandate = next((m for m in self._read().council if m.id == mandate_id), None)
        if mandate is None:
            raise NotFoundError(_("There is no council mandate {id}.").format(id=mandate_id))
        return mandate

    def add_council_member(
        self,
        person_id: str,
        start: date,
        role: CouncilRole = CouncilRole.MEMBER,
        until: date | None = None,
        meeting_id: str = "",
    ) -> Change:
        """Record a mandate on the council; returns the change with its id."""
        mandate = CouncilMandate(new_ulid(), person_id, role, start, until, meeting_id.strip())
        return self._put_mandate(mandate)

    def update_council_member(self, mandate_id: str, **fields: object) -> Change:
        """Change a mandate's ``person_id``, ``role``, ``start``, ``until``
        (``None`` to remove the end) or ``meeting_id``."""
        current = self.find_mandate(mandate_id)
        unknown = set(fields) - {"person_id", "role", "start", "until", "meeting_id"}
        if unknown:
            raise InputError(
                _("A council mandate has no field {names}.").format(
                    names=", ".join(sorted(unknown))
                )
            )
        return self._put_mandate(dataclasses.replace(current, **fields))  # type: ignore[arg-type]

    def end_council_member(self, mandate_id: str, until: date) -> Change:
        """End a mandate on ``until`` (its last day)."""
        return self.update_council_member(mandate_id, until=until)

    def remove_council_member(self, mandate_id: str) -> Change:
        """Delete a mandate recorded by mistake (an ended one is kept: it is history)."""
        self.find_mandate(mandate_id)
        with self._live.edit() as doc:
            rdoc.delete_record(doc, "council", mandate_id)
        return Change.of("council")

    def _put_mandate(self, mandate: CouncilMandate) -> Change:
        registry = self._read()
        problems = council_mandate_problems(
            mandate, registry.council, self._names(registry), self.syndic_person()
        )
        if problems:
            raise InputError(" ".join(problems))
        with self._live.edit() as doc:
            rdoc.put_record(doc, "council", mandate.id, rdoc.council_fields(mandate))
        return Change.of("council", record_id=mandate.id)

    # -- the auditor of accounts (art. 3.91) --------------------------------------------

    def auditors(self) -> tuple[Auditor, ...]:
        return tuple(sorted(self._read().auditors, key=lambda a: a.year))

    def auditor(self, year: int) -> Auditor | None:
        return self._read().auditor(year)

    def auditor_name(self, auditor: Auditor) -> str:
        return self.name_of(auditor.person_id) if auditor.person_id else auditor.name

    def set_auditor(
        self,
        year: int,
        *,
        person_id: str = "",
        name: str = "",
        owner: bool | None = None,
        meeting_id: str = "",
    ) -> Change:
        """Record the auditor the assembly appointed for fiscal ``year``
        (replacing an earlier one for that year): a person of the registry,
        or an outside ``name``. ``owner`` defaults to whether that person
        holds a lot (False for an outside name)."""
        registry = self._read()
        person_id, name = person_id.strip(), name.strip()
        if owner is None:
            owner = bool(person_id) and any(o.person_id == person_id for o in registry.ownerships)
        auditor = Auditor(year, person_id, name, owner, meeting_id.strip())
        problems = auditor_problems(auditor, self._names(registry), self.syndic_person())
        if problems:
            raise InputError(" ".join(problems))
        with self._live.edit() as doc:
            rdoc.put_record(doc, "auditors", rdoc.auditor_id(year), rdoc.auditor_fields(auditor))
        return Change.of("auditors", record_id=rdoc.auditor_id(year))

    def remove_auditor(self, year: int) -> Change:
        if self.auditor(year) is None:
            raise NotFoundError(
                _("No auditor of accounts is recorded for {year}.").format(year=year)
            )
        with self._live.edit() as doc:
            rdoc.delete_record(doc, "auditors", rdoc.auditor_id(year))
        return Change.of("auditors")

    # -- the syndic's mandate (art. 3.89 §1) --------------------------------------------

    def syndic_mandate(self) -> tuple[date | None, date | None]:
        association = self._read().association
        if association is None:
            return None, None
        return association.syndic_mandate_from, association.syndic_mandate_until

    def set_syndic_mandate(self, start: date | None, until: date | None) -> Change:
        """Record when the syndic's mandate started and ends (``None``: not
        known). A mandate longer than three years is recorded as the
        assembly decided it; :meth:`tasks` says when it ends by law."""
        if self._read().association is None:
            raise ProfileError(_("This profile holds no building yet."))
        if start is not None and until is not None and until < start:
            raise InputError(
                _("A mandate cannot end ({until}) before it starts ({start}).").format(
                    until=until, start=start
                )
            )
        return self._session.registry.set_association(
            syndic_mandate_from=start, syndic_mandate_until=until
        )

    # -- the syndic's tasks ------------------------------------------------------------------

    def contribute(self, source: TaskSource) -> None:
        """Add a module's deadlines to every later :meth:`tasks` call."""
        self._sources.append(source)

    def tasks(
        self,
        today: date,
        *sources: Iterable[Task],
        assembly_period_start: date | None = None,
    ) -> list[Task]:
        """What the syndic must do, overdue first, merged with ``sources``
        and with every contributed source. ``assembly_period_start`` is the
        first day of the ordinary assembly's 15-day period (the
        missing-auditor task waits for it); by default, that of the
        ordinary assembly planned in the current fiscal year, if any."""
        registry = self._read()
        association = registry.association
        if association is None:
            raise ProfileError(_("This profile holds no building yet."))
        fiscal_year = fiscal_year_of(today, association.fiscal_year_start)
        year = fiscal_year.label
        if assembly_period_start is None:
            assembly_period_start = self._ordinary_period(fiscal_year.start, fiscal_year.end)
        own = governance_tasks(
            today,
            council_required=council_mandatory(registry.lots),
            council=registry.council,
            names=self._names(registry),
            fiscal_year=year,
            auditor_appointed=registry.auditor(year) is not None,
            assembly_period_start=assembly_period_start,
            syndic_mandate_from=association.syndic_mandate_from,
            syndic_mandate_until=association.syndic_mandate_until,
        )
        contributed = [source(today) for source in self._sources]
        modules = [self._assembly_tasks(today), self._session.energy.tasks(today)]
        return syndic_tasks(today, own, *modules, *sources, *contributed)

    def _assembly_tasks(self, today: date) -> list[Task]:
        """The assembly's deadlines: convocations to send (15 days before),
        assemblies owners asked for (30 days), minutes to distribute (30 days)."""
        assembly = self._session.assembly
        messages = {
            "convocation": _("Send the convocations of {title} (15 days before the meeting)."),
            "request": _("Convene {title}: owners holding a fifth of the quotas asked for it."),
            "minutes": _("Distribute the minutes of {title} (within 30 days)."),
        }
        windows = {"convocation": 14, "request": 14, "minutes": 14}
        out = []
        for due, what, meeting in assembly.deadlines(today):
            title = assembly.info(meeting).title
            out.append(
                Task(
                    due,
                    f"assembly-{what}",
                    messages[what].format(title=title),
                    severity_of(due, today, windows[what]),
                    meeting,
                )
            )
        return out

    def _ordinary_period(self, first: date, last: date) -> date | None:
        """The first day of the period of the earliest ordinary assembly
        planned between ``first`` and ``last`` (its own day when it names
        no period)."""
        days = [
            info.period_start or info.starts.date()
            for info in self._session.assembly.meetings()
            if info.kind is MeetingKind.ORDINARY
            and first <= (info.period_start or info.starts.date()) <= last
        ]
        return min(days, default=None)
