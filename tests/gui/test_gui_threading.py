"""ARCHITECTURE §12: one worker thread owns the session; answers come back
on the GUI thread; a slow call never blocks the GUI and is shown as such."""

from __future__ import annotations

import threading

import pytest
from gui_helpers import WAIT_MS, create_building, wait_idle, wait_main

import desktop.controller
from desktop.qt import QApplication, Qt
from node import first_run
from node.domain.registry import Association
from node.session import Session

pytestmark = pytest.mark.gui


def test_node_calls_run_on_one_worker_and_answer_on_the_gui_thread(  # type: ignore[no-untyped-def]
    qtbot, start_app
) -> None:
    controller = start_app()
    create_building(qtbot, controller)
    ran_on: list[int] = []
    answered_on: list[int] = []
    for _ in range(3):
        controller.ops.run(
            lambda s: ran_on.append(threading.get_ident()) or s.registry.read(),
            on_done=lambda _registry: answered_on.append(threading.get_ident()),
        )
    wait_idle(qtbot, controller)
    assert len(set(ran_on)) == 1
    assert ran_on[0] != threading.get_ident()
    assert answered_on == [threading.get_ident()] * 3


def test_closing_the_window_closes_the_session(qtbot, start_app) -> None:  # type: ignore[no-untyped-def]
    controller = start_app()
    main = create_building(qtbot, controller)
    main.close()  # asks the controller, which closes the session first
    qtbot.waitUntil(lambda: controller.main is None)
    errors: list[str] = []
    controller.ops.error.connect(errors.append)
    controller.ops.run(lambda s: s.registry.read())
    wait_idle(qtbot, controller)
    assert errors == ["No building is open."]


def test_a_slow_call_shows_a_busy_cursor_and_working(qtbot, start_app) -> None:  # type: ignore[no-untyped-def]
    controller = start_app()
    main = create_building(qtbot, controller)
    slow: list[bool] = []
    controller.ops.slow.connect(slow.append)
    controller.ops.run(lambda s: None)  # quick: no indicator at all
    wait_idle(qtbot, controller)
    assert slow == [] and not main.working.isVisible()

    release = threading.Event()
    controller.ops.run(lambda s: release.wait(WAIT_MS / 1000))
    qtbot.waitUntil(lambda: main.working.isVisible(), timeout=WAIT_MS)
    assert main.working.text() == "Working…"
    assert QApplication.overrideCursor() is not None
    assert QApplication.overrideCursor().shape() == Qt.CursorShape.BusyCursor
    qtbot.mouseClick(main.undo_button, Qt.MouseButton.LeftButton)  # the GUI still answers
    release.set()
    wait_idle(qtbot, controller)
    assert slow == [True, False]
    assert not main.working.isVisible()
    assert QApplication.overrideCursor() is None


def test_opening_a_building_at_start_shows_a_wait_box(  # type: ignore[no-untyped-def]
    qtbot, start_app, profiles, monkeypatch
) -> None:
    with first_run.create_building(profiles / "one", Association("ACP Rivage", 1000)):
        pass
    release = threading.Event()
    real_open = Session.open

    def slow_open(path, provider=None):  # type: ignore[no-untyped-def]
        release.wait(WAIT_MS / 1000)
        return real_open(path, provider)

    monkeypatch.setattr(desktop.controller.Session, "open", slow_open)
    controller = start_app()
    qtbot.waitUntil(lambda: controller.wait is not None and controller.wait.isVisible())
    assert controller.wait.labelText() == "Opening the building…"
    assert controller.main is None
    release.set()
    main = wait_main(qtbot, controller)
    assert controller.wait is None
    assert main.building_name.text() == "ACP Rivage"
    assert QApplication.overrideCursor() is None


def test_a_background_job_shows_busy_only_when_a_call_waits_behind_it(  # type: ignore[no-untyped-def]
    qtbot, start_app
) -> None:
    controller = start_app()
    main = create_building(qtbot, controller)
    wait_idle(qtbot, controller)
    ops = controller.ops
    release = threading.Event()
    ops.run(lambda s: release.wait(WAIT_MS / 1000), background=True)  # a sync round
    assert ops.busy and not ops._slow_timer.isActive()  # nothing to show for it
    answers: list[object] = []
    ops.run(lambda s: s.registry.read(), on_done=answers.append)  # a person's call waits
    qtbot.waitUntil(lambda: main.working.isVisible(), timeout=WAIT_MS)
    release.set()
    wait_idle(qtbot, controller)
    assert answers and not main.working.isVisible()
    assert QApplication.overrideCursor() is None
