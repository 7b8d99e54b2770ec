"""File → Open another building: the profiles on this computer.

A profile's building name is encrypted, so before unlocking the list can
only show what is in clear: the folder, when it was last used, and where its
key is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from node.i18n import _

from .labels import key_storage_label
from .qt import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from .state import ProfileEntry

ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1


class OpenBuildingDialog(QDialog):
    chosen = Signal(object)  # ProfileEntry, or a Path picked with Browse

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
        for entry in entries:
            text = _("Last used {when} · key: {where}").format(
                when=entry.last_used.strftime("%Y-%m-%d %H:%M"),
                where=key_storage_label(entry.key_storage),
            )
            if current is not None and entry.path == current:
                text += "  " + _("(open now)")
            item = QListWidgetItem(f"{text}\n{entry.path}")
            item.setData(ENTRY_ROLE, entry)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemActivated.connect(lambda _item: self._open())
        layout.addWidget(self.list, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Cancel"))
        browse = QPushButton(_("Other folder…"))
        browse.clicked.connect(self._browse)
        buttons.addButton(browse, QDialogButtonBox.ButtonRole.ActionRole)
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

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, _("Choose a profile folder"))
        if folder:
            self.chosen.emit(Path(folder))
            self.accept()
