"""Personal inboxes away from the syndic's desk (issue 3).

* **My inbox**, on an owner's own device: the messages to the person the
  device belongs to, read again after every sync round.
* **Residents' inboxes**, on the building's shared computer (kiosk): a
  resident enrols once with the kiosk invite code the syndic gave them and a
  PIN they choose, then opens their inbox with that PIN. The node fetches
  and decrypts it in memory; this page shows it only until "Close", or
  until :data:`IDLE_MS` pass without anyone touching the keyboard or the
  mouse, or until the page is left, so the next person at the computer
  finds nothing. Nothing of it is kept anywhere in the app.
"""

from __future__ import annotations

from node.errors import KoprogoError
from node.i18n import N_, _
from node.sync.kiosk import MIN_PIN
from shared import invites

from ..inbox import InboxView, OwnInbox, Resident, plain_label, read_own_inbox, read_residents
from ..ops import Ops
from ..qt import (
    QDialog,
    QDialogButtonBox,
    QEvent,
    QFormLayout,
    QFrame,
    QGuiApplication,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QObject,
    QPushButton,
    QStackedWidget,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from ..sync import SyncController, SyncStatus
from ..widgets import ErrorLabel, alive
from .base import Page, empty_hint
from .kiosk import name_and_pin

IDLE_MS = 120_000  # an open inbox on the shared computer closes after this without input

# What counts as someone still using the shared computer.
_INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }
)


class MyInboxPage(Page):
    """An owner's device: the inbox of the person it belongs to."""

    title_msgid = N_("My inbox")
    needs_registry = False

    def __init__(self, ops: Ops, sync: SyncController, parent: QWidget | None = None) -> None:
        super().__init__(ops, parent)
        self.sync = sync
        self.loaded: OwnInbox | None = None
        self.whose = plain_label("hint")
        self.layout_.addWidget(self.whose)
        self.check_button = self.button(
            _("&Check for new messages"), lambda: self.sync.sync_now(manual=True)
        )
        self.layout_.addLayout(self.toolbar(self.check_button))
        self.view = InboxView(
            _(
                "Your inbox is empty. Messages from the syndic — and later your calls for "
                "funds and charge statements — appear here after a sync."
            )
        )
        self.view.setObjectName("myInbox")
        self.layout_.addWidget(self.view, 1)
        self.note = ErrorLabel()
        self.layout_.addWidget(self.note)
        self._show_whose()
        sync.status_changed.connect(self._on_status)

    @property
    def available(self) -> bool:
        status = self.sync.status
        return status.role == "owner" and bool(status.person)

    def _on_status(self, _status: SyncStatus) -> None:
        if self.loaded is None and self.available:
            self.load()

    def activated(self) -> None:
        self.load()

    def synced(self) -> None:
        self.load(background=True)

    def load(self, background: bool = False) -> None:
        if not self.available:
            return
        person = self.sync.status.person
        assert person is not None
        self.ops.run(
            lambda s: read_own_inbox(s, person), self._loaded, self._refused, background=background
        )

    def _loaded(self, inbox: OwnInbox) -> None:
        if not alive(self):
            return
        self.loaded = inbox
        self.note.clear_message()
        self.view.show_items(inbox.items)
        self._show_whose()

    def _refused(self, exc: KoprogoError) -> None:
        if alive(self):
            self.note.show_message(str(exc))

    def _show_whose(self) -> None:
        name = self.loaded.name if self.loaded else ""
        if name:
            text = _(
                "Messages for {name} from the syndic. Only your own devices and the "
                "building's management can read them."
            ).format(name=name)
        else:
            text = _(
                "Messages for you from the syndic. Only your own devices and the "
                "building's management can read them."
            )
        self.whose.setText(text)


