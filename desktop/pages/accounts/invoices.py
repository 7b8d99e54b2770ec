"""Supplier invoices: the year's invoices, whether they are paid, their
lines; "New invoice…" records and posts one (purchases journal), "Pay…"
pays it from the current account (bank journal)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from node.domain.accounting.chart import Chart
from node.domain.registry import GENERAL_KEY_ID, Registry
from node.i18n import N_, _, current_language
from node.session import Session

from ...labels import fmt_date, fmt_eur
from ...ops import Ops
from ...qt import QLabel, QSplitter, Qt, QVBoxLayout, QWidget
from ...table import Column, RecordTable
from ...widgets import RecordDialog
from .base import (
    AccountsContext,
    AccountsPage,
    YearsInfo,
    clamp,
    date_edit,
    day_of,
    empty_view,
)
from .invoice_dialog import InvoiceDialog


@dataclass(frozen=True)
class InvoiceRow:
    id: str
    supplier: str
    number: str
    day: date
    due: date | None
    total: int
    lines: tuple[dict[str, Any], ...]
    paid_on: date | None
    cancelled: bool  # its entry was reversed

    @property
    def open(self) -> bool:
        return self.paid_on is None and not self.cancelled

    def overdue(self, today: date) -> bool:
        return self.open and self.due is not None and self.due < today


@dataclass(frozen=True)
class InvoicesData:
    year: int
    rows: tuple[InvoiceRow, ...]
    chart: Chart


def invoice_rows(invoices: dict[str, dict[str, Any]], entries: dict) -> list[InvoiceRow]:
    reversed_ids = {e.reverses for e in entries.values() if e.reverses}
    rows = []
    for invoice_id, invoice in invoices.items():
        paid = entries.get(invoice.get("paid_entry") or "")
        rows.append(
            InvoiceRow(
                invoice_id,
                invoice["supplier"],
                invoice["number"],
                date.fromisoformat(invoice["date"]),
                date.fromisoformat(invoice["due"]) if invoice.get("due") else None,
                sum(int(x["amount"]) for x in invoice["lines"]),
                tuple(invoice["lines"]),
                paid.date if paid is not None else None,
                invoice.get("entry") in reversed_ids,
            )
        )
    return rows


def paid_text(row: InvoiceRow) -> str:
    if row.cancelled:
        return _("Cancelled (reversed)")
    if row.paid_on is not None:
        return _("Paid on {date}").format(date=fmt_date(row.paid_on))
    if row.overdue(date.today()):
        return _("Unpaid — overdue")
    return _("Unpaid")


COLUMNS = (
    Column(N_("Supplier"), lambda r: r.supplier),
    Column(N_("Number"), lambda r: r.number),
    Column(N_("Date"), lambda r: fmt_date(r.day), sort=lambda r: r.day),
    Column(N_("Due"), lambda r: fmt_date(r.due), sort=lambda r: r.due),
    Column(N_("Total"), lambda r: fmt_eur(r.total), sort=lambda r: r.total, numeric=True),
    Column(
        N_("Paid?"),
        paid_text,
        sort=lambda r: (r.open, r.paid_on or date.min),
        warn=lambda r: r.overdue(date.today()),
        muted=lambda r: r.cancelled,
    ),
)


@dataclass(frozen=True)
class DetailRow:
    index: int
    account: str
    label: str
    key: str
    amount: int

    @property
    def id(self) -> str:
        return str(self.index)


DETAIL_COLUMNS = (
    Column(N_("Account"), lambda r: r.account, sort=lambda r: r.index),
    Column(N_("Label"), lambda r: r.label),
    Column(N_("Distribution key"), lambda r: r.key),
    Column(N_("Amount"), lambda r: fmt_eur(r.amount), sort=lambda r: r.amount, numeric=True),
)


def detail_rows(row: InvoiceRow, chart: Chart, registry: Registry) -> list[DetailRow]:
    language = current_language()
    out = []
    for index, line in enumerate(row.lines):
        account = chart.get(line["account"])
        key = registry.key(line.get("key") or GENERAL_KEY_ID)
        label = line.get("label") or (account.label(language) if account else "")
        out.append(
            DetailRow(
                index,
                line["account"],
                label,
                key.name if key else line.get("key", ""),
                int(line["amount"]),
            )
        )
    return out


class PayDialog(RecordDialog):
    def __init__(self, row: InvoiceRow, day: date, parent: QWidget | None = None) -> None:
        super().__init__(
            _("Pay invoice {number} of {supplier}").format(
                number=row.number, supplier=row.supplier
            ),
            parent,
        )
        self.setObjectName("payInvoiceDialog")
        self.row = row
        self.day = date_edit(day)
        self.form.addRow(_("Amount"), QLabel(fmt_eur(row.total)))
        self.form.addRow(_("Paid from"), QLabel(_("550 Current account")))
        self.form.addRow(_("Payment &date"), self.day)
        self.save_button.setText(_("Record the payment"))


class InvoicesPage(AccountsPage):
    title_msgid = N_("Supplier invoices")

    def __init__(self, ops: Ops, context: AccountsContext, parent: QWidget | None = None) -> None:
        super().__init__(ops, context, parent)
        self.table = RecordTable(COLUMNS, stretch=0)
        self.table.setObjectName("invoicesTable")
        self.table.sortByColumn(2, Qt.SortOrder.AscendingOrder)  # by date
        self.details = RecordTable(DETAIL_COLUMNS, stretch=1, fit=True)
        self.details.setObjectName("invoiceLinesTable")
        self.details_title = QLabel()
        self.details_title.setObjectName("sectionTitle")
        self.new_button = self.button(_("&New invoice…"), self.new_invoice)
        self.pay_button = self.button(_("&Pay…"), self.pay, _("Pay the selected invoice"))
        self.summary = QLabel()
        self.summary.setObjectName("hint")
        search = self.search_field(self.table.proxy.setFilterFixedString)
        self.layout_.addLayout(self.toolbar(self.new_button, self.pay_button, search=search))
        self.layout_.addWidget(self.load_error)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 6, 0, 0)
        lower_layout.addWidget(self.details_title)
        lower_layout.addWidget(self.details, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(lower)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        self.layout_.addWidget(split, 1)
        self.layout_.addWidget(self.summary)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._selected())
        self.pending_select = ""
        self._selected()

    def read(self, session: Session, year: int, info: YearsInfo) -> InvoicesData:
        if year not in info.years:
            return InvoicesData(year, (), empty_view().chart)
        view = session.ledger.view(year)
        entries = {e.id: e for e in view.entries}
        rows = invoice_rows(session.ledger.invoices(year), entries)
        return InvoicesData(year, tuple(rows), view.chart)

    def show_data(self, data: InvoicesData) -> None:
        self.table.set_rows(list(data.rows))
        if self.pending_select and self.table.select_id(self.pending_select):
            self.pending_select = ""
        unpaid = [r for r in data.rows if r.open]
        self.summary.setText(
            _("{count} invoices · {unpaid} unpaid, {amount} to pay").format(
                count=len(data.rows),
                unpaid=len(unpaid),
                amount=fmt_eur(sum(r.total for r in unpaid)),
            )
        )
        self._selected()

    def _selected(self) -> None:
        row = self.table.current_row()
        if row is None or self.state is None or self.data is None:
            self.details_title.setText(_("Choose an invoice to see its lines."))
            self.details.set_rows([])
        else:
            self.details_title.setText(
                _("{supplier} · invoice {number} of {date}").format(
                    supplier=row.supplier, number=row.number, date=fmt_date(row.day)
                )
            )
            self.details.set_rows(detail_rows(row, self.data.chart, self.state.registry))
        self.update_actions()

    def update_actions(self) -> None:
        row = self.table.current_row()
        self.new_button.setEnabled(self.editable and self.data is not None)
        self.pay_button.setEnabled(self.editable and row is not None and row.open)

    def select_record(self, record_id: str) -> bool:
        return self.table.select_id(record_id)

    def new_invoice(self) -> None:
        if not self.editable or self.data is None or self.state is None:
            return
        day = clamp(date.today(), self.context.info.fiscal(self.year))  # type: ignore[union-attr]
        dialog = InvoiceDialog(self.data.chart, self.state.registry, day, self)
        self.open_dialog(dialog, self._save_invoice)

    def _save_invoice(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, InvoiceDialog)
        supplier, number, day, due, lines = dialog.values()
        dialog.save_button.setEnabled(False)

        def done(update: Any) -> None:
            dialog.accept()
            self.pending_select = update.change.record_id or ""
            self.message.emit(
                _("Invoice {number} of {supplier} recorded.").format(
                    number=number, supplier=supplier
                )
            )

        self.change(
            lambda s: s.ledger.add_invoice(supplier, number, day, due, lines),
            on_done=done,
            on_error=dialog.show_error,
        )

    def pay(self) -> None:
        row = self.table.current_row()
        if row is None or not row.open or not self.editable:
            return
        day = clamp(date.today(), self.context.info.fiscal(self.year))  # type: ignore[union-attr]
        self.open_dialog(PayDialog(row, day, self), self._save_payment)

    def _save_payment(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, PayDialog)
        invoice_id, day, number = dialog.row.id, day_of(dialog.day), dialog.row.number
        dialog.save_button.setEnabled(False)

        def done(_update: Any) -> None:
            dialog.accept()
            self.message.emit(_("Invoice {number} paid.").format(number=number))

        self.change(
            lambda s: s.ledger.pay_invoice(invoice_id, day),
            on_done=done,
            on_error=dialog.show_error,
        )
