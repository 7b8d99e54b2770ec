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
from node.i18n import _
from node.services.assembly import MeetingInfo
from node.services.registry import Change
from node.session import Session

from ...ops import Ops
from ...qt import QComboBox, QHBoxLayout, QLabel, QObject, QTimer, QWidget, Signal
from ...state import RegistryState
from ...widgets import ErrorLabel, WaitDialog, alive
from ..base import Page
from .data import Access, MeetingData, Snapshot, meeting_label, read_snapshot

REGISTRY_COLLECTIONS = frozenset({"association", "lots", "persons", "ownerships"})
"""Registry changes the assembly pages follow: the voter roll and the names
come from them until a meeting opens. A sync round reports every collection."""

ASSEMBLY_CHANGE = "assembly"
"""What :meth:`AssemblyContext.act` reports as changed: no other page shows it."""


class AssemblyContext(QObject):
    """The chosen meeting and what the worker last read of the assemblies."""

    changed = Signal()  # a new snapshot arrived
    access_changed = Signal()  # what this device may do changed (navigation)

    def __init__(self, ops: Ops, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.access: Access | None = None
        self.meetings: tuple[MeetingInfo, ...] = ()
        self.data: MeetingData | None = None
        self.meeting: str | None = None  # the chosen meeting
        self.pages: list[AssemblyPage] = []
        self.stale = True
        self.wait: WaitDialog | None = None
        self._request = 0
        self._soon = QTimer(self)  # several pages asking at once make one read
        self._soon.setSingleShot(True)
        self._soon.setInterval(0)
        self._soon.timeout.connect(lambda: self.load(background=True))

    # -- reading ------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read again now if an assembly page is in view (or nothing was read
        yet: the navigation needs to know what this device may do), else
        when one comes into view."""
        self.stale = True
        if self.access is None or any(page.isVisible() for page in self.pages):
            self._soon.start()

    def activated(self) -> None:
        """A page came into view: read again (quietly when nothing was
        missed), since enrolments and other devices' ballots do not always
        come as a registry change."""
        self.load(background=not self.stale)

    def choose(self, meeting: str | None) -> None:
        if meeting and meeting != self.meeting:
            self.meeting = meeting
            self.load()

    def load(self, background: bool = False) -> None:
        """Read the meetings and the chosen one (on the worker); a read that
        is not in the background shows a wait box if it lasts (many ballots
        to verify)."""
        self._soon.stop()
        self.stale = False
        self._request += 1
        request, chosen = self._request, self.meeting
        box = None
        if not background and self.pages:
            box = WaitDialog(_("Reading the meeting and its ballots…"), self.pages[0].window())
            self.wait = box

        def done(snapshot: Snapshot) -> None:
            if box is not None:
                box.finish()
            if request == self._request:
                self.apply(snapshot)

        def failed(exc: KoprogoError) -> None:
            if box is not None:
                box.finish()
            for page in self.pages:
                if alive(page):
                    page.error.show_message(str(exc))

        self.ops.run(lambda s: read_snapshot(s, chosen), done, failed, background=background)

    def apply(self, snapshot: Snapshot) -> None:
        access_changed = snapshot.access != self.access
        self.access = snapshot.access
        self.meetings = snapshot.meetings
        self.data = snapshot.data
        self.meeting = snapshot.data.id if snapshot.data else None
        if access_changed:
            self.access_changed.emit()
        self.changed.emit()

    # -- changing ---------------------------------------------------------------------------

    def act(
        self,
        fn: Callable[[Session], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[KoprogoError], None] | None = None,
        wait: str = "",
        select_result: bool = False,
    ) -> None:
        """One node call, then the meeting read again, in one worker job.
        ``on_done`` gets what the node call returned; ``select_result``: it
        returned a meeting id (a new meeting), which becomes the chosen one."""
        self._request += 1  # an older read still on its way is void
        chosen = self.meeting
        box = WaitDialog(wait, self.pages[0].window()) if wait and self.pages else None
        self.wait = box
        answer: dict[str, Any] = {}

        def work(session: Session) -> Change:
            result = fn(session)
            meeting = result if select_result else chosen
            answer["snapshot"] = read_snapshot(session, meeting)
            answer["result"] = result
            return Change.of(ASSEMBLY_CHANGE)

        def done(_update: Any) -> None:
            if box is not None:
                box.finish()
            self.apply(answer["snapshot"])
            if on_done is not None:
                on_done(answer["result"])

        def failed(exc: KoprogoError) -> None:
            if box is not None:
                box.finish()
            if on_error is not None:
                on_error(exc)
            else:
                self.ops.error.emit(str(exc))

        self.ops.change(work, on_done=done, on_error=failed)


def allow(widget: QWidget, why_not: str) -> None:
    """Enable ``widget`` when there is no reason against it; otherwise
    disable it with the reason as its tooltip (its own tooltip comes back)."""
    if widget.property("tip") is None:
        widget.setProperty("tip", widget.toolTip())
    widget.setEnabled(not why_not)
    widget.setToolTip(why_not or widget.property("tip"))


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
