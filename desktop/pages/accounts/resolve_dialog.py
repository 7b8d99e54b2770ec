"""Say what a bank movement of the matching queue is: an owner's payment
(which fund), the payment of a supplier's unpaid invoice, or an amount for
an account (bank charges, sundry income…). The node books it out of the
suspense account (:meth:`BankService.resolve`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from node.domain.accounting.calls import Fund
from node.domain.accounting.chart import Chart, Kind
from node.domain.registry import Registry
from node.errors import InputError
from node.i18n import _, current_language
from node.session import Session

from ...dialogs import chosen_person, person_choice
from ...labels import fmt_date, fmt_eur
from ...qt import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QLabel,
    QRadioButton,
    QStackedWidget,
    QWidget,
)
from ...widgets import RecordDialog
from .invoice_dialog import key_choices

OWNER, INVOICE, ACCOUNT = range(3)

SUGGESTED_ACCOUNTS = ("650", "740", "750", "616", "612", "611")
"""Accounts offered first: bank charges, sundry income, interest…"""


@dataclass(frozen=True)
class OpenInvoice:
    id: str
    supplier: str
    number: str
    day: date
    total: int


def unpaid_invoices(session: Session, years: tuple[int, ...]) -> list[OpenInvoice]:
    """The invoices of every year still to pay (not paid, not reversed)."""
    out = []
    for label in years:
        reversed_ids = {e.reverses for e in session.ledger.view(label).entries if e.reverses}
        for invoice_id, invoice in session.ledger.invoices(label).items():
            if invoice.get("paid_entry") or invoice.get("entry") in reversed_ids:
                continue
            out.append(
                OpenInvoice(
                    invoice_id,
                    invoice["supplier"],
                    invoice["number"],
                    date.fromisoformat(invoice["date"]),
                    sum(int(x["amount"]) for x in invoice["lines"]),
                )
            )
    return sorted(out, key=lambda i: (i.day, i.supplier.casefold()))


def account_choices(chart: Chart) -> list[tuple[str, str]]:
    """Accounts a movement may go to: the usual ones first, then every
    charge, income and other postable account but the owners' and the bank's."""
    language = current_language()
    postable = [a for a in chart.sorted() if chart.postable(a.number)]
    usual = [a for n in SUGGESTED_ACCOUNTS for a in postable if a.number == n]
    others = [
        a for a in postable if a not in usual and not a.number.startswith(("410", "55", "499"))
    ]
    others.sort(key=lambda a: (a.kind not in (Kind.EXPENSE, Kind.INCOME), a.number))
    return [(a.number, f"{a.number}  {a.label(language)}") for a in usual + others]


class ResolveDialog(RecordDialog):
    def __init__(
        self,
        item: dict[str, Any],
        registry: Registry,
        invoices: tuple[OpenInvoice, ...],
        chart: Chart,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(_("Match a bank movement"), parent)
        self.setObjectName("resolveDialog")
        self.setMinimumWidth(540)
        self.item = item
        amount = int(item["amount"])
        what = " · ".join(
            p
            for p in (
                fmt_date(date.fromisoformat(item["date"])),
                fmt_eur(amount),
                item.get("name") or "",
                item.get("communication") or item.get("reference") or "",
            )
            if p
        )
        summary = QLabel(what)
        summary.setObjectName("sectionTitle")
        summary.setWordWrap(True)
        self.body.insertWidget(0, summary)

        self.kind = QButtonGroup(self)
        self.to_owner = QRadioButton(_("An &owner's payment"))
        self.to_invoice = QRadioButton(_("The payment of a supplier's &invoice"))
        self.to_account = QRadioButton(_("An amount for an &account"))
        for index, radio in enumerate((self.to_owner, self.to_invoice, self.to_account)):
            self.kind.addButton(radio, index)
        self.stack = QStackedWidget()

        owner = QWidget()
        owner_form = QFormLayout(owner)
        owner_form.setContentsMargins(0, 0, 0, 0)
        owners = {o.person_id for o in registry.ownerships}
        self.person = person_choice([p for p in registry.persons if p.id in owners])
        self.fund = QComboBox()
        self.fund.addItem(_("Working fund"), Fund.WORKING.value)
        self.fund.addItem(_("Reserve fund"), Fund.RESERVE.value)
        owner_form.addRow(_("&Owner"), self.person)
        owner_form.addRow(_("&Fund"), self.fund)

        invoice = QWidget()
        invoice_form = QFormLayout(invoice)
        invoice_form.setContentsMargins(0, 0, 0, 0)
        self.invoice = QComboBox()
        for found in invoices:
            self.invoice.addItem(
                _("{supplier} {number} of {date} — {amount}").format(
                    supplier=found.supplier,
                    number=found.number,
                    date=fmt_date(found.day),
                    amount=fmt_eur(found.total),
                ),
                found.id,
            )
        if not invoices:
            self.invoice.addItem(_("No unpaid invoice"), None)
        invoice_form.addRow(_("&Invoice"), self.invoice)

        account = QWidget()
        account_form = QFormLayout(account)
        account_form.setContentsMargins(0, 0, 0, 0)
        self.account = QComboBox()
        for number, text in account_choices(chart):
            self.account.addItem(text, number)
        account_form.addRow(_("&Account"), self.account)
        # a charge (class 6) is the owners': split between the lots by a key
        self.key = QComboBox()
        for key_id, name in key_choices(registry):
            self.key.addItem(name, key_id)
        self.key.setToolTip(_("A charge is split between the lots by this key, as on an invoice."))
        account_form.addRow(_("Split &by"), self.key)
        self.charges = {a.number for a in chart.sorted() if a.kind is Kind.EXPENSE}
        self.account.currentIndexChanged.connect(self._account_changed)
        self._account_changed()

        for page in (owner, invoice, account):
            self.stack.addWidget(page)
        self.form.addRow(self.to_owner)
        self.form.addRow(self.to_invoice)
        self.form.addRow(self.to_account)
        self.form.addRow(self.stack)
        self.kind.idToggled.connect(lambda index, on: on and self.stack.setCurrentIndex(index))
        if amount > 0:
            self.to_owner.setChecked(True)
            self.to_invoice.setEnabled(False)
            self.to_invoice.setToolTip(_("A supplier's invoice is paid by money going out."))
        else:
            self.to_owner.setEnabled(False)
            (self.to_invoice if invoices else self.to_account).setChecked(True)
        self.save_button.setText(_("Match"))

    def choose(self, kind: int) -> None:
        self.kind.button(kind).setChecked(True)

    def select_person(self, person_id: str) -> None:
        self.person.setCurrentIndex(self.person.findData(person_id))

    def select_account(self, number: str) -> None:
        self.account.setCurrentIndex(self.account.findData(number))

    def _account_changed(self) -> None:
        self.key.setEnabled(self.account.currentData() in self.charges)

    def values(self) -> dict[str, Any]:
        """The keyword arguments of :meth:`BankService.resolve`."""
        kind = self.kind.checkedId()
        if kind == OWNER:
            return {"person": chosen_person(self.person), "fund": Fund(self.fund.currentData())}
        if kind == INVOICE:
            invoice = self.invoice.currentData()
            if not invoice:
                raise InputError(_("There is no unpaid invoice to match."))
            return {"invoice": invoice}
        account = self.account.currentData()
        return {"account": account} | (
            {"key": self.key.currentData()} if account in self.charges else {}
        )
