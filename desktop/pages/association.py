"""The association's details (DOMAIN §1): name, BCE/KBO number, address,
provisional acceptance of the common parts, fiscal year, the deed's quota total.

Each field is saved when the user leaves it (editingFinished) and by the
Save button; only fields that differ from the registry are sent, in one
edit, so undo reverts what the user did in one step.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from node.domain.identifiers import compact_bce, compact_iban, format_bce, format_iban
from node.domain.registry import Association, facts
from node.errors import KoprogoError
from node.i18n import N_, _

from ..dialogs import quota_spin
from ..labels import date_pattern, fmt_date, fmt_int, yes_no
from ..ops import Ops
from ..qt import (
    QDate,
    QDateEdit,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from ..state import RegistryState
from ..widgets import ErrorLabel
from .base import Page

NO_DATE = QDate(1900, 1, 1)


def _current(a: Association) -> dict[str, Any]:
    return {
        "name": a.name,
        "bce_number": a.bce_number,
        "street": a.address.street,
        "postal_code": a.address.postal_code,
        "city": a.address.city,
        "provisional_acceptance": a.provisional_acceptance.isoformat()
        if a.provisional_acceptance
        else "",
        "fiscal_year_start": a.fiscal_year_start,
        "quota_total": a.quota_total,
        "iban": a.iban,
        "reserve_iban": a.reserve_iban,
        "bic": a.bic,
    }


class AssociationPage(Page):
    collections = frozenset({"association", "lots"})
    title_msgid = N_("Association details")

    def __init__(self, ops: Ops, parent: QWidget | None = None) -> None:
        super().__init__(ops, parent)
        self.name = QLineEdit()
        self.bce = QLineEdit()
        self.bce.setPlaceholderText("0123.456.749")
        self.street = QLineEdit()
        self.postal_code = QLineEdit()
        self.postal_code.setMaxLength(4)
        self.postal_code.setMaximumWidth(80)
        self.city = QLineEdit()
        self.acceptance = QDateEdit()
        self.acceptance.setCalendarPopup(True)
        self.acceptance.setDisplayFormat(date_pattern())
        self.acceptance.setMinimumDate(NO_DATE)
        self.acceptance.setSpecialValueText("—")
        self.fiscal_start = QLineEdit()
        self.fiscal_start.setInputMask("99-99")
        self.fiscal_start.setMaximumWidth(80)
        self.fiscal_start.setToolTip(_("Day the fiscal year starts, MM-DD (01-01 = 1 January)"))
        self.quota_total = quota_spin(1000, minimum=1)
        self.quota_total.setMaximumWidth(140)
        # Found by hand: no screen took the bank accounts, so a building made
        # in the app could never print or deliver a call for funds.
        self.iban = QLineEdit()
        self.iban.setPlaceholderText("BE68 5390 0754 7034")
        self.iban.setToolTip(
            _("The association's current account, printed on every call for funds")
        )
        self.reserve_iban = QLineEdit()
        self.reserve_iban.setPlaceholderText("BE71 0961 2345 6769")
        self.reserve_iban.setToolTip(
            _("The reserve fund's separate account (art. 3.86 §3), if it has one")
        )
        self.bic = QLineEdit()
        self.bic.setPlaceholderText("GKCCBEBB")
        self.bic.setMaxLength(11)
        self.bic.setMaximumWidth(140)

        # field name -> (widget's signal to save on, how to read the widget)
        self._readers: dict[str, Callable[[], Any]] = {
            "name": lambda: self.name.text().strip(),
            "bce_number": lambda: compact_bce(self.bce.text()),
            "street": lambda: self.street.text().strip(),
            "postal_code": lambda: self.postal_code.text().strip(),
            "city": lambda: self.city.text().strip(),
            "provisional_acceptance": self._acceptance_text,
            "fiscal_year_start": lambda: self.fiscal_start.text().strip(),
            "quota_total": self.quota_total.value,
            "iban": lambda: compact_iban(self.iban.text()),
            "reserve_iban": lambda: compact_iban(self.reserve_iban.text()),
            "bic": lambda: self.bic.text().replace(" ", "").upper(),
        }
        # Leaving a field saves that field alone, so one refused value (a
        # mistyped BCE number) does not hold back the others.
        for name, widget in (
            ("name", self.name),
            ("bce_number", self.bce),
            ("street", self.street),
            ("postal_code", self.postal_code),
            ("city", self.city),
            ("provisional_acceptance", self.acceptance),
            ("fiscal_year_start", self.fiscal_start),
            ("quota_total", self.quota_total),
            ("iban", self.iban),
            ("reserve_iban", self.reserve_iban),
            ("bic", self.bic),
        ):
            widget.editingFinished.connect(lambda name=name: self.save([name]))

        form = QFormLayout()
        form.addRow(_("&Name"), self.name)
        form.addRow(_("&Enterprise number (BCE/KBO)"), self.bce)
        form.addRow(_("&Street"), self.street)
        place = QHBoxLayout()
        place.addWidget(self.postal_code)
        place.addWidget(self.city, 1)
        form.addRow(_buddy(_("&Postal code, city"), self.postal_code), place)
        acceptance_row = QHBoxLayout()
        acceptance_row.addWidget(self.acceptance)
        self.clear_acceptance = clear = QToolButton()
        clear.setText("×")
        clear.setToolTip(_("No date"))
        clear.clicked.connect(self._clear_acceptance)
        acceptance_row.addWidget(clear)
        acceptance_row.addStretch(1)
        form.addRow(
            _buddy(_("Provisional &acceptance of common parts"), self.acceptance), acceptance_row
        )
        form.addRow(_("&Fiscal year starts on"), self.fiscal_start)
        form.addRow(_("&Quota total of the deed"), self.quota_total)
        form.addRow(_("Bank account (&IBAN)"), self.iban)
        form.addRow(_("&Reserve fund account (IBAN)"), self.reserve_iban)
        form.addRow(_("&BIC"), self.bic)

        details = QGroupBox(_("Details"))
        details_layout = QVBoxLayout(details)
        details_layout.addLayout(form)
        self.error = ErrorLabel()
        details_layout.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.save_button = QPushButton(_("Save"))
        self.save_button.clicked.connect(lambda: self.save())
        buttons.addWidget(self.save_button)
        details_layout.addLayout(buttons)

        self.facts = QLabel()
        self.facts.setObjectName("facts")
        self.facts.setWordWrap(True)
        facts_box = QGroupBox(_("What the law requires of this building"))
        facts_layout = QVBoxLayout(facts_box)
        facts_layout.addWidget(self.facts)
        facts_layout.addStretch(1)

        row = QHBoxLayout()
        row.addWidget(details, 3)
        row.addWidget(facts_box, 2)
        self.layout_.addLayout(row)
        self.layout_.addStretch(1)

    def _acceptance_text(self) -> str:
        value = self.acceptance.date()
        return "" if value == NO_DATE else value.toString("yyyy-MM-dd")

    def _clear_acceptance(self) -> None:
        self.acceptance.setDate(NO_DATE)
        self.save(["provisional_acceptance"])

    def show_state(self, state: RegistryState) -> None:
        super().show_state(state)
        association = state.registry.association
        self.setEnabled(association is not None)
        if association is None:
            return
        for field in (
            self.name,
            self.bce,
            self.street,
            self.postal_code,
            self.city,
            self.iban,
            self.reserve_iban,
            self.bic,
        ):
            field.setReadOnly(not self.editable)
        for widget in (self.acceptance, self.fiscal_start, self.quota_total):
            widget.setReadOnly(not self.editable)
        self.clear_acceptance.setEnabled(self.editable)
        self.save_button.setVisible(self.editable)
        _show(self.name, association.name)
        _show(self.bce, format_bce(association.bce_number) if association.bce_number else "")
        _show(self.street, association.address.street)
        _show(self.postal_code, association.address.postal_code)
        _show(self.city, association.address.city)
        accepted = association.provisional_acceptance
        self.acceptance.setDate(
            QDate(accepted.year, accepted.month, accepted.day) if accepted else NO_DATE
        )
        self.fiscal_start.setText(association.fiscal_year_start)
        _show(self.iban, format_iban(association.iban) if association.iban else "")
        _show(
            self.reserve_iban,
            format_iban(association.reserve_iban) if association.reserve_iban else "",
        )
        _show(self.bic, association.bic)
        self.quota_total.setValue(association.quota_total)
        self._show_facts(state)

    def _show_facts(self, state: RegistryState) -> None:
        f = facts(state.registry)
        lines = [
            _(
                "{count} lots, of which {legal} count for the legal thresholds "
                "(cellars, garages and parkings excluded)."
            ).format(count=fmt_int(f.lot_count), legal=fmt_int(f.legal_lot_count)),
            _("Council of co-owners mandatory (from {n} lots, art. 3.90): {answer}").format(
                n=f.council_threshold, answer=yes_no(f.council_mandatory)
            ),
            _(
                "Full double-entry accounting mandatory (from {n} lots, AR 12/07/2012): {answer}"
            ).format(n=f.full_accounting_threshold, answer=yes_no(f.full_accounting_mandatory)),
        ]
        if state.registry.association and state.registry.association.provisional_acceptance:
            accepted = state.registry.association.provisional_acceptance
            deadline = _add_years(accepted, 5)
            lines.append(
                _(
                    "Reserve fund required since {date} (5 years after provisional "
                    "acceptance, art. 3.86 §3)."
                ).format(date=fmt_date(deadline))
            )
        self.facts.setText("\n\n".join(lines))

    def changed_fields(self, names: list[str] | None = None) -> dict[str, Any]:
        association = self.state.registry.association if self.state else None
        if association is None:
            return {}
        current = _current(association)
        wanted = names or list(self._readers)
        return {k: v for k in wanted if (v := self._readers[k]()) != current[k]}

    def save(self, names: list[str] | None = None) -> None:
        """Send the fields (all by default) that differ from the registry, as one edit."""
        changes = self.changed_fields(names) if self.editable else {}
        if not changes:
            return

        def done(_update: object) -> None:
            self.error.clear_message()
            self.message.emit(_("Association details saved."))

        def refused(exc: KoprogoError) -> None:
            self.error.show_message(str(exc))

        self.ops.change(lambda s: s.registry.set_association(**changes), done, refused)


def _show(field: QLineEdit, text: str) -> None:
    """Show ``text`` unless the user is typing in ``field`` (a sync may bring
    the registry while they do; their text is saved when they leave)."""
    if not (field.hasFocus() and field.isModified()):
        field.setText(text)


def _buddy(text: str, widget: QWidget) -> QLabel:
    """A form label whose Alt shortcut reaches ``widget`` (rows holding a
    layout get no buddy from QFormLayout)."""
    label = QLabel(text)
    label.setBuddy(widget)
    return label


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
