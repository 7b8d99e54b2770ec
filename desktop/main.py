"""Start the desktop app: Qt, language, look, then the controller.

:func:`build` does everything but the event loop so tests (pytest-qt) and
the screenshot script drive the same app that ``koprogo`` runs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from types import TracebackType

from node.i18n import set_language
from node.profile import default_profiles_dir

from .controller import AppController
from .labels import apply_locale
from .ops import generic_error_message
from .qt import QApplication
from .settings import APPLICATION, ORGANIZATION, effective_language
from .style import apply_style
from .widgets import show_error

log = logging.getLogger("koprogo")


def profiles_root(args: argparse.Namespace) -> Path:
    return Path(args.profiles) if getattr(args, "profiles", None) else default_profiles_dir()


def build(args: argparse.Namespace) -> AppController:
    """Set up the running QApplication and start the controller."""
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("KoproGo")
    apply_style(app)
    set_language(effective_language())
    apply_locale()
    controller = AppController(profiles_root(args))
    controller.start()
    return controller


def _excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """An exception escaping a slot is a bug: log it, tell the user, go on."""
    log.error("unexpected error", exc_info=(kind, exc, tb))
    show_error(QApplication.activeWindow(), generic_error_message())


def run_app(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = QApplication.instance() or QApplication(sys.argv)
    controller = build(args)
    sys.excepthook = _excepthook
    try:
        return app.exec()
    finally:
        controller.shutdown()
