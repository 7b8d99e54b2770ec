"""Journals and entries: every entry of the year, numbered per journal
(``ACH-2026-0001``…, :meth:`LedgerView.numbered`), with the lines of the
selected one underneath.

Posted entries never change. "Reverse…" corrects one by a new entry that
undoes it line by line, on a date the syndic picks; both stay in the
journal, so the books keep the whole story.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from node.domain.accounting.chart import Chart
from node.domain.accounting.ledger import JOURNAL_CODES, Entry, FiscalYear, Journal, Line
from node.domain.registry import Registry
from node.i18n import N_, _, current_language
from node.session import Session

from ...labels import fmt_date, fmt_eur
from ...ops import Ops
from ...qt import QComboBox, QLabel, QSplitter, Qt, QVBoxLayout, QWidget
from ...table import Column, RecordTable
from ...widgets import RecordDialog
from .base import AccountsContext, AccountsPage, YearsInfo, clamp, date_edit, day_of, empty_view

JOURNAL_LABELS = {
    Journal.PURCHASES: N_("Purchases"),
    Journal.CALLS: N_("Calls for funds"),
    Journal.BANK: N_("Bank"),
    Journal.MISC: N_("Miscellaneous"),
}


def journal_label(journal: Journal) -> str:
    return f"{JOURNAL_CODES[journal]} · {_(JOURNAL_LABELS[journal])}"


@dataclass(frozen=True)
class EntryRow:
    number: str
    entry: Entry
    reversed_by: str  # the number of the entry that reverses this one
    reverses: str  # the number of the entry this one reverses
    definitive: bool = True  # its number was fixed when the year was closed

    @property
    def id(self) -> str:
        return self.entry.id


@dataclass(frozen=True)
class JournalData:
    year: int
    rows: tuple[EntryRow, ...]
    chart: Chart
    fiscal: FiscalYear


def entry_rows(
    entries: tuple[Entry, ...], numbered: dict[Journal, list], fixed: Collection[str] = ()
) -> list[EntryRow]:
    number_of = {entry.id: number for pairs in numbered.values() for number, entry in pairs}
    reversed_by = {e.reverses: e.id for e in entries if e.reverses}
    rows = []
    for pairs in numbered.values():
        for number, entry in pairs:
            rows.append(
                EntryRow(
                    number,
                    entry,
                    number_of.get(reversed_by.get(entry.id, ""), ""),
                    number_of.get(entry.reverses or "", ""),
                    entry.id in fixed,
                )
            )
    return sorted(rows, key=lambda r: (r.entry.date, r.number))


def status(row: EntryRow) -> str:
    if row.reversed_by:
        return _("Reversed by {number}").format(number=row.reversed_by)
    if row.reverses:
        return _("Reverses {number}").format(number=row.reverses)
    return ""


ENTRY_COLUMNS = (
    Column(
        N_("Number"),
        lambda r: r.number,
        sort=lambda r: (r.entry.journal, r.number),
        muted=lambda r: not r.definitive,
        tooltip=lambda r: (
            ""
            if r.definitive
            else _("Provisional number: it is fixed when the fiscal year is closed.")
        ),
    ),
    Column(N_("Date"), lambda r: fmt_date(r.entry.date), sort=lambda r: (r.entry.date, r.number)),
    Column(N_("Journal"), lambda r: journal_label(r.entry.journal)),
    Column(N_("Document"), lambda r: r.entry.reference),
    Column(N_("Description"), lambda r: r.entry.description),
    Column(
        N_("Amount"), lambda r: fmt_eur(r.entry.total), sort=lambda r: r.entry.total, numeric=True
    ),
    Column(N_("Status"), status, muted=lambda r: True),
)


@dataclass(frozen=True)
class LineRow:
    index: int
    line: Line
    account_label: str
    owner: str
    lot: str

    @property
    def id(self) -> str:
        return str(self.index)


LINE_COLUMNS = (
    Column(N_("Account"), lambda r: r.line.account, sort=lambda r: r.index),
    Column(N_("Account name"), lambda r: r.account_label, sort=lambda r: r.index),
    Column(N_("Owner"), lambda r: r.owner),
    Column(N_("Lot"), lambda r: r.lot),
    Column(N_("Label"), lambda r: r.line.label),
    Column(
        N_("Debit"),
        lambda r: fmt_eur(r.line.debit) if r.line.debit else "",
        sort=lambda r: r.line.debit,
        numeric=True,
    ),
    Column(
        N_("Credit"),
        lambda r: fmt_eur(r.line.credit) if r.line.credit else "",
        sort=lambda r: r.line.credit,
        numeric=True,
    ),
)


def line_rows(entry: Entry, chart: Chart, registry: Registry) -> list[LineRow]:
    language = current_language()
    rows = []
    for index, line in enumerate(entry.lines):
        account = chart.get(line.account)
        person = registry.person(line.person) if line.person else None
        lot = registry.lot(line.lot) if line.lot else None
        rows.append(
            LineRow(
                index,
                line,
                account.label(language) if account else "",
                person.name if person else (line.person or ""),
                lot.number if lot else (line.lot or ""),
            )
        )
    return rows


class ReverseDialog(RecordDialog):
    def __init__(self, row: EntryRow, fiscal: FiscalYear, parent: QWidget | None = None) -> None:
        super().__init__(_("Reverse entry {number}").format(number=row.number), parent)
        self.setObjectName("reverseDialog")
        self.row = row
        explanation = QLabel(
            _(
                "Posted entries never change. Reversing {number} adds a new entry that "
                "undoes it line by line (each debit becomes a credit and each credit a "
                "debit), dated the day you choose. Both stay in the journal, so the books "
                "show the mistake and its correction. Record the right entry afterwards if "
                "one is needed."
            ).format(number=row.number)
        )
        explanation.setWordWrap(True)
        explanation.setObjectName("hint")
        self.body.insertWidget(0, explanation)
        self.day = date_edit(clamp(date.today(), fiscal))
        self.form.addRow(_("Entry"), QLabel(f"{row.number} · {row.entry.description}"))
        self.form.addRow(_("Amount"), QLabel(fmt_eur(row.entry.total)))
        self.form.addRow(_("Reversal &date"), self.day)
        self.save_button.setText(_("Reverse"))


class JournalsPage(AccountsPage):
    title_msgid = N_("Journals")

    def __init__(self, ops: Ops, context: AccountsContext, parent: QWidget | None = None) -> None:
        super().__init__(ops, context, parent)
        self.journal = QComboBox()
        self.journal.setObjectName("journalFilter")
        self.journal.addItem(_("All journals"), "")
        for journal in Journal:
            self.journal.addItem(journal_label(journal), journal.value)
        self.journal.currentIndexChanged.connect(lambda _i: self._filter())
        self.table = RecordTable(ENTRY_COLUMNS, stretch=4)
        self.table.setObjectName("entriesTable")
        self.lines = RecordTable(LINE_COLUMNS, row_id=lambda r: r.id, stretch=4, fit=True)
        self.lines.setObjectName("linesTable")
        self.lines.keep_order()
        self.lines_title = QLabel()
        self.lines_title.setObjectName("sectionTitle")
        self.reverse_button = self.button(
            _("&Reverse…"), self.reverse, _("Correct the selected entry by its reversal")
        )
        search = self.search_field(self.table.proxy.setFilterFixedString)
        bar = self.toolbar(self.reverse_button, search=search)
        bar.insertWidget(0, self.journal)
        self.layout_.addLayout(bar)
        self.layout_.addWidget(self.load_error)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 6, 0, 0)
        lower_layout.addWidget(self.lines_title)
        lower_layout.addWidget(self.lines, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(lower)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        self.layout_.addWidget(split, 1)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._selected())
        self.update_actions()
        self._selected()

    def read(self, session: Session, year: int, info: YearsInfo) -> JournalData:
        view = session.ledger.view(year) if year in info.years else empty_view()
        numbered = {journal: view.numbered(journal, year) for journal in Journal}
        rows = entry_rows(view.entries, numbered, frozenset(view.numbers))
        return JournalData(year, tuple(rows), view.chart, info.fiscal(year))

    def show_data(self, data: JournalData) -> None:
        self._filter()
        self._selected()

    def _filter(self) -> None:
        if self.data is None:
            return
        wanted = self.journal.currentData()
        rows = [r for r in self.data.rows if not wanted or r.entry.journal.value == wanted]
        self.table.set_rows(rows)
        self._selected()

    def _selected(self) -> None:
        row = self.table.current_row()
        if row is None or self.state is None or self.data is None:
            self.lines_title.setText(_("Choose an entry to see its lines."))
            self.lines.set_rows([])
        else:
            self.lines_title.setText(
                _("{number} · {date} · {description}").format(
                    number=row.number,
                    date=fmt_date(row.entry.date),
                    description=row.entry.description,
                )
            )
            self.lines.set_rows(line_rows(row.entry, self.data.chart, self.state.registry))
        self.update_actions()

    def update_actions(self) -> None:
        row = self.table.current_row()
        self.reverse_button.setEnabled(
            self.editable and row is not None and not row.reversed_by and not row.reverses
        )

    def select_record(self, record_id: str) -> bool:
        return self.table.select_id(record_id)

    def reverse(self) -> None:
        row = self.table.current_row()
        if row is None or not self.editable or self.data is None:
            return
        self.open_dialog(ReverseDialog(row, self.data.fiscal, self), self._save_reverse)

    def _save_reverse(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, ReverseDialog)
        entry_id, number, day = dialog.row.entry.id, dialog.row.number, day_of(dialog.day)
        dialog.save_button.setEnabled(False)

        def done(_update: object) -> None:
            dialog.accept()
            self.message.emit(_("Entry {number} reversed.").format(number=number))

        self.change(
            lambda s: s.ledger.reverse(entry_id, day), on_done=done, on_error=dialog.show_error
        )
