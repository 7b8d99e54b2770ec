"""The first-run screen, the passphrase screens, "New building" and "Join
with an invite".

The flow itself lives in :mod:`node.first_run` and :mod:`node.sync.service`
(STYLE §10); this window only collects the answers (association details, a
relay address and an invite code, a new passphrase or the one that unlocks a
profile) and hands them to the controller through signals.
"""

from __future__ import annotations

from pathlib import Path

from node.domain.registry import Association, check_bce
from node.errors import KoprogoError
from node.i18n import LANGUAGES, _, current_language
from node.keys import MIN_PASSPHRASE_LENGTH
from shared import invites

from .dialogs import quota_spin
from .labels import language_label
from .qr import parse_join_link
from .qt import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from .widgets import ErrorLabel


class _Card(QFrame):
    """A centred panel with a title, a text, a body and an error line."""

    def __init__(self, title: str, text: str = "") -> None:
        super().__init__()
        self.setObjectName("card")
        self.setMaximumWidth(560)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(32, 28, 32, 28)
        self.layout_.setSpacing(12)
        heading = QLabel(title)
        heading.setObjectName("cardTitle")
        heading.setWordWrap(True)
        self.layout_.addWidget(heading)
        self.text = QLabel(text)
        self.text.setObjectName("cardText")
        self.text.setWordWrap(True)
        self.text.setVisible(bool(text))
        self.layout_.addWidget(self.text)
        self.error = ErrorLabel()
        self.busy = QLabel()
        self.busy.setObjectName("hint")
        self.busy.setWordWrap(True)
        self.busy.hide()
        self.stop = QPushButton(_("Cancel"))  # ends slow work that may end (a join)
        self.stop.setObjectName("stopWork")
        self.stop.hide()

    def finish(self, *buttons: QPushButton) -> None:
        self.layout_.addWidget(self.error)
        busy_row = QHBoxLayout()
        busy_row.addWidget(self.busy, 1)
        busy_row.addWidget(self.stop)
        self.layout_.addLayout(busy_row)
        row = QHBoxLayout()
        row.addStretch(1)
        for button in buttons:
            row.addWidget(button)
        self.layout_.addLayout(row)


def _centred(card: QWidget) -> QWidget:
    page = QWidget()
    outer = QVBoxLayout(page)
    outer.addStretch(1)
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(card, 3)
    row.addStretch(1)
    outer.addLayout(row)
    outer.addStretch(2)
    return page


def _password_field() -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    return field


