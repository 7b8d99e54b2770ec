"""The lots of the building: number, type, floor, quota (DOMAIN §1)."""

from __future__ import annotations

from dataclasses import dataclass

from node.domain.registry import Lot, Registry
from node.i18n import N_, _

from ..dialogs import LotDialog
from ..labels import fmt_int, fmt_ratio, lot_type_label, natural_key
from ..ops import Ops
from ..qt import QWidget
from ..state import RegistryState
from ..table import Column, RecordTable
from ..widgets import RecordDialog
from .base import Page


@dataclass(frozen=True)
class LotRow:
    lot: Lot
    quota_total: int
    holders: str
    occupants: str
    has_problem: bool

    @property
    def id(self) -> str:
        return self.lot.id


def lot_rows(registry: Registry, problem_subjects: set[str]) -> list[LotRow]:
    names = {p.id: p.name for p in registry.persons}
    total = registry.association.quota_total if registry.association else 0
    occupants: dict[str, list[str]] = {}
    for occupant in registry.occupants:
        occupants.setdefault(occupant.lot_id, []).append(names.get(occupant.person_id, "?"))
    return [
        LotRow(
            lot,
            total,
            ", ".join(sorted(names.get(o.person_id, "?") for o in registry.holders(lot.id))),
            ", ".join(sorted(occupants.get(lot.id, ()))),
            lot.id in problem_subjects,
        )
        for lot in registry.lots
    ]


COLUMNS = (
    Column(N_("Number"), lambda r: r.lot.number, sort=lambda r: natural_key(r.lot.number)),
    Column(N_("Type"), lambda r: lot_type_label(r.lot.type)),
    Column(
        N_("Floor"),
        lambda r: "" if r.lot.floor is None else str(r.lot.floor),
        sort=lambda r: r.lot.floor,
        numeric=True,
    ),
    Column(N_("Quota"), lambda r: fmt_int(r.lot.quota), sort=lambda r: r.lot.quota, numeric=True),
    Column(
        N_("Share of total"),
        lambda r: fmt_ratio(r.lot.quota, r.quota_total),
        sort=lambda r: r.lot.quota,
        numeric=True,
    ),
    Column(
        N_("Owners"),
        lambda r: r.holders,
        warn=lambda r: r.has_problem,
        tooltip=lambda r: _("See the problems panel") if r.has_problem else "",
    ),
    Column(N_("Occupants"), lambda r: r.occupants),
)


class LotsPage(Page):
    collections = frozenset({"association", "lots", "persons", "ownerships", "occupants"})
    title_msgid = N_("Lots")

    def __init__(self, ops: Ops, parent: QWidget | None = None) -> None:
        super().__init__(ops, parent)
        self.table = RecordTable(COLUMNS)
        self.table.setObjectName("lotsTable")
        self.table.activated.connect(lambda _index: self.edit_lot())
        self.table.delete_shortcut.activated.connect(self.delete_lot)
        self.add_button = self.button(_("&Add lot…"), self.add_lot)
        self.edit_button = self.button(_("&Edit…"), self.edit_lot)
        self.delete_button = self.button(_("&Delete"), self.delete_lot, _("Delete (Del)"))
        self.owners_button = self.button(
            _("&Owners…"), self.show_owners, _("Edit who holds the selected lot")
        )
        search = self.search_field(self.table.proxy.setFilterFixedString)
        self.layout_.addLayout(
            self.toolbar(
                self.add_button,
                self.edit_button,
                self.delete_button,
                self.owners_button,
                search=search,
            )
        )
        self.layout_.addWidget(self.table, 1)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self._update_buttons()

    def _update_buttons(self) -> None:
        selected = self.table.current_id() is not None
        self.add_button.setEnabled(self.editable)
        for button in (self.edit_button, self.delete_button):
            button.setEnabled(selected and self.editable)
        self.owners_button.setEnabled(selected)

    def show_state(self, state: RegistryState) -> None:
        super().show_state(state)
        subjects = {s for p in state.problems for s in p.subjects}
        self.table.set_rows(lot_rows(state.registry, subjects))
        self._update_buttons()

    def select_record(self, record_id: str) -> bool:
        return self.table.select_id(record_id)

    def selected_lot(self) -> Lot | None:
        row = self.table.current_row()
        return row.lot if row else None

    # -- actions -----------------------------------------------------------------

    def add_lot(self) -> None:
        if self.editable:
            self.open_dialog(LotDialog(parent=self), self._save_new)

    def _save_new(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, LotDialog)
        v = dialog.values()
        self.submit(
            dialog,
            lambda s: s.registry.add_lot(v["number"], v["type"], v["quota"], v["floor"]),
        )

    def edit_lot(self) -> None:
        lot = self.selected_lot()
        if lot is not None and self.editable:
            self.open_dialog(LotDialog(lot, parent=self), self._save_edit)

    def _save_edit(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, LotDialog) and dialog.lot is not None
        lot_id, values = dialog.lot.id, dialog.values()
        self.submit(dialog, lambda s: s.registry.update_lot(lot_id, **values))

    def delete_lot(self) -> None:
        lot = self.selected_lot()
        if lot is None or not self.editable:
            return
        # No confirmation: the deletion is one undoable edit, and the status
        # bar says how to undo it.
        message = _("Lot {number} deleted. Undo with Ctrl+Z.").format(number=lot.number)
        self.ops.change(
            lambda s: s.registry.delete_lot(lot.id), on_done=lambda _u: self.message.emit(message)
        )

    def show_owners(self) -> None:
        lot = self.selected_lot()
        if lot is not None:
            self.navigate.emit("ownership", lot.id)
