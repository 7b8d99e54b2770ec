"""Bank: import the bank's CODA statements and match what they hold.

An import is all or nothing (:meth:`BankService.import_coda`): a damaged
file is refused whole with the node's message, which names the line at
fault, and nothing of it is kept. Payments quoting an owner's structured
communication are credited to that owner at once; every other movement
waits in the **matching queue** until the syndic says what it is: an
owner's payment, the payment of a supplier's invoice, or an amount for an
account (bank charges 650, sundry income 740…).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from node.domain.accounting.chart import Chart
from node.domain.payments import format_iban
from node.i18n import N_, _
from node.services.bank import ImportReport
from node.services.registry import Change
from node.session import Session

from ...jobs import open_file_dialog, read_file
from ...labels import fmt_eur
from ...ops import Ops
from ...qt import QCheckBox, QFileDialog, QFrame, QHBoxLayout, QLabel, QWidget
from ...table import Column, RecordTable
from ...widgets import RecordDialog, show_error
from .base import AccountsContext, AccountsPage, YearsInfo
from .notice import reference_text
from .resolve_dialog import ResolveDialog, unpaid_invoices

CODA_FILTER = N_("CODA statements (*.cod *.coda *.txt *.COD)")


@dataclass(frozen=True)
class QueueRow:
    item: dict[str, Any]

    @property
    def id(self) -> str:
        return self.item["id"]

    @property
    def amount(self) -> int:
        return int(self.item["amount"])

    @property
    def day(self) -> date:
        return date.fromisoformat(self.item["date"])


def counterparty(row: QueueRow) -> str:
    name = row.item.get("name") or ""
    account = row.item.get("counterparty") or ""
    if account:
        account = format_iban(account)
    return " · ".join(p for p in (name, account) if p)


def communication(row: QueueRow) -> str:
    if row.item.get("reference"):
        return reference_text(row.item["reference"])
    return row.item.get("communication") or ""


COLUMNS = (
    Column(N_("Date"), lambda r: r.item["date"], sort=lambda r: (r.day, r.id)),
    Column(N_("Amount"), lambda r: fmt_eur(r.amount), sort=lambda r: r.amount, numeric=True),
    Column(N_("Counterparty"), counterparty),
    Column(N_("Communication"), communication),
    Column(
        N_("Status"),
        lambda r: _("Matched") if r.item.get("resolved") else _("To match"),
        muted=lambda r: bool(r.item.get("resolved")),
        warn=lambda r: not r.item.get("resolved"),
    ),
)


@dataclass(frozen=True)
class BankData:
    year: int
    queue: tuple[QueueRow, ...]
    invoices: tuple[Any, ...]  # unpaid invoices of every year
    chart: Chart  # the latest year's, with the building's sub-accounts


def read_bank(session: Session, year: int, info: YearsInfo, everything: bool) -> BankData:
    if not info.years:
        return BankData(year, (), (), Chart())
    queue = tuple(QueueRow(item) for item in session.bank.queue(open_only=not everything))
    invoices = tuple(unpaid_invoices(session, info.years))
    return BankData(year, queue, invoices, session.ledger.chart(info.years[-1]))


class BankPage(AccountsPage):
    title_msgid = N_("Bank")
    uses_year = False  # statements and the queue span the years

    def __init__(self, ops: Ops, context: AccountsContext, parent: QWidget | None = None) -> None:
        super().__init__(ops, context, parent)
        self.file_dialog: QFileDialog | None = None
        self.report: ImportReport | None = None
        self.import_button = self.button(_("&Import a CODA file…"), self.ask_import)
        self.import_button.setObjectName("primary")
        self.resolve_button = self.button(
            _("&Match…"), self.resolve, _("Say what the selected movement is")
        )
        self.show_all = QCheckBox(_("Show matched movements too"))
        self.show_all.toggled.connect(lambda _on: self.refresh())
        bar = self.toolbar(self.import_button, self.resolve_button)
        bar.addWidget(self.show_all)
        self.layout_.addLayout(bar)
        self.layout_.addWidget(self.load_error)
        self.report_box = QFrame()
        self.report_box.setObjectName("card")
        report_layout = QHBoxLayout(self.report_box)
        report_layout.setContentsMargins(14, 10, 14, 10)
        self.report_label = QLabel()
        self.report_label.setObjectName("importReport")
        self.report_label.setWordWrap(True)
        report_layout.addWidget(self.report_label, 1)
        self.report_box.hide()
        self.layout_.addWidget(self.report_box)
        self.queue_title = QLabel()
        self.queue_title.setObjectName("sectionTitle")
        self.layout_.addWidget(self.queue_title)
        self.table = RecordTable(COLUMNS, stretch=3)
        self.table.setObjectName("queueTable")
        self.table.activated.connect(lambda _index: self.resolve())
        self.layout_.addWidget(self.table, 1)
        hint = QLabel(
            _(
                "Payments quoting an owner's structured communication are credited to that "
                "owner when the file is imported. The movements listed here wait on the "
                "suspense account (499) until you say what they are."
            )
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        self.layout_.addWidget(hint)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self.update_actions())
        self.update_actions()

    @property
    def writable(self) -> bool:
        """Statements go to the year of each movement: a closed year shown
        elsewhere does not stop an import (the node refuses what falls in it)."""
        info = self.context.info
        return info is not None and info.writable

    def reader(self) -> Callable[[Session, int, YearsInfo], BankData]:
        everything = self.show_all.isChecked()
        return lambda session, year, info: read_bank(session, year, info, everything)

    def show_data(self, data: BankData) -> None:
        self.table.set_rows(list(data.queue))
        waiting = [r for r in data.queue if not r.item.get("resolved")]
        if waiting:
            self.queue_title.setText(
                _("Matching queue: {n} movements to match, {amount} in all").format(
                    n=len(waiting), amount=fmt_eur(sum(r.amount for r in waiting))
                )
            )
        else:
            self.queue_title.setText(_("Matching queue: nothing to match."))

    def update_actions(self) -> None:
        row = self.table.current_row()
        self.import_button.setEnabled(self.editable)
        self.resolve_button.setEnabled(
            self.editable and row is not None and not row.item.get("resolved")
        )

    def select_record(self, record_id: str) -> bool:
        return self.table.select_id(record_id)

    # -- importing ------------------------------------------------------------------------------

    def ask_import(self) -> None:
        if self.editable:
            self.file_dialog = open_file_dialog(
                self, _("Import a CODA file"), _(CODA_FILTER), self.import_file
            )

    def import_file(self, path: Path) -> None:
        """Import the CODA file at ``path``, all or nothing."""
        if not self.editable:
            return
        reports: list[ImportReport] = []

        def work(session: Session) -> Change:
            reports.append(session.bank.import_coda(read_file(path)))
            return Change.of("entries", "queue")

        def done(_update: Any) -> None:
            self.show_report(reports[0], path)

        def refused(exc: Exception) -> None:
            self.report = None
            self.report_label.setText(
                _("{file} was not imported; nothing of it was kept.\n{reason}").format(
                    file=path.name, reason=exc
                )
            )
            self.report_label.setProperty("ok", False)
            self._polish_report()
            show_error(self.window(), str(exc), _("CODA file refused"))

        self.change(work, on_done=done, on_error=refused, wait=_("Importing the statements…"))

    def show_report(self, report: ImportReport, path: Path) -> None:
        self.report = report
        self.report_label.setText(
            _(
                "{file}: {statements} statements, {movements} movements. {matched} payments "
                "matched to owners by their structured communication ({amount}); {queued} "
                "movements left to match below."
            ).format(
                file=path.name,
                statements=report.statements,
                movements=report.movements,
                matched=report.matched,
                amount=fmt_eur(report.matched_amount),
                queued=report.queued,
            )
        )
        self.report_label.setProperty("ok", True)
        self._polish_report()
        self.message.emit(_("{file} imported.").format(file=path.name))

    def _polish_report(self) -> None:
        self.report_box.show()
        self.report_label.style().unpolish(self.report_label)
        self.report_label.style().polish(self.report_label)

    # -- matching ---------------------------------------------------------------------------------

    def resolve(self) -> None:
        row = self.table.current_row()
        if row is None or row.item.get("resolved") or not self.editable or self.state is None:
            return
        assert self.data is not None
        dialog = ResolveDialog(
            row.item, self.state.registry, self.data.invoices, self.data.chart, self
        )
        self.open_dialog(dialog, self._save_resolve)

    def _save_resolve(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, ResolveDialog)
        item_id, target = dialog.item["id"], dialog.values()
        dialog.save_button.setEnabled(False)

        def done(_update: Any) -> None:
            dialog.accept()
            self.message.emit(_("Movement matched."))

        self.change(
            lambda s: s.bank.resolve(item_id, **target), on_done=done, on_error=dialog.show_error
        )
