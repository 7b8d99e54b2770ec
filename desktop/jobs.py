"""Long jobs on the worker with a visible progress, and the file dialogs
that start or end them.

A batch of PDFs rendered owner by owner reports each step through
:class:`Steps`: the worker calls :meth:`Steps.report`, which emits a Qt
signal delivered on the GUI thread (the worker never touches a widget), and
a :class:`~PySide6.QtWidgets.QProgressDialog` shows "12 of 48". Cancelling
stops the job at the next step. A job made of one node call (generating
calls, importing a CODA file) has no steps to count: it shows a
:class:`~desktop.widgets.WaitDialog` instead.

File dialogs are opened with ``open()`` like every other dialog, so the
worker's answers keep arriving while one is up and tests can answer it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from node.errors import InputError, KoprogoError
from node.i18n import _

from .qt import QFileDialog, QObject, QProgressDialog, Qt, QTimer, QWidget, Signal

SHOW_AFTER_MS = 300  # a quicker job shows no progress box at all


class Cancelled(KoprogoError):
    """The person cancelled a long job; what was done before stays done."""

    def __init__(self) -> None:
        super().__init__(_("Cancelled."))


class Steps(QObject):
    """The progress of one job, fed by the worker step by step."""

    step = Signal(int, int, str)  # done, total, what is being done

    def __init__(self, parent: QWidget, title: str, label: str) -> None:
        super().__init__(parent)
        self.cancelled = False
        self.done = 0
        self.total = 0
        self.dialog = QProgressDialog(label, _("Cancel"), 0, 0, parent)
        self.dialog.setObjectName("progressDialog")
        self.dialog.setWindowTitle(title)
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumWidth(380)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.setMinimumDuration(0)
        self.dialog.canceled.connect(self._cancel)
        self.dialog.hide()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._show)
        self._timer.start(SHOW_AFTER_MS)
        self.step.connect(self._on_step)

    # -- on the worker --------------------------------------------------------------

    def report(self, done: int, total: int, text: str = "") -> None:
        """Called by the job on the worker between two steps; raises
        :class:`Cancelled` once the person cancelled."""
        if self.cancelled:
            raise Cancelled()
        self.step.emit(done, total, text)

    # -- on the GUI thread --------------------------------------------------------------

    def _on_step(self, done: int, total: int, text: str) -> None:
        self.done, self.total = done, total
        self.dialog.setMaximum(max(total, 1))
        self.dialog.setValue(min(done, max(total, 1)))
        if text:
            self.dialog.setLabelText(text)

    def _show(self) -> None:
        if not self.cancelled:
            self.dialog.show()

    def _cancel(self) -> None:
        self.cancelled = True

    def finish(self) -> None:
        self._timer.stop()
        self.dialog.close()
        self.dialog.deleteLater()
        self.deleteLater()


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(
            _("{path} could not be read: {reason}").format(path=path, reason=exc.strerror)
        ) from exc


def open_file_dialog(
    parent: QWidget, title: str, name_filter: str, chosen: Callable[[Path], None]
) -> QFileDialog:
    """Ask for an existing file; ``chosen(path)`` once one is picked."""
    dialog = QFileDialog(parent, title)
    dialog.setObjectName("openFileDialog")
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
    dialog.setNameFilters([name_filter, _("All files (*)")])
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.fileSelected.connect(lambda name: chosen(Path(name)))
    dialog.open()
    return dialog


def save_file_dialog(
    parent: QWidget,
    title: str,
    suggested: str,
    name_filter: str,
    chosen: Callable[[Path], None],
    folder: bool = False,
) -> QFileDialog:
    """Ask where to save ``suggested`` (or, with ``folder``, in which folder
    to save many files); ``chosen(path)`` once answered."""
    dialog = QFileDialog(parent, title)
    dialog.setObjectName("saveFileDialog")
    if folder:
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
    else:
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters([name_filter])
        dialog.setDefaultSuffix("pdf")
        dialog.selectFile(suggested)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.fileSelected.connect(lambda name: chosen(Path(name)))
    dialog.open()
    return dialog


def safe_name(text: str) -> str:
    """``text`` as part of a file name on every OS."""
    kept = "".join(c if c.isalnum() or c in " -_." else "-" for c in text).strip(" .")
    return kept or "document"
