"""The auditor of accounts (commissaire aux comptes, art. 3.91): the one the
assembly appointed for each fiscal year — a person of the registry or
someone outside it, owner or not — and never the syndic (the node refuses
it; the page shows why)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from node.domain.accounting.ledger import fiscal_year_of
from node.domain.governance import Auditor
from node.domain.registry import Person, Registry
from node.i18n import N_, _

from ...dialogs import chosen_person, person_choice
from ...labels import yes_no
from ...ops import Ops
from ...qt import QButtonGroup, QComboBox, QLineEdit, QRadioButton, QSpinBox, Qt, QWidget
from ...table import Column, RecordTable
from ...widgets import RecordDialog
from ..base import empty_hint
from .base import GovernanceContext, GovernancePage, MeetingChoice, meeting_choice


@dataclass(frozen=True)
class AuditorRow:
    auditor: Auditor
    name: str
    meeting: str

    @property
    def id(self) -> str:
        return str(self.auditor.year)


def auditor_rows(registry: Registry, meeting_label: Any) -> list[AuditorRow]:
    names = {p.id: p.name for p in registry.persons}
    return [
        AuditorRow(
            a,
            names.get(a.person_id, a.person_id) if a.person_id else a.name,
            meeting_label(a.meeting_id),
        )
        for a in registry.auditors
    ]


COLUMNS = (
    Column(N_("Fiscal year"), lambda r: str(r.auditor.year), sort=lambda r: r.auditor.year),
    Column(N_("Auditor of accounts"), lambda r: r.name),
    Column(
        N_("Kept in the registry"),
        lambda r: _("Person of the registry") if r.auditor.person_id else _("Outside name"),
    ),
    Column(N_("Owner"), lambda r: yes_no(r.auditor.owner)),
    Column(N_("Decided by"), lambda r: r.meeting),
)


def current_fiscal_year(registry: Registry, today: date) -> int:
    start = registry.association.fiscal_year_start if registry.association else "01-01"
    return fiscal_year_of(today, start).label


class AuditorPage(GovernancePage):
    title_msgid = N_("Auditor of accounts")

    def __init__(self, ops: Ops, context: GovernanceContext, parent: QWidget | None = None) -> None:
        super().__init__(ops, context, parent)
        self.layout_.addWidget(
            empty_hint(
                _(
                    "Every year the assembly appoints an auditor of accounts, an owner or not, "
                    "who checks the syndic's accounts; the syndic can never be the auditor "
                    "(art. 3.91)."
                )
            )
        )
        self.status = empty_hint("")
        self.status.setObjectName("auditorStatus")
        self.set_button = self.button(_("&Set the auditor…"), self.set_auditor)
        self.remove_button = self.button(
            _("&Remove"), self.remove_auditor, _("Remove an auditor recorded by mistake")
        )
        self.table = RecordTable(COLUMNS, fit=True)
        self.table.setObjectName("auditorsTable")
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)  # the latest year first
        self.table.activated.connect(lambda _index: self.set_auditor())
        self.table.delete_shortcut.activated.connect(self.remove_auditor)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.empty = empty_hint(_("No auditor of accounts is recorded."))
        self.layout_.addWidget(self.status)
        self.layout_.addLayout(self.toolbar(self.set_button, self.remove_button))
        self.layout_.addWidget(self.error)
        self.layout_.addWidget(self.empty)
        self.layout_.addWidget(self.table, 1)
        self._update_buttons()

    def redraw(self) -> None:
        if self.state is None:
            return
        registry = self.state.registry
        label = self.data.meeting_label if self.data else (lambda m: m)
        rows = auditor_rows(registry, label)
        self.table.set_rows(rows)
        self.empty.setVisible(not rows)
        year = current_fiscal_year(registry, date.today())
        current = next((r for r in rows if r.auditor.year == year), None)
        if current is None:
            self.status.setText(
                _("No auditor of accounts is recorded for the fiscal year {year}.").format(
                    year=year
                )
            )
        else:
            self.status.setText(
                _("Auditor of accounts for the fiscal year {year}: {name}.").format(
                    year=year, name=current.name
                )
            )
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.set_button.setEnabled(self.editable)
        self.remove_button.setEnabled(self.editable and self.selected_auditor() is not None)

    def select_record(self, record_id: str) -> bool:
        return self.table.select_id(record_id)

    def selected_auditor(self) -> Auditor | None:
        row = self.table.current_row()
        return row.auditor if row else None

    # -- actions -------------------------------------------------------------------------------

    def set_auditor(self) -> None:
        if not self.editable or self.state is None:
            return
        registry = self.state.registry
        chosen = self.selected_auditor()
        year = chosen.year if chosen else current_fiscal_year(registry, date.today())
        meetings = self.data.meetings if self.data else ()
        owners = frozenset(o.person_id for o in registry.ownerships)
        dialog = AuditorDialog(
            year, registry.persons, meetings, registry.auditor(year), owners, parent=self
        )
        self.open_dialog(dialog, self._save)

    def _save(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, AuditorDialog)
        v = dialog.values()
        year = v.pop("year")
        self.save(
            dialog,
            lambda s: s.governance.set_auditor(year, **v),
            _("Auditor of accounts for {year} recorded. Undo with Ctrl+Z.").format(year=year),
        )

    def remove_auditor(self) -> None:
        auditor = self.selected_auditor()
        if auditor is None or not self.editable:
            return
        year = auditor.year
        self.save(
            None,
            lambda s: s.governance.remove_auditor(year),
            _("Auditor of accounts for {year} removed. Undo with Ctrl+Z.").format(year=year),
        )


OWNER_CHOICES = (
    (None, N_("As the registry says (holds a lot or not)")),
    (True, N_("An owner")),
    (False, N_("Not an owner")),
)


class AuditorDialog(RecordDialog):
    """The auditor appointed for one fiscal year (replacing an earlier one)."""

    def __init__(
        self,
        year: int,
        persons: tuple[Person, ...],
        meetings: tuple[MeetingChoice, ...],
        auditor: Auditor | None = None,
        owners: frozenset[str] = frozenset(),
        parent: QWidget | None = None,
    ) -> None:
        """``owners``: the persons holding a lot, to tell whether a recorded
        auditor's "owner" is the registry's answer or was set by hand."""
        super().__init__(_("Auditor of accounts"), parent)
        self.setObjectName("auditorDialog")
        self.year = QSpinBox()
        self.year.setRange(1900, 9999)
        self.year.setGroupSeparatorShown(False)
        self.year.setValue(year)
        self.in_registry = QRadioButton(_("A person of the &registry"))
        self.outside = QRadioButton(_("Someone &outside the registry"))
        group = QButtonGroup(self)
        group.addButton(self.in_registry)
        group.addButton(self.outside)
        self.person = person_choice(persons)
        self.name = QLineEdit()
        self.name.setPlaceholderText(_("e.g. Fiduciaire Dupont"))
        self.owner = QComboBox()
        for value, label in OWNER_CHOICES:
            self.owner.addItem(_(label), value)
        outside = auditor is not None and not auditor.person_id
        self.outside.setChecked(outside)
        self.in_registry.setChecked(not outside)
        if auditor is not None:
            if auditor.person_id:
                self.person.setCurrentIndex(self.person.findData(auditor.person_id))
            self.name.setText(auditor.name)
            by_registry = bool(auditor.person_id) and auditor.person_id in owners
            if auditor.owner != by_registry:  # set by hand: keep it
                self.owner.setCurrentIndex(self.owner.findData(auditor.owner))
        self.meeting = meeting_choice(meetings, auditor.meeting_id if auditor else "")
        self.in_registry.toggled.connect(self._who_changed)
        self.form.addRow(_("&Fiscal year"), self.year)
        self.form.addRow(self.in_registry, self.person)
        self.form.addRow(self.outside, self.name)
        self.form.addRow(_("O&wner"), self.owner)
        self.form.addRow(_("Decided by the &meeting"), self.meeting)
        self._who_changed()

    def _who_changed(self) -> None:
        registry = self.in_registry.isChecked()
        self.person.setEnabled(registry)
        self.name.setEnabled(not registry)

    def choose_outside(self, name: str) -> None:
        self.outside.setChecked(True)
        self.name.setText(name)

    def values(self) -> dict[str, Any]:
        registry = self.in_registry.isChecked()
        return {
            "year": self.year.value(),
            "person_id": chosen_person(self.person) if registry else "",
            "name": "" if registry else self.name.text().strip(),
            "owner": self.owner.currentData(),
            "meeting_id": self.meeting.currentData() or "",
        }
