"""The building's devices: who syncs it, invites for new ones (and those
waiting to be used, which can be withdrawn), removing one.

The syndic's device invites (a one-time code, shown large and as a QR code
of a ``koprogo://join`` link) and removes devices (a new key epoch: the
removed device reads nothing written afterwards, but keeps what it had,
docs/sync-protocol.md §5.3, §6). Other devices see the list only.

An owner's invite may also be "for a resident on the shared computer": no
device joins with it; the owner types it on the building's shared computer
to keep their keys there behind a PIN (docs/sync-protocol.md §5.4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from node.domain.registry import Person, Registry
from node.errors import InputError, KoprogoError
from node.i18n import N_, _
from node.sync.membership import CreatedInvite
from shared.protocol import Role

from ..dialogs import chosen_person, person_choice
from ..labels import fmt_date, fmt_time, role_description, role_label
from ..ops import Ops
from ..qr import join_link, qr_image
from ..qt import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGuiApplication,
    QLabel,
    QMessageBox,
    QPixmap,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from ..state import RegistryState
from ..sync import DeviceList, SyncController, SyncStatus
from ..table import Column, RecordTable
from ..widgets import ErrorLabel, alive
from .base import Page, empty_hint


@dataclass(frozen=True)
class DeviceRow:
    id: str
    role: str
    person: str  # the person's name, or their id when this device cannot read names
    this_device: bool
    revoked: bool
    left_behind: bool = False  # its person holds no lot and lives in none any more
    joined: str = ""  # the day it joined (found by hand: two council devices looked alike)
    no_mandate: bool = False  # a council device whose person no longer sits on the council


def device_rows(
    devices: Sequence[dict[str, Any]],
    registry: Registry | None,
    directory_names: Mapping[str, str] | None = None,
) -> list[DeviceRow]:
    names = {p.id: p.name for p in registry.persons} if registry else dict(directory_names or {})
    # Found by hand: after a sale the seller's devices stayed in, unnoticed.
    concerned = (
        {o.person_id for o in registry.ownerships} | {o.person_id for o in registry.occupants}
        if registry is not None and registry.lots
        else None
    )
    today = date.today()
    seated = (
        {m.person_id for m in registry.council if m.seated_from(today)}
        if registry is not None
        else None
    )
    return [
        DeviceRow(
            d["id"],
            d["role"],
            names.get(d["person"], d["person"] or "") if d.get("person") else "",
            bool(d["this_device"]),
            bool(d["revoked"]),
            bool(
                concerned is not None
                and d.get("person")
                and not d["revoked"]
                and d["person"] not in concerned
            ),
            d.get("joined", ""),
            bool(
                seated is not None
                and d["role"] == Role.COUNCIL.value
                and d.get("person")
                and not d["revoked"]
                and d["person"] not in seated
            ),
        )
        for d in devices
    ]


def device_status(row: DeviceRow) -> str:
    if row.revoked:
        return _("Removed")
    if row.this_device:
        return _("This device")
    if row.no_mandate:
        return _("Active — no council mandate any more")
    if row.left_behind:
        return _("Active — holds no lot any more")
    return _("Active")


COLUMNS = (
    Column(N_("Role"), lambda r: role_label(r.role), sort=lambda r: (r.revoked, r.role)),
    Column(N_("Person"), lambda r: r.person),
    Column(
        N_("Status"),
        device_status,
        sort=lambda r: (r.revoked, not r.this_device),
        warn=lambda r: r.left_behind or r.no_mandate,
        tooltip=lambda r: (
            _(
                "This person no longer sits on the council; their device still receives the "
                "registry, the accounts and every inbox. Remove it if they left the council."
            )
            if r.no_mandate
            else _(
                "This person holds no lot and lives in none any more; their device still receives "
                "the building's directory, meetings and news. Remove it if they left."
            )
            if r.left_behind
            else ""
        ),
    ),
    Column(N_("Joined"), lambda r: fmt_date(r.joined), sort=lambda r: r.joined),
    Column(
        N_("Device"),
        lambda r: r.id[-8:],
        tooltip=lambda r: _("Device id {id}").format(id=r.id),
        sort=lambda r: r.id,
    ),
)

INVITE_ROLES = (Role.COUNCIL, Role.OWNER, Role.KIOSK, Role.SYNDIC)


@dataclass(frozen=True)
class InviteRow:
    """An invite waiting to be used (found by hand: after its dialog closed
    it could be neither seen nor withdrawn)."""

    id: str
    role: str
    person: str  # a name where this device reads them
    kiosk: bool
    until: str


def invite_rows(invites: Sequence[dict[str, Any]], registry: Registry | None) -> list[InviteRow]:
    names = {p.id: p.name for p in registry.persons} if registry else {}
    return [
        InviteRow(
            i["id"],
            i["role"],
            names.get(i["person"], i["person"]) if i.get("person") else "",
            bool(i.get("kiosk")),
            fmt_time(datetime.fromisoformat(i["expires_at"]).timestamp()),
        )
        for i in invites
    ]


INVITE_COLUMNS = (
    Column(
        N_("Role"),
        lambda r: _("Resident on the shared computer") if r.kiosk else role_label(r.role),
    ),
    Column(N_("Person"), lambda r: r.person),
    Column(N_("Valid until"), lambda r: r.until),
)


HELD_BY_ROLE = {
    "syndic": N_(
        "That is a whole copy of the building: the registry, the accounts, the meetings and "
        "every inbox. It cannot be wiped from here."
    ),
    "council": N_(
        "That is the registry, the accounts, the meetings and every inbox, as they were at its "
        "last sync. It cannot be wiped from here."
    ),
    "owner": N_(
        "That is the building's directory, the meetings and its owner's inbox, as they were "
        "at its last sync."
    ),
    "kiosk": N_(
        "That is the building's directory and the meetings, as they were at its last sync."
    ),
}
"""What a removed device keeps, said before removing it (found by hand: "what
it already has stays on it" did not say what that was)."""


class DevicesPage(Page):
    collections = frozenset({"persons", "ownerships", "occupants"})
    title_msgid = N_("Devices")
    needs_registry = False

    def __init__(self, ops: Ops, sync: SyncController, parent: QWidget | None = None) -> None:
        super().__init__(ops, parent)
        self.sync = sync
        self.devices: tuple[dict[str, Any], ...] = ()
        self.loaded = False  # a list came back from the worker at least once
        self.confirm: QMessageBox | None = None  # the removal question now open
        self.invite_dialog: InviteDialog | None = None
        self.intro = empty_hint("")
        self.layout_.addWidget(self.intro)
        self.table = RecordTable(COLUMNS, stretch=1, fit=True)
        self.table.setObjectName("devicesTable")
        self.table.keep_order()  # the node's order: oldest first, removed ones in place
        self.invite_button = self.button(_("&Invite a device…"), self.invite)
        self.invite_button.setObjectName("primary")
        self.remove_button = self.button(
            _("&Remove device"), self.remove, _("Remove the selected device from the building")
        )
        self.refresh_button = self.button(_("Re&fresh"), self.load)
        self.connect_button = self.button(_("Connect to a relay…"), lambda: None)
        self.layout_.addLayout(
            self.toolbar(
                self.invite_button, self.remove_button, self.refresh_button, self.connect_button
            )
        )
        self.layout_.addWidget(self.table, 1)
        self.invites: tuple[dict[str, Any], ...] = ()
        self.invites_title = QLabel(_("Invites waiting to be used"))
        self.invites_title.setObjectName("sectionTitle")
        self.invites_table = RecordTable(INVITE_COLUMNS, stretch=1, fit=True)
        self.invites_table.setObjectName("invitesTable")
        self.invites_table.keep_order()  # soonest to expire first
        self.withdraw_button = self.button(
            _("&Withdraw invite"),
            self.withdraw,
            _("The selected invite's code will no longer work"),
        )
        self.invites_box = QWidget()
        box = QVBoxLayout(self.invites_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.invites_title)
        box.addWidget(self.invites_table)
        box.addLayout(self.toolbar(self.withdraw_button))
        self.invites_box.hide()
        self.layout_.addWidget(self.invites_box)
        self.note = ErrorLabel()
        self.layout_.addWidget(self.note)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.invites_table.selectionModel().selectionChanged.connect(
            lambda *_: self._update_buttons()
        )
        sync.status_changed.connect(self._on_status)
        self._on_status(sync.status)

    # -- showing ---------------------------------------------------------------------

    def show_state(self, state: RegistryState) -> None:
        super().show_state(state)
        self._show_rows()

    def activated(self) -> None:
        """The page came into view: ask the relay for the newest list."""
        self.load()

    def _on_status(self, status: SyncStatus) -> None:
        if not status.connected:
            self.intro.setText(
                _(
                    "This building is not connected to a relay yet, so no other device can "
                    "sync it. Connect it in Settings → Relay, then invite devices here."
                )
            )
        elif status.syndic:
            self.intro.setText(
                _(
                    "Devices that sync this building. Invite the council's, the owners' or the "
                    "building's shared computer with a one-time code; remove a lost or "
                    "replaced device."
                )
            )
        else:
            self.intro.setText(
                _(
                    "Devices that sync this building. Only the syndic's device invites and "
                    "removes devices."
                )
            )
        self.connect_button.setVisible(not status.connected)
        self.refresh_button.setVisible(status.connected)
        self.invite_button.setVisible(status.connected and status.syndic)
        self.remove_button.setVisible(status.connected and status.syndic)
        if status.connected and not self.loaded and self.isVisible():
            self.load()
        self._update_buttons()

    def _show_rows(self) -> None:
        registry = self.state.registry if self.state and self.state.readable else None
        names = self.state.directory_names if self.state else None
        self.table.set_rows(device_rows(self.devices, registry, names))
        self.invites_table.set_rows(invite_rows(self.invites, registry))
        self.invites_box.setVisible(bool(self.invites) and self.sync.status.syndic)
        self._update_buttons()

    def _update_buttons(self) -> None:
        row = self.table.current_row()
        self.remove_button.setEnabled(row is not None and not row.revoked and not row.this_device)
        self.withdraw_button.setEnabled(self.invites_table.current_row() is not None)

    def select_record(self, record_id: str) -> bool:
        return self.table.select_id(record_id)

    # -- loading ------------------------------------------------------------------------

    def load(self) -> None:
        if not self.sync.status.connected:
            return
        self.refresh_button.setEnabled(False)
        self.sync.list_devices(self._listed, self._refused)

    def _listed(self, listed: DeviceList) -> None:
        if not alive(self):
            return
        self.loaded = True
        self.refresh_button.setEnabled(True)
        self.devices = listed.devices
        self.invites = listed.invites
        self.note.show_message(
            _("Showing the devices known here: {reason}").format(reason=listed.note)
            if listed.note
            else ""
        )
        self._show_rows()

    def _refused(self, exc: KoprogoError) -> None:
        if not alive(self):
            return
        self.refresh_button.setEnabled(True)
        self.note.show_message(str(exc))

    # -- inviting -------------------------------------------------------------------------

    def invite(self) -> None:
        persons = self.state.registry.persons if self.state and self.state.readable else ()
        dialog = InviteDialog(self.sync, persons, self)
        dialog.created.connect(lambda: self.load())
        dialog.finished.connect(lambda _result: self._forget_invite(dialog))
        self.invite_dialog = dialog
        dialog.open()

    def _forget_invite(self, dialog: InviteDialog) -> None:
        if self.invite_dialog is dialog:
            self.invite_dialog = None

    def withdraw(self) -> None:
        """Withdraw the selected invite (nothing to confirm: a new one is one
        click away, and a withdrawn code harms nobody)."""
        row = self.invites_table.current_row()
        if row is None:
            return
        self.withdraw_button.setEnabled(False)
        self.note.clear_message()
        self.sync.withdraw_invite(row.id, self._withdrawn, self._refused)

    def _withdrawn(self, listed: DeviceList) -> None:
        self._listed(listed)
        if alive(self):
            self.message.emit(_("Invite withdrawn: nobody can join with its code any more."))

    # -- removing ----------------------------------------------------------------------------

    def remove(self) -> None:
        row = self.table.current_row()
        if row is None or row.revoked or row.this_device:
            return
        box = QMessageBox(self)
        box.setObjectName("removeDeviceBox")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(_("Remove device"))
        who = role_label(row.role) + (f" · {row.person}" if row.person else "")
        box.setText(_("Remove this device ({who}) from the building?").format(who=who))
        held = _(HELD_BY_ROLE[row.role]) if row.role in HELD_BY_ROLE else ""
        box.setInformativeText(
            _(
                "It will no longer receive anything written from now on. "
                "What it already has stays on it."
            )
            + (" " + held if held else "")
        )
        confirm = box.addButton(_("Remove device"), QMessageBox.ButtonRole.DestructiveRole)
        confirm.setObjectName("confirmRemove")
        cancel = box.addButton(_("Cancel"), QMessageBox.ButtonRole.RejectRole)
        # Removing cannot be undone: Enter and Escape both keep the device.
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        device_id = row.id

        def answered(_result: int) -> None:
            confirmed = box.clickedButton() is confirm
            self.confirm = None
            if confirmed:
                self._revoke(device_id)

        box.finished.connect(answered)
        self.confirm = box
        box.open()

    def _revoke(self, device_id: str) -> None:
        self.remove_button.setEnabled(False)
        self.note.clear_message()
        self.sync.revoke(device_id, self._revoked, self._not_removed)

    def _not_removed(self, exc: KoprogoError) -> None:
        """Said where the user looks, and plainly (found by hand: with the
        relay down, only a line under the invites said "the relay cannot be
        reached", never that the device was still in the building, which
        matters for a stolen laptop)."""
        if not alive(self):
            return
        self.refresh_button.setEnabled(True)
        self._update_buttons()
        text = _("The device was not removed: {reason}").format(reason=str(exc))
        self.note.show_message(text)
        box = QMessageBox(self)
        box.setObjectName("notRemovedBox")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(_("Remove device"))
        box.setText(_("The device was not removed; it can still sync."))
        box.setInformativeText(str(exc))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _revoked(self, listed: DeviceList) -> None:
        self._listed(listed)
        if alive(self):
            self.message.emit(
                _("Device removed; the other devices received new keys. What it had stays on it.")
            )


class InviteDialog(QDialog):
    """Choose a role (and for an owner, the person), then show the code."""

    created = Signal()

    def __init__(
        self, sync: SyncController, persons: Sequence[Person], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("inviteDialog")
        self.setWindowTitle(_("Invite a device"))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumWidth(520)
        self.sync = sync
        self.invite: CreatedInvite | None = None
        self.link = ""
        layout = QVBoxLayout(self)

        self.form_box = QWidget()
        form_layout = QVBoxLayout(self.form_box)
        form_layout.setContentsMargins(0, 0, 0, 0)
        intro = QLabel(
            _(
                "The new device joins with a one-time code, valid for 7 days. Choose what it "
                "may see."
            )
        )
        intro.setWordWrap(True)
        form_layout.addWidget(intro)
        form = QFormLayout()
        self.role = QComboBox()
        self.role.setObjectName("inviteRole")
        for role in INVITE_ROLES:
            self.role.addItem(role_label(role.value), role.value)
        self.person = person_choice(persons)
        self.person.setObjectName("invitePerson")
        self.kiosk = QCheckBox(_("For a resident on the building's &shared computer"))
        self.kiosk.setObjectName("inviteKiosk")
        self.kiosk.setToolTip(
            _("The owner opens their inbox there with a PIN; no new device joins with this code.")
        )
        form.addRow(_("&Role"), self.role)
        form.addRow(_("&Person"), self.person)
        form.addRow("", self.kiosk)
        form_layout.addLayout(form)
        self.role_hint = QLabel()
        self.role_hint.setObjectName("hint")
        self.role_hint.setWordWrap(True)
        form_layout.addWidget(self.role_hint)
        layout.addWidget(self.form_box)

        self.result_box = QWidget()
        result = QVBoxLayout(self.result_box)
        result.setContentsMargins(0, 0, 0, 0)
        self.code = QLabel()
        self.code.setObjectName("inviteCode")
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.expiry = QLabel()
        self.expiry.setObjectName("inviteExpiry")
        self.expiry.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.expiry.setWordWrap(True)  # found by hand: a long name cut both ends of the line
        self.qr = QLabel()
        self.qr.setObjectName("inviteQr")
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.how = QLabel()
        self.how.setObjectName("hint")
        self.how.setWordWrap(True)
        self.link_label = QLabel()
        self.link_label.setObjectName("hint")
        self.link_label.setWordWrap(True)
        self.link_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for widget in (self.code, self.expiry, self.qr, self.how, self.link_label):
            result.addWidget(widget)
        self.result_box.hide()
        layout.addWidget(self.result_box)

        self.error = ErrorLabel()
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox()
        self.create_button = QPushButton(_("Create the invite"))
        self.create_button.setObjectName("primary")
        self.create_button.setDefault(True)
        self.create_button.clicked.connect(self.submit)
        self.copy_button = QPushButton(_("Copy the code"))
        self.copy_button.clicked.connect(self._copy)
        self.close_button = QPushButton(_("Cancel"))
        self.close_button.clicked.connect(self.reject)
        self.buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.create_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.close_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.copy_button.hide()  # once there is a code
        layout.addWidget(self.buttons)
        self.role.currentIndexChanged.connect(lambda _i: self._role_changed())
        self.kiosk.toggled.connect(lambda _on: self._role_changed())
        self._role_changed()

    def chosen_role(self) -> Role:
        return Role(self.role.currentData())

    def for_kiosk(self) -> bool:
        """An owner's invite to enrol on the building's shared computer."""
        return self.chosen_role() is Role.OWNER and self.kiosk.isChecked()

    def _role_changed(self) -> None:
        role = self.chosen_role()
        # a council member's device may name its person too (found by hand:
        # council devices could not be told apart on the Devices page)
        self.person.setEnabled(role in (Role.OWNER, Role.COUNCIL))
        if role is Role.COUNCIL:
            self.person.setCurrentIndex(-1)  # optional: nobody named unless chosen
        line = self.person.lineEdit()
        if line is not None:
            line.setPlaceholderText(_("optional: whose device") if role is Role.COUNCIL else "")
        self.kiosk.setEnabled(role is Role.OWNER)
        if role is not Role.OWNER:
            self.kiosk.setChecked(False)
        self.role_hint.setText(
            _(
                "The owner types this code on the building's shared computer and chooses a "
                "PIN there; their inbox opens there with that PIN. No device joins with it."
            )
            if self.for_kiosk()
            else role_description(role.value)
        )
        self.error.clear_message()

    def submit(self) -> None:
        role = self.chosen_role()
        person = None
        try:
            if role is Role.OWNER or (role is Role.COUNCIL and self.person.currentText().strip()):
                person = chosen_person(self.person)
        except InputError as exc:
            self.error.show_message(str(exc))
            return
        self.error.clear_message()
        self.create_button.setEnabled(False)
        self.sync.create_invite(role, person, self._created, self._refused, kiosk=self.for_kiosk())

    def _refused(self, exc: KoprogoError) -> None:
        if alive(self):
            self.create_button.setEnabled(True)
            self.error.show_message(str(exc))

    def _created(self, invite: CreatedInvite) -> None:
        if not alive(self):
            return
        self.invite = invite
        relay = self.sync.status.relay or ""
        self.form_box.hide()
        self.create_button.hide()
        self.code.setText(invite.code)
        if self.for_kiosk():
            # Typed at the shared computer, never used to join: no link, no QR code.
            self.link = ""
            self.expiry.setText(
                _("{name}, resident on the shared computer · valid once, until {when}").format(
                    name=self._person_named(invite), when=fmt_time(invite.expires_at)
                )
            )
            self.qr.hide()
            self.link_label.hide()
            self.how.setText(
                _(
                    "Give this code to the owner. At the building's shared computer they "
                    "choose “Residents' inboxes” → “Enrol a resident…”, type it and choose "
                    "their PIN."
                )
            )
        else:
            self.link = join_link(relay, invite.code)
            role = role_label(invite.role.value)
            if invite.person:  # found by hand: the dialog never said whom it was for
                role = _("{role}: {name}").format(role=role, name=self._person_named(invite))
            self.expiry.setText(
                _("{role} · valid once, until {when}").format(
                    role=role, when=fmt_time(invite.expires_at)
                )
            )
            self.qr.setPixmap(QPixmap.fromImage(qr_image(self.link, module=5)))
            self.qr.setToolTip(self.link)
            # found by hand: "or scan the QR code", which nothing could scan
            self.how.setText(
                _(
                    "On the new device, choose “Join with an invite” and type the relay "
                    "address {relay} and this code, or paste the link below (the QR code "
                    "holds the same link, for a phone that passes it on)."
                ).format(relay="\u2060".join(relay))  # word joiners: the address stays on one line
            )
            self.link_label.setText(self.link)
            self.copy_button.setText(_("Copy the link"))  # the code alone lacks the relay
        self.copy_button.show()
        self.close_button.setText(_("Close"))
        self.result_box.show()
        # the code in its large font, whole (found by hand: cut at the bottom,
        # the very thing the owner must read out)
        self.code.ensurePolished()
        self.code.setMinimumHeight(self.code.sizeHint().height())
        self.adjustSize()
        self.created.emit()

    def _person_named(self, invite: CreatedInvite) -> str:
        index = self.person.findData(invite.person)
        return self.person.itemText(index) if index >= 0 else (invite.person or "")

    def _copy(self) -> None:
        if self.invite is not None:
            QGuiApplication.clipboard().setText(self.link or self.invite.code)
