"""Persons: owners, usufructuaries, tenants, with their contact details.

Contact details are personal data (GDPR): they live only in the encrypted
registry document and are shown here to management only.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.domain.registry import Person, Registry
from node.i18n import N_, _

from ..dialogs import PersonDialog
from ..labels import language_label, natural_key, yes_no
from ..ops import Ops
from ..qt import QWidget
from ..state import RegistryState
from ..table import Column, RecordTable
from ..widgets import RecordDialog
from .base import Page


@dataclass(frozen=True)
class PersonRow:
    person: Person
    lots: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.person.id


def person_rows(registry: Registry) -> list[PersonRow]:
    numbers = {lot.id: lot.number for lot in registry.lots}
    held: dict[str, set[str]] = {}
    for o in registry.ownerships:
        if o.lot_id in numbers:
            held.setdefault(o.person_id, set()).add(numbers[o.lot_id])
    return [
        PersonRow(p, tuple(sorted(held.get(p.id, ()), key=natural_key))) for p in registry.persons
    ]


COLUMNS = (
    Column(N_("Name"), lambda r: r.person.name),
    Column(N_("Lots"), lambda r: ", ".join(r.lots), sort=lambda r: tuple(map(natural_key, r.lots))),
    Column(N_("E-mail"), lambda r: r.person.email),
    Column(N_("Phone"), lambda r: r.person.phone),
    Column(N_("Language"), lambda r: language_label(r.person.language)),
    Column(
        N_("E-mail convocations"),
        lambda r: yes_no(r.person.email_consent),
        tooltip=lambda r: _("Agreed in writing to receive convocations by e-mail (art. 3.87 §3)"),
    ),
    Column(N_("Address"), lambda r: r.person.address.one_line()),
)


class PersonsPage(Page):
    collections = frozenset({"persons", "lots", "ownerships"})
    title_msgid = N_("Persons")

    def __init__(self, ops: Ops, parent: QWidget | None = None) -> None:
        super().__init__(ops, parent)
        self.table = RecordTable(COLUMNS)
        self.table.setObjectName("personsTable")
        self.table.activated.connect(lambda _index: self.edit_person())
        self.table.delete_shortcut.activated.connect(self.delete_person)
        self.add_button = self.button(_("&Add person…"), self.add_person)
        self.edit_button = self.button(_("&Edit…"), self.edit_person)
        self.delete_button = self.button(_("&Delete"), self.delete_person, _("Delete (Del)"))
        search = self.search_field(self.table.proxy.setFilterFixedString)
        self.layout_.addLayout(
            self.toolbar(self.add_button, self.edit_button, self.delete_button, search=search)
        )
        self.layout_.addWidget(self.table, 1)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self._update_buttons()

    def _update_buttons(self) -> None:
        selected = self.table.current_id() is not None
        self.add_button.setEnabled(self.editable)
        self.edit_button.setEnabled(selected and self.editable)
        self.delete_button.setEnabled(selected and self.editable)

    def show_state(self, state: RegistryState) -> None:
        super().show_state(state)
        self.table.set_rows(person_rows(state.registry))
        self._update_buttons()

    def select_record(self, record_id: str) -> bool:
        return self.table.select_id(record_id)

    def selected_person(self) -> Person | None:
        row = self.table.current_row()
        return row.person if row else None

    def add_person(self) -> None:
        if self.editable:
            self.open_dialog(PersonDialog(parent=self), self._save_new)

    def _save_new(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, PersonDialog)
        values = dialog.values()
        name = values.pop("name")
        self.submit(dialog, lambda s: s.registry.add_person(name, **values))

    def edit_person(self) -> None:
        person = self.selected_person()
        if person is not None and self.editable:
            self.open_dialog(PersonDialog(person, parent=self), self._save_edit)

    def _save_edit(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, PersonDialog) and dialog.person is not None
        person_id, values = dialog.person.id, dialog.values()
        self.submit(dialog, lambda s: s.registry.update_person(person_id, **values))

    def delete_person(self) -> None:
        person = self.selected_person()
        if person is None or not self.editable:
            return
        message = _("{name} deleted. Undo with Ctrl+Z.").format(name=person.name)
        self.ops.change(
            lambda s: s.registry.delete_person(person.id),
            on_done=lambda _u: self.message.emit(message),
        )
