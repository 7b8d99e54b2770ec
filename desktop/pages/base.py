"""What every screen of the main window has in common.

A page says which registry collections it shows; the main window hands it
the new state only after a change touching one of them (Anki's
"operation changed" pattern). Pages never talk to each other: they ask the
window to show a message or go to a record through signals.
"""

from __future__ import annotations

from collections.abc import Callable

from node.errors import KoprogoError
from node.i18n import _
from node.services.registry import Change
from node.session import Session

from ..ops import Ops
from ..qt import QHBoxLayout, QLabel, QLineEdit, QPushButton, Qt, QVBoxLayout, QWidget, Signal
from ..state import RegistryState, Update
from ..widgets import RecordDialog


class Page(QWidget):
    collections: frozenset[str] = frozenset()
    title_msgid = ""  # N_() msgid of the navigation entry and heading
    needs_registry = True  # shows the registry: not on an owner's or kiosk device

    message = Signal(str)  # a short status-bar message
    navigate = Signal(str, str)  # page name, record id to select

    def __init__(self, ops: Ops, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.state: RegistryState | None = None
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(20, 16, 20, 12)
        self.layout_.setSpacing(10)
        heading = QLabel(self.title())
        heading.setObjectName("pageTitle")
        self.layout_.addWidget(heading)
        self.dialog: RecordDialog | None = None  # the dialog now open (tests drive it)

    def title(self) -> str:
        return _(self.title_msgid)

    def show_state(self, state: RegistryState) -> None:
        """Redraw from ``state``; called after a change to :attr:`collections`."""
        self.state = state

    def select_record(self, record_id: str) -> bool:
        """Select the record with this id if the page shows it."""
        return False

    def activated(self) -> None:
        """The page came into view (some pages load what they show then)."""

    def synced(self) -> None:
        """A sync round ended: what the registry does not carry (inboxes) may
        have changed."""

    @property
    def editable(self) -> bool:
        """Whether this device may change what the page shows: not on a
        council device, nor where a newer KoproGo wrote the document."""
        return self.state is not None and not self.state.read_only_reason

    # -- helpers for subclasses ------------------------------------------------------

    def button(self, text: str, slot: Callable[[], None], tooltip: str = "") -> QPushButton:
        button = QPushButton(text)
        button.clicked.connect(lambda _checked=False: slot())
        if tooltip:
            button.setToolTip(tooltip)
        return button

    def toolbar(self, *buttons: QPushButton, search: QLineEdit | None = None) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(6)
        for button in buttons:
            row.addWidget(button)
        row.addStretch(1)
        if search is not None:
            row.addWidget(search)
        return row

    def search_field(self, on_text: Callable[[str], None]) -> QLineEdit:
        field = QLineEdit()
        field.setObjectName("searchField")
        field.setPlaceholderText(_("Filter…"))
        field.setClearButtonEnabled(True)
        field.setMaximumWidth(260)
        field.textChanged.connect(on_text)
        return field

    def open_dialog(self, dialog: RecordDialog, save: Callable[[RecordDialog], None]) -> None:
        """Show ``dialog``; its Save calls ``save(dialog)``, which submits the edit."""

        def on_submit() -> None:
            try:
                save(dialog)
            except KoprogoError as exc:  # refused before reaching the node
                dialog.show_error(exc)

        dialog.submitted.connect(on_submit)
        dialog.finished.connect(lambda _result: self._forget_dialog(dialog))
        self.dialog = dialog
        dialog.open()

    def _forget_dialog(self, dialog: RecordDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def submit(
        self, dialog: RecordDialog, fn: Callable[[Session], Change], select: bool = True
    ) -> None:
        """Send ``dialog``'s edit to the node; close it when accepted and select
        the record it made or changed."""
        dialog.save_button.setEnabled(False)

        def done(update: Update) -> None:
            dialog.accept()
            if select and update.change.record_id:
                self.select_record(update.change.record_id)

        self.ops.change(fn, on_done=done, on_error=dialog.show_error)


def empty_hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("hint")
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    return label
