"""Year-end: the accounts of the year as the assembly sees them.

* the balance sheet (assets against funds and debts, equal to the cent) —
  or, below 20 lots, the simplified presentation the law allows: cash,
  funds and the owners' balances (same engine, fewer lines);
* income and expenses, and the year's result;
* the budget against what was spent, in a table and a bar chart;
* each owner's charge statement, as PDF, and their delivery to the
  owners' inboxes;
* "Close the year…": income and expenses carried into the result carried
  forward, the year frozen, its balances opened in the next year.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from node.domain.accounting.calls import BudgetKind
from node.domain.accounting.statements import (
    BalanceSheet,
    BudgetRow,
    IncomeStatement,
    StatementRow,
    balance_sheet,
    budget_versus_actual,
    income_statement,
    owners_in,
)
from node.i18n import N_, _, current_language
from node.services.registry import Change
from node.session import Session

from ...labels import fmt_eur
from ...ops import Ops
from ...qt import (
    QGridLayout,
    QLabel,
    QMessageBox,
    QScrollArea,
    QSplitter,
    Qt,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from ...table import Column, RecordTable
from .bar_chart import Bar, BudgetChart
from .base import AccountsContext, AccountsPage, YearsInfo, empty_view
from .statement_panel import StatementPanel


@dataclass(frozen=True)
class YearEndData:
    year: int
    full: bool  # 20 lots or more: the full presentation
    sheet: BalanceSheet
    income: IncomeStatement
    versus: tuple[BudgetRow, ...]
    situation: tuple[StatementRow, ...]  # the simplified presentation's lines
    problems: tuple[str, ...]
    owners: tuple[tuple[str, str], ...]  # (person id, name), for the statements
    too_early: str = ""  # why the year cannot be closed yet


def situation_rows(view: Any, income: IncomeStatement) -> list[StatementRow]:
    """Cash, funds and the owners' balances: what the simplified
    presentation shows, read from the same ledger as the full one."""
    owners = view.owner_balances()
    rows = [
        StatementRow("5", _("Cash at the bank and in hand"), view.balance("5")),
        StatementRow("10", _("Working fund"), -view.balance("10")),
        StatementRow("16", _("Reserve fund"), -view.balance("16")),
        StatementRow("14", _("Result carried forward"), -view.balance("14")),
        StatementRow("", _("Result of the year"), income.result),
        StatementRow("410", _("Owed by owners"), sum(v for v in owners.values() if v > 0)),
        StatementRow(
            "410", _("Paid in advance by owners"), -sum(v for v in owners.values() if v < 0)
        ),
        StatementRow("44", _("Owed to suppliers"), -view.balance("44")),
        StatementRow("499", _("Bank movements not matched yet"), -view.balance("499")),
    ]
    return [r for r in rows if r.amount or r.account in ("5", "10", "16")]


def read_year_end(session: Session, year: int, info: YearsInfo) -> YearEndData:
    language = current_language()
    exists = year in info.years
    view = session.ledger.view(year) if exists else empty_view()
    budget = session.ledger.budget(year, BudgetKind.ORDINARY).lines if exists else {}
    income = income_statement(view, language)
    registry = session.registry.read()
    names = {p.id: p.name for p in registry.persons}
    owners = sorted(
        ((p, names.get(p, p)) for p in owners_in(registry)), key=lambda o: o[1].casefold()
    )
    return YearEndData(
        year,
        session.registry.facts().full_accounting_mandatory,
        balance_sheet(view, language),
        income,
        tuple(budget_versus_actual(view, dict(budget), language)),
        tuple(situation_rows(view, income)),
        tuple(session.ledger.problems(year)) if exists else (),
        tuple(owners),
        session.ledger.too_early_to_close(year) if exists else "",
    )


def amount_columns(title: str) -> tuple[Column, ...]:
    return (
        Column(N_("Account"), lambda r: r.account, sort=lambda r: (r.account == "", r.account)),
        Column(title, lambda r: r.label),
        Column(N_("Amount"), lambda r: fmt_eur(r.amount), sort=lambda r: r.amount, numeric=True),
    )


def row_id(row: StatementRow) -> str:
    return f"{row.account}:{row.label}"


VERSUS_COLUMNS = (
    Column(N_("Account"), lambda r: r.account, tooltip=lambda r: r.label),
    Column(N_("Budget"), lambda r: fmt_eur(r.budget), sort=lambda r: r.budget, numeric=True),
    Column(N_("Actual"), lambda r: fmt_eur(r.actual), sort=lambda r: r.actual, numeric=True),
    Column(
        N_("Difference"),
        lambda r: fmt_eur(r.difference),
        sort=lambda r: r.difference,
        numeric=True,
        warn=lambda r: r.difference > 0,
    ),
    Column(
        N_("Used"),
        lambda r: f"{round(100 * r.actual / r.budget)} %" if r.budget else "—",
        sort=lambda r: r.actual / r.budget if r.budget else 0,
        numeric=True,
        warn=lambda r: r.actual > r.budget,
    ),
)


class TwoSided(QWidget):
    """Two statement tables side by side with their totals."""

    def __init__(self, left: str, right: str, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 8, 8, 8)
        grid.setHorizontalSpacing(16)
        self.titles = (QLabel(left), QLabel(right))
        self.tables = (
            RecordTable(amount_columns(N_("Label")), row_id=row_id, stretch=1, fit=True),
            RecordTable(amount_columns(N_("Label")), row_id=row_id, stretch=1, fit=True),
        )
        self.totals = (QLabel(), QLabel())
        for column in range(2):
            self.titles[column].setObjectName("sectionTitle")
            self.tables[column].setObjectName(f"{name}_{column}")
            self.tables[column].keep_order()
            self.totals[column].setObjectName("statementTotal")
            self.totals[column].setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(self.titles[column], 0, column)
            grid.addWidget(self.tables[column], 1, column)
            grid.addWidget(self.totals[column], 2, column)
        self.check = QLabel()
        self.check.setObjectName("allocationCheck")
        grid.addWidget(self.check, 3, 0, 1, 2)

    def show_rows(
        self, rows: tuple[Any, Any], totals: tuple[int, int], labels: tuple[str, str]
    ) -> None:
        for column in range(2):
            self.tables[column].set_rows(list(rows[column]))
            self.totals[column].setText(f"{labels[column]}: {fmt_eur(totals[column])}")

    def set_check(self, text: str, ok: bool | None) -> None:
        self.check.setText(text)
        self.check.setProperty("ok", ok)
        self.check.style().unpolish(self.check)
        self.check.style().polish(self.check)


class YearEndPage(AccountsPage):
    title_msgid = N_("Year-end")

    def __init__(self, ops: Ops, context: AccountsContext, parent: QWidget | None = None) -> None:
        super().__init__(ops, context, parent)
        self.confirm: QMessageBox | None = None
        self.deliver_button = self.button(
            _("&Deliver statements to inboxes"),
            self.deliver,
            _("Put each owner's charge statement of the year in their inbox"),
        )
        self.close_button = self.button(_("&Close the year…"), self.ask_close)
        self.presentation = QLabel()
        self.presentation.setObjectName("hint")
        bar = self.toolbar(self.deliver_button, self.close_button)
        bar.addWidget(self.presentation)
        self.layout_.addLayout(bar)
        self.layout_.addWidget(self.load_error)
        self.problems = QLabel()
        self.problems.setObjectName("inlineError")
        self.problems.setWordWrap(True)
        self.problems.hide()
        self.layout_.addWidget(self.problems)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("yearEndTabs")
        self.sheet = TwoSided(_("Assets"), _("Funds and liabilities"), "balanceSheet")
        self.situation = RecordTable(amount_columns(N_("Item")), row_id=row_id, stretch=1, fit=True)
        self.situation.setObjectName("situationTable")
        self.situation.keep_order()
        self.income = TwoSided(_("Charges"), _("Income"), "incomeStatement")
        self.versus = RecordTable(VERSUS_COLUMNS, row_id=lambda r: r.account, fit=True)
        self.versus.setObjectName("versusTable")
        self.chart = BudgetChart()
        scroll = QScrollArea()
        scroll.setObjectName("chartArea")
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.chart)
        self.versus_total = QLabel()
        self.versus_total.setObjectName("statementTotal")
        self.versus_total.setAlignment(Qt.AlignmentFlag.AlignRight)
        table = QWidget()
        table_layout = QVBoxLayout(table)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addWidget(self.versus, 1)
        table_layout.addWidget(self.versus_total)
        versus = QSplitter(Qt.Orientation.Horizontal)
        versus.addWidget(scroll)
        versus.addWidget(table)
        versus.setStretchFactor(0, 3)
        versus.setStretchFactor(1, 2)
        versus.setChildrenCollapsible(False)
        versus.setSizes([540, 480])
        self.statements = StatementPanel(self)
        first = QWidget()
        first_layout = QVBoxLayout(first)
        first_layout.setContentsMargins(0, 0, 0, 0)
        first_layout.addWidget(self.sheet)
        first_layout.addWidget(self.situation)
        self.tabs.addTab(first, _("Balance sheet"))
        self.tabs.addTab(self.income, _("Income and expenses"))
        self.tabs.addTab(versus, _("Budget versus actual"))
        self.tabs.addTab(self.statements, _("Charge statements"))
        self.layout_.addWidget(self.tabs, 1)
        self.update_actions()

    def read(self, session: Session, year: int, info: YearsInfo) -> YearEndData:
        return read_year_end(session, year, info)

    def show_data(self, data: YearEndData) -> None:
        if data.full:
            self.presentation.setText(_("Full presentation: the building has 20 lots or more."))
            self.tabs.setTabText(0, _("Balance sheet"))
            self.situation.hide()
            self.sheet.show()
            sheet = data.sheet
            self.sheet.show_rows(
                (sheet.assets, sheet.liabilities),
                (sheet.total_assets, sheet.total_liabilities),
                (_("Total assets"), _("Total funds and liabilities")),
            )
            equal = sheet.total_assets == sheet.total_liabilities
            self.sheet.set_check(
                _("Assets and liabilities are equal: {amount}.").format(
                    amount=fmt_eur(sheet.total_assets)
                )
                if equal
                else _("Assets and liabilities differ by {amount}.").format(
                    amount=fmt_eur(abs(sheet.total_assets - sheet.total_liabilities))
                ),
                equal,
            )
        else:
            self.presentation.setText(
                _("Simplified presentation: the building has fewer than 20 lots.")
            )
            self.tabs.setTabText(0, _("Cash, funds and owners"))
            self.sheet.hide()
            self.situation.show()
            self.situation.set_rows(list(data.situation))
        income = data.income
        self.income.show_rows(
            (income.charges, income.income),
            (income.total_charges, income.total_income),
            (_("Total charges"), _("Total income")),
        )
        result = income.result
        self.income.set_check(
            _("Result of the year: a surplus of {amount}.").format(amount=fmt_eur(result))
            if result >= 0
            else _("Result of the year: a deficit of {amount}.").format(amount=fmt_eur(-result)),
            None,
        )
        self.versus.set_rows(list(data.versus))
        self.versus_total.setText(
            _("Budget {budget} · actual {actual}").format(
                budget=fmt_eur(sum(r.budget for r in data.versus)),
                actual=fmt_eur(sum(r.actual for r in data.versus)),
            )
        )
        self.chart.set_bars(
            [Bar(f"{r.account} {r.label}", r.budget, r.actual) for r in data.versus]
        )
        self.problems.setText("\n".join(data.problems))
        self.problems.setVisible(bool(data.problems))
        self.statements.show_owners(list(data.owners))

    def update_actions(self) -> None:
        exists = self.context.exists()
        self.deliver_button.setEnabled(self.editable and exists)
        self.close_button.setEnabled(self.editable and exists)
        if hasattr(self, "statements"):
            self.statements.update_actions()

    # -- delivering and closing ----------------------------------------------------------------

    def deliver(self) -> None:
        if not self.editable:
            return
        year, count = self.year, []

        def work(session: Session) -> Change:
            count.append(session.documents.deliver_statements(year))
            return Change.of("inbox")

        self.change(
            work,
            on_done=lambda _u: self.message.emit(
                _(
                    "{n} charge statements put in the owners' inboxes; they reach their "
                    "devices at the next sync."
                ).format(n=count[0] if count else 0)
            ),
            wait=_("Delivering the charge statements…"),
        )

    def ask_close(self) -> None:
        if not self.editable:
            return
        year = self.year
        box = QMessageBox(self.window())
        box.setObjectName("closeYearBox")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.confirm = box
        too_early = getattr(self.data, "too_early", "") if self.data is not None else ""
        if too_early:
            box.setIcon(QMessageBox.Icon.Information)
            box.setWindowTitle(_("Close the fiscal year {year}").format(year=year))
            box.setText(_("The fiscal year {year} cannot be closed yet.").format(year=year))
            box.setInformativeText(too_early)
            box.addButton(_("OK"), QMessageBox.ButtonRole.AcceptRole)
            box.open()
            return
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(_("Close the fiscal year {year}").format(year=year))
        box.setText(_("Close the fiscal year {year}?").format(year=year))
        box.setInformativeText(
            _(
                "Each owner's charge statement is first settled on their account (their share "
                "of the charges against the calls addressed to them). Its income and expenses "
                "are then carried into the result carried forward and its balances are opened "
                "in {next}. The year is then frozen: no entry of {year} "
                "can be added, changed or reversed any more, on any device. This cannot be "
                "undone."
            ).format(year=year, next=year + 1)
        )
        close = box.addButton(_("Close the year"), QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(_("Cancel"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(QMessageBox.StandardButton.NoButton)

        def answered(button: object) -> None:
            if button is close:
                self.close_year(year)

        box.buttonClicked.connect(answered)
        box.open()

    def close_year(self, year: int) -> None:
        self.change(
            lambda s: s.ledger.close_year(year),
            on_done=lambda _u: self.message.emit(
                _("The fiscal year {year} is closed; {next} is open.").format(
                    year=year, next=year + 1
                )
            ),
            wait=_("Closing the year…"),
        )
