"""Small steps the GUI tests share: create a building, wait for the worker,
connect the demo building to a relay, join with a code, ask the node."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop.controller import AppController
from desktop.main_window import MainWindow
from desktop.qt import QMessageBox, Qt, QWidget
from node.sync import service

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


def node_status(qtbot, controller: AppController) -> dict:  # type: ignore[no-untyped-def]
    """``service.status`` of the open building, read on the worker."""
    answer: list[dict] = []
    controller.ops.run(service.status, on_done=answer.append)
    qtbot.waitUntil(lambda: bool(answer), timeout=WAIT_MS)
    return answer[0]


def open_demo(qtbot, controller: AppController) -> MainWindow:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: controller.start_window is not None, timeout=WAIT_MS)
    qtbot.mouseClick(controller.start_window.demo_button, Qt.MouseButton.LeftButton)
    return wait_main(qtbot, controller)


def connect_in_settings(qtbot, controller: AppController, url: str):  # type: ignore[no-untyped-def]
    """Settings → Relay → type the address → Connect; returns the relay tab."""
    main = controller.main
    main.sync_indicator.click()  # the panel's "Relay settings…" opens the Relay tab
    panel = main.sync_panel
    assert panel is not None and not panel.sync_button.isEnabled()
    qtbot.mouseClick(panel.relay_button, Qt.MouseButton.LeftButton)
    dialog = controller.dialog
    relay = dialog.relay
    assert dialog.tabs.currentWidget() is relay
    assert relay.connect_button.text() == "Connect to a relay"
    relay.address.setText(url)
    qtbot.mouseClick(relay.connect_button, Qt.MouseButton.LeftButton)
    return relay


def connected_demo(qtbot, controller: AppController, url: str) -> MainWindow:  # type: ignore[no-untyped-def]
    main = open_demo(qtbot, controller)
    relay = connect_in_settings(qtbot, controller, url)
    qtbot.waitUntil(lambda: "registered" in relay.result.text(), timeout=WAIT_MS)
    # found by hand: Cancel stayed, as if it undid the connection
    buttons = controller.dialog.buttons.buttons()
    assert [b.text() for b in buttons if b.isVisibleTo(controller.dialog)] == ["Close"]
    sync = controller.sync
    qtbot.waitUntil(
        lambda: sync.status.last_sync is not None and not sync.busy and sync.status.pending == 0,
        timeout=WAIT_MS,
    )
    controller.dialog.accept()
    return main


def on_worker(qtbot, controller: AppController, fn: Callable[[Any], Any]) -> Any:  # type: ignore[no-untyped-def]
    """``fn(session)`` on the worker that owns the open building; its result,
    or the node's error (a :class:`~node.errors.KoprogoError`) as a value."""
    answer: list[Any] = []
    controller.ops.run(fn, on_done=answer.append, on_error=answer.append)
    qtbot.waitUntil(lambda: bool(answer), timeout=WAIT_MS)
    return answer[0]


def join_with_code(qtbot, controller: AppController, url: str, code: str) -> MainWindow:  # type: ignore[no-untyped-def]
    """On a new computer's first-run screen: join ``url`` with ``code``."""
    qtbot.waitUntil(lambda: controller.start_window is not None, timeout=WAIT_MS)
    start = controller.start_window
    qtbot.mouseClick(start.join_button, Qt.MouseButton.LeftButton)
    start.relay_address.setText(url)
    start.invite_code.setText(code)
    qtbot.mouseClick(start.join_submit, Qt.MouseButton.LeftButton)
    return wait_main(qtbot, controller)


def profile_bytes(root: Path) -> bytes:
    """Every byte of every file under ``root`` (a profiles folder)."""
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())
