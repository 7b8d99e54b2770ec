"""Who holds each lot, and who lives in it.

DOMAIN §1: a lot may have several holders (spouses 50/50) or be split
between usufruct and bare ownership; one holder votes for the lot. The
shares are checked by the node (``holder_shares_not_100``...), and the
lot's problems are listed under its holders so the user sees what to fix.

Under the holders, the lot's occupants (tenants and others living in or
using the lot, who may be no holder at all): who, and since when.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.domain.registry import FULL_SHARE, Lot, Occupant, Ownership, Registry, Right
from node.domain.validation import Problem
from node.i18n import N_, _, ngettext
from node.services.registry import Change
from node.session import Session
from node.sync import service

from ..dialogs import HolderDialog, OccupantDialog
from ..labels import fmt_date, fmt_int, fmt_percent, lot_type_label, natural_key, right_label
from ..ops import Ops
from ..qt import QLabel, QSplitter, Qt, QVBoxLayout, QWidget
from ..state import RegistryState
from ..table import Column, RecordTable
from ..widgets import RecordDialog
from .base import Page


@dataclass(frozen=True)
class OwnedLotRow:
    lot: Lot
    holder_count: int
    problem_count: int

    @property
    def id(self) -> str:
        return self.lot.id


@dataclass(frozen=True)
class HolderRow:
    ownership: Ownership
    name: str

    @property
    def id(self) -> str:
        return self.ownership.id


@dataclass(frozen=True)
class OccupantRow:
    occupant: Occupant
    name: str

    @property
    def id(self) -> str:
        return self.occupant.id


LOT_COLUMNS = (
    Column(N_("Lot"), lambda r: r.lot.number, sort=lambda r: natural_key(r.lot.number)),
    Column(N_("Type"), lambda r: lot_type_label(r.lot.type)),
    Column(N_("Quota"), lambda r: fmt_int(r.lot.quota), sort=lambda r: r.lot.quota, numeric=True),
    Column(
        N_("Holders"), lambda r: str(r.holder_count), sort=lambda r: r.holder_count, numeric=True
    ),
    Column(
        N_("Status"),
        lambda r: (
            ngettext("{n} problem", "{n} problems", r.problem_count).format(n=r.problem_count)
            if r.problem_count
            else _("OK")
        ),
        sort=lambda r: r.problem_count,
        warn=lambda r: r.problem_count > 0,
    ),
)

HOLDER_COLUMNS = (
    Column(N_("Holder"), lambda r: r.name),
    Column(N_("Right"), lambda r: right_label(r.ownership.right)),
    Column(
        N_("Share"),
        lambda r: fmt_percent(r.ownership.share),
        sort=lambda r: r.ownership.share,
        numeric=True,
    ),
    Column(
        N_("Votes"), lambda r: "✓" if r.ownership.voting else "", sort=lambda r: r.ownership.voting
    ),
)


OCCUPANT_COLUMNS = (
    Column(N_("Occupant"), lambda r: r.name),
    Column(N_("Since"), lambda r: fmt_date(r.occupant.since), sort=lambda r: r.occupant.since),
)


def lot_problems(problems: tuple[Problem, ...], lot_id: str) -> list[Problem]:
    return [p for p in problems if lot_id in p.subjects]


def share_summary(holders: list[Ownership]) -> str:
    """The sums the law needs to reach 100 %, as the user reads them."""
    totals = {right: sum(o.share for o in holders if o.right is right) for right in Right}
    if totals[Right.USUFRUCT] or totals[Right.BARE]:
        return _("Full ownership + usufruct: {a} · Full ownership + bare ownership: {b}").format(
            a=fmt_percent(totals[Right.FULL] + totals[Right.USUFRUCT]),
            b=fmt_percent(totals[Right.FULL] + totals[Right.BARE]),
        )
    return _("Total of the shares: {total}").format(total=fmt_percent(totals[Right.FULL]))


class OwnershipPage(Page):
    collections = frozenset({"lots", "persons", "ownerships", "occupants"})
    title_msgid = N_("Ownership")

    def __init__(self, ops: Ops, parent: QWidget | None = None) -> None:
        super().__init__(ops, parent)
        self.lots = RecordTable(LOT_COLUMNS, fit=True)
        self.lots.setObjectName("ownershipLots")
        self.holders = RecordTable(HOLDER_COLUMNS, stretch=0, fit=True)
        self.holders.setObjectName("holdersTable")
        self.holders.activated.connect(lambda _index: self.change_holder())
        self.holders.delete_shortcut.activated.connect(self.remove_holder)

        self.lot_title = QLabel()
        self.lot_title.setObjectName("sectionTitle")
        self.summary = QLabel()
        self.summary.setObjectName("shareSummary")
        self.lot_problems = QLabel()
        self.lot_problems.setObjectName("lotProblems")
        self.lot_problems.setWordWrap(True)
        self.add_button = self.button(_("&Add holder…"), self.add_holder)
        self.change_button = self.button(
            _("&Change…"), self.change_holder, _("Change the right, share or vote")
        )
        self.voting_button = self.button(_("Make &voting holder"), self.make_voting)
        self.remove_button = self.button(_("&Remove holder"), self.remove_holder)

        holders_box = QWidget()
        holders_layout = QVBoxLayout(holders_box)
        holders_layout.setContentsMargins(0, 0, 0, 0)
        holders_layout.addWidget(self.lot_title)
        holders_layout.addLayout(
            self.toolbar(
                self.add_button, self.change_button, self.voting_button, self.remove_button
            )
        )
        holders_layout.addWidget(self.holders, 1)
        holders_layout.addWidget(self.summary)
        holders_layout.addWidget(self.lot_problems)

        self.occupants = RecordTable(OCCUPANT_COLUMNS, stretch=0, fit=True)
        self.occupants.setObjectName("occupantsTable")
        self.occupants.delete_shortcut.activated.connect(self.remove_occupant)
        self.occupants_title = QLabel(_("Occupants"))
        self.occupants_title.setObjectName("sectionTitle")
        self.occupants_hint = QLabel(
            _("Tenants and others who live in or use the lot; they need not be holders.")
        )
        self.occupants_hint.setObjectName("hint")
        self.occupants_hint.setWordWrap(True)
        self.add_occupant_button = self.button(_("Add occ&upant…"), self.add_occupant)
        self.remove_occupant_button = self.button(
            _("Remove occupa&nt"), self.remove_occupant, _("Remove the selected occupant (Del)")
        )
        occupants_box = QWidget()
        occupants_layout = QVBoxLayout(occupants_box)
        occupants_layout.setContentsMargins(0, 8, 0, 0)
        occupants_layout.addWidget(self.occupants_title)
        occupants_layout.addWidget(self.occupants_hint)
        occupants_layout.addLayout(
            self.toolbar(self.add_occupant_button, self.remove_occupant_button)
        )
        occupants_layout.addWidget(self.occupants, 1)

        right = QSplitter(Qt.Orientation.Vertical)
        right.setContentsMargins(12, 0, 0, 0)
        right.addWidget(holders_box)
        right.addWidget(occupants_box)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        right.setChildrenCollapsible(False)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.lots)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([460, 600])
        self.layout_.addWidget(splitter, 1)
        self.lots.selectionModel().selectionChanged.connect(lambda *_: self._show_lot())
        self.holders.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.occupants.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self._show_lot()

    # -- showing ---------------------------------------------------------------

    def show_state(self, state: RegistryState) -> None:
        super().show_state(state)
        registry = state.registry
        rows = [
            OwnedLotRow(
                lot, len(registry.holders(lot.id)), len(lot_problems(state.problems, lot.id))
            )
            for lot in registry.lots
        ]
        self.lots.set_rows(rows)
        if self.lots.current_id() is None and rows:
            self.lots.selectRow(0)
        self._show_lot()

    def selected_lot(self) -> Lot | None:
        row = self.lots.current_row()
        return row.lot if row else None

    def selected_holding(self) -> Ownership | None:
        row = self.holders.current_row()
        return row.ownership if row else None

    def selected_occupant(self) -> Occupant | None:
        row = self.occupants.current_row()
        return row.occupant if row else None

    def _show_lot(self) -> None:
        lot = self.selected_lot()
        if lot is None or self.state is None:
            self.lot_title.setText(_("Select a lot to see who holds it."))
            self.holders.set_rows([])
            self.occupants.set_rows([])
            self.summary.clear()
            self.lot_problems.clear()
            self._update_buttons()
            return
        registry = self.state.registry
        self.lot_title.setText(
            _("Lot {number} · {type} · quota {quota}").format(
                number=lot.number, type=lot_type_label(lot.type), quota=fmt_int(lot.quota)
            )
        )
        holders = list(registry.holders(lot.id))
        self.holders.set_rows([HolderRow(o, _person_name(registry, o)) for o in holders])
        self.occupants.set_rows(
            [
                OccupantRow(o, _person_name(registry, o))
                for o in registry.occupants
                if o.lot_id == lot.id
            ]
        )
        self.summary.setText(share_summary(holders) if holders else "")
        problems = lot_problems(self.state.problems, lot.id)
        self.lot_problems.setText("\n".join(f"⚠ {p.message}" for p in problems))
        self._update_buttons()

    def _update_buttons(self) -> None:
        lot_selected = self.selected_lot() is not None and self.editable
        holding = self.selected_holding() if self.editable else None
        self.add_button.setEnabled(lot_selected)
        self.change_button.setEnabled(holding is not None)
        self.remove_button.setEnabled(holding is not None)
        self.voting_button.setEnabled(holding is not None and not holding.voting)
        self.add_occupant_button.setEnabled(lot_selected)
        self.remove_occupant_button.setEnabled(
            self.editable and self.selected_occupant() is not None
        )

    def select_record(self, record_id: str) -> bool:
        if self.lots.select_id(record_id):
            return True
        if self.state is None:
            return False
        registry = self.state.registry
        holding = next((o for o in registry.ownerships if o.id == record_id), None)
        if holding is not None:
            return self.lots.select_id(holding.lot_id) and self.holders.select_id(record_id)
        occupant = next((o for o in registry.occupants if o.id == record_id), None)
        if occupant is not None:
            return self.lots.select_id(occupant.lot_id) and self.occupants.select_id(record_id)
        return False

    # -- actions ---------------------------------------------------------------------

    def add_holder(self) -> None:
        lot = self.selected_lot()
        if lot is None or self.state is None or not self.editable:
            return
        holders = self.state.registry.holders(lot.id)
        held = sum(o.share for o in holders if o.right is Right.FULL)
        dialog = HolderDialog(
            lot,
            self.state.registry.persons,
            suggested_share=FULL_SHARE - held if 0 < held < FULL_SHARE else FULL_SHARE,
            suggested_voting=not any(o.voting for o in holders),
            parent=self,
        )
        self.open_dialog(dialog, self._save_holder)

    def change_holder(self) -> None:
        lot, holding = self.selected_lot(), self.selected_holding()
        if lot is None or holding is None or self.state is None or not self.editable:
            return
        dialog = HolderDialog(lot, self.state.registry.persons, holding, parent=self)
        self.open_dialog(dialog, self._save_holder)

    def _save_holder(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, HolderDialog)
        lot_id = dialog.lot.id
        person_id, share, right, voting = dialog.values()
        if dialog.holding is None:
            self.submit(
                dialog, lambda s: s.registry.add_owner(lot_id, person_id, share, right, voting)
            )
            return
        holding_id = dialog.holding.id
        self.submit(
            dialog,
            lambda s: s.registry.update_holding(
                holding_id, share=share, right=right, voting=voting
            ),
        )

    def make_voting(self) -> None:
        holding = self.selected_holding()
        if holding is None or not self.editable:
            return
        holding_id = holding.id
        self.ops.change(lambda s: s.registry.update_holding(holding_id, voting=True))

    def remove_holder(self) -> None:
        holding = self.selected_holding()
        if holding is None or self.state is None or not self.editable:
            return
        name = _person_name(self.state.registry, holding)
        message = _("{name} removed from the lot. Undo with Ctrl+Z.").format(name=name)
        left: list[str] = []

        def remove(s: Session) -> Change:
            change = s.registry.remove_owner(holding.id)
            left.extend(service.devices_left_behind(s, holding.person_id))
            return change

        self.ops.change(
            remove,
            on_done=lambda _u: self.message.emit(
                " ".join([message, left_behind_message(name, len(left))]) if left else message
            ),
        )

    def add_occupant(self) -> None:
        lot = self.selected_lot()
        if lot is None or self.state is None or not self.editable:
            return
        dialog = OccupantDialog(lot, self.state.registry.persons, parent=self)
        self.open_dialog(dialog, self._save_occupant)

    def _save_occupant(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, OccupantDialog)
        lot_id = dialog.lot.id
        person_id, since = dialog.values()
        self.submit(dialog, lambda s: s.registry.add_occupant(lot_id, person_id, since))

    def remove_occupant(self) -> None:
        occupant, lot = self.selected_occupant(), self.selected_lot()
        if occupant is None or lot is None or self.state is None or not self.editable:
            return
        message = _("{name} is no longer an occupant of lot {number}. Undo with Ctrl+Z.").format(
            name=_person_name(self.state.registry, occupant), number=lot.number
        )
        occupant_id = occupant.id
        self.ops.change(
            lambda s: s.registry.remove_occupant(occupant_id),
            on_done=lambda _u: self.message.emit(message),
        )


def left_behind_message(name: str, count: int) -> str:
    """Found by hand: after a sale the seller's devices kept receiving the
    building's news and nothing said so."""
    return ngettext(
        "{name} holds no lot any more, but {n} device of theirs still receives the "
        "building's directory, meetings and news: remove it on the Devices page.",
        "{name} holds no lot any more, but {n} devices of theirs still receive the "
        "building's directory, meetings and news: remove them on the Devices page.",
        count,
    ).format(name=name, n=count)


def _person_name(registry: Registry, record: Ownership | Occupant) -> str:
    person = registry.person(record.person_id)
    return person.name if person else _("(deleted person)")
