"""Remote ballots (issue 5, point 3).

On an owner's own device: the convocation's agenda with an answer per
item, and "Sign and send my ballot" — the node signs it with the device's
key into the owner's ``ballots/<meeting>/<person>`` document, which reaches
the syndic at the next sync. On the building's shared computer, an owner
enrolled there chooses who they are and gives their PIN; the node opens
their key with it, signs, and forgets the key.

Below, the owner's signed ballots: where each was signed, and what the node
says of it — counted, refused (with why), or in conflict with another of
their ballots, in which case the owner may withdraw one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from node.domain.assembly import Vote
from node.domain.meeting import Item, MeetingKind
from node.errors import KoprogoError
from node.i18n import N_, _
from node.services.assembly import RATING_SCALE, BallotRecord, MeetingInfo

from ...qt import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QLabel,
    QRadioButton,
    QScrollArea,
    QWidget,
)
from ...table import Column, RecordTable
from ...widgets import hint
from ..chosen import allow
from ..kiosk import WhoAtKiosk
from .base import AssemblyPage
from .data import (
    Access,
    MeetingData,
    answer_label,
    answer_text,
    fmt_moment,
    fmt_starts,
    majority_label,
    vote_label,
)


def answers_of(item: Item, kind: MeetingKind) -> list[tuple[str, str]]:
    """(answer as the node takes it, label) for one item."""
    if kind is not MeetingKind.POLL:
        return [(v.value, vote_label(v)) for v in Vote]
    if item.answers == "yes_no":
        return [("yes", answer_label("yes")), ("no", answer_label("no"))]
    if item.answers == "rating":
        return [(r, r) for r in RATING_SCALE]
    return [(o, o) for o in item.options]


@dataclass(frozen=True)
class BallotRow:
    id: str
    signed_at: datetime
    signed_on: str
    answers: str
    status: str
    conflict: bool


def ballot_rows(data: MeetingData, person: str, device: str) -> list[BallotRow]:
    conflicting = {b for c in data.conflicts(person=person) for b in c.ballots}
    rows = []
    for ballot in data.ballots:
        if ballot.person != person:
            continue
        rows.append(
            BallotRow(
                ballot.id,
                ballot.signed_at,
                _signed_on(ballot, device),
                _answers_text(data, ballot),
                _status(data, ballot, conflicting),
                ballot.id in conflicting,
            )
        )
    return sorted(rows, key=lambda r: r.signed_at, reverse=True)


def _signed_on(ballot: BallotRecord, device: str) -> str:
    if ballot.signer == device:
        return _("This device")
    if ballot.signer.startswith("kiosk:"):
        return _("The building's shared computer")
    return _("Another of your devices")


def _answers_text(data: MeetingData, ballot: BallotRecord) -> str:
    parts = []
    for item in data.agenda():
        if item.id in ballot.votes:
            parts.append(f"{data.number(item.id)}. {answer_text(ballot.votes[item.id])}")
    return " · ".join(parts)


def _status(data: MeetingData, ballot: BallotRecord, conflicting: set[str]) -> str:
    if ballot.id in data.refusals:
        return _("Refused: {why}").format(why=data.refusals[ballot.id])
    if ballot.id in conflicting:
        return _("Differs from another of your ballots: withdraw one")
    return _("Counted (a vote in the room replaces it)")


BALLOT_COLUMNS = (
    Column(N_("Signed"), lambda r: fmt_moment(r.signed_at), sort=lambda r: r.signed_at),
    Column(N_("Signed on"), lambda r: r.signed_on),
    Column(N_("Answers"), lambda r: r.answers),
    Column(N_("Status"), lambda r: r.status, warn=lambda r: r.conflict),
)


class BallotPage(AssemblyPage):
    title_msgid = N_("Remote ballot")

    def __init__(self, ops, context, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(ops, context, parent)
        self.groups: dict[str, QButtonGroup] = {}
        self.shown_items: tuple[tuple[str, str], ...] = ()  # (meeting, item) of the questions
        self.signed_for: str | None = None  # on the shared computer: who just signed
        self.layout_.addWidget(self.chooser)
        self.terms = hint()
        self.terms.setObjectName("ballotTerms")
        self.layout_.addWidget(self.terms)

        self.who = WhoAtKiosk(
            lambda: self.access,
            _(
                "No owner has enrolled on this computer yet: enrol on “Residents' inboxes” "
                "with the invite the syndic gave you, then vote here with your PIN."
            ),
        )
        self.who.chosen.connect(self._resident_changed)
        self.layout_.addWidget(self.who)

        self.questions = QWidget()
        self.grid = QGridLayout(self.questions)
        self.grid.setColumnStretch(0, 1)
        scroll = QScrollArea()
        scroll.setObjectName("ballotQuestions")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.questions)
        self.layout_.addWidget(scroll, 2)
        self.sign_button = self.button(_("&Sign and send my ballot"), self.sign)
        self.sign_button.setObjectName("primary")
        self.layout_.addLayout(self.toolbar(self.sign_button))
        self.layout_.addWidget(self.error)

        self.mine_title = QLabel(_("Your signed ballots"))
        self.mine_title.setObjectName("sectionTitle")
        self.layout_.addWidget(self.mine_title)
        self.mine = RecordTable(BALLOT_COLUMNS, stretch=2)
        self.mine.setObjectName("myBallots")
        self.withdraw_button = self.button(
            _("&Withdraw this ballot"),
            self.withdraw,
            _("Withdraw one of two ballots that differ, so that the other one counts"),
        )
        self.layout_.addWidget(self.mine, 1)
        self.layout_.addLayout(self.toolbar(self.withdraw_button))
        self.mine.selectionModel().selectionChanged.connect(lambda *_a: self.update_actions())
        self.show_data(None)

    def available(self, access: Access) -> bool:
        return access.casts_ballots

    def shows(self, info: MeetingInfo) -> bool:
        return info.remote_allowed or info.kind in (MeetingKind.WRITTEN, MeetingKind.POLL)

    # -- who signs ---------------------------------------------------------------------------

    def _resident_changed(self) -> None:
        self.signed_for = None  # someone else at the computer: nothing of the last one
        self.show_data(self.data)

    # -- showing ------------------------------------------------------------------------------

    def status_text(self, data: MeetingData) -> str:
        return _("{title}, {moment}").format(title=data.info.title, moment=fmt_starts(data.info))

    def show_data(self, data: MeetingData | None) -> None:
        self.who.show_residents()
        if data is None:
            self.terms.setText(_("No meeting open to remote voting."))
        else:
            info = data.info
            lines = []
            if info.remote_until:
                lines.append(
                    _("Ballots are accepted until {moment}.").format(
                        moment=fmt_moment(info.remote_until)
                    )
                )
            if info.remote_terms:
                lines.append(info.remote_terms)
            if info.kind is MeetingKind.WRITTEN:
                lines.append(_("A written decision needs the agreement of every owner."))
            if info.kind is MeetingKind.POLL and not info.anonymous:
                lines.append(
                    _("Your answers are counted; the list of ballots shows who answered what.")
                )
            elif info.kind is MeetingKind.POLL:
                lines.append(
                    _(
                        "Your answers are counted; nobody's answer is shown by name. This is "
                        "not a secret ballot: each answer is signed and kept in the building's "
                        "documents."
                    )
                )
            self.terms.setText("\n".join(lines))
        self._show_questions(data)
        person = self.who.person()
        show_mine = data is not None and person is not None
        if self.who.kiosk:
            show_mine = show_mine and self.signed_for == person
        rows = ballot_rows(data, person, self.access.device) if show_mine else []
        self.mine.set_rows(rows)
        self.mine_title.setVisible(show_mine)
        self.mine.setVisible(show_mine)
        self.withdraw_button.setVisible(show_mine)
        self.update_actions()

    def _show_questions(self, data: MeetingData | None) -> None:
        items = data.agenda() if data else ()
        key = tuple((data.id, i.id) for i in items) if data else ()
        if key == self.shown_items:
            return
        self.shown_items = key
        while self.grid.count():
            widget = self.grid.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self.groups = {}
        if data is None:
            return
        for row, item in enumerate(items):
            title = QLabel(f"{data.number(item.id)}. {item.title}")
            title.setObjectName("ballotQuestion")
            title.setWordWrap(True)
            note = majority_label(item.majority) if data.deliberates else item.text or ""
            caption = QLabel(note)
            caption.setObjectName("hint")
            answers = QWidget()
            line = QGridLayout(answers)
            line.setContentsMargins(0, 0, 0, 0)
            group = QButtonGroup(answers)
            for column, (value, label) in enumerate(answers_of(item, data.info.kind)):
                button = QRadioButton(label)
                button.setProperty("answer", value)
                group.addButton(button)
                line.addWidget(button, 0, column)
            self.groups[item.id] = group
            self.grid.addWidget(title, 2 * row, 0)
            self.grid.addWidget(answers, 2 * row, 1, 2, 1)
            self.grid.addWidget(caption, 2 * row + 1, 0)
        self.grid.setRowStretch(2 * len(items), 1)

    def choose(self, item: str, answer: str) -> None:
        """Tick ``answer`` for ``item`` (as a click does)."""
        for button in self.groups[item].buttons():
            if button.property("answer") == answer:
                button.setChecked(True)

    def answers(self) -> dict[str, str]:
        chosen = {}
        for item, group in self.groups.items():
            button = group.checkedButton()
            if button is not None:
                chosen[item] = button.property("answer")
        return chosen

    def update_actions(self) -> None:
        data = self.data
        reason = "" if data else _("Choose a meeting first.")
        if not reason and data.info.closed_at is not None:
            reason = _("The meeting is closed.")
        if not reason and self.who.person() is None:
            reason = _("Choose who you are first.")
        allow(self.sign_button, reason)
        row = self.mine.current_row()
        withdraw = (
            ""
            if row and row.conflict
            else _(
                "A ballot is withdrawn only when two of yours differ; to change your answers, "
                "sign a new ballot."
            )
        )
        allow(self.withdraw_button, reason or withdraw)

    # -- signing ------------------------------------------------------------------------------

    def sign(self) -> None:
        data, person = self.data, self.who.person()
        if data is None or person is None:
            return
        votes, who = self.answers(), self.who.signer(self.error)
        if who is None:
            return
        meeting = data.id
        self.sign_button.setEnabled(False)

        def signed(_ballot: str) -> None:
            if self.who.kiosk:
                self.signed_for = person
            self.show_data(self.data)
            self.message.emit(_("Your ballot is signed; it reaches the syndic at the next sync."))

        def refused(exc: KoprogoError) -> None:
            self.error.show_message(str(exc))
            self.update_actions()

        self.act(lambda s: s.assembly.cast(meeting, votes, *who), signed, refused)

    def withdraw(self) -> None:
        data, person, row = self.data, self.who.person(), self.mine.current_row()
        if data is None or person is None or row is None:
            return
        who = self.who.signer(self.error, _("Type your PIN to withdraw a ballot."))
        if who is None:
            return
        meeting, ballot = data.id, row.id
        self.act(
            lambda s: s.assembly.withdraw(meeting, ballot, *who),
            on_done=lambda _c: self.message.emit(_("The ballot is withdrawn.")),
        )

    def hideEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if self.who.kiosk:  # the next person at the shared computer finds nothing
            self.who.pin.clear()
            self.signed_for = None
            for group in self.groups.values():
                checked = group.checkedButton()
                if checked is not None:
                    group.setExclusive(False)
                    checked.setChecked(False)
                    group.setExclusive(True)
            self.mine.set_rows([])
        super().hideEvent(event)
