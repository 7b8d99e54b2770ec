"""Issue 2, point 7: after the demo is created in the app and the app is
closed, no file of the profile folder holds a demo owner's name, e-mail or
address, in any common encoding."""

from __future__ import annotations

from pathlib import Path

from gui_helpers import wait_main

from desktop.qt import Qt
from node.demo import demo_personal_strings


def test_demo_created_in_the_app_leaves_nothing_personal_on_disk(  # type: ignore[no-untyped-def]
    qtbot, start_app, profiles: Path
) -> None:
    controller = start_app()
    qtbot.waitUntil(lambda: controller.start_window is not None)
    qtbot.mouseClick(controller.start_window.demo_button, Qt.MouseButton.LeftButton)
    main = wait_main(qtbot, controller)
    assert "Marie Lambert" in {p.name for p in main.state.registry.persons}
    main.close()
    qtbot.waitUntil(lambda: controller.main is None)

    files = [p for p in profiles.rglob("*") if p.is_file()]
    assert any(p.name == "koprogo.sqlite" for p in files)
    raw = b"".join(p.read_bytes() for p in files)
    leaks = [
        text
        for text in demo_personal_strings()
        for form in (text.encode(), text.encode("utf-16-le"), text.lower().encode())
        if form in raw
    ]
    assert leaks == []
