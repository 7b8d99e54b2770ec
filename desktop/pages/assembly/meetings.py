"""Meetings and their preparation (issue 5, point 1).

The syndic creates a meeting — an ordinary or extraordinary assembly
(possibly asked for by owners holding a fifth of the quotas), a written
procedure or a poll —, writes its agenda with the decision category of
each item (which sets the majority, art. 3.88), records owners' and the
council's requests (a late one is kept for the next assembly, with why),
excludes an owner from an item with the reason, and convenes: the node
records each owner's channel and says whether the convocation left 15 days
before. The council and the owners' devices see all of it, and change
nothing: every button says why it is off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from node.domain import assembly as rules
from node.domain.meeting import Item
from node.i18n import N_, _, ngettext
from node.services.assembly import ConvocationCheck, MeetingInfo

from ...labels import fmt_date, fmt_int, language_in_words
from ...ops import Ops
from ...qt import QLabel, QSplitter, Qt, QTabWidget, QVBoxLayout, QWidget
from ...table import Column, RecordTable
from ...widgets import RecordDialog
from ..chosen import allow
from .base import AssemblyContext, AssemblyPage
from .data import (
    ANSWER_KINDS,
    CHANNEL_LABELS,
    MeetingData,
    category_label,
    category_reason,
    fmt_moment,
    fmt_starts,
    kind_label,
    majority_label,
    status_label,
)
from .dialogs import (
    COUNCIL,
    ConveneDialog,
    ExcludeDialog,
    ItemDialog,
    MeetingDialog,
    hint,
    kind_text,
)
from .pdf import PdfSaver, convocation_pdf, pdf_menu_button

MEETING_COLUMNS = (
    Column(N_("Date"), fmt_starts, sort=lambda m: (m.starts, m.id)),
    Column(N_("Title"), lambda m: m.title, tooltip=lambda m: kind_label(m.kind)),
    Column(N_("Status"), status_label),
)


@dataclass(frozen=True)
class AgendaRow:
    item: Item
    number: int  # 0 for a request kept for the next assembly
    requested: str  # who asked and when, in words

    @property
    def id(self) -> str:
        return self.item.id


def _decision(item: Item) -> str:
    if item.category == "poll":
        return _(ANSWER_KINDS.get(item.answers, item.answers))
    return category_label(item.category)


def _note(row: AgendaRow) -> str:
    if row.item.deferred:
        return _("Deferred: {why}").format(why=row.item.deferred)
    if row.item.excluded:
        n = len(row.item.excluded)
        return ngettext("{n} owner does not vote on it", "{n} owners do not vote on it", n).format(
            n=n
        )
    return ""


AGENDA_COLUMNS = (
    Column(N_("No."), lambda r: str(r.number) if r.number else "—", sort=lambda r: r.item.order),
    Column(N_("Item"), lambda r: r.item.title, tooltip=lambda r: _decision(r.item)),
    Column(
        N_("Majority"),
        lambda r: "" if r.item.category == "poll" else majority_label(r.item.majority),
    ),
    Column(N_("Requested"), lambda r: r.requested),
    Column(N_("Note"), _note, warn=lambda r: bool(r.item.deferred)),
)


@dataclass(frozen=True)
class OwnerRow:
    id: str
    name: str
    lots: str
    votes: int
    channel: str
    sent_on: str


OWNER_COLUMNS = (
    Column(N_("Owner"), lambda r: r.name),
    Column(N_("Lots"), lambda r: r.lots),
    Column(N_("Votes"), lambda r: fmt_int(r.votes), sort=lambda r: r.votes, numeric=True),
    Column(N_("Sent by"), lambda r: _(CHANNEL_LABELS[r.channel]) if r.channel else "—"),
    Column(N_("Sent on"), lambda r: r.sent_on or "—"),
)


class MeetingsPage(AssemblyPage):
    title_msgid = N_("Meetings")

    def __init__(self, ops: Ops, context: AssemblyContext, parent: QWidget | None = None) -> None:
        super().__init__(ops, context, parent)
        self.chooser.hide()  # the table of meetings chooses here
        self.pdfs = PdfSaver(self)
        self.new_button = self.button(_("&New meeting…"), self.new_meeting)
        self.new_button.setObjectName("primary")
        self.convene_button = self.button(
            _("&Convene…"), self.convene, _("Record the convocation as sent to every owner")
        )
        self.pdf_button, menu = pdf_menu_button(_("Save convocations as &PDF"))
        self.pdf_one = menu.addAction(_("This owner's convocation…"), self.ask_one)
        self.pdf_all = menu.addAction(_("All convocations in one PDF…"), self.ask_all)
        self.layout_.addLayout(self.toolbar(self.new_button, self.convene_button, self.pdf_button))
        self.layout_.addWidget(self.error)

        self.table = RecordTable(MEETING_COLUMNS, stretch=1, fit=True)
        self.table.setObjectName("meetingsTable")
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.empty = hint(_("No meeting yet."))

        details = QWidget()
        box = QVBoxLayout(details)
        box.setContentsMargins(8, 0, 0, 0)
        self.heading = QLabel()
        self.heading.setObjectName("sectionTitle")
        self.heading.setWordWrap(True)
        self.facts = hint()
        self.facts.setObjectName("meetingFacts")
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.request = QLabel()
        self.request.setObjectName("requestState")
        self.request.setWordWrap(True)
        self.convocation = QLabel()
        self.convocation.setObjectName("convocationState")
        self.convocation.setWordWrap(True)
        box.addWidget(self.heading)
        box.addWidget(self.facts)
        box.addWidget(self.request)
        box.addWidget(self.convocation)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._make_agenda(), _("Agenda"))
        self.tabs.addTab(self._make_owners(), _("Convocations"))
        box.addWidget(self.tabs, 1)

        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        left_box.addWidget(self.table, 1)
        left_box.addWidget(self.empty)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(details)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setChildrenCollapsible(False)
        split.setSizes([420, 640])
        self.layout_.addWidget(split, 1)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._meeting_selected())
        self.agenda.selectionModel().selectionChanged.connect(lambda *_a: self._item_selected())
        self.owners.selectionModel().selectionChanged.connect(lambda *_a: self.update_actions())
        self.show_data(None)

    def _make_agenda(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.add_button = self.button(_("&Add item…"), self.add_item)
        self.remove_button = self.button(_("&Remove item"), self.remove_item)
        self.exclude_button = self.button(
            _("E&xclude an owner…"),
            self.exclude,
            _("An owner who does not vote on this item, with the reason"),
        )
        layout.addLayout(self.toolbar(self.add_button, self.remove_button, self.exclude_button))
        self.agenda = RecordTable(AGENDA_COLUMNS, stretch=1, fit=True)
        self.agenda.setObjectName("agendaTable")
        self.agenda.keep_order()
        layout.addWidget(self.agenda, 1)
        self.item_reason = hint()
        self.item_reason.setObjectName("itemReason")
        self.exclusions = hint()
        self.exclusions.setObjectName("itemExclusions")
        layout.addWidget(self.item_reason)
        layout.addWidget(self.exclusions)
        return page

    def _make_owners(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.owners_note = hint()
        layout.addWidget(self.owners_note)
        self.owners = RecordTable(OWNER_COLUMNS, stretch=0, fit=True)
        self.owners.setObjectName("convocationsTable")
        layout.addWidget(self.owners, 1)
        return page

    # -- showing ------------------------------------------------------------------------------

    def show_data(self, data: MeetingData | None) -> None:
        meetings = list(self.context.meetings)
        self.table.blockSignals(True)
        self.table.selectionModel().blockSignals(True)
        self.table.set_rows(meetings)
        if data is not None:
            self.table.select_id(data.id)
        self.table.selectionModel().blockSignals(False)
        self.table.blockSignals(False)
        self.empty.setVisible(not meetings)
        self.table.setVisible(bool(meetings))
        self._show_meeting(data)
        self.update_actions()

    def _show_meeting(self, data: MeetingData | None) -> None:
        self.tabs.setVisible(data is not None)
        if data is None:
            self.heading.setText(_("Choose a meeting, or create one.") if self.table.rows() else "")
            for label in (self.facts, self.request, self.convocation):
                label.clear()
            self.agenda.set_rows([])
            self.owners.set_rows([])
            return
        info = data.info
        self.heading.setText(f"{info.title} — {kind_text(info)}")
        self.facts.setText("\n".join(self._facts(info)))
        self._show_request(info)
        self._show_convocation(info)
        rows = []
        for item in data.items:
            by, on = data.requests.get(item.id, ("", ""))
            who = _("the council") if by == COUNCIL else data.name(by) if by else ""
            requested = _("{who} on {day}").format(who=who, day=fmt_date(on)) if by else ""
            rows.append(AgendaRow(item, data.number(item.id), requested))
        self.agenda.set_rows(rows)
        if self.agenda.current_row() is None and rows:
            self.agenda.selectRow(0)
        self._item_selected()
        self.owners.set_rows(
            [
                OwnerRow(
                    p,
                    data.name(p),
                    data.lots_text(p),
                    data.outcome.owners[p],
                    data.recipients.get(p, {}).get("channel", ""),
                    data.recipients.get(p, {}).get("on", ""),
                )
                for p in data.owners()
            ]
        )
        self.owners_note.setText(
            _(
                "By e-mail to the owners who agreed to it in writing, by registered mail to "
                "the others; recorded when the convocation is sent."
            )
        )

    def _facts(self, info: MeetingInfo) -> list[str]:
        lines = [_("Status: {status}").format(status=status_label(info))]
        where = _(", {place}").format(place=info.place) if info.place else ""
        lines.append(_("On {moment}{where}").format(moment=fmt_starts(info), where=where))
        lines.append(_("Minutes in {language}").format(language=language_in_words(info.language)))
        if info.kind.in_session:
            if info.remote_allowed:
                remote = _("Remote voting allowed")
                if info.remote_until:
                    remote += _(", until {moment}").format(moment=fmt_moment(info.remote_until))
                if info.remote_terms:
                    remote += _(": {terms}").format(terms=info.remote_terms)
                lines.append(remote)
            else:
                lines.append(_("No remote voting (the convocation does not provide for it)"))
        elif info.remote_until:
            lines.append(_("Answers until {moment}").format(moment=fmt_moment(info.remote_until)))
        if info.period_start:
            lines.append(
                _("The by-laws' period starts on {day}; owners' requests until {deadline}").format(
                    day=fmt_date(info.period_start),
                    deadline=fmt_date(rules.agenda_request_deadline(info.period_start)),
                )
            )
        if info.second_of and info.first_date:
            lines.append(
                _("Second assembly after the one of {day}, held without quorum").format(
                    day=fmt_date(info.first_date)
                )
            )
        return lines

    def _show_request(self, info: MeetingInfo) -> None:
        request = info.request
        if not request:
            self.request.clear()
            self.request.hide()
            return
        data = self.data
        names = ", ".join(data.name(p) for p in request.get("by", [])) if data else ""
        figures = _("{quotas} of {total} quotas").format(
            quotas=fmt_int(int(request.get("quotas", 0))), total=fmt_int(int(request["total"]))
        )
        if request.get("valid"):
            text = _(
                "Asked for by {names} on {day} ({figures}, at least one fifth): to convene "
                "by {convene_by} (art. 3.87 §2)."
            ).format(
                names=names, day=request["on"], figures=figures, convene_by=request["convene_by"]
            )
            late = (
                info.convened_on is None
                and date.fromisoformat(request["convene_by"]) < date.today()
            )
        else:
            text = _(
                "Asked for by {names} on {day} ({figures}): less than one fifth of the quotas, "
                "the syndic is not bound to convene."
            ).format(names=names, day=request["on"], figures=figures)
            late = False
        self.request.setText(text)
        self.request.setObjectName("inlineError" if late else "requestState")
        self.request.style().unpolish(self.request)
        self.request.style().polish(self.request)
        self.request.show()

    def _show_convocation(self, info: MeetingInfo) -> None:
        if not info.kind.in_session:
            self.convocation.clear()
            return
        due = rules.convocation_due(info.starts.date())
        late = False
        if info.convened_on is None:
            text = _("Not convened yet: the convocation leaves by {due}.").format(due=fmt_date(due))
            late = date.today() > due and info.opened_at is None
        elif info.convened_on <= due:
            text = _("Convened on {day}, at least 15 days before the meeting.").format(
                day=fmt_date(info.convened_on)
            )
        else:
            late = True
            text = _(
                "Convened on {day}: less than 15 days before the meeting; it should have been "
                "sent by {due} (art. 3.87 §3)."
            ).format(day=fmt_date(info.convened_on), due=fmt_date(due))
        self.convocation.setText(text)
        self.convocation.setProperty("late", late)
        self.convocation.setObjectName("inlineError" if late else "convocationState")
        self.convocation.style().unpolish(self.convocation)
        self.convocation.style().polish(self.convocation)

    def _meeting_selected(self) -> None:
        row = self.table.current_row()
        if row is not None and row.id != self.context.meeting:
            self.error.clear_message()
            self.context.choose(row.id)
        self.update_actions()

    def selected_item(self) -> AgendaRow | None:
        return self.agenda.current_row()

    def _item_selected(self) -> None:
        row, data = self.selected_item(), self.data
        if row is None or data is None:
            self.item_reason.clear()
            self.exclusions.clear()
        else:
            item = row.item
            if item.category == "poll":
                options = " · ".join(item.options)
                self.item_reason.setText(_decision(item) + (f": {options}" if options else ""))
            else:
                self.item_reason.setText(category_reason(item.category))
            self.exclusions.setText(
                "\n".join(
                    _("{name} does not vote: {why}").format(name=data.name(p), why=why)
                    for p, why in sorted(item.excluded.items(), key=lambda kv: data.name(kv[0]))
                )
            )
        self.update_actions()

    # -- what may be done ------------------------------------------------------------------------

    def update_actions(self) -> None:
        data, access = self.data, self.access
        read_only = self.why_read_only()
        allow(self.new_button, access.reason if access and not access.writable else "")
        if access is None:
            allow(self.new_button, _("Reading…"))
        reason = read_only or ("" if data else _("Choose a meeting first."))
        info = data.info if data else None
        opened = _("The meeting has opened: its agenda no longer changes.")
        allow(self.add_button, reason or (opened if info and info.opened_at else ""))
        row = self.selected_item()
        remove = reason or (opened if info and info.opened_at else "")
        if not remove and info and info.convened_on and row and not row.item.deferred:
            remove = _("The convocation has been sent: its agenda stays as it was sent.")
        allow(self.remove_button, remove or ("" if row else _("Choose an item first.")))
        exclude = reason or ("" if row and not row.item.deferred else _("Choose an item first."))
        if not exclude and data and not data.deliberates:
            exclude = _("Only an assembly's items have owners who do not vote.")
        allow(self.exclude_button, exclude)
        convene = reason
        if not convene and info and not data.deliberates:
            convene = _("Only an assembly is convened.")
        if not convene and info and info.opened_at:
            convene = _("The meeting has opened.")
        allow(self.convene_button, convene)
        prints = "" if access and access.follows_sessions else _("Printed on the syndic's device.")
        if not prints and (data is None or not data.deliberates):
            prints = _("Choose an assembly first.")
        allow(self.pdf_button, prints)
        self.pdf_one.setEnabled(not prints and self.owners.current_row() is not None)
        self.pdf_all.setEnabled(not prints)

    def select_record(self, record_id: str) -> bool:
        self.context.choose(record_id)
        return True

    # -- preparing --------------------------------------------------------------------------------

    def new_meeting(self) -> None:
        access = self.access
        if access is None or not access.writable:
            return
        dialog = MeetingDialog(access.voters, access.quota_total, self)
        self.open_dialog(dialog, self._save_meeting)

    def _save_meeting(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, MeetingDialog)
        values = dialog.values()
        dialog.save_button.setEnabled(False)
        self.act(
            lambda s: s.assembly.create(**values),
            on_done=lambda _m: dialog.accept(),
            on_error=dialog.show_error,
            select_result=True,
        )

    def add_item(self) -> None:
        data, access = self.data, self.access
        if data is None or access is None or self.why_read_only():
            return
        owners = [(p, data.name(p)) for p in data.owners()]
        dialog = ItemDialog(data.info, owners, self)
        self.open_dialog(dialog, self._save_item)

    def _save_item(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, ItemDialog)
        meeting, values = dialog.info.id, dialog.values()
        dialog.save_button.setEnabled(False)

        def added(item: str) -> None:
            dialog.accept()
            self.agenda.select_id(item)

        self.act(
            lambda s: s.assembly.add_item(meeting, **values),
            on_done=added,
            on_error=dialog.show_error,
        )

    def remove_item(self) -> None:
        row, data = self.selected_item(), self.data
        if row is None or data is None:
            return
        meeting, item = data.id, row.id
        self.act(lambda s: s.assembly.remove_item(meeting, item))

    def exclude(self) -> None:
        row, data = self.selected_item(), self.data
        if row is None or data is None:
            return
        owners = [(p, data.name(p)) for p in data.owners()]
        dialog = ExcludeDialog(row.id, row.item.title, owners, self)
        self.open_dialog(dialog, self._save_exclusion)

    def _save_exclusion(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, ExcludeDialog) and self.data is not None
        meeting, item = self.data.id, dialog.item
        person, reason = dialog.person(), dialog.reason.text()
        dialog.save_button.setEnabled(False)
        self.act(
            lambda s: s.assembly.exclude(meeting, item, person, reason),
            on_done=lambda _c: dialog.accept(),
            on_error=dialog.show_error,
        )

    def convene(self) -> None:
        data = self.data
        if data is None or self.why_read_only():
            return
        dialog = ConveneDialog(data.info, self)
        self.open_dialog(dialog, self._save_convene)

    def _save_convene(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, ConveneDialog)
        meeting, day = dialog.info.id, dialog.day()
        dialog.save_button.setEnabled(False)

        def done(check: ConvocationCheck) -> None:
            names = dict(self.data.names) if self.data else {}
            dialog.show_check(check, names)
            self.message.emit(
                _("The convocation is recorded as sent on {day}.").format(day=fmt_date(day))
            )

        self.act(
            lambda s: s.assembly.convene(meeting, day), on_done=done, on_error=dialog.show_error
        )

    # -- convocations as PDF ----------------------------------------------------------------------

    def ask_one(self) -> None:
        data, owner = self.data, self.owners.current_row()
        if data is None or owner is None:
            return
        meeting, person = data.id, owner.id
        self.pdfs.ask(
            _("Save the convocation as PDF"),
            f"{data.info.title} {owner.name}",
            lambda s: convocation_pdf(s, meeting, person),
        )

    def ask_all(self) -> None:
        data = self.data
        if data is None:
            return
        meeting = data.id
        self.pdfs.ask(
            _("Save all convocations as one PDF"),
            data.info.title,
            lambda s: convocation_pdf(s, meeting, None),
        )
