"""The chooser bar atop the assembly and energy pages (one widget,
desktop/pages/chosen.py: ChooserBar): it lists what the page shows, its
label's shortcut leads to the list, and choosing another meeting or campaign
there shows it on that page and on every page of the family."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from gui_helpers import WAIT_MS, on_worker, open_demo, wait_idle

from desktop.controller import AppController
from desktop.pages.chosen import ChosenPage
from desktop.qt import QComboBox, QLabel, Qt

pytestmark = pytest.mark.gui

STARTS = datetime.combine(date.today() + timedelta(days=40), time(18, 30))
DEADLINE = date.today() + timedelta(days=300)


def show(qtbot, controller: AppController, name: str) -> ChosenPage:  # type: ignore[no-untyped-def]
    main = controller.main
    main.go_to(name)
    assert main.current_page() == name
    wait_idle(qtbot, controller)
    return main.pages[name]


def listed(page: ChosenPage) -> list[str]:
    choice = page.chooser.choice
    return [choice.itemText(i) for i in range(choice.count())]


def choose_next_from_keyboard(qtbot, page: ChosenPage, shortcut: Qt.Key) -> None:  # type: ignore[no-untyped-def]
    """The label's shortcut leads to the list; the arrow key chooses the next one."""
    choice = page.chooser.choice
    assert any(label.buddy() is choice for label in page.chooser.findChildren(QLabel))
    page.window().activateWindow()
    qtbot.keyClick(page.window(), shortcut, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(choice.hasFocus, timeout=WAIT_MS)
    qtbot.keyClick(choice, Qt.Key.Key_Down)


def test_choosing_another_campaign_in_the_bar_shows_it_on_every_energy_page(  # type: ignore[no-untyped-def]
    qtbot, start_app
) -> None:
    controller = start_app()
    main = open_demo(qtbot, controller)
    luc = next(p.id for p in main.state.registry.persons if p.name == "Luc Janssens")

    def prepare(session):  # type: ignore[no-untyped-def]
        session.profile.store.set_meta({"person": luc})  # an owner's device: "Take part" shows
        session.energy.create("Hiver 2027", ["electricity"], DEADLINE)
        session.energy.create("Été 2028", ["gas"], DEADLINE)

    on_worker(qtbot, controller, prepare)
    qtbot.waitUntil(lambda: main.energy.access is not None, timeout=WAIT_MS)
    main.energy.load()
    wait_idle(qtbot, controller)
    page = show(qtbot, controller, "energy_campaign")
    choice = page.findChild(QComboBox, "campaignChoice")
    assert choice is page.chooser.choice and page.chooser.isVisible()
    assert sorted(listed(page)) == ["Hiver 2027 (Draft)", "Été 2028 (Draft)"]
    first, second = choice.itemData(0), choice.itemData(1)
    main.energy.choose(first)
    wait_idle(qtbot, controller)
    assert choice.currentData() == first
    assert page.chooser.status.text() == "Draft"
    first_name = page.data.info.name
    assert page.heading.text() == f"{first_name} — Draft"

    page.error.show_message("an old refusal")
    choose_next_from_keyboard(qtbot, page, Qt.Key.Key_A)  # C&ampaign
    qtbot.waitUntil(lambda: main.energy.campaign == second, timeout=WAIT_MS)
    wait_idle(qtbot, controller)
    second_name = page.data.info.name
    assert {first_name, second_name} == {"Hiver 2027", "Été 2028"}
    assert choice.currentData() == second
    assert page.heading.text() == f"{second_name} — Draft"
    assert not page.error.isVisible()  # choosing clears what was refused before

    # the other pages of the family follow
    optin = show(qtbot, controller, "energy_optin")
    assert optin.chooser.choice.currentData() == second
    assert optin.terms.text().startswith(f"{second_name}: ")


def test_the_meeting_bar_lists_what_its_page_shows_and_the_others_follow(  # type: ignore[no-untyped-def]
    qtbot, start_app
) -> None:
    controller = start_app()
    main = open_demo(qtbot, controller)
    qtbot.waitUntil(lambda: main.assembly.access is not None, timeout=WAIT_MS)
    room = show(qtbot, controller, "assembly_session")
    assert listed(room) == []
    assert room.chooser.status.text() == "No meeting of this kind yet."

    def prepare(session):  # type: ignore[no-untyped-def]
        assembly = session.assembly
        return (
            assembly.create("ordinary", "AG 2027", STARTS, "Salle commune"),
            assembly.create("poll", "Sondage vélos", STARTS, "Salle commune"),
            assembly.create("extraordinary", "AGE toiture", STARTS, "Salle commune"),
        )

    ordinary, poll, extraordinary = on_worker(qtbot, controller, prepare)
    main.assembly.load()
    wait_idle(qtbot, controller)
    choice = room.findChild(QComboBox, "meetingChoice")
    assert choice is room.chooser.choice
    # a poll is no assembly: the session page does not list it
    ids = [choice.itemData(i) for i in range(choice.count())]
    assert sorted(ids) == sorted([ordinary, extraordinary])
    assert all(" · AG" in text for text in listed(room))
    main.assembly.choose(poll)
    wait_idle(qtbot, controller)
    assert room.data is None and choice.currentIndex() == -1
    assert room.chooser.status.text() == "Choose a meeting."

    main.assembly.choose(ids[0])
    wait_idle(qtbot, controller)
    assert choice.currentData() == ids[0]
    assert room.data is not None and room.data.info.id == ids[0]
    choose_next_from_keyboard(qtbot, room, Qt.Key.Key_M)  # &Meeting
    qtbot.waitUntil(lambda: main.assembly.meeting == ids[1], timeout=WAIT_MS)
    wait_idle(qtbot, controller)
    assert choice.currentData() == ids[1]
    assert room.data is not None and room.data.info.id == ids[1]

    results = show(qtbot, controller, "assembly_results")
    assert results.chooser.choice.currentData() == ids[1]
    assert results.data is not None and results.data.info.id == ids[1]
