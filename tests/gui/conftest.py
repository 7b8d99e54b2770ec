"""pytest-qt fixtures for the desktop app, offscreen.

Every test gets its own profiles folder and QSettings folder, a cheap
Argon2 cost and a passphrase through ``KOPROGO_PASSPHRASE`` (node reads it),
and English. An unexpected exception inside the app is logged by
:mod:`desktop.ops` instead of crashing; the ``no_unexpected_errors`` fixture
turns such a log line into a test failure.
"""

from __future__ import annotations

import argparse
import logging
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from gui_helpers import PASSPHRASE


@pytest.fixture
def profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from desktop.qt import QSettings
    from node.i18n import set_language

    monkeypatch.setenv("KOPROGO_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("KOPROGO_ARGON2", "interactive")
    monkeypatch.setenv("KOPROGO_KEY_STORAGE", "passphrase-file")
    monkeypatch.setenv("LANGUAGE", "en")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qs"))
    yield tmp_path / "profiles"
    set_language("en")


@pytest.fixture
def start_app(qtbot, profiles: Path) -> Iterator[Callable[[], object]]:  # type: ignore[no-untyped-def]
    """Start the app as ``koprogo --profiles <tmp>`` does, without its event loop."""
    from desktop.main import build

    controllers = []

    def start(root: Path | None = None):  # type: ignore[no-untyped-def]
        """``root``: another profiles folder (a second computer)."""
        controller = build(argparse.Namespace(profiles=str(root or profiles)))
        controllers.append(controller)
        return controller

    yield start
    for controller in controllers:
        if controller.main is not None:
            controller._discard(controller.main)
        if controller.start_window is not None:
            controller.start_window.close()
        controller.shutdown()


@pytest.fixture(autouse=True)
def no_unexpected_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.ERROR, logger="desktop")
    yield
    errors = [r for r in caplog.records if r.name.startswith("desktop") and r.levelno >= 40]
    assert not errors, f"unexpected errors in the app: {[r.getMessage() for r in errors]}"
