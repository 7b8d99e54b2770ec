"""The "who are you + PIN" block of the building's shared computer, which the
remote ballot and the energy opt-in share: on the shared computer the
resident chosen and their PIN go to the node, the PIN read once; a missing
PIN is refused with a message before anything is sent; on an owner's own
device nothing shows and the device signs for its owner."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from desktop.inbox import Resident
from desktop.pages.kiosk import WhoAtKiosk
from desktop.qt import QLabel, QVBoxLayout, QWidget
from desktop.widgets import ErrorLabel

pytestmark = pytest.mark.gui

ANN = Resident("person-ann", "Ann Peeters")
BOB = Resident("person-bob", "Bob Dubois")
NONE_ENROLLED = "Nobody has enrolled here yet."


@dataclass(frozen=True)
class FakeAccess:
    kiosk: bool
    person: str = ""
    residents: tuple[Resident, ...] = ()


class Screen(QWidget):
    """A page as the ballot and opt-in pages hold the block: above their error line."""

    def __init__(self, access: FakeAccess | None) -> None:
        super().__init__()
        self.access = access
        self.who = WhoAtKiosk(lambda: self.access, NONE_ENROLLED)
        self.error = ErrorLabel()
        self.changes = 0
        self.who.chosen.connect(self._chosen)
        layout = QVBoxLayout(self)
        layout.addWidget(self.who)
        layout.addWidget(self.error)

    def _chosen(self) -> None:
        self.changes += 1


def screen(qtbot, access: FakeAccess | None) -> Screen:  # type: ignore[no-untyped-def]
    page = Screen(access)
    qtbot.addWidget(page)
    page.who.show_residents()
    page.show()
    qtbot.waitExposed(page)
    return page


def test_on_the_shared_computer_the_chosen_resident_and_their_pin_go_to_the_node(qtbot) -> None:  # type: ignore[no-untyped-def]
    page = screen(qtbot, FakeAccess(kiosk=True, residents=(ANN, BOB)))
    who = page.who
    assert who.kiosk and who.form.isVisible() and not who.none_enrolled.isVisible()
    assert [who.resident.itemText(i) for i in range(who.resident.count())] == [
        "Ann Peeters",
        "Bob Dubois",
    ]
    assert who.person() is None  # two residents: nobody is chosen for them

    who.pin.setText("2718")  # typed, then someone else chooses their name
    who.resident.setCurrentIndex(who.resident.findData(BOB.id))
    assert page.changes == 1 and who.pin.text() == ""
    assert who.person() == BOB.id

    who.pin.setText("1618")
    assert who.signer(page.error) == (BOB.id, "1618")
    assert who.pin.text() == ""  # read once, never kept
    assert not page.error.isVisible()

    # the list read again keeps the one chosen
    page.access = FakeAccess(kiosk=True, residents=(BOB, ANN))
    who.show_residents()
    assert who.person() == BOB.id and page.changes == 1


def test_a_missing_pin_is_refused_with_a_message_and_the_pin_field_focused(qtbot) -> None:  # type: ignore[no-untyped-def]
    page = screen(qtbot, FakeAccess(kiosk=True, residents=(ANN,)))
    who = page.who
    assert who.person() == ANN.id  # the only resident is chosen for them
    page.activateWindow()
    assert who.signer(page.error) is None
    assert page.error.isVisible() and page.error.text() == "Type your PIN."
    qtbot.waitUntil(who.pin.hasFocus)
    assert who.signer(page.error, "Type your PIN to withdraw a ballot.") is None
    assert page.error.text() == "Type your PIN to withdraw a ballot."


def test_the_labels_lead_the_keyboard_to_the_name_and_the_pin(qtbot) -> None:  # type: ignore[no-untyped-def]
    page = screen(qtbot, FakeAccess(kiosk=True, residents=(ANN, BOB)))
    buddies = {label.text(): label.buddy() for label in page.who.findChildren(QLabel)}
    assert buddies["&Who are you?"] is page.who.resident
    assert buddies["&PIN"] is page.who.pin
    assert page.who.resident.objectName() == "residentChoice"
    assert page.who.pin.objectName() == "pinField"
    assert page.who.pin.placeholderText() == "Your PIN"


def test_nobody_enrolled_yet_is_said_instead_of_the_form(qtbot) -> None:  # type: ignore[no-untyped-def]
    page = screen(qtbot, FakeAccess(kiosk=True))
    assert page.who.none_enrolled.isVisible() and not page.who.form.isVisible()
    assert page.who.none_enrolled.text() == NONE_ENROLLED
    assert page.who.person() is None


@pytest.mark.parametrize(
    "access, person",
    [(FakeAccess(kiosk=False, person="person-own"), "person-own"), (None, None)],
    ids=["an owner's own device", "nothing read yet"],
)
def test_elsewhere_nothing_shows_and_the_device_signs_for_its_owner(  # type: ignore[no-untyped-def]
    qtbot, access, person
) -> None:
    page = screen(qtbot, access)
    assert not page.who.isVisible() and not page.who.kiosk
    assert page.who.person() == person
    page.who.pin.setText("1234")  # never read off the shared computer
    assert page.who.take_pin() is None
    assert page.who.signer(page.error) == (None, None)
    assert not page.error.isVisible()
