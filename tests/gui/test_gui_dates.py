"""Every screen writes dates the way its language does (found by hand: the
screens and their messages wrote ISO dates, 2027-04-15, in every language,
and the date fields asked for them too)."""

from __future__ import annotations

import re
from datetime import date

from gui_helpers import WAIT_MS, open_demo, wait_idle
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QDateEdit,
    QGroupBox,
    QLabel,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from desktop import screenshots
from desktop.settings import save_language

ISO_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
GERMAN_DAY = re.compile(r"\b\d{2}\.\d{2}\.\d{4}\b")


def _texts(page: QWidget) -> list[str]:
    """What a user reads on a page: labels, buttons, group titles, tables'
    cells and headers, text panes, date fields, and their tooltips."""
    texts: list[str] = []
    for widget in [page, *page.findChildren(QWidget)]:
        if not widget.isVisible():
            continue
        texts.append(widget.toolTip())
        if isinstance(widget, QLabel | QAbstractButton):
            texts.append(widget.text())
        elif isinstance(widget, QGroupBox):
            texts.append(widget.title())
        elif isinstance(widget, QTextEdit | QPlainTextEdit):
            texts.append(widget.toPlainText())
        elif isinstance(widget, QDateEdit):
            texts.append(widget.text())
        elif isinstance(widget, QAbstractItemView) and widget.model() is not None:
            model = widget.model()
            for row in range(model.rowCount()):
                for column in range(model.columnCount()):
                    texts.append(str(model.index(row, column).data() or ""))
            for column in range(model.columnCount()):
                texts.append(str(model.headerData(column, Qt.Orientation.Horizontal) or ""))
    return [t for t in texts if t]


def _seed(qtbot, controller, work, change: bool = False):  # type: ignore[no-untyped-def]
    """Run ``work`` on the worker; ``change``: it returns a registry change
    the screens must see."""
    done: list[object] = []
    (controller.ops.change if change else controller.ops.run)(work, done.append, done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=WAIT_MS * 4)
    assert not isinstance(done[0], BaseException), done[0]
    return done[0]


def test_no_screen_writes_an_iso_date(qtbot, start_app) -> None:  # type: ignore[no-untyped-def]
    save_language("de")
    controller = start_app()
    main = open_demo(qtbot, controller)
    year = date.today().year
    _seed(qtbot, controller, lambda s: screenshots.seed_accounts(s, year))
    meeting, _item = _seed(qtbot, controller, screenshots.seed_assembly)
    _seed(qtbot, controller, screenshots.seed_governance, change=True)
    campaign, _luc = _seed(qtbot, controller, screenshots.seed_energy)
    wait_idle(qtbot, controller)
    qtbot.waitUntil(lambda: main.assembly.access is not None, timeout=WAIT_MS)
    main.assembly.choose(meeting)
    qtbot.waitUntil(lambda: main.energy.access is not None, timeout=WAIT_MS)
    main.energy.campaign = campaign
    main.energy.load()

    main.go_to("governance_council")
    council = main.pages["governance_council"]
    qtbot.waitUntil(lambda: len(council.table.rows()) == 2, timeout=WAIT_MS)

    shown: dict[str, list[str]] = {}
    for name, page in main.pages.items():
        main.go_to(name)
        wait_idle(qtbot, controller)
        qtbot.wait(50)
        wait_idle(qtbot, controller)
        shown[name] = _texts(page)
    iso = {name: [t for t in texts if ISO_DAY.search(t)] for name, texts in shown.items()}
    found = {name: sorted(set(texts))[:3] for name, texts in iso.items() if texts}
    assert not found, "\n".join(f"{name}: {texts}" for name, texts in found.items())
    german = {name for name, texts in shown.items() if any(GERMAN_DAY.search(t) for t in texts)}
    # the pages that show dates do show them, the German way
    assert {"accounts_calls", "assembly_meetings", "governance_council"} <= german, german
