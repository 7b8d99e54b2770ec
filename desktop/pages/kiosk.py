"""Who is at the building's shared computer (the kiosk).

Pages where an owner signs with their own key (a remote ballot, an energy
opt-in) show, on the shared computer, "who are you" and a PIN: an owner
enrolled there chooses their name and types their PIN; the node opens their
key with it, signs, and forgets the key. The PIN is read once and cleared,
and choosing another name clears it too, so nothing of one owner is left
for the next. On an owner's own device none of this shows: the device signs
for its owner. The residents' inbox page asks the same two questions with
the same rows (:func:`name_and_pin`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from node.i18n import _

from ..inbox import Resident
from ..qt import QComboBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget, Signal
from ..widgets import ErrorLabel


class KioskAccess(Protocol):
    """What a family of pages' ``Access`` tells of the signer."""

    @property
    def kiosk(self) -> bool: ...  # the building's shared computer

    @property
    def person(self) -> str: ...  # the device's owner ("" none)

    @property
    def residents(self) -> tuple[Resident, ...]: ...  # enrolled on the shared computer


def name_and_pin(form: QFormLayout) -> tuple[QComboBox, QLineEdit]:
    """Add "Who are you?" (the residents, to fill) and the PIN field (its
    text hidden) as rows of ``form``; their labels' shortcuts lead to them."""
    resident = QComboBox()
    resident.setObjectName("residentChoice")
    resident.setMinimumWidth(280)
    pin = QLineEdit()
    pin.setObjectName("pinField")
    pin.setEchoMode(QLineEdit.EchoMode.Password)
    pin.setPlaceholderText(_("Your PIN"))
    form.addRow(_("&Who are you?"), resident)
    form.addRow(_("&PIN"), pin)
    return resident, pin


class WhoAtKiosk(QWidget):
    """The resident chosen and their PIN, shown only on the shared computer.

    ``access`` gives what the page last read (``None``: nothing yet);
    ``none_enrolled`` is what to say when nobody has enrolled here yet.
    """

    chosen = Signal()  # someone else chose their name (the PIN field is cleared)

    def __init__(
        self,
        access: Callable[[], KioskAccess | None],
        none_enrolled: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._access = access
        self.form = QWidget()
        who = QFormLayout(self.form)
        who.setContentsMargins(0, 0, 0, 0)
        self.resident, self.pin = name_and_pin(who)
        self.resident.currentIndexChanged.connect(lambda _i: self._resident_changed())
        self.pin.setMaximumWidth(220)
        self.none_enrolled = QLabel(none_enrolled)
        self.none_enrolled.setObjectName("hint")
        self.none_enrolled.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.form)
        layout.addWidget(self.none_enrolled)
        self.hide()  # until the page knows it is on the shared computer

    @property
    def kiosk(self) -> bool:
        access = self._access()
        return access is not None and access.kiosk

    def person(self) -> str | None:
        """Who signs: the device's owner, or the resident chosen (``None``:
        nobody yet)."""
        access = self._access()
        if access is None:
            return None
        if access.kiosk:
            return self.resident.currentData()
        return access.person or None

    def show_residents(self) -> None:
        """List the residents enrolled here, keeping the one chosen (the only
        one is chosen for them)."""
        access = self._access()
        residents = access.residents if access else ()
        if [self.resident.itemData(i) for i in range(self.resident.count())] != [
            r.id for r in residents
        ]:
            keep = self.resident.currentData()
            self.resident.blockSignals(True)
            self.resident.clear()
            for resident in residents:
                self.resident.addItem(resident.name, resident.id)
            index = self.resident.findData(keep) if keep else -1
            self.resident.setCurrentIndex(
                index if index >= 0 else (0 if len(residents) == 1 else -1)
            )
            self.resident.blockSignals(False)
        self.form.setVisible(bool(residents))
        self.none_enrolled.setVisible(not residents)
        self.setVisible(self.kiosk)

    def _resident_changed(self) -> None:
        self.pin.clear()
        self.chosen.emit()

    def take_pin(self) -> str | None:
        """The PIN typed on the shared computer (read once, then cleared);
        ``None`` on an owner's own device."""
        if not self.kiosk:
            return None
        pin = self.pin.text()
        self.pin.clear()
        return pin

    def signer(self, error: ErrorLabel, missing: str = "") -> tuple[str | None, str | None] | None:
        """(person, PIN) as the node takes them: the resident chosen and their
        PIN on the shared computer, ``(None, None)`` on an owner's own device
        (it signs for its owner). ``None`` when the PIN is missing: ``error``
        says so (``missing``, or "Type your PIN.") and the PIN field has the
        focus."""
        if not self.kiosk:
            return None, None
        pin = self.take_pin()
        if not pin:
            error.show_message(missing or _("Type your PIN."))
            self.pin.setFocus()
            return None
        return self.person(), pin
