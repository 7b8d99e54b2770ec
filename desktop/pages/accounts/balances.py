"""Owners' balances: what each owner owes (or paid in advance) on a day,
with the amounts still open by how late they are — 0–30, 31–60, 61–90 and
more than 90 days past due (:data:`~node.domain.accounting.calls.AGEING_BUCKETS`).
Late amounts are shown in red. "Record a payment…" books a payment
received by hand (one the bank import did not match)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from node.domain.accounting.calls import AGEING_BUCKETS, Fund
from node.domain.payments import parse_eur
from node.domain.registry import Registry
from node.errors import InputError
from node.i18n import N_, _
from node.services.ledger import OwnerBalance
from node.session import Session

from ...dialogs import chosen_person, person_choice
from ...labels import fmt_eur
from ...ops import Ops
from ...qt import QComboBox, QLabel, QLineEdit, QWidget
from ...table import Column, RecordTable
from ...widgets import RecordDialog
from .base import (
    AccountsContext,
    AccountsPage,
    YearsInfo,
    clamp,
    date_edit,
    day_of,
    money_field,
    set_day,
)


@dataclass(frozen=True)
class BalancesData:
    year: int
    at: date
    rows: tuple[OwnerBalance, ...]


BUCKET_TITLES = (N_("0–30 days"), N_("31–60 days"), N_("61–90 days"), N_("> 90 days"))
assert len(BUCKET_TITLES) == len(AGEING_BUCKETS)  # one title per bucket of the node


def _bucket(index: int) -> Column:
    return Column(
        BUCKET_TITLES[index],
        lambda r: fmt_eur(r.ageing[index]) if r.ageing[index] else "",
        sort=lambda r: r.ageing[index],
        numeric=True,
        warn=(lambda r: r.ageing[index] > 0) if index > 0 else None,
    )


def late(row: OwnerBalance) -> int:
    return sum(row.ageing[1:])


COLUMNS = (
    Column(N_("Owner"), lambda r: r.name),
    Column(
        N_("Balance"),
        lambda r: fmt_eur(r.balance),
        sort=lambda r: r.balance,
        numeric=True,
        strong=lambda r: late(r) > 0,
        warn=lambda r: late(r) > 0,
    ),
    *(_bucket(i) for i in range(len(AGEING_BUCKETS))),
    Column(
        N_("Note"),
        lambda r: _("Paid in advance") if r.balance < 0 else (_("Late") if late(r) else ""),
        muted=lambda r: r.balance < 0,
        warn=lambda r: late(r) > 0,
    ),
)


class PaymentDialog(RecordDialog):
    def __init__(self, registry: Registry, day: date, parent: QWidget | None = None) -> None:
        super().__init__(_("Record an owner's payment"), parent)
        self.setObjectName("paymentDialog")
        owners = {o.person_id for o in registry.ownerships}
        self.person = person_choice([p for p in registry.persons if p.id in owners])
        self.amount = money_field()
        self.day = date_edit(day)
        self.reference = QLineEdit()
        self.reference.setPlaceholderText(_("e.g. the bank statement, or +++…+++"))
        self.fund = QComboBox()
        self.fund.addItem(_("Working fund"), Fund.WORKING.value)
        self.fund.addItem(_("Reserve fund"), Fund.RESERVE.value)
        self.form.addRow(_("&Owner"), self.person)
        self.form.addRow(_("&Amount (€)"), self.amount)
        self.form.addRow(_("&Date"), self.day)
        self.form.addRow(_("&Reference"), self.reference)
        self.form.addRow(_("&Fund"), self.fund)
        self.save_button.setText(_("Record the payment"))

    def select_person(self, person_id: str) -> None:
        self.person.setCurrentIndex(self.person.findData(person_id))

    def values(self) -> tuple[str, int, date, str, Fund]:
        person = chosen_person(self.person)
        text = self.amount.text().strip()
        if not text:
            raise InputError(_("Enter the amount received."))
        return (
            person,
            parse_eur(text),
            day_of(self.day),
            self.reference.text().strip(),
            Fund(self.fund.currentData()),
        )


class BalancesPage(AccountsPage):
    title_msgid = N_("Owners' balances")

    def __init__(self, ops: Ops, context: AccountsContext, parent: QWidget | None = None) -> None:
        super().__init__(ops, context, parent)
        self.at = date_edit(date.today())
        self.at.setObjectName("balancesAt")
        self.at.dateChanged.connect(lambda _d: self.refresh())
        self.payment_button = self.button(_("&Record a payment…"), self.record_payment)
        self.payment_button.setObjectName("primary")
        search = self.search_field(lambda text: self.table.proxy.setFilterFixedString(text))
        bar = self.toolbar(self.payment_button, search=search)
        bar.insertWidget(1, QLabel(_("Balances on")))
        bar.insertWidget(2, self.at)
        self.layout_.addLayout(bar)
        self.layout_.addWidget(self.load_error)
        self.table = RecordTable(COLUMNS, row_id=lambda r: r.person, stretch=len(COLUMNS) - 1)
        self.table.setObjectName("balancesTable")
        self.layout_.addWidget(self.table, 1)
        self.totals = QLabel()
        self.totals.setObjectName("balancesTotals")
        self.layout_.addWidget(self.totals)
        self._at_year: int | None = None
        self.update_actions()

    def reader(self) -> Any:
        at = day_of(self.at)

        def read(session: Session, year: int, info: YearsInfo) -> BalancesData:
            fiscal = info.fiscal(year)
            day = at if fiscal.contains(at) else clamp(date.today(), fiscal)
            rows = tuple(session.ledger.balances(year, day)) if year in info.years else ()
            return BalancesData(year, day, rows)

        return read

    def show_data(self, data: BalancesData) -> None:
        if data.at != day_of(self.at):
            self.at.blockSignals(True)
            set_day(self.at, data.at)
            self.at.blockSignals(False)
        self.table.set_rows(list(data.rows))
        owed = sum(r.balance for r in data.rows if r.balance > 0)
        advance = -sum(r.balance for r in data.rows if r.balance < 0)
        overdue = sum(late(r) for r in data.rows)
        self.totals.setText(
            _(
                "{owners} owners · owed {owed} · paid in advance {advance} · more than 30 days "
                "late {late}"
            ).format(
                owners=len(data.rows),
                owed=fmt_eur(owed),
                advance=fmt_eur(advance),
                late=fmt_eur(overdue),
            )
        )

    def update_actions(self) -> None:
        self.payment_button.setEnabled(self.editable)

    def select_record(self, record_id: str) -> bool:
        return self.table.select_id(record_id)

    def record_payment(self) -> None:
        if not self.editable or self.state is None:
            return
        day = clamp(date.today(), self.context.info.fiscal(self.year))  # type: ignore[union-attr]
        self.open_dialog(PaymentDialog(self.state.registry, day, self), self._save_payment)

    def _save_payment(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, PaymentDialog)
        person, amount, day, reference, fund = dialog.values()
        dialog.save_button.setEnabled(False)

        def done(_update: Any) -> None:
            dialog.accept()
            self.message.emit(_("Payment of {amount} recorded.").format(amount=fmt_eur(amount)))
            self.table.select_id(person)

        self.change(
            lambda s: s.ledger.record_payment(person, amount, day, reference, fund),
            on_done=done,
            on_error=dialog.show_error,
        )