class StartWindow(QMainWindow):
    create_requested = Signal(object, object)  # Association, passphrase or None
    demo_requested = Signal(object)  # passphrase or None
    unlock_requested = Signal(object, str)  # profile path, passphrase
    join_requested = Signal(str, str, object)  # relay address, invite code, passphrase or None
    language_chosen = Signal(str)
    choose_requested = Signal()  # pick another existing building
    cancelled = Signal()
    join_cancel_requested = Signal()  # the person no longer waits for the relay

    def __init__(self, needs_new_passphrase: bool, storage_note: str, cancellable: bool) -> None:
        super().__init__()
        self.setObjectName("startWindow")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(_("KoproGo"))
        self.resize(900, 640)
        self.needs_new_passphrase = needs_new_passphrase
        self.storage_note = storage_note
        self.cancellable = cancellable
        self._pending: Association | None = None  # None with _pending_demo: the demo
        self._pending_demo = False
        self._pending_join: tuple[str, str] | None = None  # (relay, code)
        self._join_passphrase: str | None = None  # chosen for a join the relay refused
        self._unlock_path: Path | None = None
        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.welcome = self._make_welcome()
        self.create = self._make_create()
        self.new_passphrase = self._make_new_passphrase()
        self.unlock = self._make_unlock()
        self.join = self._make_join()
        self.cards = [self.welcome, self.create, self.new_passphrase, self.unlock, self.join]
        for card in self.cards:
            self.stack.addWidget(_centred(card))
            card.stop.clicked.connect(self._stop_join)
        self.show_page(self.welcome)

    # -- pages -----------------------------------------------------------------------

    def _make_welcome(self) -> _Card:
        card = _Card(
            _("Welcome to KoproGo"),
            _(
                "Manage your co-ownership association (ACP/VME): lots, owners, quotas and "
                "distribution keys. Your data stays on this computer, encrypted."
            ),
        )
        self.create_button = QPushButton(_("Create a building"))
        self.create_button.setObjectName("primary")
        self.create_button.clicked.connect(lambda: self.show_page(self.create))
        self.demo_button = QPushButton(_("Open the demo building"))
        self.demo_button.clicked.connect(self._demo)
        self.join_button = QPushButton(_("Join with an invite"))
        self.join_button.setToolTip(
            _("Use a building run from another computer, with the code its syndic gave you.")
        )
        self.join_button.clicked.connect(self._show_join)
        for button in (self.create_button, self.demo_button, self.join_button):
            button.setMinimumHeight(40)
            card.layout_.addWidget(button)
        self.language = QComboBox()
        self.language.setObjectName("startLanguage")
        for code in LANGUAGES:
            self.language.addItem(language_label(code), code)
        self.language.setCurrentIndex(self.language.findData(current_language()))
        self.language.activated.connect(
            lambda index: self.language_chosen.emit(self.language.itemData(index))
        )
        language_row = QHBoxLayout()
        language_row.addWidget(QLabel(_("Language")))
        language_row.addWidget(self.language)
        language_row.addStretch(1)
        card.layout_.addLayout(language_row)
        buttons = []
        if self.cancellable:
            back = QPushButton(_("Cancel"))
            back.clicked.connect(self.cancelled)
            buttons.append(back)
        card.finish(*buttons)
        return card

    def _make_create(self) -> _Card:
        card = _Card(
            _("Create a building"),
            _("You can complete the address and the lots afterwards."),
        )
        self.name = QLineEdit()
        self.name.setPlaceholderText(_("e.g. ACP Résidence Les Tilleuls"))
        self.quota_total = quota_spin(1000, minimum=1)
        self.quota_total.setToolTip(
            _("The total of the quotas fixed in the deed (often 1000 or 10000)")
        )
        self.bce = QLineEdit()
        self.bce.setPlaceholderText(_("optional, e.g. 0123.456.749"))
        self.bce.editingFinished.connect(self._check_bce)
        form = QFormLayout()
        form.addRow(_("&Name of the association"), self.name)
        form.addRow(_("&Quota total of the deed"), self.quota_total)
        form.addRow(_("&Enterprise number (BCE/KBO)"), self.bce)
        card.layout_.addLayout(form)
        note = QLabel(self.storage_note)
        note.setObjectName("hint")
        note.setWordWrap(True)
        card.layout_.addWidget(note)
        back = QPushButton(_("Back"))
        back.clicked.connect(lambda: self.show_page(self.welcome))
        self.create_submit = QPushButton(
            _("Continue") if self.needs_new_passphrase else _("Create")
        )
        self.create_submit.setObjectName("primary")
        self.create_submit.setDefault(True)
        self.create_submit.clicked.connect(self._submit_create)
        card.finish(back, self.create_submit)
        return card

    def _make_new_passphrase(self) -> _Card:
        card = _Card(
            _("Choose a passphrase"),
            _(
                "This computer has no system keyring, so the building's key is kept in a file "
                "protected by a passphrase. You will type it each time you open the building. "
                "Without it the data cannot be read: keep it safe."
            ),
        )
        self.passphrase1 = _password_field()
        self.passphrase2 = _password_field()
        form = QFormLayout()
        form.addRow(_("&Passphrase"), self.passphrase1)
        form.addRow(_("&Repeat it"), self.passphrase2)
        card.layout_.addLayout(form)
        back = QPushButton(_("Back"))
        back.clicked.connect(self._back_from_passphrase)
        self.passphrase_submit = QPushButton(_("Create"))
        self.passphrase_submit.setObjectName("primary")
        self.passphrase_submit.setDefault(True)
        self.passphrase_submit.clicked.connect(self._submit_passphrase)
        self.passphrase2.returnPressed.connect(self._submit_passphrase)
        card.finish(back, self.passphrase_submit)
        return card

    def _make_unlock(self) -> _Card:
        card = _Card(_("Unlock the building"))
        self.unlock_passphrase = _password_field()
        self.unlock_passphrase.returnPressed.connect(self._submit_unlock)
        form = QFormLayout()
        form.addRow(_("&Passphrase"), self.unlock_passphrase)
        card.layout_.addLayout(form)
        other = QPushButton(_("Other choices…"))
        other.clicked.connect(lambda: self.show_page(self.welcome))
        another = QPushButton(_("Another building…"))
        another.clicked.connect(self.choose_requested)
        self.unlock_submit = QPushButton(_("Unlock"))
        self.unlock_submit.setObjectName("primary")
        self.unlock_submit.setDefault(True)
        self.unlock_submit.clicked.connect(self._submit_unlock)
        card.finish(other, another, self.unlock_submit)
        return card

    def _make_join(self) -> _Card:
        card = _Card(
            _("Join a building"),
            _(
                "Type the relay address and the invite code the syndic gave you. This computer "
                "then keeps its own encrypted copy of the building and syncs it."
            ),
        )
        self.relay_address = QLineEdit()
        self.relay_address.setObjectName("joinRelay")
        self.relay_address.setPlaceholderText("https://relay.example.org")
        self.invite_code = QLineEdit()
        self.invite_code.setObjectName("joinCode")
        self.invite_code.setPlaceholderText(_("e.g. K7Q2M-9XD4P"))
        self.invite_code.returnPressed.connect(self._submit_join)
        for field in (self.relay_address, self.invite_code):
            field.textChanged.connect(lambda text, field=field: self._maybe_link(field, text))
        form = QFormLayout()
        form.addRow(_("&Relay address"), self.relay_address)
        form.addRow(_("Invite &code"), self.invite_code)
        card.layout_.addLayout(form)
        note = QLabel(
            _(
                "The code works once and expires after a few days; capitals, spaces and dashes "
                "do not matter. You may also paste the invite link."
            )
        )
        note.setObjectName("hint")
        note.setWordWrap(True)
        card.layout_.addWidget(note)
        back = QPushButton(_("Back"))
        back.clicked.connect(self._leave_join)
        self.join_submit = QPushButton(_("Continue") if self.needs_new_passphrase else _("Join"))
        self.join_submit.setObjectName("primary")
        self.join_submit.setDefault(True)
        self.join_submit.clicked.connect(self._submit_join)
        card.finish(back, self.join_submit)
        return card

    # -- moving between pages ------------------------------------------------------------

    def show_page(self, card: _Card) -> None:
        self.stack.setCurrentIndex(self.cards.index(card))
        card.error.clear_message()
        self.set_busy("")

    def current_card(self) -> _Card:
        return self.cards[self.stack.currentIndex()]

    def ask_unlock(self, path: Path, detail: str, error: str = "") -> None:
        self._unlock_path = path
        self.unlock.text.setText(detail)
        self.unlock.text.show()
        self.show_page(self.unlock)
        self.unlock_passphrase.clear()
        self.unlock_passphrase.setFocus()
        if error:
            self.show_error(error)

    def show_error(self, message: str) -> None:
        self.set_busy("")
        self.current_card().error.show_message(message)

    def is_busy(self) -> bool:
        return self.current_card().busy.isVisibleTo(self)

    def set_busy(self, message: str, stoppable: bool = False) -> None:
        """Show what is being done (Argon2 takes a moment) and block double
        clicks; a ``stoppable`` job (a join, which waits for the relay) gets
        a Cancel button."""
        card = self.current_card()
        card.busy.setText(message)
        card.busy.setVisible(bool(message))
        for button in card.findChildren(QPushButton):
            button.setEnabled(not message)
        card.stop.setVisible(bool(message) and stoppable)
        card.stop.setEnabled(True)

    def _stop_join(self) -> None:
        self.set_busy(_("Cancelling…"))
        self.join_cancel_requested.emit()

    # -- answers ---------------------------------------------------------------------

    def _check_bce(self) -> bool:
        text = self.bce.text().strip()
        try:
            if text:
                check_bce(text)
        except KoprogoError as exc:
            self.create.error.show_message(str(exc))
            return False
        self.create.error.clear_message()
        return True

    def _submit_create(self) -> None:
        self._pending_join = None
        if not self._check_bce():
            return
        try:
            association = Association(
                self.name.text().strip(), self.quota_total.value(), self.bce.text().strip()
            )
        except KoprogoError as exc:
            self.create.error.show_message(str(exc))
            return
        self._pending, self._pending_demo = association, False
        self._ask_or_go()

    def _demo(self) -> None:
        self._pending, self._pending_demo, self._pending_join = None, True, None
        self._ask_or_go()

    def _show_join(self) -> None:
        self.show_page(self.join)
        (self.invite_code if self.relay_address.text() else self.relay_address).setFocus()

    def _maybe_link(self, field: QLineEdit, text: str) -> None:
        """A pasted ``koprogo://join?...`` link fills both fields. Any change
        clears the last refusal, which was about what was there before."""
        self.join.error.clear_message()
        parsed = parse_join_link(text)
        if parsed is not None:
            relay, code = parsed
            self.relay_address.setText(relay)
            self.invite_code.setText(code)

    def _submit_join(self) -> None:
        relay = self.relay_address.text().strip().rstrip("/")
        code = self.invite_code.text()
        if not relay.startswith(("https://", "http://")):
            self.show_error(
                _(
                    "Type the relay's address as given by the syndic, starting with https:// "
                    "(for example https://relay.example.org)."
                )
            )
            return
        if not invites.is_well_formed(code):
            self.show_error(
                _("An invite code has ten letters and digits, like K7Q2M-9XD4P. Check it.")
            )
            return
        normal = invites.normalize(code)
        self._pending, self._pending_demo = None, False
        self._pending_join = (relay, f"{normal[:5]}-{normal[5:]}")
        if self._join_passphrase is not None:  # chosen for a try the relay refused
            self._go(self._join_passphrase)
        else:
            self._ask_or_go()

    def _leave_join(self) -> None:
        self._join_passphrase = None
        self.show_page(self.welcome)

    def show_join_error(self, message: str) -> None:
        """The relay refused the code or could not be reached: back to the form."""
        self.show_page(self.join)
        self.show_error(message)

    def _ask_or_go(self) -> None:
        if self.needs_new_passphrase:
            self.passphrase1.clear()
            self.passphrase2.clear()
            self.passphrase_submit.setText(_("Join") if self._pending_join else _("Create"))
            self.show_page(self.new_passphrase)
            self.passphrase1.setFocus()
        else:
            self._go(None)

    def _back_from_passphrase(self) -> None:
        if self._pending_join:
            self.show_page(self.join)
        else:
            self.show_page(self.welcome if self._pending_demo else self.create)

    def _submit_passphrase(self) -> None:
        first, second = self.passphrase1.text(), self.passphrase2.text()
        if len(first) < MIN_PASSPHRASE_LENGTH:
            self.show_error(
                _("The passphrase must have at least {n} characters.").format(
                    n=MIN_PASSPHRASE_LENGTH
                )
            )
        elif first != second:
            self.show_error(_("The two passphrases differ."))
        else:
            self._go(first)

    def _go(self, passphrase: str | None) -> None:
        if self._pending_join is not None:
            relay, code = self._pending_join
            # Kept for another try if the relay refuses the code: the person
            # is not asked to choose it again (found by hand: twice per try).
            self._join_passphrase = passphrase
            self.set_busy(_("Joining the building…"), stoppable=True)
            self.join_requested.emit(relay, code, passphrase)
        elif self._pending_demo:
            self.set_busy(_("Creating the demo building…"))
            self.demo_requested.emit(passphrase)
        elif self._pending is not None:
            self.set_busy(_("Creating the building…"))
            self.create_requested.emit(self._pending, passphrase)

    def _submit_unlock(self) -> None:
        if self._unlock_path is None:
            return
        self.set_busy(_("Unlocking…"))
        self.unlock_requested.emit(self._unlock_path, self.unlock_passphrase.text())
