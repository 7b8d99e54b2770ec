"""Results, minutes and the register of decisions (issue 5, points 4–5).

What a meeting decided, as the node derives it from the records: the quorum
at the opening, each resolution with its figures and the majority it
needed, the names of the owners who voted against or abstained (the minutes
state them, art. 3.87 §10), remote ballots refused with why. A written
procedure shows each owner's signed agreement and whether every owner
agreed; a poll shows how many gave each answer — never who.

The minutes are saved as a PDF in the meeting's language; "Minutes sent
on…" records their distribution, due within 30 days of the meeting. The
register lists every decision adopted, meeting by meeting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from node.domain import assembly as rules
from node.domain.assembly import Majority, Vote
from node.domain.meeting import (
    CHANGED_AFTER_CLOSING,
    CLOSED_TWICE,
    ItemResult,
    MeetingKind,
    rating_average,
)
from node.errors import KoprogoError
from node.i18n import N_, _, ngettext

from ...labels import fmt_date
from ...qt import QLabel, QSplitter, Qt, QTabWidget, QVBoxLayout, QWidget
from ...table import Column, RecordTable
from ...widgets import RecordDialog, alive, hint
from ..chosen import allow
from .base import AssemblyPage
from .data import (
    MeetingData,
    answer_text,
    fmt_moment,
    fmt_share,
    fmt_starts,
    fmt_votes,
    majority_label,
    quorum_figures,
    quorum_verdict,
)
from .dialogs import DayDialog
from .pdf import PdfSaver, minutes_pdf


@dataclass(frozen=True)
class ResolutionRow:
    id: str
    number: int
    title: str
    majority: Majority | None  # None for a poll's question
    result: ItemResult
    outcome: str  # in words

    @property
    def tally(self) -> Any:
        return self.result.tally


def _figure(row: ResolutionRow, name: str) -> str:
    tally = row.tally
    return fmt_votes(getattr(tally, name)) if tally is not None else ""


def _outcome(data: MeetingData, result: ItemResult) -> str:
    if data.info.kind is MeetingKind.POLL:
        counts = sorted(result.answers.items())
        return " · ".join(f"{answer_text(a)}: {n}" for a, n in counts) or _("No answer yet")
    tally = result.tally
    if data.info.kind is MeetingKind.WRITTEN:
        agreed = sum(1 for v in result.votes.values() if v is Vote.FOR)
        total = len(data.outcome.owners)
        if tally is not None and tally.passed:
            return _("Adopted: every owner agreed")
        return _("Not adopted: {n} of {total} owners agreed").format(n=agreed, total=total)
    if tally is None:
        return _("Not voted")
    said = _("Adopted") if tally.passed else _("Rejected")
    if not tally.passed and data.info.opened_at is None:  # nothing decided before it is held
        said = _("Not decided: the meeting has not opened")
    elif not tally.passed and data.outcome.quorum is not None and not data.outcome.quorum.reached:
        said = _("No decision: the quorum was not reached")
    if result.closed_twice:
        return f"{said} — {_(CLOSED_TWICE)}"
    if result.changed_after_closing:
        return f"{said} — {_(CHANGED_AFTER_CLOSING)}"
    return said


RESOLUTION_COLUMNS = (
    Column(N_("No."), lambda r: str(r.number), sort=lambda r: r.number),
    Column(N_("Resolution"), lambda r: r.title),
    Column(N_("Majority"), lambda r: majority_label(r.majority) if r.majority else ""),
    Column(N_("For"), lambda r: _figure(r, "votes_for"), numeric=True),
    Column(N_("Against"), lambda r: _figure(r, "votes_against"), numeric=True),
    Column(N_("Abstentions"), lambda r: _figure(r, "abstentions"), numeric=True),
    Column(N_("Share"), lambda r: fmt_share(r.tally.share) if r.tally else "", numeric=True),
    Column(
        N_("Result"),
        lambda r: r.outcome,
        strong=lambda r: bool(r.tally and r.tally.passed),
        warn=lambda r: bool(r.tally and not r.tally.passed),
    ),
)


@dataclass(frozen=True)
class AgreementRow:
    id: str
    name: str
    votes: int
    answer: str


AGREEMENT_COLUMNS = (
    Column(N_("Owner"), lambda r: r.name),
    Column(N_("Votes"), lambda r: fmt_votes(r.votes), sort=lambda r: r.votes, numeric=True),
    Column(N_("Signed agreement"), lambda r: r.answer, muted=lambda r: not r.answer),
)

REGISTER_COLUMNS = (
    Column(N_("Date"), lambda r: r["date"], sort=lambda r: (r["date"], r["number"])),
    Column(N_("No."), lambda r: str(r["number"]), sort=lambda r: r["number"]),
    Column(N_("Decision"), lambda r: r["title"]),
    Column(N_("Majority"), lambda r: majority_label(Majority(r["majority"]))),
    Column(N_("For"), lambda r: fmt_votes(Fraction(r["for"])), numeric=True),
    Column(N_("Against"), lambda r: fmt_votes(Fraction(r["against"])), numeric=True),
)


class ResultsPage(AssemblyPage):
    title_msgid = N_("Results and minutes")

    def __init__(self, ops, context, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(ops, context, parent)
        self.pdfs = PdfSaver(self)
        self.register_rows: list[dict[str, Any]] | None = None
        self.layout_.addWidget(self.chooser)
        self.minutes_button = self.button(_("Save the &minutes as PDF…"), self.ask_minutes)
        self.sent_button = self.button(_("Minutes &sent on…"), self.ask_sent)
        self.layout_.addLayout(self.toolbar(self.minutes_button, self.sent_button))
        self.minutes_state = QLabel()
        self.minutes_state.setObjectName("minutesState")
        self.minutes_state.setWordWrap(True)
        self.layout_.addWidget(self.minutes_state)
        self.layout_.addWidget(self.error)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._make_outcome(), _("Outcome"))
        self.tabs.addTab(self._make_register(), _("Register of decisions"))
        self.tabs.currentChanged.connect(lambda _i: self._load_register())
        self.layout_.addWidget(self.tabs, 1)
        self.show_data(None)

    def _make_outcome(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.summary = hint()
        self.summary.setObjectName("outcomeSummary")
        layout.addWidget(self.summary)
        self.table = RecordTable(RESOLUTION_COLUMNS, stretch=1)
        self.table.setObjectName("resolutionsTable")
        self.table.keep_order()
        details = QWidget()
        box = QVBoxLayout(details)
        box.setContentsMargins(0, 4, 0, 0)
        self.detail = QLabel()
        self.detail.setObjectName("resolutionDetail")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.agreements = RecordTable(AGREEMENT_COLUMNS, stretch=0)
        self.agreements.setObjectName("agreementsTable")
        self.ballot_notes = QLabel()
        self.ballot_notes.setObjectName("ballotNotes")
        self.ballot_notes.setWordWrap(True)
        box.addWidget(self.detail)
        box.addWidget(self.agreements, 1)
        box.addWidget(self.ballot_notes)
        box.addStretch(0)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(details)
        split.setChildrenCollapsible(False)
        split.setSizes([260, 260])
        layout.addWidget(split, 1)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._show_detail())
        return page

    def _make_register(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(
            hint(_("Every decision adopted by a closed assembly or a written procedure."))
        )
        self.register = RecordTable(
            REGISTER_COLUMNS, row_id=lambda r: f"{r['meeting']}:{r['number']}", stretch=2
        )
        self.register.setObjectName("registerTable")
        layout.addWidget(self.register, 1)
        return page

    # -- showing -----------------------------------------------------------------------------

    def status_text(self, data: MeetingData) -> str:
        info = data.info
        closed = _(", closed at {moment}").format(moment=fmt_moment(info.closed_at))
        return _("{title}, {moment}").format(title=info.title, moment=fmt_starts(info)) + (
            closed if info.closed_at else ""
        )

    def show_data(self, data: MeetingData | None) -> None:
        self.register_rows = None
        self._load_register()
        if data is None:
            self.summary.clear()
            self.table.set_rows([])
            self.minutes_state.clear()
            self._show_detail()
            self.update_actions()
            return
        self.summary.setText(self._summary(data))
        rows = [
            ResolutionRow(
                r.item.id,
                data.number(r.item.id),
                r.item.title,
                None if data.info.kind is MeetingKind.POLL else r.item.majority,
                r,
                _outcome(data, r),
            )
            for r in data.outcome.results
        ]
        self.table.set_rows(rows)
        if self.table.current_row() is None and rows:
            self.table.selectRow(0)
        self._show_minutes_state(data)
        self._show_detail()
        self._show_ballot_notes(data)
        self.update_actions()

    def _summary(self, data: MeetingData) -> str:
        kind, quorum = data.info.kind, data.outcome.quorum
        if kind is MeetingKind.WRITTEN:
            return _(
                "Written procedure: a decision is taken only if every owner agrees in writing "
                "(art. 3.87 §4)."
            )
        if kind is MeetingKind.POLL:
            return _("Poll: it decides nothing; the answers are counted, never named.")
        if data.info.opened_at is None or quorum is None:
            return _("The meeting has not opened yet.")
        lines = [quorum_verdict(quorum), quorum_figures(quorum)]
        if data.info.chair or data.info.secretary:
            lines.append(
                _("Chair: {chair}; secretary: {secretary}").format(
                    chair=data.info.chair or "—", secretary=data.info.secretary or "—"
                )
            )
        return "\n".join(lines)

    def _show_minutes_state(self, data: MeetingData) -> None:
        info = data.info
        if not data.deliberates:
            self.minutes_state.clear()
            return
        due = rules.minutes_due(info.starts.date())
        late = False
        if info.closed_at is None:
            text = _("The minutes are drawn up once the meeting is closed.")
        elif info.distributed_on is not None:
            text = _("Minutes sent to the owners on {day}.").format(
                day=fmt_date(info.distributed_on)
            )
            if info.distributed_on > due:
                late = True
                text += " " + _("They were due by {due}.").format(due=fmt_date(due))
        elif date.today() > due:
            late = True
            text = _("Overdue: the minutes should have been sent to the owners by {due}.").format(
                due=fmt_date(due)
            )
        else:
            text = _("To send to the owners by {due} (30 days after the meeting).").format(
                due=fmt_date(due)
            )
        self.minutes_state.setText(text)
        self.minutes_state.setProperty("late", late)
        self.minutes_state.setObjectName("inlineError" if late else "minutesState")
        self.minutes_state.style().unpolish(self.minutes_state)
        self.minutes_state.style().polish(self.minutes_state)

    def _show_detail(self) -> None:
        data, row = self.data, self.table.current_row()
        written = data is not None and data.info.kind is MeetingKind.WRITTEN
        self.agreements.setVisible(written)
        if data is None or row is None:
            self.detail.clear()
            self.agreements.set_rows([])
            return
        result = row.result
        if data.info.kind is MeetingKind.POLL:
            self.detail.setText(self._poll_text(result))
            return
        if written:
            self.agreements.set_rows(
                [
                    AgreementRow(
                        p,
                        data.name(p),
                        data.outcome.owners[p],
                        answer_text(result.votes[p].value) if p in result.votes else "",
                    )
                    for p in data.owners()
                ]
            )
        lines = []
        for label, people in (
            (_("Against: {names}"), result.against),
            (_("Abstained: {names}"), result.abstained),
        ):
            if people:
                lines.append(label.format(names=", ".join(sorted(data.name(p) for p in people))))
        for person, why in sorted(result.item.excluded.items()):
            lines.append(_("{name} did not vote: {why}").format(name=data.name(person), why=why))
        remote = sorted(data.name(p) for p, s in result.source.items() if s == "remote")
        if remote and not written:
            lines.append(_("Voted by remote ballot: {names}").format(names=", ".join(remote)))
        self.detail.setText("\n".join(lines))

    def _poll_text(self, result: ItemResult) -> str:
        """Counts per answer, and the average of a rating — never names."""
        answers = result.answers
        total = sum(answers.values())
        if not total:
            return _("No answer yet.")
        lines = [
            _("{answer}: {n}").format(answer=answer_text(a), n=n)
            for a, n in sorted(answers.items())
        ]
        lines.append(ngettext("{n} answer", "{n} answers", total).format(n=total))
        if result.item.answers == "rating":
            average = rating_average(answers)
            if average is not None:
                lines.append(_("Average: {value} of 5").format(value=fmt_votes(average)))
        return "\n".join(lines)

    def _show_ballot_notes(self, data: MeetingData) -> None:
        named = data.info.kind is not MeetingKind.POLL
        by_id = {b.id: b for b in data.ballots}
        lines = []
        for ballot_id, why in sorted(data.refusals.items()):
            ballot = by_id.get(ballot_id)
            if named and ballot is not None:
                lines.append(
                    _("Refused: the ballot of {name}: {why}").format(
                        name=data.name(ballot.person), why=why
                    )
                )
            else:
                lines.append(_("Refused: a ballot: {why}").format(why=why))
        if named:
            for conflict in data.conflicts():
                lines.append(
                    _("{name} sent remote ballots that differ on item {n}: neither counts.").format(
                        name=data.name(conflict.person), n=data.number(conflict.item)
                    )
                )
        self.ballot_notes.setText("\n".join(lines))
        self.ballot_notes.setVisible(bool(lines))

    def update_actions(self) -> None:
        data = self.data
        reason = "" if data else _("Choose a meeting first.")
        if not reason and not data.deliberates and data.info.kind is MeetingKind.POLL:
            reason = _("A poll has no minutes.")
        if not reason and data.deliberates and data.info.closed_at is None:
            reason = _("The minutes are drawn up once the meeting is closed.")
        access = self.access
        prints = "" if access and access.follows_sessions else _("Printed on the syndic's device.")
        allow(self.minutes_button, reason or prints)
        sent = reason or self.why_read_only()
        if not sent and data and not data.deliberates:
            sent = _("Only an assembly's minutes are sent.")
        allow(self.sent_button, sent)

    # -- the register ----------------------------------------------------------------------------

    def _load_register(self) -> None:
        if self.tabs.currentIndex() != 1 or not self.isVisible() or self.register_rows is not None:
            return
        self.register_rows = []

        def loaded(rows: list[dict[str, Any]]) -> None:
            if alive(self):
                self.register_rows = rows
                self.register.set_rows(rows)

        def refused(exc: KoprogoError) -> None:
            if alive(self):
                self.error.show_message(str(exc))

        self.ops.run(lambda s: s.assembly.register(), loaded, refused)

    def activated(self) -> None:
        super().activated()
        self._load_register()

    # -- minutes ---------------------------------------------------------------------------------

    def ask_minutes(self) -> None:
        data = self.data
        if data is None:
            return
        meeting = data.id
        self.pdfs.ask(
            _("Save the minutes as PDF"),
            _("Minutes {title}").format(title=data.info.title),
            lambda s: minutes_pdf(s, meeting),
        )

    def ask_sent(self) -> None:
        data = self.data
        if data is None:
            return
        due = rules.minutes_due(data.info.starts.date())
        dialog = DayDialog(
            _("Minutes sent to the owners"),
            _("&Sent on"),
            _("Due within 30 days of the meeting: by {due}.").format(due=fmt_date(due)),
            self,
        )
        self.open_dialog(dialog, self._save_sent)

    def _save_sent(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, DayDialog) and self.data is not None
        meeting, day = self.data.id, dialog.chosen()
        dialog.save_button.setEnabled(False)
        self.act(
            lambda s: s.assembly.distributed(meeting, day),
            on_done=lambda _c: dialog.accept(),
            on_error=dialog.show_error,
        )
