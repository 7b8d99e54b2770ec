"""Distribution keys (DOMAIN §1): the general key is the quotas and is shown
read-only; special keys from the deed (lift, heating...) weigh some lots."""

from __future__ import annotations

from dataclasses import dataclass

from node.domain.registry import GENERAL_KEY_ID, DistributionKey, Lot, Registry, general_key
from node.i18n import N_, _

from ..key_dialog import KeyDialog
from ..labels import fmt_int, fmt_ratio, lot_type_label, natural_key
from ..ops import Ops
from ..qt import QLabel, QSplitter, Qt, QVBoxLayout, QWidget
from ..state import RegistryState
from ..table import Column, RecordTable
from ..widgets import RecordDialog
from .base import Page


@dataclass(frozen=True)
class KeyRow:
    key: DistributionKey
    lot_count: int

    @property
    def id(self) -> str:
        return self.key.id

    @property
    def general(self) -> bool:
        return self.key.id == GENERAL_KEY_ID


@dataclass(frozen=True)
class WeightRow:
    lot: Lot
    weight: int
    total: int

    @property
    def id(self) -> str:
        return self.lot.id


KEY_COLUMNS = (
    Column(N_("Key"), lambda r: r.key.name, sort=lambda r: (not r.general, r.key.name.casefold())),
    Column(N_("Lots"), lambda r: str(r.lot_count), sort=lambda r: r.lot_count, numeric=True),
    Column(N_("Total"), lambda r: fmt_int(r.key.total), sort=lambda r: r.key.total, numeric=True),
)

WEIGHT_COLUMNS = (
    Column(N_("Lot"), lambda r: r.lot.number, sort=lambda r: natural_key(r.lot.number)),
    Column(N_("Type"), lambda r: lot_type_label(r.lot.type)),
    Column(N_("Weight"), lambda r: fmt_int(r.weight), sort=lambda r: r.weight, numeric=True),
    Column(
        N_("Share"), lambda r: fmt_ratio(r.weight, r.total), sort=lambda r: r.weight, numeric=True
    ),
)


def key_rows(registry: Registry) -> list[KeyRow]:
    lot_ids = {lot.id for lot in registry.lots}
    keys = [general_key(registry), *registry.keys]
    return [KeyRow(k, sum(1 for i, w in k.weights.items() if w and i in lot_ids)) for k in keys]


class KeysPage(Page):
    collections = frozenset({"lots", "keys"})
    title_msgid = N_("Distribution keys")

    def __init__(self, ops: Ops, parent: QWidget | None = None) -> None:
        super().__init__(ops, parent)
        self.keys = RecordTable(KEY_COLUMNS, stretch=0, fit=True)
        self.keys.setObjectName("keysTable")
        self.keys.activated.connect(lambda _index: self.edit_key())
        self.keys.delete_shortcut.activated.connect(self.delete_key)
        self.weights = RecordTable(WEIGHT_COLUMNS, fit=True)
        self.weights.setObjectName("weightsTable")
        self.add_button = self.button(_("&Add key…"), self.add_key)
        self.edit_button = self.button(_("&Edit…"), self.edit_key)
        self.delete_button = self.button(_("&Delete"), self.delete_key, _("Delete (Del)"))
        self.note = QLabel()
        self.note.setObjectName("hint")
        self.note.setWordWrap(True)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 12, 0)
        left_layout.addLayout(self.toolbar(self.add_button, self.edit_button, self.delete_button))
        left_layout.addWidget(self.keys, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(12, 0, 0, 0)
        right_layout.addWidget(self.note)
        right_layout.addWidget(self.weights, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([480, 560])
        self.layout_.addWidget(splitter, 1)
        self.keys.selectionModel().selectionChanged.connect(lambda *_: self._show_key())
        self._show_key()

    def show_state(self, state: RegistryState) -> None:
        super().show_state(state)
        self.keys.set_rows(key_rows(state.registry))
        if self.keys.current_id() is None:
            self.keys.select_id(GENERAL_KEY_ID)
        self._show_key()

    def select_record(self, record_id: str) -> bool:
        return self.keys.select_id(record_id)

    def selected_key(self) -> KeyRow | None:
        return self.keys.current_row()

    def _show_key(self) -> None:
        row = self.selected_key()
        self.add_button.setEnabled(self.editable)
        self.edit_button.setEnabled(row is not None and not row.general and self.editable)
        self.delete_button.setEnabled(row is not None and not row.general and self.editable)
        if row is None or self.state is None:
            self.note.setText(_("Select a key to see its weights."))
            self.weights.set_rows([])
            return
        if row.general:
            self.note.setText(
                _(
                    "General charges are shared by the quotas of the deed. Change the quotas on "
                    "the Lots page."
                )
            )
        else:
            self.note.setText(
                _("Key “{name}”: lots without a weight do not share in it.").format(
                    name=row.key.name
                )
            )
        lots = {lot.id: lot for lot in self.state.registry.lots}
        total = row.key.total
        self.weights.set_rows(
            [WeightRow(lots[i], w, total) for i, w in row.key.weights.items() if i in lots and w]
        )

    # -- actions -----------------------------------------------------------------

    def add_key(self) -> None:
        if self.state is not None and self.editable:
            self.open_dialog(KeyDialog(self.state.registry.lots, parent=self), self._save_new)

    def _save_new(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, KeyDialog)
        name, weights = dialog.values()
        self.submit(dialog, lambda s: s.registry.add_key(name, weights))

    def edit_key(self) -> None:
        row = self.selected_key()
        if row is None or row.general or not self.editable:
            return
        assert self.state is not None
        self.open_dialog(KeyDialog(self.state.registry.lots, row.key, parent=self), self._save_edit)

    def _save_edit(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, KeyDialog) and dialog.key is not None
        key_id = dialog.key.id
        name, weights = dialog.values()
        self.submit(dialog, lambda s: s.registry.update_key(key_id, name=name, weights=weights))

    def delete_key(self) -> None:
        row = self.selected_key()
        if row is None or row.general or not self.editable:
            return
        message = _("Key {name} deleted. Undo with Ctrl+Z.").format(name=row.key.name)
        key_id = row.key.id
        self.ops.change(
            lambda s: s.registry.delete_key(key_id), on_done=lambda _u: self.message.emit(message)
        )
