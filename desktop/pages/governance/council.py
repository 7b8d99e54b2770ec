"""The council of co-owners (art. 3.90): whether this building must have
one, who sits on it today, and every mandate — added, changed, ended.

The page only collects input: the node refuses an overlapping mandate (one
seat per person at a time, one president at a time) or the syndic on the
council, and the page shows its reason in the dialog, which stays open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from node.domain.governance import CouncilMandate, CouncilRole
from node.domain.registry import Person, Registry, facts
from node.i18n import N_, _

from ...dialogs import chosen_person, person_choice
from ...labels import fmt_date, fmt_int, yes_no
from ...ops import Ops
from ...qt import QCheckBox, QComboBox, QLabel, QWidget
from ...table import Column, RecordTable
from ...widgets import ErrorLabel, RecordDialog
from ..accounts.base import date_edit, day_of, set_day
from ..base import empty_hint
from .base import GovernanceContext, GovernancePage, MeetingChoice, meeting_choice, role_label


@dataclass(frozen=True)
class MandateRow:
    mandate: CouncilMandate
    name: str
    meeting: str  # the meeting that decided it, as named here
    running: bool  # sitting today

    @property
    def id(self) -> str:
        return self.mandate.id


def mandate_rows(registry: Registry, meeting_label: Any, today: date) -> list[MandateRow]:
    names = {p.id: p.name for p in registry.persons}
    return [
        MandateRow(
            m,
            names.get(m.person_id, m.person_id),
            meeting_label(m.meeting_id),
            m.running_on(today),
        )
        for m in registry.council
    ]


def _ended(row: MandateRow) -> bool:
    return not row.running


COLUMNS = (
    Column(N_("Person"), lambda r: r.name, muted=_ended),
    Column(N_("Role"), lambda r: role_label(r.mandate.role), muted=_ended),
    Column(N_("From"), lambda r: fmt_date(r.mandate.start), sort=lambda r: r.mandate.start),
    Column(
        N_("Until"),
        lambda r: fmt_date(r.mandate.until) or "—",
        sort=lambda r: r.mandate.until,
        tooltip=lambda r: "" if r.mandate.until else _("Until further notice"),
    ),
    Column(N_("Sitting today"), lambda r: yes_no(r.running), muted=_ended),
    Column(N_("Decided by"), lambda r: r.meeting, muted=_ended),
)


class CouncilPage(GovernancePage):
    title_msgid = N_("Council")

    def __init__(self, ops: Ops, context: GovernanceContext, parent: QWidget | None = None) -> None:
        super().__init__(ops, context, parent)
        self.status = empty_hint("")
        self.status.setObjectName("councilStatus")
        self.sitting = QLabel()
        self.sitting.setObjectName("councilSitting")
        self.sitting.setWordWrap(True)
        self.missing = ErrorLabel()  # mandatory, and nobody sits on it
        self.add_button = self.button(_("&Add a mandate…"), self.add_mandate)
        self.edit_button = self.button(_("&Edit…"), self.edit_mandate)
        self.end_button = self.button(
            _("E&nd the mandate…"), self.end_mandate, _("Record the mandate's last day")
        )
        self.delete_button = self.button(
            _("&Delete"),
            self.delete_mandate,
            _("Delete a mandate recorded by mistake (an ended mandate is history: end it)"),
        )
        self.table = RecordTable(COLUMNS, fit=True)
        self.table.setObjectName("councilTable")
        self.table.activated.connect(lambda _index: self.edit_mandate())
        self.table.delete_shortcut.activated.connect(self.delete_mandate)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.empty = empty_hint(_("No council mandate is recorded."))
        self.layout_.addWidget(self.status)
        self.layout_.addWidget(self.sitting)
        self.layout_.addWidget(self.missing)
        self.layout_.addLayout(
            self.toolbar(self.add_button, self.edit_button, self.end_button, self.delete_button)
        )
        self.layout_.addWidget(self.error)
        self.layout_.addWidget(self.empty)
        self.layout_.addWidget(self.table, 1)
        self._update_buttons()

    # -- showing ---------------------------------------------------------------------------

    def redraw(self) -> None:
        if self.state is None:
            return
        registry, today = self.state.registry, date.today()
        label = self.data.meeting_label if self.data else (lambda m: m)
        rows = mandate_rows(registry, label, today)
        self.table.set_rows(rows)
        self.empty.setVisible(not rows)
        f = facts(registry)
        if f.council_mandatory:
            text = _(
                "The council is mandatory: {legal} lots count for the law (cellars, garages and "
                "parkings excluded), and from {n} lots a council is required (art. 3.90 §1)."
            )
        else:
            text = _(
                "The council is not mandatory: {legal} lots count for the law (cellars, garages "
                "and parkings excluded), fewer than {n} (art. 3.90 §1). The assembly may still "
                "appoint one."
            )
        self.status.setText(text.format(legal=fmt_int(f.legal_lot_count), n=f.council_threshold))
        sitting = sorted(
            (r for r in rows if r.running),
            key=lambda r: (r.mandate.role is not CouncilRole.PRESIDENT, r.name.casefold()),
        )
        if sitting:
            self.sitting.setText(
                _("Sitting today: {names}.").format(
                    names=", ".join(f"{r.name} ({role_label(r.mandate.role)})" for r in sitting)
                )
            )
        else:
            self.sitting.setText(_("Nobody sits on the council today."))
        self.missing.show_message(
            _(
                "The law requires a council here and nobody sits on it: put its election on the "
                "next assembly's agenda."
            )
            if f.council_mandatory and not sitting
            else ""
        )
        self._update_buttons()

    def _update_buttons(self) -> None:
        selected = self.selected_mandate() is not None
        self.add_button.setEnabled(self.editable)
        for button in (self.edit_button, self.end_button, self.delete_button):
            button.setEnabled(selected and self.editable)

    def select_record(self, record_id: str) -> bool:
        return self.table.select_id(record_id)

    def selected_mandate(self) -> CouncilMandate | None:
        row = self.table.current_row()
        return row.mandate if row else None

    def _persons(self) -> tuple[Person, ...]:
        return self.state.registry.persons if self.state else ()

    def _meetings(self) -> tuple[MeetingChoice, ...]:
        return self.data.meetings if self.data else ()

    def _name(self, mandate: CouncilMandate) -> str:
        person = self.state.registry.person(mandate.person_id) if self.state else None
        return person.name if person else mandate.person_id

    # -- actions ------------------------------------------------------------------------------

    def add_mandate(self) -> None:
        if self.editable:
            dialog = MandateDialog(self._persons(), self._meetings(), parent=self)
            self.open_dialog(dialog, self._save_new)

    def _save_new(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, MandateDialog)
        v = dialog.values()
        name = dialog.person.currentText().strip()
        self.save(
            dialog,
            lambda s: s.governance.add_council_member(
                v["person_id"], v["start"], v["role"], v["until"], v["meeting_id"]
            ),
            _("Council mandate of {name} recorded. Undo with Ctrl+Z.").format(name=name),
        )

    def edit_mandate(self) -> None:
        mandate = self.selected_mandate()
        if mandate is not None and self.editable:
            dialog = MandateDialog(self._persons(), self._meetings(), mandate, parent=self)
            self.open_dialog(dialog, self._save_edit)

    def _save_edit(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, MandateDialog) and dialog.mandate is not None
        mandate_id, values = dialog.mandate.id, dialog.values()
        self.save(
            dialog,
            lambda s: s.governance.update_council_member(mandate_id, **values),
            _("Council mandate changed. Undo with Ctrl+Z."),
        )

    def end_mandate(self) -> None:
        mandate = self.selected_mandate()
        if mandate is not None and self.editable:
            dialog = EndMandateDialog(mandate, self._name(mandate), parent=self)
            self.open_dialog(dialog, self._save_end)

    def _save_end(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, EndMandateDialog)
        mandate_id, until = dialog.mandate.id, day_of(dialog.until)
        self.save(
            dialog,
            lambda s: s.governance.end_council_member(mandate_id, until),
            _("The mandate of {name} ends on {until}. Undo with Ctrl+Z.").format(
                name=dialog.name, until=fmt_date(until)
            ),
        )

    def delete_mandate(self) -> None:
        mandate = self.selected_mandate()
        if mandate is None or not self.editable:
            return
        mandate_id = mandate.id
        self.save(
            None,
            lambda s: s.governance.remove_council_member(mandate_id),
            _("Council mandate of {name} deleted. Undo with Ctrl+Z.").format(
                name=self._name(mandate)
            ),
        )


class MandateDialog(RecordDialog):
    """A seat on the council: who, as what, from when until when, decided by
    which meeting."""

    def __init__(
        self,
        persons: tuple[Person, ...],
        meetings: tuple[MeetingChoice, ...],
        mandate: CouncilMandate | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            _("Change a council mandate") if mandate else _("New council mandate"), parent
        )
        self.setObjectName("mandateDialog")
        self.mandate = mandate
        self.person = person_choice(persons)
        if mandate is not None:
            self.person.setCurrentIndex(self.person.findData(mandate.person_id))
        self.role = QComboBox()
        for role in (CouncilRole.MEMBER, CouncilRole.PRESIDENT):
            self.role.addItem(role_label(role), role.value)
        self.role.setCurrentIndex(
            self.role.findData((mandate.role if mandate else CouncilRole.MEMBER).value)
        )
        start = mandate.start if mandate else date.today()
        self.start = date_edit(start)
        self.ends = QCheckBox(_("The mandate ends on"))
        self.ends.setChecked(bool(mandate and mandate.until))
        until = mandate.until if mandate and mandate.until else start + timedelta(days=364)
        self.until = date_edit(until)
        self.until.setEnabled(self.ends.isChecked())
        self.ends.toggled.connect(self.until.setEnabled)
        self.meeting = meeting_choice(meetings, mandate.meeting_id if mandate else "")
        self.form.addRow(_("&Person"), self.person)
        self.form.addRow(_("&Role"), self.role)
        self.form.addRow(_("&From"), self.start)
        self.form.addRow(self.ends, self.until)
        self.form.addRow(_("Decided by the &meeting"), self.meeting)
        hint = empty_hint(
            _(
                "Members are appointed by the assembly (absolute majority). A person holds one "
                "seat at a time, the council has one president at a time, and the syndic never "
                "sits on it (art. 3.90)."
            )
        )
        self.body.insertWidget(1, hint)

    def values(self) -> dict[str, Any]:
        return {
            "person_id": chosen_person(self.person),
            "role": CouncilRole(self.role.currentData()),
            "start": day_of(self.start),
            "until": day_of(self.until) if self.ends.isChecked() else None,
            "meeting_id": self.meeting.currentData() or "",
        }


class EndMandateDialog(RecordDialog):
    """The last day of a mandate (it stays in the list: it is history)."""

    def __init__(self, mandate: CouncilMandate, name: str, parent: QWidget | None = None) -> None:
        super().__init__(_("End the mandate of {name}").format(name=name), parent)
        self.setObjectName("endMandateDialog")
        self.mandate = mandate
        self.name = name
        self.until = date_edit()
        set_day(self.until, mandate.until or max(date.today(), mandate.start))
        self.form.addRow(_("&Last day of the mandate"), self.until)
        self.save_button.setText(_("End the mandate"))
