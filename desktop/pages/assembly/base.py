"""What the assembly pages share: the meeting they show, read once for all
of them, and the one way they change it.

:class:`AssemblyContext` holds the chosen meeting and what the worker last
read of it (:class:`~.data.Snapshot`); choosing a meeting on one page
chooses it on all. Every change is one node call made through
:meth:`AssemblyContext.act`, which reads the meeting again in the same
worker job, so the screens show the node's state right after the edit — the
tally after a vote, the quorum after an arrival — and never a state between
the two. A refusal from the node changes nothing and is shown as such.
"""

from __future__ import annotations

from node.domain.meeting import MeetingKind
from node.i18n import N_, _
from node.services.assembly import MeetingInfo
from node.session import Session

from ..chosen import ChosenContext, ChosenPage
from .data import Access, MeetingData, Snapshot, meeting_label, read_snapshot

REGISTRY_COLLECTIONS = frozenset({"association", "lots", "persons", "ownerships"})
"""Registry changes the assembly pages follow: the voter roll and the names
come from them until a meeting opens. A sync round reports every collection."""

ASSEMBLY_CHANGE = "assembly"
"""What :meth:`AssemblyContext.act` reports as changed: no other page shows it."""


class AssemblyContext(ChosenContext):
    """The chosen meeting and what the worker last read of the assemblies."""

    change_name = ASSEMBLY_CHANGE
    read_wait = N_("Reading the meeting and its ballots…")  # many ballots to verify

    def read(self, session: Session, chosen: str | None) -> Snapshot:
        return read_snapshot(session, chosen)

    def records_of(self, snapshot: Snapshot) -> tuple[MeetingInfo, ...]:
        return snapshot.meetings

    @property
    def meetings(self) -> tuple[MeetingInfo, ...]:
        return self.records

    @property
    def meeting(self) -> str | None:
        """The chosen meeting."""
        return self.chosen

    @meeting.setter
    def meeting(self, meeting: str | None) -> None:
        self.chosen = meeting


class AssemblyPage(ChosenPage):
    """One assembly page: the meeting chooser, and what the context read."""

    collections = REGISTRY_COLLECTIONS
    needs_registry = False  # owners' devices and the shared computer see meetings too
    kinds: frozenset[MeetingKind] = frozenset(MeetingKind)  # the meetings this page shows
    choice_label = N_("&Meeting")
    choice_name = "meetingChoice"
    choose_hint = N_("Choose a meeting.")
    none_yet = N_("No meeting of this kind yet.")
    context: AssemblyContext

    # -- what subclasses give ------------------------------------------------------------

    def show_data(self, data: MeetingData | None) -> None:
        """Show the chosen meeting (``None``: none this page shows)."""

    def shows(self, info: MeetingInfo) -> bool:
        """Whether this page shows that meeting (the session: assemblies only)."""
        return info.kind in self.kinds

    # -- the shared parts -----------------------------------------------------------------

    def choosable(self) -> list[MeetingInfo]:
        return [m for m in self.context.meetings if self.shows(m)]

    def record_label(self, record: MeetingInfo) -> str:
        return meeting_label(record)

    @property
    def access(self) -> Access | None:
        return self.context.access

    @property
    def data(self) -> MeetingData | None:
        data = self.context.data
        return data if data is not None and self.shows(data.info) else None

    def why_read_only(self) -> str:
        """Why this device may not change the shown meeting ("" when it may)."""
        access = self.access
        if access is None:
            return _("Reading…")
        if not access.writable:
            return access.reason
        return self.data.read_only if self.data is not None else ""
