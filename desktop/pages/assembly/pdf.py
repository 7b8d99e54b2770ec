"""Saving the convocations and the minutes as PDF files.

The node renders them (``session.assembly_documents``: the convocation of
one owner or of all owners in one file, with the proxy form; the minutes in
the meeting's language); the page asks where to save and the worker renders
and writes, with a busy box, so the window never freezes. A node without
the documents service says so instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from node.errors import InputError, KoprogoError
from node.files import write_document
from node.i18n import _
from node.session import Session

from ...jobs import safe_name, save_file_dialog
from ...qt import QFileDialog, QMenu, QToolButton, QWidget
from ...widgets import WaitDialog, alive, show_error
from .base import AssemblyPage

PDF_FILTER = "PDF (*.pdf)"


def documents(session: Session) -> Any:
    """The node's assembly documents, or a readable refusal when this
    version of KoproGo does not make them yet."""
    service = getattr(session, "assembly_documents", None)
    if service is None:
        raise InputError(_("This version of KoproGo cannot print assembly documents yet."))
    return service


def convocation_pdf(session: Session, meeting: str, person: str | None) -> bytes:
    return documents(session).convocation_pdf(meeting, person)


def minutes_pdf(session: Session, meeting: str) -> bytes:
    return documents(session).minutes_pdf(meeting)


class PdfSaver:
    """Ask where to save, then render and write on the worker with a busy box."""

    def __init__(self, page: AssemblyPage) -> None:
        self.page = page
        self.file_dialog: QFileDialog | None = None  # the one open (tests answer it)
        self.wait: WaitDialog | None = None
        self.last_saved: Path | None = None

    def ask(self, title: str, suggested: str, render: Callable[[Session], bytes]) -> None:
        parent: QWidget = self.page
        self.file_dialog = save_file_dialog(
            parent, title, safe_name(suggested) + ".pdf", PDF_FILTER, lambda p: self.save(p, render)
        )

    def save(self, path: Path, render: Callable[[Session], bytes]) -> None:
        box = WaitDialog(_("Preparing the PDF…"), self.page.window())
        self.wait = box

        def done(written: Path) -> None:
            box.finish()
            if alive(self.page):
                self.last_saved = written
                self.page.message.emit(_("Saved {path}.").format(path=written))

        def failed(exc: KoprogoError) -> None:
            box.finish()
            if alive(self.page):
                show_error(self.page.window(), str(exc))

        self.page.ops.run(lambda s: write_document(path, render(s)), done, failed)


def pdf_menu_button(text: str) -> tuple[QToolButton, QMenu]:
    button = QToolButton()
    button.setObjectName("pdfMenuButton")
    button.setText(text)
    button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    menu = QMenu(button)
    button.setMenu(menu)
    return button, menu
