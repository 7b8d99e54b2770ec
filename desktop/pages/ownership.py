"""Who holds each lot: holders, their shares and rights, who votes.

DOMAIN §1: a lot may have several holders (spouses 50/50) or be split
between usufruct and bare ownership; one holder votes for the lot. The
shares are checked by the node (``holder_shares_not_100``...), and the
lot's problems are listed under its holders so the user sees what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.domain.registry import FULL_SHARE, Lot, Ownership, Registry, Right
from node.domain.validation import Problem
from node.i18n import N_, _, ngettext

from ..dialogs import HolderDialog
from ..labels import fmt_int, fmt_percent, lot_type_label, natural_key, right_label
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
    collections = frozenset({"lots", "persons", "ownerships"})
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
        self.change_button = self.button(_("&Change share…"), self.change_holder)
        self.voting_button = self.button(_("Make &voting holder"), self.make_voting)
        self.remove_button = self.button(_("&Remove holder"), self.remove_holder)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(12, 0, 0, 0)
        right_layout.addWidget(self.lot_title)
        right_layout.addLayout(
            self.toolbar(
                self.add_button, self.change_button, self.voting_button, self.remove_button
            )
        )
        right_layout.addWidget(self.holders, 1)
        right_layout.addWidget(self.summary)
        right_layout.addWidget(self.lot_problems)

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

    def _show_lot(self) -> None:
        lot = self.selected_lot()
        if lot is None or self.state is None:
            self.lot_title.setText(_("Select a lot to see who holds it."))
            self.holders.set_rows([])
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
        self.summary.setText(share_summary(holders) if holders else "")
        problems = lot_problems(self.state.problems, lot.id)
        self.lot_problems.setText("\n".join(f"⚠ {p.message}" for p in problems))
        self._update_buttons()

    def _update_buttons(self) -> None:
        lot_selected = self.selected_lot() is not None
        holding = self.selected_holding()
        self.add_button.setEnabled(lot_selected)
        self.change_button.setEnabled(holding is not None)
        self.remove_button.setEnabled(holding is not None)
        self.voting_button.setEnabled(holding is not None and not holding.voting)

    def select_record(self, record_id: str) -> bool:
        if self.lots.select_id(record_id):
            return True
        if self.state is None:
            return False
        holding = next((o for o in self.state.registry.ownerships if o.id == record_id), None)
        if holding is None or not self.lots.select_id(holding.lot_id):
            return False
        return self.holders.select_id(record_id)

    # -- actions ---------------------------------------------------------------------

    def add_holder(self) -> None:
        lot = self.selected_lot()
        if lot is None or self.state is None:
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
        if lot is None or holding is None or self.state is None:
            return
        dialog = HolderDialog(lot, self.state.registry.persons, holding, parent=self)
        self.open_dialog(dialog, self._save_holder)

    def _save_holder(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, HolderDialog)
        lot_id = dialog.lot.id
        person_id, share, right, voting = dialog.values()
        self.submit(dialog, lambda s: s.registry.set_owner(lot_id, person_id, share, right, voting))

    def make_voting(self) -> None:
        holding = self.selected_holding()
        if holding is None:
            return
        o = holding
        self.ops.change(
            lambda s: s.registry.set_owner(o.lot_id, o.person_id, o.share, o.right, voting=True)
        )

    def remove_holder(self) -> None:
        holding = self.selected_holding()
        if holding is None or self.state is None:
            return
        name = _person_name(self.state.registry, holding)
        message = _("{name} removed from the lot. Undo with Ctrl+Z.").format(name=name)
        self.ops.change(
            lambda s: s.registry.remove_owner(holding.id),
            on_done=lambda _u: self.message.emit(message),
        )


def _person_name(registry: Registry, ownership: Ownership) -> str:
    person = registry.person(ownership.person_id)
    return person.name if person else _("(deleted person)")
