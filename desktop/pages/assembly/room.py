"""The session screen, built for a meeting room (issue 5, point 2).

It runs on the syndic's laptop with no network: every record is written
locally by the node and merged at the next sync (ARCHITECTURE §8). Large
type, the keyboard first, one resolution at a time:

* left, the attendance: an owner is marked present (now, or at the time
  typed), represented by a proxy holder (a proxy beyond the law is refused
  by the node with the reason, and nothing is recorded), or leaving; then
  "Open the meeting" fixes the roll and shows the quorum with its figures,
  and without quorum offers the second assembly;
* right, the resolution: its majority and why, every owner present or
  represented with their votes and the vote that counts (in the room, or
  their remote ballot, marked, until they vote in the room), the live
  tally as the node counts it, and conflicts between remote ballots.

Keys on the owners' lists: the letters shown on the buttons (For, Against,
Abstain, Everyone for; Present, Proxy, Left), Delete clears a vote, the
arrow keys move between owners, Page Up / Page Down between resolutions,
Tab between the two lists. Every action is one node call.
"""

from __future__ import annotations

from datetime import datetime

from node.domain.assembly import Vote
from node.domain.meeting import Item, MeetingKind
from node.i18n import N_, _
from node.session import Session

from ...labels import fmt_moment
from ...ops import Ops
from ...qt import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QScrollArea,
    QSplitter,
    Qt,
    QTime,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)
from ...widgets import FlowLayout, RecordDialog
from ..chosen import allow
from .base import AssemblyContext, AssemblyPage
from .data import (
    Access,
    MeetingData,
    category_reason,
    fmt_clock,
    fmt_starts,
    majority_label,
    quorum_figures,
    quorum_verdict,
    status_label,
)
from .dialogs import OpenDialog, ProxyDialog, SecondDialog, moment_of
from .tally import (
    ATTENDANCE_COLUMNS,
    EVERYONE_FOR,
    LEFT,
    PRESENT,
    PROXY,
    VOTE_COLUMNS,
    VOTE_KEYS,
    KeyTable,
    TallyPanel,
    attendance_rows,
    key_button,
    vote_rows,
)


def big_label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    return label


SESSION_MIN_HEIGHT = 500  # the room's screen needs it whole: below, the page scrolls


