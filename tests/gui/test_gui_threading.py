"""ARCHITECTURE §12: one worker thread owns the session; answers come back
on the GUI thread."""

from __future__ import annotations

import threading

import pytest
from gui_helpers import create_building, wait_idle

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
