"""File → Open another building: the profiles on this computer.

A profile's building name is encrypted, so before unlocking the list can
only show what is in clear: the folder, when it was last used, where its
key is kept, this device's role, and whether it syncs or was removed from
its building. A profile can be removed from this computer (after a
warning saying what is lost).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from node.i18n import _

from .labels import fmt_moment, key_storage_label, role_label
from .qt import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from .state import ProfileEntry

ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1


def entry_text(entry: ProfileEntry, current: Path | None) -> str:
    """One profile as the list shows it: what can be said without its key."""
    facts = [
        _("Last used {when}").format(when=fmt_moment(entry.last_used)),
        _("key: {where}").format(where=key_storage_label(entry.key_storage)),
    ]
    if entry.role:
        facts.insert(0, role_label(entry.role))
    first = " · ".join(facts)
    if current is not None and entry.path == current:
        first += "  " + _("(open now)")
    if entry.removed:
        state = _("Removed from the building: this copy is no longer updated.")
    elif entry.connected:
        state = _("Kept in step through a relay.")
    else:
        state = _("Kept only on this computer.")
    return f"{first}\n{state}\n{entry.path.name}"


def removal_consequence(entry: ProfileEntry) -> str:
    """What removing a profile loses, said before it is done."""
    if entry.removed:
        return _(
            "Its data and its key are deleted from this computer. The building stays on its "
            "other devices; to have it here again, join with a new invite."
        )
    if entry.connected:
        return _(
            "Its data and its key are deleted from this computer. The building stays on its "
            "other devices, if it has any: the relay alone cannot give it back. If this is "
            "the building's only device, it is lost for good."
        )
    return _("This building is kept only on this computer: removing it loses it for good.")


class OpenBuildingDialog(QDialog):
    chosen = Signal(object)  # ProfileEntry, or a Path picked with Browse
    remove_requested = Signal(object)  # ProfileEntry, confirmed

    def __init__(
        self, entries: Sequence[ProfileEntry], current: Path | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("openBuildingDialog")
        self.setWindowTitle(_("Open another building"))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumSize(560, 360)
        layout = QVBoxLayout(self)
        hint = QLabel(
            _(
                "Buildings kept on this computer. Their names are encrypted and appear "
                "once a building is open."
            )
        )
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        for entry in entries:
            item = QListWidgetItem(entry_text(entry, current))
            item.setData(ENTRY_ROLE, entry)
            item.setToolTip(str(entry.path))
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemActivated.connect(lambda _item: self._open())
        layout.addWidget(self.list, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Cancel"))
        browse = QPushButton(_("Other folder…"))
        browse.clicked.connect(self._browse)
        buttons.addButton(browse, QDialogButtonBox.ButtonRole.ActionRole)
        self.remove_button = QPushButton(_("Remove from this computer…"))
        self.remove_button.clicked.connect(self._remove)
        self.remove_button.setEnabled(bool(entries))
        buttons.addButton(self.remove_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.confirm: QMessageBox | None = None
        open_ = QPushButton(_("Open"))
        open_.setDefault(True)
        open_.clicked.connect(self._open)
        buttons.addButton(open_, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _open(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.chosen.emit(item.data(ENTRY_ROLE))
            self.accept()

    def _remove(self) -> None:
        """Ask first: removing deletes this computer's copy and its key."""
        item = self.list.currentItem()
        if item is None:
            return
        entry: ProfileEntry = item.data(ENTRY_ROLE)
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(_("Remove from this computer"))
        box.setText(_("Remove this building's copy from this computer?"))
        box.setInformativeText(removal_consequence(entry))
        remove = box.addButton(_("Remove"), QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(_("Cancel"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(cancel)  # Enter keeps the copy
        box.setEscapeButton(cancel)

        def answered(_result: int) -> None:
            self.confirm = None
            if box.clickedButton() is remove:
                self.remove_requested.emit(entry)
                self.accept()

        box.finished.connect(answered)
        self.confirm = box
        box.open()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, _("Choose a profile folder"))
        if folder:
            self.chosen.emit(Path(folder))
            self.accept()
