"""Small steps the GUI tests share: create a building, wait for the worker."""

from __future__ import annotations

from desktop.controller import AppController
from desktop.main_window import MainWindow
from desktop.qt import QMessageBox, Qt, QWidget

PASSPHRASE = "correct horse battery"  # the tests' KOPROGO_PASSPHRASE
WAIT_MS = 15_000  # Argon2 and SQLite run on the worker; generous, never asserted


def wait_main(qtbot, controller: AppController) -> MainWindow:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(
        lambda: controller.main is not None and controller.main.state is not None,
        timeout=WAIT_MS,
    )
    assert controller.main is not None
    return controller.main


def wait_idle(qtbot, controller: AppController) -> None:  # type: ignore[no-untyped-def]
    """Wait until the worker answered every call submitted so far."""
    qtbot.waitUntil(lambda: not controller.ops.busy, timeout=WAIT_MS)


def create_building(  # type: ignore[no-untyped-def]
    qtbot, controller: AppController, name: str = "ACP Les Érables", total: int = 1000
) -> MainWindow:
    qtbot.waitUntil(lambda: controller.start_window is not None, timeout=WAIT_MS)
    start = controller.start_window
    assert start is not None
    qtbot.mouseClick(start.create_button, Qt.MouseButton.LeftButton)
    start.name.setText(name)
    start.quota_total.setValue(total)
    qtbot.mouseClick(start.create_submit, Qt.MouseButton.LeftButton)
    return wait_main(qtbot, controller)


def message_boxes(parent: QWidget) -> list[QMessageBox]:
    return [b for b in parent.findChildren(QMessageBox) if b.isVisible()]
