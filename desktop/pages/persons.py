"""Persons: owners, usufructuaries, tenants, with their contact details,
and what was sent to each one's inbox.

Contact details are personal data (GDPR): they live only in the encrypted
registry document and are shown here to management only. Inboxes too are
readable by management (and by the person's own devices); the syndic's
device writes to them ("Send a message…").
"""

from __future__ import annotations

from dataclasses import dataclass

from node.documents.inbox_doc import InboxItem
from node.domain.registry import Person, Registry
from node.errors import KoprogoError
from node.i18n import N_, _
from node.services.registry import Change
from node.session import Session
from node.sync import service

from ..dialogs import MessageDialog, PersonDialog
from ..inbox import InboxView, plain_label, read_person_inbox
from ..labels import language_label, natural_key, yes_no
from ..ops import Ops
from ..qt import QMessageBox, QSplitter, Qt, QVBoxLayout, QWidget
from ..state import RegistryState, Update
from ..table import Column, RecordTable
from ..widgets import ErrorLabel, RecordDialog, alive
from .base import Page
from .ownership import left_behind_message


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
    collections = frozenset({"persons", "lots", "ownerships", "inbox"})
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
        self.erase_button = self.button(
            _("E&rase personal data…"),
            self.erase_person,
            _(
                "Remove a former owner's or occupant's personal data everywhere: this "
                "computer, the relay and the other devices (GDPR art. 17)"
            ),
        )
        self.erase_confirm: QMessageBox | None = None  # the question now open
        self.message_button = self.button(
            _("Send a &message…"),
            self.send_message,
            _("Write to the selected person's inbox (their own devices and management read it)"),
        )
        search = self.search_field(self.table.proxy.setFilterFixedString)
        self.layout_.addLayout(
            self.toolbar(
                self.add_button,
                self.edit_button,
                self.delete_button,
                self.erase_button,
                self.message_button,
                search=search,
            )
        )

        # The selected person's inbox, under the table.
        self.inbox_for: str | None = None  # whose inbox the panel shows or is loading
        panel = QWidget()
        panel.setObjectName("personInbox")
        inbox = QVBoxLayout(panel)
        inbox.setContentsMargins(0, 6, 0, 0)
        self.inbox_title = plain_label("sectionTitle")
        self.inbox_view = InboxView(_("Nothing was sent to this person's inbox yet."))
        self.inbox_error = ErrorLabel()
        inbox.addWidget(self.inbox_title)
        inbox.addWidget(self.inbox_view, 1)
        inbox.addWidget(self.inbox_error)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(panel)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        self.layout_.addWidget(split, 1)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())
        self._update_buttons()
        self._load_inbox()

    def _update_buttons(self) -> None:
        selected = self.table.current_id() is not None
        self.add_button.setEnabled(self.editable)
        self.edit_button.setEnabled(selected and self.editable)
        self.delete_button.setEnabled(selected and self.editable)
        self.erase_button.setEnabled(selected and self.editable)
        self.message_button.setEnabled(selected and self.editable)

    def _selection_changed(self) -> None:
        self._update_buttons()
        self._load_inbox()

    def show_state(self, state: RegistryState) -> None:
        super().show_state(state)
        self.table.set_rows(person_rows(state.registry))
        self._update_buttons()
        self._load_inbox(background=True)

    def activated(self) -> None:
        self._load_inbox()

    def synced(self) -> None:
        if self.isVisible():  # a message sent from another syndic device, or the council's view
            self._load_inbox(background=True)

    # -- the selected person's inbox ---------------------------------------------------

    def _load_inbox(self, background: bool = False) -> None:
        """Read the selected person's inbox on the worker (``background``:
        not asked for by a person, so no busy indicator of its own)."""
        person = self.selected_person()
        self.inbox_error.clear_message()
        if person is None or not (self.state and self.state.readable):
            self.inbox_for = None
            self.inbox_title.setText(_("Choose a person to see the messages sent to them."))
            self.inbox_view.clear()
            self.inbox_view.hide()
            return
        if person.id != self.inbox_for:
            self.inbox_view.clear()  # never another person's messages under this name
        self.inbox_for = person_id = person.id
        self.inbox_title.setText(_("Messages to {name}").format(name=person.name))
        self.inbox_view.show()
        self.ops.run(
            lambda s: read_person_inbox(s, person_id),
            on_done=lambda items: self._inbox_loaded(person_id, items),
            on_error=lambda exc: self._inbox_refused(person_id, exc),
            background=background,
        )

    def _inbox_loaded(self, person_id: str, items: tuple[InboxItem, ...]) -> None:
        if alive(self) and person_id == self.inbox_for:
            self.inbox_view.show_items(items)

    def _inbox_refused(self, person_id: str, exc: KoprogoError) -> None:
        if alive(self) and person_id == self.inbox_for:
            self.inbox_view.clear()
            self.inbox_error.show_message(str(exc))

    def send_message(self) -> None:
        person = self.selected_person()
        if person is not None and self.editable:
            self.open_dialog(MessageDialog(person, parent=self), self._send)

    def _send(self, dialog: RecordDialog) -> None:
        assert isinstance(dialog, MessageDialog)
        title, text = dialog.values()
        person_id, name = dialog.person.id, dialog.person.name
        dialog.save_button.setEnabled(False)

        def sent(_update: Update) -> None:
            dialog.accept()
            self.message.emit(_("Message sent to {name}.").format(name=name))

        self.ops.change(
            lambda s: s.inbox.send(person_id, title, text),
            on_done=sent,
            on_error=dialog.show_error,
        )

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

    def erase_person(self) -> None:
        """Erasure cannot be undone: asked first, Cancel by default."""
        person = self.selected_person()
        if person is None or not self.editable:
            return
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(_("Erase personal data"))
        box.setText(_("Erase {name}'s personal data everywhere?").format(name=person.name))
        box.setInformativeText(
            _(
                "Their record leaves the registry, its history, this computer's files and the "
                "relay; the other devices forget them as they sync. This cannot be undone. "
                "Refused while they hold or occupy a lot, sit on the council or have a balance "
                "open."
            )
            + "\n\n"
            + _(service.ACCOUNTS_KEEP)
        )
        confirm = box.addButton(_("Erase"), QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(_("Cancel"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        person_id, name = person.id, person.name

        def answered(_result: int) -> None:
            self.erase_confirm = None
            if box.clickedButton() is confirm:
                self.ops.change(
                    lambda s: erase(s, person_id),
                    on_done=lambda _u: self.message.emit(
                        _("{name}'s personal data was erased.").format(name=name)
                    ),
                )

        box.finished.connect(answered)
        self.erase_confirm = box
        box.open()

    def delete_person(self) -> None:
        person = self.selected_person()
        if person is None or not self.editable:
            return
        message = _("{name} deleted. Undo with Ctrl+Z.").format(name=person.name)
        left: list[str] = []

        def delete(s: Session) -> Change:
            change = s.registry.delete_person(person.id)
            left.extend(service.devices_left_behind(s, person.id))
            return change

        self.ops.change(
            delete,
            on_done=lambda _u: self.message.emit(
                " ".join([message, left_behind_message(person.name, len(left))])
                if left
                else message
            ),
        )


def erase(session: Session, person_id: str) -> Change:
    """GDPR art. 17 through the node (with the relay when connected; nothing
    is erased if it cannot be reached, and the refusal says so)."""
    service.erase_person(session, person_id)
    return Change.of("persons", "occupants")
