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

from collections.abc import Callable
from typing import Any

from node.domain.meeting import MeetingKind
from node.errors import KoprogoError
from node.i18n import N_, _
from node.services.assembly import MeetingInfo
from node.session import Session

from ...ops import Ops
from ...qt import QComboBox, QHBoxLayout, QLabel, QWidget
from ...state import RegistryState
from ...widgets import ErrorLabel, alive
from ..base import Page
from ..chosen import ChosenContext
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


class AssemblyPage(Page):
    """One assembly page: the meeting chooser, and what the context read."""

    collections = REGISTRY_COLLECTIONS
    needs_registry = False  # owners' devices and the shared computer see meetings too
    kinds: frozenset[MeetingKind] = frozenset(MeetingKind)  # the meetings this page shows

    def __init__(self, ops: Ops, context: AssemblyContext, parent: QWidget | None = None) -> None:
        super().__init__(ops, parent)
        self.context = context
        context.pages.append(self)
        self.meeting_choice = QComboBox()
        self.meeting_choice.setObjectName("meetingChoice")
        self.meeting_choice.setMinimumWidth(320)
        self.meeting_choice.activated.connect(self._meeting_chosen)
        self.meeting_status = QLabel()
        self.meeting_status.setObjectName("hint")
        self.meeting_status.setWordWrap(True)
        self.chooser = QWidget(self)  # pages add it where they want it
        bar = QHBoxLayout(self.chooser)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(8)
        label = QLabel(_("&Meeting"))
        label.setBuddy(self.meeting_choice)
        bar.addWidget(label)
        bar.addWidget(self.meeting_choice)
        bar.addWidget(self.meeting_status, 1)
        self.error = ErrorLabel()
        context.changed.connect(self._context_changed)

    # -- what subclasses give ------------------------------------------------------------

    def available(self, access: Access) -> bool:
        """Whether this device shows the page at all."""
        return True

    def show_data(self, data: MeetingData | None) -> None:
        """Show the chosen meeting (``None``: none this page shows)."""

    def shows(self, info: MeetingInfo) -> bool:
        """Whether this page shows that meeting (the session: assemblies only)."""
        return info.kind in self.kinds

    # -- the shared parts -----------------------------------------------------------------

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

    def show_state(self, state: RegistryState) -> None:
        super().show_state(state)
        self.context.refresh()

    def activated(self) -> None:
        self.context.activated()
        self._context_changed()

    def synced(self) -> None:
        self.context.refresh()

    def _context_changed(self) -> None:
        if not alive(self):
            return
        shown = [m for m in self.context.meetings if self.shows(m)]
        self.meeting_choice.blockSignals(True)
        self.meeting_choice.clear()
        for info in shown:
            self.meeting_choice.addItem(meeting_label(info), info.id)
        self.meeting_choice.setCurrentIndex(self.meeting_choice.findData(self.context.meeting))
        self.meeting_choice.blockSignals(False)
        data = self.data
        if data is None:
            self.meeting_status.setText(
                _("Choose a meeting.") if shown else _("No meeting of this kind yet.")
            )
        else:
            self.meeting_status.setText(self.status_text(data))
        self.show_data(data)

    def status_text(self, data: MeetingData) -> str:
        return ""

    def _meeting_chosen(self, index: int) -> None:
        self.error.clear_message()
        self.context.choose(self.meeting_choice.itemData(index))

    def act(
        self,
        fn: Callable[[Session], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[KoprogoError], None] | None = None,
        wait: str = "",
        select_result: bool = False,
    ) -> None:
        """One change to the meeting; the node's refusal is shown on the page."""
        self.error.clear_message()

        def refused(exc: KoprogoError) -> None:
            if alive(self):
                self.error.show_message(str(exc))

        self.context.act(fn, on_done, on_error or refused, wait, select_result)
