"""A supplier invoice: its header, its lines, and how it will be shared out.

Each line goes to a charge account (class 6, or equipment in class 2) with
an amount typed in euros (read with :func:`~node.domain.payments.parse_eur`)
and a distribution key: the general quotas or one of the deed's special
keys. Under the lines, the **allocation preview** shows what every lot will
bear, computed as the node will compute it
(:func:`~node.domain.accounting.allocation.allocate` over the key's
weights), with the totals equal to the invoice to the cent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from node.domain.accounting.allocation import allocate
from node.domain.accounting.chart import Chart, Kind
from node.domain.payments import parse_eur
from node.domain.registry import GENERAL_KEY_ID, Registry
from node.errors import InputError
from node.i18n import _, current_language
from node.services.ledger import InvoiceLine

from ...labels import fmt_eur, natural_key
from ...qt import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFont,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)
from ...widgets import RecordDialog
from .base import date_edit, day_of

ACCOUNT, LABEL, AMOUNT, KEY = range(4)


def charge_accounts(chart: Chart) -> list[tuple[str, str]]:
    """(number, "number label") of the accounts an invoice line may go to:
    charges (class 6) first, then equipment (class 2)."""
    language = current_language()
    accounts = [
        a
        for a in chart.sorted()
        if chart.postable(a.number) and a.kind in (Kind.EXPENSE, Kind.FIXED)
    ]
    accounts.sort(key=lambda a: (a.kind is not Kind.EXPENSE, a.number))
    return [(a.number, f"{a.number}  {a.label(language)}") for a in accounts]


def key_choices(registry: Registry) -> list[tuple[str, str]]:
    """(key id, name): the general quotas first, then the special keys."""
    keys = [(GENERAL_KEY_ID, _("General (quotas)"))]
    keys += sorted(((k.id, k.name) for k in registry.keys), key=lambda k: k[1].casefold())
    return keys


def key_weights(registry: Registry, key_id: str) -> dict[str, int]:
    """The weights a line is split with: the lots the key gives weight to
    (as :meth:`LedgerService.key_weights` reads them)."""
    key = registry.key(key_id)
    return {lot: w for lot, w in key.weights.items() if w > 0} if key else {}


class InvoiceDialog(RecordDialog):
    def __init__(
        self, chart: Chart, registry: Registry, day: date, parent: QWidget | None = None
    ) -> None:
        super().__init__(_("New supplier invoice"), parent)
        self.setObjectName("invoiceDialog")
        self.setMinimumSize(860, 640)
        self.registry = registry
        self.accounts = charge_accounts(chart)
        self.keys = key_choices(registry)
        self.allocation: dict[str, int] = {}  # lot id -> cents, as previewed
        self.total = 0

        self.supplier = QLineEdit()
        self.supplier.setPlaceholderText(_("e.g. Kone SA"))
        self.number = QLineEdit()
        self.number.setPlaceholderText(_("The supplier's invoice number"))
        self.day = date_edit(day)
        self.has_due = QCheckBox(_("&Due on"))
        self.due = date_edit(day)
        self.due.setEnabled(False)
        self.has_due.toggled.connect(self.due.setEnabled)
        due_row = QHBoxLayout()
        due_row.addWidget(self.has_due)
        due_row.addWidget(self.due, 1)
        self.form.addRow(_("&Supplier"), self.supplier)
        self.form.addRow(_("Invoice &number"), self.number)
        self.form.addRow(_("Invoice &date"), self.day)
        self.form.addRow("", due_row)

        self.lines = QTableWidget(0, 4)
        self.lines.setObjectName("invoiceLines")
        self.lines.setHorizontalHeaderLabels(
            [_("Account"), _("Label"), _("Amount (€)"), _("Distribution key")]
        )
        header = self.lines.horizontalHeader()
        header.setSectionResizeMode(ACCOUNT, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(LABEL, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(AMOUNT, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(KEY, QHeaderView.ResizeMode.Stretch)
        self.lines.verticalHeader().hide()
        self.lines.verticalHeader().setDefaultSectionSize(30)
        self.lines.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.lines.setMinimumHeight(130)
        self.lines.itemChanged.connect(lambda _item: self.update_preview())
        self.add_line_button = QPushButton(_("Add a &line"))
        self.add_line_button.clicked.connect(lambda: self.add_line())
        self.remove_line_button = QPushButton(_("&Remove the line"))
        self.remove_line_button.clicked.connect(self.remove_line)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_line_button)
        buttons.addWidget(self.remove_line_button)
        buttons.addStretch(1)

        self.preview = QTableWidget(0, 0)
        self.preview.setObjectName("allocationPreview")
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.verticalHeader().hide()
        self.preview.verticalHeader().setDefaultSectionSize(24)
        self.preview.setAlternatingRowColors(True)
        self.preview.setMinimumHeight(180)
        self.preview_title = QLabel(_("How the invoice is shared out between the lots"))
        self.preview_title.setObjectName("sectionTitle")
        self.check = QLabel()
        self.check.setObjectName("allocationCheck")
        self.check.setWordWrap(True)

        at = 1
        for widget in (QLabel(_("Lines")), self.lines):
            self.body.insertWidget(at, widget)
            at += 1
        self.body.insertLayout(at, buttons)
        for widget in (self.preview_title, self.preview, self.check):
            at += 1
            self.body.insertWidget(at, widget)
        self.body.setStretch(at - 1, 1)
        self.add_line()

    # -- lines ----------------------------------------------------------------------------

    def add_line(
        self, account: str = "", amount: str = "", key: str = GENERAL_KEY_ID, label: str = ""
    ) -> int:
        """Add a line (tests fill it the way a person would); its row."""
        row = self.lines.rowCount()
        self.lines.blockSignals(True)
        self.lines.insertRow(row)
        accounts = QComboBox()
        for number, text in self.accounts:
            accounts.addItem(text, number)
        accounts.setCurrentIndex(max(0, accounts.findData(account or "611")))
        keys = QComboBox()
        for key_id, name in self.keys:
            keys.addItem(name, key_id)
        keys.setCurrentIndex(max(0, keys.findData(key)))
        amount_item = QTableWidgetItem(amount)
        amount_item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.lines.setCellWidget(row, ACCOUNT, accounts)
        self.lines.setItem(row, LABEL, QTableWidgetItem(label))
        self.lines.setItem(row, AMOUNT, amount_item)
        self.lines.setCellWidget(row, KEY, keys)
        self.lines.blockSignals(False)
        accounts.currentIndexChanged.connect(lambda _i: self.update_preview())
        keys.currentIndexChanged.connect(lambda _i: self.update_preview())
        self.update_preview()
        return row

    def set_amount(self, row: int, text: str) -> None:
        self.lines.item(row, AMOUNT).setText(text)

    def set_key(self, row: int, key_id: str) -> None:
        combo = self.lines.cellWidget(row, KEY)
        combo.setCurrentIndex(combo.findData(key_id))

    def set_account(self, row: int, number: str) -> None:
        combo = self.lines.cellWidget(row, ACCOUNT)
        combo.setCurrentIndex(combo.findData(number))

    def remove_line(self) -> None:
        row = self.lines.currentRow()
        if row < 0:
            row = self.lines.rowCount() - 1
        if self.lines.rowCount() > 1 and row >= 0:
            self.lines.removeRow(row)
            self.update_preview()

    def _line(self, row: int) -> tuple[str, str, str, str]:
        account = self.lines.cellWidget(row, ACCOUNT).currentData()
        key = self.lines.cellWidget(row, KEY).currentData()
        label = self.lines.item(row, LABEL)
        amount = self.lines.item(row, AMOUNT)
        return (
            account,
            label.text().strip() if label else "",
            amount.text().strip() if amount else "",
            key,
        )

    def invoice_lines(self) -> list[InvoiceLine]:
        """The lines as the node takes them; :class:`InputError` naming the
        line whose amount is not an amount."""
        out = []
        for row in range(self.lines.rowCount()):
            account, label, text, key = self._line(row)
            if not text:
                raise InputError(_("Line {n}: enter its amount.").format(n=row + 1))
            try:
                cents = parse_eur(text)
            except InputError as exc:
                raise InputError(_("Line {n}: {error}").format(n=row + 1, error=exc)) from exc
            out.append(InvoiceLine(account, cents, key, label))
        return out

    def values(self) -> tuple[str, str, date, date | None, list[InvoiceLine]]:
        lines = self.invoice_lines()
        due = day_of(self.due) if self.has_due.isChecked() else None
        return (
            self.supplier.text().strip(),
            self.number.text().strip(),
            day_of(self.day),
            due,
            lines,
        )

    # -- the allocation preview ------------------------------------------------------------

    def update_preview(self) -> None:
        """Share out each line by its key now, as the node will on saving."""
        parts: list[dict[str, int]] = []
        problems: list[str] = []
        amounts: list[int] = []
        for row in range(self.lines.rowCount()):
            _account, _label, text, key = self._line(row)
            if not text:
                parts.append({})
                amounts.append(0)
                continue
            try:
                cents = parse_eur(text)
            except InputError as exc:
                problems.append(_("Line {n}: {error}").format(n=row + 1, error=exc))
                parts.append({})
                amounts.append(0)
                continue
            weights = key_weights(self.registry, key)
            if not weights:
                problems.append(
                    _("Line {n}: the key gives no weight to any lot.").format(n=row + 1)
                )
                parts.append({})
                amounts.append(0)
                continue
            parts.append(allocate(cents, weights))
            amounts.append(cents)
        self._show_preview(parts, amounts, problems)

    def _show_preview(
        self, parts: Sequence[dict[str, int]], amounts: Sequence[int], problems: list[str]
    ) -> None:
        lots = sorted(
            {lot for part in parts for lot, cents in part.items() if cents},
            key=lambda lot_id: natural_key(self._lot_number(lot_id)),
        )
        self.allocation = {lot: sum(p.get(lot, 0) for p in parts) for lot in lots}
        self.total = sum(amounts)
        headers = [_("Lot")]
        headers += [_("Line {n}").format(n=i + 1) for i in range(len(parts))]
        headers.append(_("Total"))
        self.preview.clear()
        self.preview.setColumnCount(len(headers))
        self.preview.setHorizontalHeaderLabels(headers)
        self.preview.setRowCount(len(lots) + 1)
        for row, lot in enumerate(lots):
            self._cell(row, 0, self._lot_number(lot), right=False)
            for column, part in enumerate(parts, start=1):
                self._cell(row, column, fmt_eur(part[lot]) if part.get(lot) else "")
            self._cell(row, len(parts) + 1, fmt_eur(self.allocation[lot]))
        total_row = len(lots)
        self._cell(total_row, 0, _("Total"), right=False, bold=True)
        for column, part in enumerate(parts, start=1):
            self._cell(total_row, column, fmt_eur(sum(part.values())), bold=True)
        self._cell(total_row, len(parts) + 1, fmt_eur(sum(self.allocation.values())), bold=True)
        header = self.preview.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        shared = sum(self.allocation.values())
        if problems:
            self.check.setProperty("ok", False)
            self.check.setText("\n".join(problems))
        elif self.total == 0:
            self.check.setProperty("ok", None)
            self.check.setText(_("Type the amounts to see each lot's share."))
        else:
            self.check.setProperty("ok", shared == self.total)
            self.check.setText(
                _("{lots} lots bear {shared}; the invoice totals {total}.").format(
                    lots=len(lots), shared=fmt_eur(shared), total=fmt_eur(self.total)
                )
            )
        self.check.style().unpolish(self.check)
        self.check.style().polish(self.check)

    def _lot_number(self, lot_id: str) -> str:
        lot = self.registry.lot(lot_id)
        return lot.number if lot else lot_id

    def _cell(self, row: int, column: int, text: str, right: bool = True, bold: bool = False):  # type: ignore[no-untyped-def]
        item = QTableWidgetItem(text)
        if right:
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if bold:
            font = QFont()
            font.setBold(True)
            item.setFont(font)
        self.preview.setItem(row, column, item)
        return item

    def preview_rows(self) -> list[list[str]]:
        """The preview as text, row by row (tests read it)."""
        return [
            [
                (self.preview.item(r, c).text() if self.preview.item(r, c) else "")
                for c in range(self.preview.columnCount())
            ]
            for r in range(self.preview.rowCount())
        ]
