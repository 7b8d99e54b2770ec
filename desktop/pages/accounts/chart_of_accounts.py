"""Chart of accounts: the ACP's standard accounts (AR 12/07/2012) and the
building's own sub-accounts, labelled in the app's language.

Headings (classes and two-digit groups) take no entries and are shown in
bold; sub-accounts are indented under the account they extend, and those
the syndic added for this building are marked. "Add a sub-account…" asks
for the number and the labels in the four languages (one is enough; the
others fall back to French).
"""

from __future__ import annotations

from dataclasses import dataclass

from node.domain.accounting.chart import Account, Chart, Kind
from node.i18n import LANGUAGES, N_, _, current_language
from node.session import Session

from ...labels import language_label
from ...ops import Ops
from ...qt import QLabel, QLineEdit, QWidget
from ...table import Column, RecordTable
from ...widgets import RecordDialog
from .base import AccountsContext, AccountsPage, YearsInfo

KIND_LABELS = {
    Kind.FUNDS: N_("Funds and long-term debts"),
    Kind.FIXED: N_("Equipment"),
    Kind.RECEIVABLE_PAYABLE: N_("Receivables and payables"),
    Kind.CASH: N_("Bank and cash"),
    Kind.EXPENSE: N_("Charges"),
    Kind.INCOME: N_("Income"),
}


def kind_label(kind: Kind) -> str:
    return _(KIND_LABELS[kind])


@dataclass(frozen=True)
class ChartRow:
    account: Account
    postable: bool
    depth: int  # 0: a class or group heading, 1: an account, 2+: sub-accounts

    @property
    def id(self) -> str:
        return self.account.number


@dataclass(frozen=True)
class ChartData:
    year: int
    chart: Chart


def chart_rows(chart: Chart) -> list[ChartRow]:
    rows = []
    for account in chart.sorted():
        depth = max(0, len(account.number) - 2)
        rows.append(ChartRow(account, chart.postable(account.number), depth))
    return rows


def account_text(row: ChartRow) -> str:
    return "    " * row.depth + row.account.label(current_language())


def marker(row: ChartRow) -> str:
    if row.account.custom:
        return _("Sub-account added for this building")
    if row.depth >= 2:
        return _("Sub-account")
    return ""


COLUMNS = (
    Column(N_("Number"), lambda r: r.account.number, strong=lambda r: not r.postable),
    Column(
        N_("Account"),
        account_text,
        sort=lambda r: r.account.number,
        strong=lambda r: not r.postable,
    ),
    Column(N_("Kind"), lambda r: kind_label(r.account.kind), sort=lambda r: r.account.number),
    Column(
        N_("Takes entries"),
        lambda r: _("Yes") if r.postable else _("No (heading)"),
        muted=lambda r: not r.postable,
    ),
    Column(N_("Note"), marker, muted=lambda r: not r.account.custom),
)


class SubAccountDialog(RecordDialog):
    """A sub-account: its number (extending an account) and its labels."""

    def __init__(self, chart: Chart, parent: QWidget | None = None) -> None:
        super().__init__(_("Add a sub-account"), parent)
        self.setObjectName("subAccountDialog")
        self.chart = chart
        self.number = QLineEdit()
        self.number.setPlaceholderText(_("e.g. 6120"))
        self.number.setMaxLength(8)
        self.parent_label = QLabel()
        self.parent_label.setObjectName("hint")
        self.number.textChanged.connect(self._show_parent)
        self.labels: dict[str, QLineEdit] = {}
        self.form.addRow(_("&Number"), self.number)
        self.form.addRow("", self.parent_label)
        for code in LANGUAGES:
            field = QLineEdit()
            self.labels[code] = field
            self.form.addRow(_("Label ({language})").format(language=language_label(code)), field)
        hint = QLabel(
            _(
                "A sub-account extends the number of an existing account (6120 under 612). "
                "Give at least one label; the others show the French one until filled in."
            )
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        self.body.insertWidget(1, hint)
        self._show_parent("")

    def _show_parent(self, text: str) -> None:
        number = text.strip()
        parent = self.chart.parent(number) if number.isdigit() else None
        if parent is None:
            self.parent_label.setText(_("Under: —"))
        else:
            self.parent_label.setText(
                _("Under: {number} {label}").format(
                    number=parent.number, label=parent.label(current_language())
                )
            )

    def values(self) -> tuple[str, dict[str, str]]:
        labels = {code: f.text().strip() for code, f in self.labels.items() if f.text().strip()}
        return self.number.text().strip(), labels


class ChartPage(AccountsPage):
    title_msgid = N_("Chart of accounts")

    def __init__(self, ops: Ops, context: AccountsContext, parent: QWidget | None = None) -> None:
        super().__init__(ops, context, parent)
        self.table = RecordTable(COLUMNS, stretch=1)
        self.table.setObjectName("chartTable")
        self.pending_select = ""  # the account just added, selected once shown
        self.add_button = self.button(_("&Add a sub-account…"), self.add_account)
        search = self.search_field(self.table.proxy.setFilterFixedString)
        self.layout_.addLayout(self.toolbar(self.add_button, search=search))
        self.layout_.addWidget(self.load_error)
        self.layout_.addWidget(self.table, 1)
        self.update_actions()

    def read(self, session: Session, year: int, info: YearsInfo) -> ChartData:
        chart = session.ledger.chart(year) if year in info.years else Chart()
        return ChartData(year, chart)

    def show_data(self, data: ChartData) -> None:
        self.table.set_rows(chart_rows(data.chart))
        if self.pending_select and self.table.select_id(self.pending_select):
            self.pending_select = ""

    def update_actions(self) -> None:
        self.add_button.setEnabled(self.editable and self.data is not None)

    def select_record(self, record_id: str) -> bool:
        return self.table.select_id(record_id)

    def add_account(self) -> None:
        if self.editable and self.data is not None:
            self.open_dialog(SubAccountDialog(self.data.chart, self), self._save)

    def _save(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, SubAccountDialog)
        number, labels = dialog.values()
        year = self.year
        dialog.save_button.setEnabled(False)

        def done(_update: object) -> None:
            dialog.accept()
            self.message.emit(_("Account {number} added.").format(number=number))
            self.pending_select = number

        self.change(
            lambda s: s.ledger.add_account(year, number, labels),
            on_done=done,
            on_error=dialog.show_error,
        )
