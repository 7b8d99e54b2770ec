"""Budgets: the ordinary and extraordinary budgets of the year by account
(art. 3.89 §5, 6°), typed in euros in the table, and the reserve-fund
check (art. 3.86 §3) said plainly: the minimum, what the year's
reserve-fund calls plan, whether that is enough — or why it is not
required (waived by the assembly, or within five years of the provisional
acceptance of the common parts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from node.domain.accounting.calls import Budget, BudgetKind, ReserveFundCheck, check_reserve_fund
from node.domain.accounting.chart import Chart, Kind
from node.domain.payments import parse_eur
from node.errors import InputError
from node.i18n import N_, _, current_language
from node.services.registry import Change
from node.session import Session

from ...labels import fmt_date, fmt_eur
from ...ops import Ops
from ...qt import (
    QAbstractItemView,
    QBrush,
    QColor,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from ...widgets import RecordDialog
from .base import AccountsContext, AccountsPage, YearsInfo, empty_view

NUMBER, LABEL, AMOUNT = range(3)

BUDGET_TITLES = {
    BudgetKind.ORDINARY: N_("Ordinary budget (running costs)"),
    BudgetKind.EXTRAORDINARY: N_("Extraordinary budget (foreseeable works)"),
}


@dataclass(frozen=True)
class BudgetsData:
    year: int
    chart: Chart
    budgets: Mapping[BudgetKind, Budget]
    reserve: ReserveFundCheck
    basis: str  # "previous-year" or "budget"
    charges: int  # the ordinary charges the minimum is computed from
    provisional_acceptance: object  # date | None


def read_budgets(session: Session, year: int, info: YearsInfo) -> BudgetsData:
    ledger = session.ledger
    association = session.registry.read().association
    acceptance = association.provisional_acceptance if association else None
    if year in info.years:
        chart = ledger.chart(year)
        budgets = {kind: ledger.budget(year, kind) for kind in BudgetKind}
        check, basis = ledger.reserve_fund_check(year)
        charges, _basis = ledger.previous_ordinary_charges(year)
    else:  # not opened yet: read, never write
        chart = empty_view().chart
        budgets = {kind: Budget(year, kind, {}) for kind in BudgetKind}
        charges, basis = (
            ledger.previous_ordinary_charges(year) if year - 1 in info.years else (0, "budget")
        )
        check = check_reserve_fund(0, charges, info.fiscal(year).start, acceptance, False)
    return BudgetsData(year, chart, budgets, check, basis, charges, acceptance)


def budget_accounts(chart: Chart, kind: BudgetKind, lines: Mapping[str, int]) -> list[str]:
    kinds = (Kind.EXPENSE,) if kind is BudgetKind.ORDINARY else (Kind.EXPENSE, Kind.FIXED)
    numbers = {a.number for a in chart.sorted() if chart.postable(a.number) and a.kind in kinds}
    return sorted(numbers | set(lines), key=lambda n: (n[0] != "6", n))


class BudgetTable(QWidget):
    """One budget: an account per row, its amount typed in euros, the total."""

    def __init__(self, kind: BudgetKind, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self.saved: dict[str, int] = {}
        self.dirty = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel(_(BUDGET_TITLES[kind]))
        title.setObjectName("sectionTitle")
        self.table = QTableWidget(0, 3)
        self.table.setObjectName(f"budget_{kind.value}")
        self.table.setHorizontalHeaderLabels([_("Account"), _("Label"), _("Amount")])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(NUMBER, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(LABEL, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(AMOUNT, QHeaderView.ResizeMode.ResizeToContents)
        header.setMinimumSectionSize(60)
        self.table.itemChanged.connect(self._edited)
        self.total = QLabel()
        self.total.setObjectName("budgetTotal")
        self.total.setAlignment(Qt.AlignmentFlag.AlignRight)
        layout.addWidget(title)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.total)

    def show_budget(self, chart: Chart, lines: Mapping[str, int], editable: bool) -> None:
        self.saved = dict(lines)
        language = current_language()
        self.table.blockSignals(True)
        numbers = budget_accounts(chart, self.kind, lines)
        self.table.setRowCount(len(numbers))
        for row, number in enumerate(numbers):
            account = chart.get(number)
            fixed = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
            for column, text in (
                (NUMBER, number),
                (LABEL, account.label(language) if account else number),
            ):
                item = QTableWidgetItem(text)
                item.setFlags(fixed)
                self.table.setItem(row, column, item)
            amount = lines.get(number, 0)
            item = QTableWidgetItem(fmt_eur(amount) if amount else "")
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setData(Qt.ItemDataRole.UserRole, number)
            item.setFlags(
                fixed | (Qt.ItemFlag.ItemIsEditable if editable else Qt.ItemFlag.NoItemFlags)
            )
            self.table.setItem(row, AMOUNT, item)
        self.table.blockSignals(False)
        self.dirty = False
        self._show_total()

    def set_amount(self, number: str, text: str) -> None:
        """Type ``text`` in the row of account ``number`` (as a person would)."""
        for row in range(self.table.rowCount()):
            if self.table.item(row, NUMBER).text() == number:
                self.table.item(row, AMOUNT).setText(text)
                return
        raise KeyError(number)

    def _edited(self, item: QTableWidgetItem) -> None:
        if item.column() != AMOUNT:
            return
        self.dirty = True
        self.table.blockSignals(True)
        try:
            cents = parse_eur(item.text()) if item.text().strip() else 0
            if cents < 0:
                raise InputError(_("Budget amounts are zero or more."))
        except InputError as exc:
            item.setForeground(QBrush(QColor("#b3261e")))
            item.setToolTip(str(exc))
        else:
            item.setForeground(QBrush())
            item.setToolTip("")
            if cents:
                item.setText(fmt_eur(cents))
        self.table.blockSignals(False)
        self._show_total()

    def lines(self) -> dict[str, int]:
        """The amounts typed, by account; :class:`InputError` for one that is not."""
        out = {}
        for row in range(self.table.rowCount()):
            item = self.table.item(row, AMOUNT)
            text = item.text().strip()
            if not text:
                continue
            number = item.data(Qt.ItemDataRole.UserRole)
            try:
                cents = parse_eur(text)
            except InputError as exc:
                raise InputError(
                    _("Account {number}: {error}").format(number=number, error=exc)
                ) from exc
            if cents < 0:
                raise InputError(_("Budget amounts are zero or more."))
            if cents:
                out[number] = cents
        return out

    def _show_total(self) -> None:
        try:
            text = _("Total: {amount}").format(amount=fmt_eur(sum(self.lines().values())))
            wrong = False
        except InputError as exc:
            # found by hand: only the cell turned red, the reason in a tooltip
            text = _("Total: {amount}").format(amount="—") + " · " + str(exc)
            wrong = True
        self.total.setText(text)
        self.total.setProperty("wrong", wrong)
        self.total.style().unpolish(self.total)
        self.total.style().polish(self.total)


class WaiverDialog(RecordDialog):
    def __init__(self, year: int, parent: QWidget | None = None) -> None:
        super().__init__(_("The assembly's waiver of the reserve fund"), parent)
        self.setObjectName("waiverDialog")
        text = QLabel(
            _(
                "The general assembly may decide, by a four-fifths majority, not to "
                "contribute to the reserve fund for {year} (art. 3.86 §3 of the Civil Code). "
                "Record its decision: the minimum is then not required this year."
            ).format(year=year)
        )
        text.setWordWrap(True)
        text.setObjectName("hint")
        self.body.insertWidget(0, text)
        self.decision = QLineEdit()
        self.decision.setPlaceholderText(_("e.g. General assembly of 2026-03-12, item 7"))
        self.form.addRow(_("&Decision"), self.decision)
        self.save_button.setText(_("Record the waiver"))


class BudgetsPage(AccountsPage):
    title_msgid = N_("Budgets")

    def __init__(self, ops: Ops, context: AccountsContext, parent: QWidget | None = None) -> None:
        super().__init__(ops, context, parent)
        self.tables = {kind: BudgetTable(kind) for kind in BudgetKind}
        self.save_button = self.button(_("&Save the budgets"), self.save)
        self.save_button.setObjectName("primary")
        self.revert_button = self.button(_("Re&vert"), lambda: self.show_data(self.data))
        self.layout_.addLayout(self.toolbar(self.save_button, self.revert_button))
        self.layout_.addWidget(self.load_error)
        row = QHBoxLayout()
        row.setSpacing(16)
        for table in self.tables.values():
            row.addWidget(table, 1)
            table.table.itemChanged.connect(lambda _item: self.update_actions())
        self.layout_.addLayout(row, 1)
        self.layout_.addWidget(self._reserve_box())
        self.update_actions()

    def _reserve_box(self) -> QGroupBox:
        box = QGroupBox(_("Reserve fund (art. 3.86 §3)"))
        box.setObjectName("reserveBox")
        layout = QHBoxLayout(box)
        form = QFormLayout()
        form.setHorizontalSpacing(18)
        self.reserve_minimum = QLabel()
        self.reserve_basis = QLabel()
        self.reserve_basis.setObjectName("hint")
        self.reserve_basis.setWordWrap(True)
        self.reserve_planned = QLabel()
        self.reserve_status = QLabel()
        self.reserve_status.setObjectName("reserveStatus")
        self.reserve_status.setWordWrap(True)
        form.addRow(_("Minimum contribution"), self.reserve_minimum)
        form.addRow("", self.reserve_basis)
        form.addRow(_("Planned (reserve-fund calls)"), self.reserve_planned)
        form.addRow(_("Result"), self.reserve_status)
        layout.addLayout(form, 1)
        buttons = QVBoxLayout()
        self.waive_button = QPushButton(_("Record the assembly's &waiver…"))
        self.waive_button.clicked.connect(self.record_waiver)
        self.unwaive_button = QPushButton(_("Withdraw the waiver"))
        self.unwaive_button.clicked.connect(self.withdraw_waiver)
        buttons.addWidget(self.waive_button)
        buttons.addWidget(self.unwaive_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        return box

    def read(self, session: Session, year: int, info: YearsInfo) -> BudgetsData:
        return read_budgets(session, year, info)

    def show_data(self, data: BudgetsData | None) -> None:
        if data is None:
            return
        for kind, table in self.tables.items():
            table.show_budget(data.chart, data.budgets[kind].lines, self.editable)
        self._show_reserve(data)
        self.update_actions()

    def _show_reserve(self, data: BudgetsData) -> None:
        check = data.reserve
        self.reserve_minimum.setText(fmt_eur(check.minimum))
        if data.basis == "previous-year":
            basis = _("5 % of the ordinary charges of {year}: {amount}.").format(
                year=data.year - 1, amount=fmt_eur(data.charges)
            )
        else:
            basis = _(
                "5 % of this year's ordinary budget ({amount}): the accounts of {year} are "
                "not kept in KoproGo."
            ).format(amount=fmt_eur(data.charges), year=data.year - 1)
        self.reserve_basis.setText(basis)
        self.reserve_planned.setText(fmt_eur(check.planned))
        if check.reason == "waived":
            text, state = _("Not required: waived by the general assembly."), "info"
        elif check.reason == "grace":
            text = _(
                "Not required: the common parts were provisionally accepted on {date}, "
                "less than five years before this year."
            ).format(date=fmt_date(data.provisional_acceptance))  # type: ignore[arg-type]
            state = "info"
        elif check.ok:
            text, state = _("Met: the planned calls reach the minimum."), "ok"
        else:
            text = _("Not met: {amount} short of the minimum.").format(
                amount=fmt_eur(check.minimum - check.planned)
            )
            state = "problem"
        self.reserve_status.setText(text)
        self.reserve_status.setProperty("state", state)
        self.reserve_status.style().unpolish(self.reserve_status)
        self.reserve_status.style().polish(self.reserve_status)

    def update_actions(self) -> None:
        dirty = any(t.dirty for t in self.tables.values())
        self.save_button.setEnabled(self.editable and dirty)
        self.revert_button.setEnabled(dirty)
        waived = self.data is not None and self.data.reserve.reason == "waived"
        self.waive_button.setEnabled(self.editable and self.data is not None and not waived)
        self.unwaive_button.setVisible(waived)
        self.unwaive_button.setEnabled(self.editable)

    def refresh(self, background: bool = False) -> None:
        if any(t.dirty for t in self.tables.values()) and background:
            return  # never overwrite what is being typed; Save or Revert reads again
        super().refresh(background)

    def save(self) -> None:
        if not self.editable:
            return
        try:
            budgets = {kind: table.lines() for kind, table in self.tables.items() if table.dirty}
        except InputError as exc:
            self.load_error.show_message(str(exc))
            return
        year = self.year

        def work(session: Session) -> Change:
            for kind, lines in budgets.items():
                session.ledger.set_budget(year, kind, lines)
            return Change.of("budgets")

        def done(_update: object) -> None:
            self.message.emit(_("Budgets of {year} saved.").format(year=year))

        for table in self.tables.values():
            table.dirty = False
        self.load_error.clear_message()
        self.change(work, on_done=done, on_error=self._save_failed)

    def _save_failed(self, exc: Exception) -> None:
        self.load_error.show_message(str(exc))
        for table in self.tables.values():
            table.dirty = True
        self.update_actions()

    def record_waiver(self) -> None:
        if self.editable:
            self.open_dialog(WaiverDialog(self.year, self), self._save_waiver)

    def _save_waiver(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, WaiverDialog)
        decision, year = dialog.decision.text().strip(), self.year
        dialog.save_button.setEnabled(False)
        self.change(
            lambda s: s.ledger.record_reserve_waiver(year, decision),
            on_done=lambda _u: dialog.accept(),
            on_error=dialog.show_error,
        )

    def withdraw_waiver(self) -> None:
        if self.editable:
            year = self.year
            self.change(lambda s: s.ledger.record_reserve_waiver(year, "", waived=False))
