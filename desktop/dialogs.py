"""The forms for one lot, one person, one holding, one occupant and one
message to a person's inbox.

They only collect input and turn it into the arguments of a
:class:`~node.services.registry.RegistryService` call; the node checks it
(a refused edit is shown inside the dialog, which stays open).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
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

from .labels import date_pattern, language_label, lot_type_label, right_label
from .qt import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDate,
    QDateEdit,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    Qt,
    QWidget,
)
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


def person_choice(persons: Sequence[Person]) -> QComboBox:
    """A list of the persons, sorted by name, where typing part of a name
    narrows it down (buildings have hundreds of persons)."""
    combo = QComboBox()
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.setMinimumWidth(280)
    for person in sorted(persons, key=lambda p: p.name.casefold()):
        combo.addItem(person.name, person.id)
    completer = combo.completer()
    if isinstance(completer, QCompleter):
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
    combo.setCurrentIndex(-1)
    combo.lineEdit().setPlaceholderText(_("Type a name…"))
    return combo


def chosen_person(combo: QComboBox) -> str:
    """The id of the person named in ``combo``; :class:`InputError` if the
    text names nobody in the list."""
    index = combo.findText(combo.currentText().strip())
    if index < 0:
        raise InputError(_("Choose a person from the list (add new persons on Persons)."))
    return combo.itemData(index)


class HolderDialog(RecordDialog):
    """Add a holder to a lot, or change one holding's right, share and vote.

    When editing, the person is fixed (remove the holding and add another
    to change who holds it); the right, the share and the vote change in
    one undoable edit.
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
        self.person = person_choice(persons)
        self.right = QComboBox()
        for right in Right:
            self.right.addItem(right_label(right), right.value)
        share = holding.share if holding else suggested_share
        self.share = QLineEdit(format_share(share))
        self.share.setPlaceholderText(_("e.g. 50 or 33.33"))
        self.voting = QCheckBox(_("Votes for this lot at the general assembly"))
        self.voting.setChecked(holding.voting if holding else suggested_voting)
        if holding is not None:
            self.select_person(holding.person_id)
            self.right.setCurrentIndex(self.right.findData(holding.right.value))
            self.person.setEnabled(False)
        self.form.addRow(_("&Person"), self.person)
        self.form.addRow(_("&Right"), self.right)
        self.form.addRow(_("&Share (%)"), self.share)
        self.form.addRow("", self.voting)

    def select_person(self, person_id: str) -> None:
        self.person.setCurrentIndex(self.person.findData(person_id))

    def values(self) -> tuple[str, int, Right, bool]:
        """(person id, share in hundredths of %, right, voting); raises
        :class:`InputError` for a person not in the list or a bad share."""
        person_id = chosen_person(self.person)
        share = parse_share(self.share.text())
        return person_id, share, Right(self.right.currentData()), self.voting.isChecked()


class OccupantDialog(RecordDialog):
    """Record who lives in or uses a lot (a tenant...), and since when if known."""

    def __init__(self, lot: Lot, persons: Sequence[Person], parent: QWidget | None = None) -> None:
        super().__init__(_("Add an occupant to lot {number}").format(number=lot.number), parent)
        self.setObjectName("occupantDialog")
        self.lot = lot
        self.person = person_choice(persons)
        self.has_since = QCheckBox(_("&Since"))
        self.has_since.setToolTip(_("Tick to give the date the occupant moved in"))
        self.since = QDateEdit(QDate.currentDate())
        self.since.setCalendarPopup(True)
        self.since.setDisplayFormat(date_pattern())
        self.since.setEnabled(False)
        self.has_since.toggled.connect(self.since.setEnabled)
        self.form.addRow(_("&Person"), self.person)
        self.form.addRow(self.has_since, self.since)

    def select_person(self, person_id: str) -> None:
        self.person.setCurrentIndex(self.person.findData(person_id))

    def set_since(self, day: date | None) -> None:
        self.has_since.setChecked(day is not None)
        if day is not None:
            self.since.setDate(QDate(day.year, day.month, day.day))

    def values(self) -> tuple[str, date | None]:
        """(person id, since or None); :class:`InputError` for a person not in the list."""
        person_id = chosen_person(self.person)
        if not self.has_since.isChecked():
            return person_id, None
        day = self.since.date()
        return person_id, date(day.year(), day.month(), day.day())


class MessageDialog(RecordDialog):
    """A message from the syndic to one person's inbox: a title and a text."""

    def __init__(self, person: Person, parent: QWidget | None = None) -> None:
        super().__init__(_("Message to {name}").format(name=person.name), parent)
        self.setObjectName("messageDialog")
        self.setMinimumWidth(520)
        self.person = person
        self.title = QLineEdit()
        self.title.setPlaceholderText(_("e.g. Works on the roof in March"))
        self.text = QPlainTextEdit()
        self.text.setTabChangesFocus(True)
        self.text.setMinimumHeight(160)
        self.form.addRow(_("&Title"), self.title)
        self.form.addRow(_("&Message"), self.text)
        hint = QLabel(
            _(
                "Only {name}'s own devices and the building's management can read it. "
                "It leaves at the next sync."
            ).format(name=person.name)
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        self.body.insertWidget(1, hint)
        self.save_button.setText(_("Send"))

    def values(self) -> tuple[str, str]:
        """(title, text); the node refuses an empty title."""
        return self.title.text().strip(), self.text.toPlainText().strip()
