"""What the governance pages share: what the worker read for them (is this
the syndic's device, the meetings that may have decided a mandate, the
syndic's tasks), read once for all of them, and the words they show.

The council and the auditors come with the registry's state like every
registry page; only what the registry does not hold is read here
(:func:`read_governance`): the tasks also depend on the assemblies, the
energy campaigns and the day. Every edit goes through
:class:`~node.services.governance.GovernanceService`, which edits the
registry document, so the window's undo reverts it like any registry edit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from node.domain.governance import CouncilRole, Severity, Task
from node.errors import KoprogoError
from node.i18n import N_, _
from node.services.registry import Change
from node.session import Session
from shared.protocol import Role

from ...labels import date_pattern
from ...ops import Ops
from ...qt import QComboBox, QDate, QDateEdit, QObject, QTimer, QWidget, Signal
from ...state import RegistryState, Update
from ...widgets import ErrorLabel, RecordDialog, alive
from ..assembly.data import meeting_label
from ..base import Page

REGISTRY_COLLECTIONS = frozenset(
    {"association", "lots", "persons", "ownerships", "council", "auditors"}
)
"""Registry changes the governance pages show: names, the legal lot count,
who holds a lot (an auditor's "owner"), the mandates themselves."""

ROLE_LABELS = {CouncilRole.PRESIDENT: N_("President"), CouncilRole.MEMBER: N_("Member")}

SEVERITY_LABELS = {
    Severity.OVERDUE: N_("Overdue"),
    Severity.SOON: N_("Due soon"),
    Severity.LATER: N_("Later"),
}
"""A task's urgency in words: the colour of its cell only repeats it."""

NO_DATE = QDate(1900, 1, 1)  # an optional date field's "—"


def role_label(role: CouncilRole) -> str:
    return _(ROLE_LABELS[role])


def severity_label(severity: Severity) -> str:
    return _(SEVERITY_LABELS[severity])


# -- what the worker reads ------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingChoice:
    """A meeting that may have appointed someone: its id and how it is named."""

    id: str
    label: str


@dataclass(frozen=True)
class GovernanceData:
    """What one worker job read for the governance pages."""

    syndic_device: bool  # the pages and the start-up alert show on this device
    today: date
    meetings: tuple[MeetingChoice, ...] = ()
    tasks: tuple[Task, ...] = ()

    def meeting_label(self, meeting_id: str) -> str:
        """How a meeting is named; its id when it is not (or no longer) known here."""
        if not meeting_id:
            return ""
        return next((m.label for m in self.meetings if m.id == meeting_id), meeting_id)

    def urgent(self) -> tuple[int, int]:
        """How many tasks are overdue, and how many due soon."""
        overdue = sum(1 for t in self.tasks if t.severity is Severity.OVERDUE)
        soon = sum(1 for t in self.tasks if t.severity is Severity.SOON)
        return overdue, soon


def syndic_device(session: Session) -> bool:
    """The syndic's device: a profile never synced (the building's own,
    made here) or one enrolled as syndic — and it can read the registry."""
    role = session.profile.store.get_meta("role") or ""
    return role in ("", Role.SYNDIC.value) and session.can_read("registry")


def read_governance(session: Session, today: date) -> GovernanceData:
    """On the worker: whether this is the syndic's device and, if so, the
    meetings and the syndic's tasks on ``today``."""
    if not syndic_device(session):
        return GovernanceData(False, today)
    meetings = tuple(
        MeetingChoice(m.id, meeting_label(m))
        for m in sorted(session.assembly.meetings(), key=lambda m: m.starts, reverse=True)
    )
    has_building = session.registry.read().association is not None
    tasks = tuple(session.governance.tasks(today)) if has_building else ()
    return GovernanceData(True, today, meetings, tasks)


class GovernanceContext(QObject):
    """What the worker last read for the governance pages, shared by all of them."""

    changed = Signal()  # new data arrived
    access_changed = Signal()  # whether this is the syndic's device changed (navigation)
    failed = Signal(str)  # the read was refused, in words
    tasks_seen = Signal()  # the task list came into view (the start-up alert has done its job)

    def __init__(self, ops: Ops, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.data: GovernanceData | None = None
        self.pages: list[GovernancePage] = []
        self.stale = True
        self._request = 0
        self._soon = QTimer(self)  # several pages asking at once make one read
        self._soon.setSingleShot(True)
        self._soon.setInterval(0)
        self._soon.timeout.connect(lambda: self.load(background=True))

    @property
    def syndic_device(self) -> bool:
        return self.data is not None and self.data.syndic_device

    def refresh(self) -> None:
        """Read again now if nothing was read yet (the navigation and the
        start-up alert wait for it) or a governance page is in view; else
        when one comes into view."""
        self.stale = True
        if self.data is None or any(alive(p) and p.isVisible() for p in self.pages):
            self._soon.start()

    def activated(self) -> None:
        """A page came into view: the day or the assemblies may have changed."""
        self.load(background=not self.stale)

    def load(self, background: bool = False) -> None:
        self._soon.stop()
        self.stale = False
        self._request += 1
        request = self._request

        def done(data: GovernanceData) -> None:
            if request == self._request:
                self.apply(data)

        def refused(exc: KoprogoError) -> None:
            if request == self._request:
                self.failed.emit(str(exc))

        self.ops.run(
            lambda s: read_governance(s, date.today()), done, refused, background=background
        )

    def apply(self, data: GovernanceData) -> None:
        access_changed = self.data is None or data.syndic_device != self.data.syndic_device
        self.data = data
        if access_changed:
            self.access_changed.emit()
        self.changed.emit()


# -- pages ---------------------------------------------------------------------------------------


class GovernancePage(Page):
    """One governance page: the registry's state, and what the context read."""

    collections = REGISTRY_COLLECTIONS

    def __init__(self, ops: Ops, context: GovernanceContext, parent: QWidget | None = None) -> None:
        super().__init__(ops, parent)
        self.context = context
        context.pages.append(self)
        self.error = ErrorLabel()
        context.changed.connect(self._context_changed)
        context.failed.connect(self._context_failed)

    @property
    def data(self) -> GovernanceData | None:
        return self.context.data

    def redraw(self) -> None:
        """Show the registry's state and the context's data (either may be missing)."""

    def show_state(self, state: RegistryState) -> None:
        super().show_state(state)
        self.redraw()
        self.context.refresh()  # a mandate added or ended changes the tasks

    def activated(self) -> None:
        self.context.activated()

    def synced(self) -> None:
        self.context.refresh()

    def _context_changed(self) -> None:
        if alive(self):
            self.error.clear_message()
            self.redraw()

    def _context_failed(self, message: str) -> None:
        if alive(self):
            self.error.show_message(message)

    def save(
        self,
        dialog: RecordDialog | None,
        fn: Callable[[Session], Change],
        message: str,
        on_refused: Callable[[KoprogoError], None] | None = None,
    ) -> None:
        """One governance edit. Accepted: the dialog closes, the record it
        made is selected and the status bar says how to undo it. Refused:
        the node's reason is shown in the dialog (or ``on_refused``) and
        nothing changed."""
        if dialog is not None:
            dialog.save_button.setEnabled(False)

        def done(update: Update) -> None:
            if dialog is not None and alive(dialog):
                dialog.accept()
            if update.change.record_id:
                self.select_record(update.change.record_id)
            self.message.emit(message)

        def refused(exc: KoprogoError) -> None:
            if dialog is not None and alive(dialog):
                dialog.show_error(exc)
            elif on_refused is not None:
                on_refused(exc)
            else:
                self.error.show_message(str(exc))

        self.ops.change(fn, on_done=done, on_error=refused)


# -- small form helpers ---------------------------------------------------------------------------


def meeting_choice(meetings: tuple[MeetingChoice, ...], current: str = "") -> QComboBox:
    """The meeting that decided it, or none; a meeting id no longer listed
    (recorded by the command line) is kept as it is."""
    combo = QComboBox()
    combo.setObjectName("meetingChoice")
    combo.setMinimumWidth(320)
    combo.addItem(_("— none recorded —"), "")
    for meeting in meetings:
        combo.addItem(meeting.label, meeting.id)
    if current and combo.findData(current) < 0:
        combo.addItem(current, current)
    combo.setCurrentIndex(max(combo.findData(current), 0))
    return combo


def optional_date_edit(day: date | None) -> QDateEdit:
    """A date that may be left empty ("—", the earliest date)."""
    edit = QDateEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat(date_pattern())
    edit.setMinimumDate(NO_DATE)
    edit.setSpecialValueText("—")
    set_optional_day(edit, day)
    return edit


def set_optional_day(edit: QDateEdit, day: date | None) -> None:
    edit.setDate(QDate(day.year, day.month, day.day) if day else NO_DATE)


def optional_day(edit: QDateEdit) -> date | None:
    value = edit.date()
    if value == NO_DATE:
        return None
    return date(value.year(), value.month(), value.day())
