"""The forms for one lot, one person and one holding.

They only collect input and turn it into the arguments of a
:class:`~node.services.registry.RegistryService` call; the node checks it
(a refused edit is shown inside the dialog, which stays open).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from node.domain.registry import (
    FULL_SHARE,
    Lot,
    LotType,
    Ownership,
    Person,
    Right,
    format_share,
    parse_share,
)
from node.errors import InputError
from node.i18n import LANGUAGES, _, current_language

from .labels import language_label, lot_type_label, right_label
from .qt import QCheckBox, QComboBox, QCompleter, QLineEdit, QSpinBox, Qt, QWidget
from .widgets import RecordDialog

NO_FLOOR = -11  # the spin box's "—": the lot has no floor
MAX_QUOTA = 10_000_000


def quota_spin(value: int = 0, minimum: int = 0) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(minimum, MAX_QUOTA)
    spin.setGroupSeparatorShown(True)
    spin.setValue(value)
    spin.setAlignment(Qt.AlignmentFlag.AlignRight)
    return spin


class LotDialog(RecordDialog):
    def __init__(self, lot: Lot | None = None, parent: QWidget | None = None) -> None:
        title = _("Edit lot {number}").format(number=lot.number) if lot else _("New lot")
        super().__init__(title, parent)
        self.setObjectName("lotDialog")
        self.lot = lot
        self.number = QLineEdit(lot.number if lot else "")
        self.number.setPlaceholderText(_("e.g. A1.2"))
        self.type = QComboBox()
        for lot_type in LotType:
            self.type.addItem(lot_type_label(lot_type), lot_type.value)
        self.type.setCurrentIndex(
            self.type.findData((lot.type if lot else LotType.APARTMENT).value)
        )
        self.floor = QSpinBox()
        self.floor.setRange(NO_FLOOR, 200)
        self.floor.setSpecialValueText("—")
        self.floor.setValue(lot.floor if lot and lot.floor is not None else NO_FLOOR)
        self.quota = quota_spin(lot.quota if lot else 0)
        self.form.addRow(_("&Number"), self.number)
        self.form.addRow(_("&Type"), self.type)
        self.form.addRow(_("&Floor"), self.floor)
        self.form.addRow(_("&Quota"), self.quota)

    def values(self) -> dict[str, Any]:
        floor = self.floor.value()
        return {
            "number": self.number.text().strip(),
            "type": LotType(self.type.currentData()),
            "quota": self.quota.value(),
            "floor": None if floor == NO_FLOOR else floor,
        }


class PersonDialog(RecordDialog):
    def __init__(self, person: Person | None = None, parent: QWidget | None = None) -> None:
        title = _("Edit {name}").format(name=person.name) if person else _("New person")
        super().__init__(title, parent)
        self.setObjectName("personDialog")
        self.person = person
        self.name = QLineEdit(person.name if person else "")
        self.email = QLineEdit(person.email if person else "")
        self.email.setPlaceholderText("name@example.be")
        self.phone = QLineEdit(person.phone if person else "")
        self.language = QComboBox()
        for code in LANGUAGES:
            self.language.addItem(language_label(code), code)
        self.language.setCurrentIndex(
            self.language.findData(person.language if person else current_language())
        )
        self.consent = QCheckBox(_("Agreed in writing to receive convocations by e-mail"))
        self.consent.setChecked(bool(person and person.email_consent))
        address = person.address if person else None
        self.street = QLineEdit(address.street if address else "")
        self.postal_code = QLineEdit(address.postal_code if address else "")
        self.postal_code.setMaxLength(4)
        self.postal_code.setPlaceholderText("1000")
        self.city = QLineEdit(address.city if address else "")
        self.form.addRow(_("&Name"), self.name)
        self.form.addRow(_("E-&mail"), self.email)
        self.form.addRow(_("&Phone"), self.phone)
        self.form.addRow(_("&Language"), self.language)
        self.form.addRow("", self.consent)
        self.form.addRow(_("&Street"), self.street)
        self.form.addRow(_("P&ostal code"), self.postal_code)
        self.form.addRow(_("&City"), self.city)

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name.text().strip(),
            "email": self.email.text().strip(),
            "phone": self.phone.text().strip(),
            "language": self.language.currentData(),
            "email_consent": self.consent.isChecked(),
            "street": self.street.text().strip(),
            "postal_code": self.postal_code.text().strip(),
            "city": self.city.text().strip(),
        }


class HolderDialog(RecordDialog):
    """Add a holder to a lot, or change one holder's share and vote.

    A holding is identified by (person, right) in the node, so when editing,
    the person and the right are fixed; only the share and the vote change.
    """

    def __init__(
        self,
        lot: Lot,
        persons: Sequence[Person],
        holding: Ownership | None = None,
        suggested_share: int = FULL_SHARE,
        suggested_voting: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        title = (
            _("Change holder of lot {number}") if holding else _("Add a holder to lot {number}")
        ).format(number=lot.number)
        super().__init__(title, parent)
        self.setObjectName("holderDialog")
        self.lot = lot
        self.holding = holding
        self.person = QComboBox()
        self.person.setEditable(True)
        self.person.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.person.setMinimumWidth(280)
        for person in sorted(persons, key=lambda p: p.name.casefold()):
            self.person.addItem(person.name, person.id)
        completer = self.person.completer()
        if isinstance(completer, QCompleter):
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.right = QComboBox()
        for right in Right:
            self.right.addItem(right_label(right), right.value)
        share = holding.share if holding else suggested_share
        self.share = QLineEdit(format_share(share))
        self.share.setPlaceholderText(_("e.g. 50 or 33.33"))
        self.voting = QCheckBox(_("Votes for this lot at the general assembly"))
        self.voting.setChecked(holding.voting if holding else suggested_voting)
        if holding is not None:
            self.person.setCurrentIndex(self.person.findData(holding.person_id))
            self.right.setCurrentIndex(self.right.findData(holding.right.value))
            self.person.setEnabled(False)
            self.right.setEnabled(False)
        else:
            self.person.setCurrentIndex(-1)
            self.person.lineEdit().setPlaceholderText(_("Type a name…"))
        self.form.addRow(_("&Person"), self.person)
        self.form.addRow(_("&Right"), self.right)
        self.form.addRow(_("&Share (%)"), self.share)
        self.form.addRow("", self.voting)

    def select_person(self, person_id: str) -> None:
        self.person.setCurrentIndex(self.person.findData(person_id))

    def values(self) -> tuple[str, int, Right, bool]:
        """(person id, share in hundredths of %, right, voting); raises
        :class:`InputError` for a person not in the list or a bad share."""
        index = self.person.findText(self.person.currentText().strip())
        if index < 0:
            raise InputError(_("Choose a person from the list (add new persons on Persons)."))
        share = parse_share(self.share.text())
        return (
            self.person.itemData(index),
            share,
            Right(self.right.currentData()),
            self.voting.isChecked(),
        )