class SessionPage(AssemblyPage):
    title_msgid = N_("Session")
    kinds = frozenset({MeetingKind.ORDINARY, MeetingKind.EXTRAORDINARY})
    full_height = True  # the main window leaves out its problems panel here

    def __init__(self, ops: Ops, context: AssemblyContext, parent: QWidget | None = None) -> None:
        super().__init__(ops, context, parent)
        self.setProperty("room", True)
        self.item_id: str | None = None  # the resolution shown
        self.confirm: QMessageBox | None = None
        self.layout_.addWidget(self.chooser)
        self.error.setObjectName("roomError")
        self.layout_.addWidget(self.error)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self._make_attendance())
        split.addWidget(self._make_resolution())
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setChildrenCollapsible(False)
        split.setSizes([470, 600])
        # Found by hand: in a small window (1024 x 640) the tables shrank to
        # nothing and the buttons overlapped; below this height it scrolls.
        holder = QWidget()
        holder.setMinimumHeight(SESSION_MIN_HEIGHT)
        holder_layout = QVBoxLayout(holder)
        holder_layout.setContentsMargins(0, 0, 0, 0)
        holder_layout.addWidget(split)
        scroll = QScrollArea()
        scroll.setObjectName("sessionScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(holder)
        self.layout_.addWidget(scroll, 1)
        self.attendance.selectionModel().selectionChanged.connect(lambda *_a: self.update_actions())
        self.show_data(None)

    def available(self, access: Access) -> bool:
        return access.follows_sessions

    # -- building the screen ------------------------------------------------------------------

    def _make_attendance(self) -> QWidget:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 0, 8, 0)
        title = QLabel(_("Attendance"))
        title.setObjectName("roomSection")
        layout.addWidget(title)
        self.attendance = KeyTable(ATTENDANCE_COLUMNS, stretch=0, fit=True)
        self.attendance.setObjectName("attendanceTable")
        self.attendance.bind(PRESENT, self.mark_present)
        self.attendance.bind(PROXY, self.ask_proxy)
        self.attendance.bind(LEFT, self.mark_left)
        self.attendance.keys[Qt.Key.Key_PageUp] = lambda: self.step(-1)
        self.attendance.keys[Qt.Key.Key_PageDown] = lambda: self.step(1)
        layout.addWidget(self.attendance, 1)
        self.present_button = key_button(PRESENT, self.mark_present)
        self.proxy_button = key_button(PROXY, self.ask_proxy)
        self.left_button = key_button(LEFT, self.mark_left)
        row = FlowLayout()
        for button in (self.present_button, self.proxy_button, self.left_button):
            row.addWidget(button)
        layout.addLayout(row)
        when = QHBoxLayout()
        self.now = QCheckBox(_("Arrival &now"))
        self.now.setChecked(True)
        self.arrival = QTimeEdit()
        self.arrival.setDisplayFormat("HH:mm")
        self.arrival.setTime(QTime.currentTime())
        self.arrival.setEnabled(False)
        self.now.toggled.connect(lambda on: self.arrival.setEnabled(not on))
        when.addWidget(self.now)
        when.addWidget(QLabel(_("or at")))
        when.addWidget(self.arrival)
        when.addStretch(1)
        layout.addLayout(when)

        box = QFrame()
        box.setObjectName("quorumBox")
        inner = QVBoxLayout(box)
        self.quorum_title = QLabel()
        self.quorum_title.setObjectName("hint")
        self.quorum_verdict = big_label("quorumVerdict")
        self.quorum_figures = big_label("quorumFigures")
        inner.addWidget(self.quorum_title)
        inner.addWidget(self.quorum_verdict)
        inner.addWidget(self.quorum_figures)
        buttons = QHBoxLayout()
        self.open_button = self.button(_("&Open the meeting…"), self.ask_open)
        self.open_button.setObjectName("primary")
        self.second_button = self.button(_("Schedule a &second assembly…"), self.ask_second)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.second_button)
        buttons.addStretch(1)
        inner.addLayout(buttons)
        layout.addWidget(box)
        return panel

    def _make_resolution(self) -> QWidget:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(8, 0, 0, 0)
        self.position = QLabel()
        self.position.setObjectName("roomSection")
        self.resolution_title = big_label("resolutionTitle")
        self.majority = big_label("majorityLine")
        self.item_state = big_label("hint")
        for widget in (self.position, self.resolution_title, self.majority, self.item_state):
            layout.addWidget(widget)
        self.votes = KeyTable(VOTE_COLUMNS, stretch=3, fit=True)
        self.votes.setObjectName("votesTable")
        for vote, msgid in VOTE_KEYS.items():
            self.votes.bind(msgid, lambda vote=vote: self.cast(vote))
        self.votes.bind(EVERYONE_FOR, self.everyone_for)
        for key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.votes.keys[key] = lambda: self.cast(None)
        self.votes.keys[Qt.Key.Key_PageUp] = lambda: self.step(-1)
        self.votes.keys[Qt.Key.Key_PageDown] = lambda: self.step(1)
        layout.addWidget(self.votes, 1)
        row = FlowLayout()
        self.vote_buttons = {
            vote: key_button(msgid, lambda vote=vote: self.cast(vote))
            for vote, msgid in VOTE_KEYS.items()
        }
        self.clear_button = key_button(N_("Clear"), lambda: self.cast(None), _("Del"))
        self.everyone_button = key_button(EVERYONE_FOR, self.everyone_for)
        self.everyone_button.setToolTip(
            _(
                "Everyone present or represented votes for, except those already marked "
                "against or abstaining: then mark the exceptions"
            )
        )
        for button in (self.everyone_button, *self.vote_buttons.values(), self.clear_button):
            row.addWidget(button)
        layout.addLayout(row)
        self.tally = TallyPanel()
        layout.addWidget(self.tally)
        self.conflicts = big_label("inlineError")
        layout.addWidget(self.conflicts)
        nav = FlowLayout()
        self.previous_button = key_button(N_("Previous"), lambda: self.step(-1), _("PgUp"))
        self.close_item_button = self.button(_("Close the &vote"), self.close_vote)
        self.close_item_button.setObjectName("primary")
        self.next_button = key_button(N_("Next"), lambda: self.step(1), _("PgDn"))
        self.close_button = self.button(_("Close the &meeting…"), self.ask_close)
        for widget in (
            self.previous_button,
            self.close_item_button,
            self.next_button,
            self.close_button,
        ):
            nav.addWidget(widget)
        layout.addLayout(nav)
        return panel

    # -- showing ---------------------------------------------------------------------------------

    def status_text(self, data: MeetingData) -> str:
        info = data.info
        text = _("{status} · {moment}, {place}").format(
            status=status_label(info),
            moment=fmt_starts(info),
            place=info.place,
        )
        if info.opened_at:
            text += " · " + _("opened at {time}").format(time=fmt_clock(info.opened_at))
        if info.closed_at:
            text += " · " + _("closed at {time}").format(time=fmt_clock(info.closed_at))
        return text

    def show_data(self, data: MeetingData | None) -> None:
        self.attendance.set_rows(attendance_rows(data) if data else [])
        if data is not None and self.attendance.current_row() is None and data.owners():
            self.attendance.selectRow(0)
        agenda = data.agenda() if data else ()
        if self.item_id not in {i.id for i in agenda}:
            self.item_id = agenda[0].id if agenda else None
        self._show_quorum(data)
        self._show_item(data)
        self.update_actions()

    def _show_quorum(self, data: MeetingData | None) -> None:
        quorum = data.outcome.quorum if data else None
        if data is None or quorum is None:
            for label in (self.quorum_title, self.quorum_verdict, self.quorum_figures):
                label.clear()
            return
        info = data.info
        if info.opened_at is None:
            self.quorum_title.setText(_("If the meeting opened now:"))
        else:
            self.quorum_title.setText(
                _("Quorum at the opening, {time}:").format(time=fmt_clock(info.opened_at))
            )
        self.quorum_verdict.setText(quorum_verdict(quorum))
        self.quorum_verdict.setProperty("reached", str(quorum.reached).lower())
        self.quorum_verdict.style().unpolish(self.quorum_verdict)
        self.quorum_verdict.style().polish(self.quorum_verdict)
        self.quorum_figures.setText(quorum_figures(quorum))

    def current_item(self) -> Item | None:
        data = self.data
        if data is None or self.item_id is None:
            return None
        return next((i for i in data.agenda() if i.id == self.item_id), None)

    def _show_item(self, data: MeetingData | None) -> None:
        item = self.current_item()
        if data is None or item is None:
            self.position.setText(_("Resolutions"))
            self.resolution_title.setText(_("The agenda is empty.") if data else "")
            for label in (self.majority, self.item_state, self.conflicts):
                label.clear()
            self.votes.set_rows([])
            self.tally.show_result(None)
            return
        agenda = data.agenda()
        number = data.number(item.id)
        self.position.setText(_("Resolution {n} of {total}").format(n=number, total=len(agenda)))
        self.resolution_title.setText(f"{number}. {item.title}")
        reason = category_reason(item.category)
        self.majority.setText(
            _("{majority} — {reason}").format(majority=majority_label(item.majority), reason=reason)
        )
        self.item_state.setText(
            _("Vote closed at {time}.").format(time=fmt_clock(item.voted_at))
            if item.voted_at
            else (item.text or "")
        )
        self.votes.set_rows(vote_rows(data, item))
        if self.votes.current_row() is None and self.votes.rows():
            self.votes.selectRow(0)
        self.tally.show_result(data.result(item.id), len(data.outcome.owners))
        self.conflicts.setText(
            "\n".join(
                _(
                    "{name} sent remote ballots that differ on this item: neither counts until "
                    "one is withdrawn or {name} votes in the room."
                ).format(name=data.name(c.person))
                for c in data.conflicts(item.id)
            )
        )

    # -- what may be done ---------------------------------------------------------------------

    def _session_reason(self) -> str:
        """Why attendance cannot be recorded now ("" when it can)."""
        data = self.data
        if data is None:
            return _("Choose a meeting first.")
        if data.info.closed_at is not None:
            return _("The meeting is closed.")
        return self.why_read_only()

    def _vote_reason(self) -> str:
        data, item = self.data, self.current_item()
        reason = self._session_reason()
        if reason or data is None:
            return reason
        if data.info.opened_at is None:
            return _("Open the meeting first.")
        quorum = data.outcome.quorum
        if quorum is not None and not quorum.reached:
            return _("The quorum is not reached: the meeting cannot vote.")
        if item is None:
            return _("The agenda is empty.")
        if item.voted_at is not None:
            return _("The vote on this item is closed.")
        return ""

    def update_actions(self) -> None:
        data = self.data
        session = self._session_reason()
        chosen = "" if self.attendance.current_row() else _("Choose an owner first.")
        for button in (self.present_button, self.proxy_button, self.left_button):
            allow(button, session or chosen)
        opening = session
        if not opening and data and data.info.opened_at:
            opening = _("The meeting is open.")
        allow(self.open_button, opening)
        self.open_button.setVisible(data is None or data.info.opened_at is None)
        second = session or ("" if data and data.info.opened_at else _("Open the meeting first."))
        quorum = data.outcome.quorum if data else None
        if not second and quorum is not None and quorum.reached:
            second = _("The quorum is reached: no second assembly is needed.")
        allow(self.second_button, second)
        self.second_button.setVisible(bool(quorum) and not quorum.reached)
        vote = self._vote_reason()
        for button in (*self.vote_buttons.values(), self.clear_button, self.everyone_button):
            allow(button, vote)
        allow(self.close_item_button, vote)
        agenda = data.agenda() if data else ()
        index = self._index()
        self.previous_button.setEnabled(index > 0)
        self.next_button.setEnabled(0 <= index < len(agenda) - 1)
        closing = session or ("" if data and data.info.opened_at else _("Open the meeting first."))
        allow(self.close_button, closing)

    def _index(self) -> int:
        agenda = self.data.agenda() if self.data else ()
        return next((n for n, i in enumerate(agenda) if i.id == self.item_id), -1)

    # -- attendance ------------------------------------------------------------------------------

    def _arrival(self) -> datetime | None:
        if self.now.isChecked() or self.data is None:
            return None
        return datetime.combine(self.data.info.starts.date(), self.arrival.time().toPython())

    def _refuse(self, reason: str) -> bool:
        if reason:
            self.error.show_message(reason)
        return bool(reason)

    def mark_present(self) -> None:
        row, data = self.attendance.current_row(), self.data
        if data is None or row is None or self._refuse(self._session_reason()):
            return
        meeting, person, at = data.id, row.id, self._arrival()
        self.act(lambda s: s.assembly.attend(meeting, person, "present", at=at))

    def mark_left(self) -> None:
        row, data = self.attendance.current_row(), self.data
        if data is None or row is None or self._refuse(self._session_reason()):
            return
        meeting, person, at = data.id, row.id, self._arrival()
        self.act(lambda s: s.assembly.leave(meeting, person, at))

    def ask_proxy(self) -> None:
        row, data = self.attendance.current_row(), self.data
        if data is None or row is None or self._refuse(self._session_reason()):
            return
        holders = [(p, data.name(p)) for p in data.owners() if p != row.id]
        dialog = ProxyDialog(row.id, row.name, holders, self)
        self.open_dialog(dialog, self._save_proxy)

    def _save_proxy(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, ProxyDialog) and self.data is not None
        meeting, person = self.data.id, dialog.person
        holder, at = dialog.chosen_holder(), self._arrival()
        dialog.save_button.setEnabled(False)
        self.act(
            lambda s: s.assembly.attend(meeting, person, "proxy", holder, at),
            on_done=lambda _c: dialog.accept(),
            on_error=dialog.show_error,
        )

    def ask_open(self) -> None:
        data = self.data
        if data is None or self._refuse(self._session_reason()):
            return
        present = [(p, data.name(p)) for p in data.owners() if data.in_room(p)]
        self.open_dialog(OpenDialog(present, self), self._save_open)

    def _save_open(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, OpenDialog) and self.data is not None
        meeting = self.data.id
        chair, secretary = dialog.chair.currentText(), dialog.secretary.currentText()
        dialog.save_button.setEnabled(False)

        def opened(done: tuple) -> None:
            quorum, early = done
            dialog.accept()
            self.votes.setFocus()
            self.message.emit(" ".join(filter(None, (quorum_verdict(quorum), early))))

        def open_it(s: Session) -> tuple:
            quorum = s.assembly.open(meeting, chair=chair, secretary=secretary)
            return quorum, s.assembly.opened_early(meeting)

        self.act(
            open_it,
            on_done=opened,
            on_error=dialog.show_error,
        )

    def ask_second(self) -> None:
        data = self.data
        if data is None:
            return
        self.open_dialog(SecondDialog(data.info, self), self._save_second)

    def _save_second(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, SecondDialog) and self.data is not None
        meeting, starts, place = self.data.id, moment_of(dialog.starts), dialog.place.text()
        dialog.save_button.setEnabled(False)

        def scheduled(_second: str) -> None:
            dialog.accept()
            self.message.emit(
                _("The second assembly is scheduled on {moment}; convene it on Meetings.").format(
                    moment=fmt_moment(starts)
                )
            )

        self.act(
            lambda s: s.assembly.schedule_second(meeting, starts, place),
            on_done=scheduled,
            on_error=dialog.show_error,
            select_result=True,
        )

    # -- votes -------------------------------------------------------------------------------------

    def step(self, by: int) -> None:
        """Go to the previous or next resolution (Page Up / Page Down)."""
        agenda = self.data.agenda() if self.data else ()
        index = self._index() + by
        if 0 <= index < len(agenda):
            self.item_id = agenda[index].id
            self.error.clear_message()
            self._show_item(self.data)
            self.update_actions()

    def cast(self, vote: Vote | None) -> None:
        """The selected owner's vote in the room (``None`` clears it)."""
        data, item, row = self.data, self.current_item(), self.votes.current_row()
        if data is None or item is None or self._refuse(self._vote_reason()):
            return
        if row is None:
            self.error.show_message(_("Choose an owner first."))
            return
        meeting, item_id, person = data.id, item.id, row.id
        self.act(lambda s: s.assembly.vote(meeting, item_id, person, vote))

    def everyone_for(self) -> None:
        data, item = self.data, self.current_item()
        if data is None or item is None or self._refuse(self._vote_reason()):
            return
        result = data.result(item.id)
        keep = {
            p: v
            for p, v in (result.votes.items() if result else ())
            if v is not Vote.FOR
            and result.source.get(p) == "room"
            and data.in_room(p)
            and p not in item.excluded
        }
        meeting, item_id = data.id, item.id
        self.act(lambda s: s.assembly.vote_all(meeting, item_id, Vote.FOR, keep))

    def close_vote(self) -> None:
        data, item = self.data, self.current_item()
        if data is None or item is None or self._refuse(self._vote_reason()):
            return
        meeting, item_id = data.id, item.id

        def closed(_change: object) -> None:
            self.step(1)
            self.votes.setFocus()

        self.act(lambda s: s.assembly.close_item(meeting, item_id), on_done=closed)

    def ask_close(self) -> None:
        data = self.data
        if data is None or self._refuse(self._session_reason()):
            return
        box = QMessageBox(self.window())
        box.setObjectName("closeMeetingBox")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(_("Close the meeting"))
        box.setText(_("Close “{title}”?").format(title=data.info.title))
        box.setInformativeText(
            _(
                "No vote can be recorded afterwards, and remote ballots signed later are "
                "refused. The results and the minutes are then final."
            )
        )
        close = box.addButton(_("Close the meeting"), QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(_("Cancel"), QMessageBox.ButtonRole.RejectRole)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        meeting = data.id

        def answered(button: object) -> None:
            if button is close:
                self.act(
                    lambda s: s.assembly.close(meeting),
                    on_done=lambda _c: self.message.emit(_("The meeting is closed.")),
                )

        box.buttonClicked.connect(answered)
        self.confirm = box
        box.open()
