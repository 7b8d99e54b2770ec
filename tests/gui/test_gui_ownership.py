"""The Ownership page: changing a holding in one undoable edit, and the
lot's occupants (tenants...)."""

from __future__ import annotations

from datetime import date

import pytest
from gui_helpers import create_building, wait_idle

from desktop.qt import QApplication, Qt
from node.domain.registry import LotType, Right

pytestmark = pytest.mark.gui


def building_with_a_holder(qtbot, controller):  # type: ignore[no-untyped-def]
    """Lot A1 held in full by Marie; Jan and Sofie are in the registry too."""
    main = create_building(qtbot, controller)
    ops = controller.ops
    ops.change(lambda s: s.registry.add_lot("A1", LotType.APARTMENT, 1000))
    for name in ("Marie Dupont", "Jan Peeters", "Sofie Claes"):
        ops.change(lambda s, name=name: s.registry.add_person(name))
    wait_idle(qtbot, controller)
    registry = main.state.registry
    lot = registry.lot_by_number("A1")
    ids = {p.name: p.id for p in registry.persons}
    ops.change(lambda s: s.registry.set_owner(lot.id, ids["Marie Dupont"], 10_000, voting=True))
    wait_idle(qtbot, controller)
    page = main.pages["ownership"]
    main.go_to("ownership")
    assert page.lots.select_id(lot.id)
    return main, page, lot, ids


def press_undo(qtbot, main) -> None:  # type: ignore[no-untyped-def]
    """Ctrl+Z as the user types it, in the active main window."""
    main.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is main)
    qtbot.keyClick(main, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)


def test_changing_right_and_share_is_one_undoable_edit(qtbot, start_app) -> None:  # type: ignore[no-untyped-def]
    controller = start_app()
    main, page, _lot, _ids = building_with_a_holder(qtbot, controller)
    (holding,) = main.state.registry.ownerships
    assert page.holders.select_id(holding.id)

    qtbot.mouseClick(page.change_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    assert not dialog.person.isEnabled()  # who holds it stays
    assert dialog.right.isEnabled()
    dialog.right.setCurrentIndex(dialog.right.findData(Right.USUFRUCT.value))
    dialog.share.setText("50")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.dialog is None)

    (changed,) = main.state.registry.ownerships
    assert changed.id == holding.id  # the same holding, changed in place
    assert (changed.right, changed.share, changed.voting) == (Right.USUFRUCT, 5_000, True)
    assert page.holders.cell_text(0, 1) == "Usufruct"
    assert page.holders.cell_text(0, 2) == "50 %"

    press_undo(qtbot, main)  # one Ctrl+Z reverts right and share together
    qtbot.waitUntil(lambda: main.state.registry.ownerships[0].right is Right.FULL)
    (back,) = main.state.registry.ownerships
    assert (back.id, back.share, back.voting) == (holding.id, 10_000, True)
    assert page.holders.cell_text(0, 2) == "100 %"


def test_a_right_the_person_already_holds_is_refused_in_the_dialog(  # type: ignore[no-untyped-def]
    qtbot, start_app
) -> None:
    controller = start_app()
    main, page, lot, ids = building_with_a_holder(qtbot, controller)
    marie = ids["Marie Dupont"]
    controller.ops.change(lambda s: s.registry.set_owner(lot.id, marie, 10_000, Right.BARE))
    wait_idle(qtbot, controller)
    full = next(o for o in main.state.registry.ownerships if o.right is Right.FULL)
    assert page.holders.select_id(full.id)
    qtbot.mouseClick(page.change_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    dialog.right.setCurrentIndex(dialog.right.findData(Right.BARE.value))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error.isVisible())
    assert dialog.error.text() == "This person already holds that right on this lot."
    assert page.dialog is dialog and dialog.save_button.isEnabled()
    dialog.reject()
    assert {o.right for o in main.state.registry.ownerships} == {Right.FULL, Right.BARE}


def test_make_voting_holder_moves_the_vote(qtbot, start_app) -> None:  # type: ignore[no-untyped-def]
    controller = start_app()
    main, page, lot, ids = building_with_a_holder(qtbot, controller)
    jan = ids["Jan Peeters"]
    controller.ops.change(lambda s: s.registry.set_owner(lot.id, jan, 5_000))
    wait_idle(qtbot, controller)
    jans = next(o for o in main.state.registry.ownerships if o.person_id == jan)
    assert page.holders.select_id(jans.id)
    assert page.voting_button.isEnabled()
    qtbot.mouseClick(page.voting_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, controller)
    voters = [o.person_id for o in main.state.registry.ownerships if o.voting]
    assert voters == [jan]
    assert not page.voting_button.isEnabled()


def test_occupants_of_a_lot(qtbot, start_app) -> None:  # type: ignore[no-untyped-def]
    controller = start_app()
    main, page, lot, ids = building_with_a_holder(qtbot, controller)
    assert page.occupants.source.rowCount() == 0
    assert not page.remove_occupant_button.isEnabled()

    # Jan rents the flat since 1 March 2024.
    qtbot.mouseClick(page.add_occupant_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    assert not dialog.since.isEnabled()  # no date unless ticked
    dialog.person.setCurrentText("Jan Peeters")
    dialog.set_since(date(2024, 3, 1))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.dialog is None)
    assert [(r.name, page.occupants.cell_text(0, 1)) for r in page.occupants.rows()] == [
        ("Jan Peeters", "01/03/2024")
    ]
    (occupant,) = main.state.registry.occupants
    assert (occupant.lot_id, occupant.person_id, occupant.since) == (
        lot.id,
        ids["Jan Peeters"],
        date(2024, 3, 1),
    )
    assert page.occupants.current_id() == occupant.id  # the new record is selected
    lots = main.pages["lots"].table  # the Lots page lists the occupants too
    assert (lots.cell_text(0, 0), lots.cell_text(0, 6)) == ("A1", "Jan Peeters")

    # Sofie too, date unknown.
    qtbot.mouseClick(page.add_occupant_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    dialog.person.setCurrentText("Sofie")  # not a full name: refused
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert "Choose a person from the list" in dialog.error.text()
    dialog.select_person(ids["Sofie Claes"])
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.dialog is None)
    assert page.occupants.source.rowCount() == 2
    sofie = next(o for o in main.state.registry.occupants if o.person_id == ids["Sofie Claes"])
    assert sofie.since is None

    # Remove Jan (Del in the table), then undo.
    jans = next(o for o in main.state.registry.occupants if o.person_id == ids["Jan Peeters"])
    assert page.occupants.select_id(jans.id)
    assert page.remove_occupant_button.isEnabled()
    page.occupants.setFocus()
    page.occupants.delete_shortcut.activated.emit()
    qtbot.waitUntil(lambda: page.occupants.source.rowCount() == 1)
    assert [r.name for r in page.occupants.rows()] == ["Sofie Claes"]
    assert "Jan Peeters is no longer an occupant of lot A1" in main.statusBar().currentMessage()
    main.undo_action.trigger()
    qtbot.waitUntil(lambda: page.occupants.source.rowCount() == 2)

    # Occupants belong to their lot: another lot shows none.
    controller.ops.change(lambda s: s.registry.add_lot("B1", LotType.GARAGE, 0))
    wait_idle(qtbot, controller)
    b1 = main.state.registry.lot_by_number("B1")
    assert page.lots.select_id(b1.id)
    assert page.occupants.source.rowCount() == 0
    assert page.select_record(sofie.id)  # going to an occupant selects its lot
    assert page.selected_lot().id == lot.id
    assert page.occupants.current_id() == sofie.id
