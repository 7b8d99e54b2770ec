"""Saving call notices and charge statements as PDF files.

The node renders the PDFs (:mod:`node.services.documents`); the app asks
where to save them and writes them on the worker, so the window never
freezes. A batch rendered owner by owner (one file per owner) shows a
progress box fed by each owner's step and can be cancelled; one PDF holding
every notice is a single rendering, shown with a busy box.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from node.errors import KoprogoError
from node.files import write_document
from node.i18n import _
from node.pdf.call_for_funds import render_call_notice
from node.session import Session

from ...jobs import Cancelled, Steps, safe_name, save_file_dialog
from ...qt import QFileDialog, QMenu, QToolButton, QWidget
from ...widgets import alive, show_error

if TYPE_CHECKING:
    from .base import AccountsPage

PDF_FILTER = "PDF (*.pdf)"


def run_steps(
    page: AccountsPage,
    title: str,
    label: str,
    work: Callable[[Session, Callable[[int, int, str], None]], Any],
    done: Callable[[Any], None],
) -> Steps:
    """Run ``work(session, report)`` on the worker with a progress box."""
    steps = Steps(page.window(), title, label)

    def finished(result: Any) -> None:
        steps.finish()
        if alive(page):
            done(result)

    def failed(exc: KoprogoError) -> None:
        steps.finish()
        if alive(page) and not isinstance(exc, Cancelled):
            show_error(page.window(), str(exc))

    page.steps = steps
    page.ops.run(lambda s: work(s, steps.report), on_done=finished, on_error=failed)
    return steps


def save_each_notice(
    session: Session, call_id: str, folder: Path, report: Callable[[int, int, str], None]
) -> list[Path]:
    """Each owner's notice of ``call_id`` in its own file in ``folder``."""
    report(0, 0, _("Preparing the notices…"))
    notices = session.documents.call_notices(call_id)
    written = []
    for index, (_person, notice) in enumerate(notices):
        report(
            index,
            len(notices),
            _("Notice {n} of {total}: {name}").format(
                n=index + 1, total=len(notices), name=notice.recipient.name
            ),
        )
        name = f"{call_id} {safe_name(notice.recipient.name)}.pdf"
        written.append(write_document(folder / name, render_call_notice(notice)))
    report(len(notices), len(notices), "")
    return written


class NoticePdfs:
    """The "Save as PDF" menu of the calls page."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.file_dialog: QFileDialog | None = None  # the one open (tests answer it)
        self.last_saved: list[Path] = []

    def menu_button(self) -> QToolButton:
        button = QToolButton()
        button.setObjectName("pdfMenuButton")
        button.setText(_("Save as &PDF"))
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(button)
        self.one = menu.addAction(_("This owner's notice…"), self.ask_notice)
        self.all = menu.addAction(_("All notices of the call in one PDF…"), self.ask_all)
        self.each = menu.addAction(_("Each notice in its own file…"), self.ask_each)
        button.setMenu(menu)
        self.button = button
        return button

    def update_actions(self, call: bool, owner: bool) -> None:
        self.one.setEnabled(call and owner)
        self.all.setEnabled(call)
        self.each.setEnabled(call)
        self.button.setEnabled(call)

    def _ask(
        self, title: str, suggested: str, chosen: Callable[[Path], None], folder: bool = False
    ) -> None:
        parent: QWidget = self.page
        self.file_dialog = save_file_dialog(parent, title, suggested, PDF_FILTER, chosen, folder)

    def ask_notice(self) -> None:
        call, owner = self.page.selected_call(), self.page.selected_owner()
        if call is not None and owner is not None:
            suggested = f"{call.id} {safe_name(owner.name)}.pdf"
            self._ask(_("Save the notice as PDF"), suggested, self.save_notice)

    def ask_all(self) -> None:
        call = self.page.selected_call()
        if call is not None:
            self._ask(_("Save all notices as one PDF"), f"{call.id}.pdf", self.save_all)

    def ask_each(self) -> None:
        if self.page.selected_call() is not None:
            self._ask(_("Choose a folder for the notices"), "", self.save_each, folder=True)

    def save_notice(self, path: Path) -> None:
        call, owner = self.page.selected_call(), self.page.selected_owner()
        if call is None or owner is None:
            return
        call_id, person = call.id, owner.id
        self.page.ops.run(
            lambda s: write_document(path, s.documents.call_notice_pdf(call_id, person)),
            on_done=self._saved,
            on_error=lambda exc: show_error(self.page.window(), str(exc)),
        )

    def save_all(self, path: Path) -> None:
        call = self.page.selected_call()
        if call is None:
            return
        call_id, owners = call.id, call.owners

        def work(session: Session, report: Callable[[int, int, str], None]) -> Path:
            report(0, 0, _("Rendering {n} notices in one PDF…").format(n=owners))
            return write_document(path, session.documents.call_notices_pdf(call_id))

        run_steps(self.page, _("Saving the notices"), "", work, self._saved)

    def save_each(self, folder: Path) -> None:
        call = self.page.selected_call()
        if call is None:
            return
        call_id = call.id
        run_steps(
            self.page,
            _("Saving the notices"),
            "",
            lambda s, report: save_each_notice(s, call_id, folder, report),
            self._saved,
        )

    def _saved(self, result: Path | list[Path]) -> None:
        paths = result if isinstance(result, list) else [result]
        self.last_saved = paths
        if len(paths) == 1:
            self.page.message.emit(_("Saved {path}.").format(path=paths[0]))
        else:
            self.page.message.emit(
                _("{n} notices saved in {folder}.").format(
                    n=len(paths), folder=paths[0].parent if paths else ""
                )
            )
