"""The pieces of the session screen: tables that answer single keys, the
rows of the attendance and of one resolution's votes, and the live tally.

Keys are letters taken from the translated button labels (the letter after
``&``: ``&For``, ``&Pour``, ``&Voor``, ``Da&für``), so they match the word
on the button in every language; the buttons show them too. Everything
shown comes from the node's :class:`~node.domain.meeting.ItemResult` — the
tally, the share of votes cast and whether the majority is reached.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from node.domain.assembly import Majority, Vote
from node.domain.meeting import Item, ItemResult, Mode
from node.i18n import N_, _

from ...labels import fmt_int
from ...qt import QFrame, QGridLayout, QLabel, QPushButton, Qt, QVBoxLayout, QWidget
from ...table import Column, RecordTable
from .data import MeetingData, fmt_clock, fmt_share, fmt_votes, majority_label, vote_label

VOTE_KEYS = {
    Vote.FOR: N_("&For"),
    Vote.AGAINST: N_("&Against"),
    Vote.ABSTAIN: N_("Ab&stain"),
}
EVERYONE_FOR = N_("&Everyone for")
PRESENT = N_("&Present")
PROXY = N_("P&roxy…")
LEFT = N_("&Left")

THRESHOLDS = {
    Majority.ABSOLUTE: N_("more than half of the votes cast needed"),
    Majority.TWO_THIRDS: N_("two thirds of the votes cast needed"),
    Majority.FOUR_FIFTHS: N_("four fifths of the votes cast needed"),
    Majority.UNANIMITY: N_("every owner of the building must vote for"),
}


def key_of(label: str) -> str:
    """The letter after ``&`` in a translated label: the key that does it."""
    index = label.find("&")
    return label[index + 1].casefold() if 0 <= index < len(label) - 1 else ""


def key_button(msgid: str, slot: Callable[[], None], key_name: str = "") -> QPushButton:
    """A button whose label names its key: "For  [F]"."""
    label = _(msgid)
    key = key_name or key_of(label).upper()
    button = QPushButton(f"{label.replace('&', '')}  [{key}]" if key else label.replace("&", ""))
    button.setObjectName("roomButton")
    button.clicked.connect(lambda _checked=False: slot())
    return button


class KeyTable(RecordTable):
    """A table driven from the keyboard: arrow keys move between rows (as
    in any table), letters and a few keys act on the selected row."""

    def __init__(self, columns: Sequence[Column], **kwargs: object) -> None:
        super().__init__(columns, **kwargs)  # type: ignore[arg-type]
        self.letters: dict[str, Callable[[], None]] = {}
        self.keys: dict[int, Callable[[], None]] = {}
        self.verticalHeader().setDefaultSectionSize(34)

    def bind(self, msgid: str, action: Callable[[], None]) -> None:
        letter = key_of(_(msgid))
        if letter:
            self.letters[letter] = action

    def keyPressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        modifiers = event.modifiers() & ~(
            Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier
        )
        if modifiers == Qt.KeyboardModifier.NoModifier:
            action = self.keys.get(event.key()) or self.letters.get(event.text().casefold())
            if action is not None:
                event.accept()
                action()
                return
        super().keyPressEvent(event)


# -- attendance ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendanceRow:
    id: str
    name: str
    lots: str
    votes: int
    presence: str
    here: bool  # present or represented now


def presence_text(data: MeetingData, person: str) -> str:
    record = data.attendance.get(person)
    if record is None:
        if person in data.outcome.attending:
            return _("Remote ballot")
        return ""
    if record.left is not None:
        return _("Left at {time}").format(time=fmt_clock(record.left))
    if record.mode is Mode.PROXY:
        return _("Proxy: {holder}").format(holder=data.name(record.holder))
    if record.mode is Mode.REMOTE:
        return _("Remote")
    return _("Present, {time}").format(time=fmt_clock(record.arrived))


def attendance_rows(data: MeetingData) -> list[AttendanceRow]:
    return [
        AttendanceRow(
            p,
            data.name(p),
            data.lots_text(p),
            data.outcome.owners[p],
            presence_text(data, p),
            data.in_room(p),
        )
        for p in data.owners()
    ]


ATTENDANCE_COLUMNS = (
    Column(N_("Owner"), lambda r: r.name, tooltip=lambda r: r.lots, muted=lambda r: not r.here),
    Column(N_("Votes held"), lambda r: fmt_int(r.votes), sort=lambda r: r.votes, numeric=True),
    Column(N_("Attendance"), lambda r: r.presence, muted=lambda r: not r.here),
)


# -- one resolution's votes ------------------------------------------------------------------


@dataclass(frozen=True)
class VoteRow:
    id: str
    name: str
    votes: int
    presence: str
    vote: Vote | None
    source: str  # "room", "remote", "conflict", "excluded" or ""
    note: str  # the exclusion's reason
    proxy: bool  # represented by a proxy holder


def vote_rows(data: MeetingData, item: Item) -> list[VoteRow]:
    """The owners present or represented, those whose remote ballot answers
    the item, and those excluded from it, with the vote that counts."""
    result = data.result(item.id)
    votes = dict(result.votes) if result else {}
    source = dict(result.source) if result else {}
    conflicting = {c.person for c in data.conflicts(item.id)}
    people = {p for p in data.outcome.owners if data.in_room(p)} | set(votes) | conflicting
    rows = []
    for person in people:
        if person in item.excluded:
            kind, note = "excluded", item.excluded[person]
        elif person in conflicting and person not in votes:
            kind, note = "conflict", ""
        else:
            kind, note = source.get(person, ""), ""
        rows.append(
            VoteRow(
                person,
                data.name(person),
                data.outcome.owners.get(person, 0),
                presence_text(data, person),
                votes.get(person),
                kind,
                note,
                person in data.attendance and data.attendance[person].mode is Mode.PROXY,
            )
        )
    return sorted(rows, key=lambda r: (r.name.casefold(), r.id))


def source_text(row: VoteRow) -> str:
    if row.source == "room":
        return row.presence if row.proxy else _("In the room")
    if row.source == "remote":
        return _("Remote ballot")
    if row.source == "conflict":
        return _("Remote ballots that differ")
    if row.source == "excluded":
        return _("Does not vote: {why}").format(why=row.note)
    return ""


def vote_text(row: VoteRow) -> str:
    if row.source == "excluded":
        return "—"
    text = vote_label(row.vote) if row.vote is not None else ""
    return _("{vote} (remote)").format(vote=text) if row.source == "remote" else text


VOTE_COLUMNS = (
    Column(N_("Owner"), lambda r: r.name),
    Column(N_("Votes held"), lambda r: fmt_int(r.votes), sort=lambda r: r.votes, numeric=True),
    Column(
        N_("Vote"),
        vote_text,
        strong=lambda r: r.source == "room",
        warn=lambda r: r.source == "conflict",
    ),
    Column(
        N_("Counted from"),
        source_text,
        muted=lambda r: r.source in ("remote", "excluded"),
        warn=lambda r: r.source == "conflict",
    ),
)


# -- the tally --------------------------------------------------------------------------------


class TallyPanel(QFrame):
    """For, against, abstentions in votes (quotas), the share of the votes
    cast, and whether the majority is reached — as the node counted them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tallyPanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        grid = QGridLayout()
        grid.setHorizontalSpacing(24)
        self.figures: dict[str, QLabel] = {}
        captions = (
            ("for", _("For")),
            ("against", _("Against")),
            ("abstentions", _("Abstentions")),
            ("share", _("Share of votes cast")),
        )
        for column, (name, caption) in enumerate(captions):
            title = QLabel(caption)
            title.setObjectName("hint")
            figure = QLabel("—")
            figure.setObjectName("tallyFigure")
            self.figures[name] = figure
            grid.addWidget(title, 0, column)
            grid.addWidget(figure, 1, column)
        layout.addLayout(grid)
        self.verdict = QLabel()
        self.verdict.setObjectName("tallyVerdict")
        self.verdict.setWordWrap(True)
        layout.addWidget(self.verdict)

    def show_result(self, result: ItemResult | None, unanimity_of: int = 0) -> None:
        tally = result.tally if result else None
        if tally is None:
            for figure in self.figures.values():
                figure.setText("—")
            self._verdict(_("No vote recorded yet."), None)
            return
        self.figures["for"].setText(fmt_votes(tally.votes_for))
        self.figures["against"].setText(fmt_votes(tally.votes_against))
        self.figures["abstentions"].setText(fmt_votes(tally.abstentions))
        self.figures["share"].setText(fmt_share(tally.share))
        if tally.majority is Majority.UNANIMITY:
            agreeing = sum(1 for v in result.votes.values() if v is Vote.FOR) if result else 0
            text = _("{state}: {n} of {total} owners for; {needed}").format(
                state=_("Adopted") if tally.passed else _("Rejected"),
                n=agreeing,
                total=unanimity_of,
                needed=_(THRESHOLDS[tally.majority]),
            )
        elif tally.passed:
            text = _("Adopted — {majority}").format(majority=majority_label(tally.majority))
        else:
            text = _("Rejected — {majority}: {needed}").format(
                majority=majority_label(tally.majority), needed=_(THRESHOLDS[tally.majority])
            )
        self._verdict(text, tally.passed)

    def _verdict(self, text: str, passed: bool | None) -> None:
        self.verdict.setText(text)
        self.verdict.setProperty("passed", "" if passed is None else str(passed).lower())
        self.verdict.style().unpolish(self.verdict)
        self.verdict.style().polish(self.verdict)

    def texts(self) -> dict[str, str]:
        """What the panel says (tests read it)."""
        return {name: label.text() for name, label in self.figures.items()} | {
            "verdict": self.verdict.text()
        }