class KioskInboxPage(Page):
    """The building's shared computer: each resident's inbox behind their PIN."""

    title_msgid = N_("Residents' inboxes")
    needs_registry = False

    def __init__(self, ops: Ops, sync: SyncController, parent: QWidget | None = None) -> None:
        super().__init__(ops, parent)
        self.sync = sync
        self.residents: tuple[Resident, ...] = ()
        self.loaded = False  # the list of residents came back at least once
        self.opened_for: str | None = None  # whose inbox is shown
        self.enrol_dialog: EnrolDialog | None = None
        self._request = 0  # a newer open or a close makes older answers void
        self._watching = False  # the app-wide input filter is installed

        self.stack = QStackedWidget()
        self.layout_.addWidget(self.stack, 1)
        self.prompt = self._make_prompt()
        self.reader = self._make_reader()
        self.stack.addWidget(self.prompt)
        self.stack.addWidget(self.reader)

        self.idle = QTimer(self)
        self.idle.setSingleShot(True)
        self.idle.setInterval(IDLE_MS)
        self.idle.timeout.connect(self.close_inbox)
        sync.status_changed.connect(self._on_status)
        self._show_residents()

    # -- building the page --------------------------------------------------------------

    def _make_prompt(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        intro = empty_hint(
            _(
                "Residents read their personal messages here, each behind their own PIN. "
                "Once an inbox is closed, nothing of it stays on this computer."
            )
        )
        layout.addWidget(intro)

        card = QFrame()
        card.setObjectName("card")
        card.setMaximumWidth(560)
        inner = QVBoxLayout(card)
        inner.setContentsMargins(24, 20, 24, 20)
        title = QLabel(_("Open my inbox"))
        title.setObjectName("cardTitle")
        inner.addWidget(title)
        self.none_enrolled = empty_hint(
            _(
                "No resident has enrolled on this computer yet. Ask the syndic for an invite "
                "for the building's shared computer, then choose “Enrol a resident…”."
            )
        )
        inner.addWidget(self.none_enrolled)
        self.form_box = QWidget()
        form = QFormLayout(self.form_box)
        form.setContentsMargins(0, 6, 0, 0)
        self.resident, self.pin = name_and_pin(form)
        self.pin.returnPressed.connect(self.open_inbox)
        inner.addWidget(self.form_box)
        self.error = ErrorLabel()
        inner.addWidget(self.error)
        buttons = QHBoxLayout()
        self.open_button = QPushButton(_("&Open my inbox"))
        self.open_button.setObjectName("primary")
        self.open_button.clicked.connect(lambda _c=False: self.open_inbox())
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        inner.addLayout(buttons)
        layout.addWidget(card)

        self.enrol_button = self.button(_("&Enrol a resident…"), self.enrol)
        enrol_hint = empty_hint(
            _(
                "First time here? Enrol with the invite code the syndic gave you for this "
                "computer, and choose your PIN."
            )
        )
        self.enrolled_note = plain_label("hint")
        row = QHBoxLayout()
        row.addWidget(self.enrol_button)
        row.addWidget(enrol_hint, 1)
        layout.addLayout(row)
        layout.addWidget(self.enrolled_note)
        layout.addStretch(1)
        return page

    def _make_reader(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.reader_title = plain_label("sectionTitle")
        top.addWidget(self.reader_title, 1)
        self.close_button = QPushButton(_("&Close"))
        self.close_button.setObjectName("primary")
        self.close_button.setToolTip(_("Close your inbox so that the next person sees nothing"))
        self.close_button.clicked.connect(lambda _c=False: self.close_inbox())
        top.addWidget(self.close_button)
        layout.addLayout(top)
        layout.addWidget(
            empty_hint(
                _(
                    "Your inbox closes by itself after {minutes} minutes without use. "
                    "Close it when you are done."
                ).format(minutes=IDLE_MS // 60_000)
            )
        )
        self.view = InboxView(_("Your inbox is empty."))
        self.view.setObjectName("residentInbox")
        layout.addWidget(self.view, 1)
        return page

    # -- the residents enrolled here --------------------------------------------------------

    @property
    def available(self) -> bool:
        return self.sync.status.role == "kiosk"

    def _on_status(self, _status: SyncStatus) -> None:
        if not self.loaded and self.available:
            self.load()

    def activated(self) -> None:
        self.load()

    def synced(self) -> None:
        if self.available:  # names come from the directory, which a round may change
            self.load(background=True)

    def load(self, select: str | None = None, background: bool = False) -> None:
        if not self.available:
            return
        self.ops.run(
            read_residents,
            lambda found: self._listed(found, select),
            self._refused,
            background=background,
        )

    def _listed(self, residents: tuple[Resident, ...], select: str | None) -> None:
        if not alive(self):
            return
        if self.loaded and residents == self.residents and select is None:
            return  # unchanged: leave the list alone (someone may be choosing in it)
        self.loaded = True
        keep = select or self.resident.currentData()
        self.residents = residents
        self.resident.clear()
        for resident in residents:
            self.resident.addItem(resident.name, resident.id)
        index = self.resident.findData(keep) if keep else -1
        self.resident.setCurrentIndex(index if index >= 0 else (0 if len(residents) == 1 else -1))
        self._show_residents()

    def _refused(self, exc: KoprogoError) -> None:
        if alive(self):
            self.error.show_message(str(exc))

    def _show_residents(self) -> None:
        some = bool(self.residents)
        self.none_enrolled.setVisible(not some)
        self.form_box.setVisible(some)
        self.open_button.setVisible(some)

    # -- enrolling -------------------------------------------------------------------------

    def enrol(self) -> None:
        self.close_inbox()
        dialog = EnrolDialog(self.sync, self)
        dialog.enrolled.connect(self._enrolled)
        dialog.finished.connect(lambda _result: self._forget_enrol(dialog))
        self.enrol_dialog = dialog
        dialog.open()

    def _forget_enrol(self, dialog: EnrolDialog) -> None:
        if self.enrol_dialog is dialog:
            self.enrol_dialog = None

    def _enrolled(self, person: str) -> None:
        self.error.clear_message()
        self.pin.clear()
        self.enrolled_note.setText(
            _("Enrolled. Choose your name and type your PIN to open your inbox.")
        )
        self.load(select=person)

    # -- opening and closing an inbox ---------------------------------------------------------

    def open_inbox(self) -> None:
        person = self.resident.currentData()
        pin = self.pin.text()
        self.pin.clear()  # typed once, never kept
        if person is None:
            self.error.show_message(_("Choose your name in the list."))
            return
        if not pin:
            self.error.show_message(_("Type your PIN."))
            self.pin.setFocus()
            return
        self.error.clear_message()
        self.enrolled_note.clear()
        self._request += 1
        request = self._request
        self.open_button.setEnabled(False)
        self.open_button.setText(_("Opening…"))
        self.sync.open_resident_inbox(
            person,
            pin,
            lambda items: self._opened(request, person, items),
            lambda exc: self._not_opened(request, exc),
        )

    def _ready(self) -> None:
        self.open_button.setEnabled(True)
        self.open_button.setText(_("&Open my inbox"))

    def _opened(self, request: int, person: str, items: list) -> None:
        if not alive(self):
            return
        self._ready()
        if request != self._request or not self.isVisible():
            return  # closed, or left, while it was opening: show nothing
        name = next((r.name for r in self.residents if r.id == person), "")
        self.opened_for = person
        self.reader_title.setText(_("Inbox of {name}").format(name=name))
        self.view.show_items(items)
        self.stack.setCurrentWidget(self.reader)
        self._watch(True)
        self.idle.start()
        self.close_button.setFocus()

    def _not_opened(self, request: int, exc: KoprogoError) -> None:
        if not alive(self):
            return
        self._ready()
        if request == self._request:
            self.error.show_message(str(exc))
            self.pin.setFocus()

    @property
    def is_open(self) -> bool:
        return self.opened_for is not None

    def close_inbox(self) -> None:
        """Clear the inbox from the screen: Close, two idle minutes, leaving the page."""
        self._request += 1  # an answer still on its way is shown to nobody
        self.idle.stop()
        self._watch(False)
        self.opened_for = None
        self.view.clear()
        self.reader_title.clear()
        self.pin.clear()
        self.stack.setCurrentWidget(self.prompt)

    def _watch(self, on: bool) -> None:
        app = QGuiApplication.instance()
        if app is None or on == self._watching:
            return
        if on:
            app.installEventFilter(self)
        else:
            app.removeEventFilter(self)
        self._watching = on

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self.opened_for is not None and event.type() in _INPUT_EVENTS:
            self.idle.start()  # someone is still there: two more minutes
        return False

    def hideEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self.close_inbox()  # another page, a minimised or closed window: close it
        super().hideEvent(event)


class EnrolDialog(QDialog):
    """A resident types the kiosk invite code from the syndic and chooses a PIN."""

    enrolled = Signal(str)  # the person's id

    def __init__(self, sync: SyncController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("enrolDialog")
        self.setWindowTitle(_("Enrol a resident"))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumWidth(480)
        self.sync = sync
        layout = QVBoxLayout(self)
        intro = QLabel(
            _(
                "Type the invite code the syndic gave you for this computer, then choose a "
                "PIN of at least {n} characters. You will type it each time you open your "
                "inbox here; nobody else can open it with theirs."
            ).format(n=MIN_PIN)
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.code = QLineEdit()
        self.code.setObjectName("enrolCode")
        self.code.setPlaceholderText("K7Q2M-9XD4P")
        self.pin = QLineEdit()
        self.pin.setObjectName("enrolPin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin_again = QLineEdit()
        self.pin_again.setObjectName("enrolPinAgain")
        self.pin_again.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(_("Invite &code"), self.code)
        form.addRow(_("New &PIN"), self.pin)
        form.addRow(_("&Repeat the PIN"), self.pin_again)
        layout.addLayout(form)
        self.error = ErrorLabel()
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox()
        self.enrol_button = QPushButton(_("Enrol"))
        self.enrol_button.setObjectName("primary")
        self.enrol_button.setDefault(True)
        self.enrol_button.clicked.connect(lambda _c=False: self.submit())
        cancel = QPushButton(_("Cancel"))
        cancel.clicked.connect(self.reject)
        self.buttons.addButton(self.enrol_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(cancel, QDialogButtonBox.ButtonRole.RejectRole)
        layout.addWidget(self.buttons)

    def submit(self) -> None:
        code, pin, again = self.code.text(), self.pin.text(), self.pin_again.text()
        if not invites.is_well_formed(code):
            self.error.show_message(
                _("An invite code has ten letters and digits, like K7Q2M-9XD4P. Check it.")
            )
            return
        if len(pin) < MIN_PIN:
            self._pin_refused(_("The PIN must have at least {n} characters.").format(n=MIN_PIN))
            return
        if pin != again:
            self._pin_refused(_("The two PINs differ."))
            return
        normal = invites.normalize(code)
        self.error.clear_message()
        self.enrol_button.setEnabled(False)
        self.enrol_button.setText(_("Enrolling…"))
        self.sync.enrol_resident(f"{normal[:5]}-{normal[5:]}", pin, self._done, self._refused)

    def _pin_refused(self, message: str) -> None:
        self.pin.clear()
        self.pin_again.clear()
        self.pin.setFocus()
        self.error.show_message(message)

    def _refused(self, exc: KoprogoError) -> None:
        if alive(self):
            self.enrol_button.setEnabled(True)
            self.enrol_button.setText(_("Enrol"))
            self.error.show_message(str(exc))

    def _done(self, person: str) -> None:
        if not alive(self):
            return
        self.enrolled.emit(person)
        self.accept()

    def done(self, result: int) -> None:  # every way the dialog closes
        self.pin.clear()
        self.pin_again.clear()
        super().done(result)
