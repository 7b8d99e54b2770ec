"""What the user sees of sync: the indicator in the status bar, the sync
panel it opens, and the Relay tab of the settings.

All of them only show a :class:`~desktop.sync.SyncStatus` and ask the
:class:`~desktop.sync.SyncController`; the words for each state are here.
"""

from __future__ import annotations

import time

from node.errors import KoprogoError
from node.i18n import _, ngettext
from node.sync import service
from node.sync.machine import State

from .labels import fmt_ago, fmt_time, role_label
from .qt import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    Qt,
    QTimer,
    QToolButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from .sync import Connected, SyncController, SyncStatus
from .widgets import ErrorLabel, alive

# Look of the indicator, by kind (a dynamic property the stylesheet reads).
OK, SYNCING, OFFLINE, STOPPED, OUTDATED, LOCAL, NOTICE = (
    "ok",
    "syncing",
    "offline",
    "stopped",
    "outdated",
    "local",
    "notice",  # synced, with something a person should know (a change too large...)
)


def indicator_kind(status: SyncStatus, busy: bool) -> str:
    if not status.connected:
        return LOCAL
    if status.state == State.READ_ONLY.value:
        return OUTDATED
    if status.state == State.REJECTED.value:
        return STOPPED
    if busy:
        return SYNCING
    if status.state == State.BACKING_OFF.value:
        return OFFLINE
    if status.error:  # idle, but a round left a problem in words
        return NOTICE
    return OK


def pending_text(pending: int) -> str:
    return ngettext("{n} change waiting", "{n} changes waiting", pending).format(n=pending)


def short_problem(status: SyncStatus, kind: str) -> str:
    """A few words for the status bar; the whole sentence is in its tooltip
    and the sync panel (found by hand: the sentence crowded out the bar's
    other messages in French and German)."""
    if kind == OUTDATED:
        return _("Update KoproGo to sync again")
    if kind == STOPPED:
        if status.removed:
            return _("This device was removed from the building")
        return _("Sync stopped: click for details")
    if status.unreachable:
        return _("The relay cannot be reached")
    return _("Sync paused; trying again shortly")


def state_words(
    status: SyncStatus, busy: bool, now: float | None = None, short: bool = False
) -> str:
    """Where sync stands, in one line: ``short`` for the status bar, else
    with the problem's whole sentence (the panel, the tooltip)."""
    now = time.time() if now is None else now
    kind = indicator_kind(status, busy)
    if kind == LOCAL:
        return _("Not syncing: this building is kept on this computer only")
    if kind in (OUTDATED, STOPPED, OFFLINE) and status.error:
        text = short_problem(status, kind) if short else status.error
    elif kind == NOTICE:
        text = _("Synced; something to know: click for details") if short else status.error
    elif kind == SYNCING:
        text = _("Syncing…")
    elif status.last_sync is not None:
        text = _("Synced {ago}").format(ago=fmt_ago(status.last_sync, now))
    else:
        text = _("Not synced yet")
    if status.pending and kind != SYNCING:
        text += " · " + pending_text(status.pending)
    return text


class SyncIndicator(QToolButton):
    """The status bar's sync state: a coloured dot and words; click for the panel."""

    def __init__(self, sync: SyncController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("syncIndicator")
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAutoRaise(True)
        self.sync = sync
        # Bound methods, not lambdas: Qt drops them when the window goes.
        sync.status_changed.connect(self.refresh)
        sync.busy_changed.connect(self.refresh)
        self._clock = QTimer(self)  # "2 min ago" moves on by itself
        self._clock.setInterval(20_000)
        self._clock.timeout.connect(self.refresh)
        self._clock.start()
        self.refresh()

    def kind(self) -> str:
        return indicator_kind(self.sync.status, self.sync.busy)

    def words(self) -> str:
        return state_words(self.sync.status, self.sync.busy, short=True)

    def refresh(self, *_args: object) -> None:
        kind = self.kind()
        click = _("Sync with the relay: click for details and “Sync now”.")
        if not self.sync.known:  # until the worker has read it: nothing to claim yet
            self.setText("● …")
            self.setToolTip(click)
        else:
            self.setText("● " + self.words())
            self.setToolTip(state_words(self.sync.status, self.sync.busy) + "\n" + click)
        self.setProperty("syncState", kind)
        self.style().unpolish(self)
        self.style().polish(self)


class SyncPanel(QDialog):
    """Details of sync and "Sync now"; opened by clicking the indicator."""

    devices_requested = Signal()
    relay_requested = Signal()

    def __init__(self, sync: SyncController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("syncPanel")
        self.setWindowTitle(_("Sync"))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumWidth(480)
        self.sync = sync
        layout = QVBoxLayout(self)
        # Never narrower than its buttons' words (found by hand: "Synchroniser
        # maintenant" was cut at both ends).
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        self.summary = QLabel()
        self.summary.setObjectName("sectionTitle")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        form = QFormLayout()
        form.setHorizontalSpacing(16)
        self.relay = QLabel()
        self.relay.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.role = QLabel()
        self.last_sync = QLabel()
        self.pending = QLabel()
        self.next_try = QLabel()
        form.addRow(_("Relay"), self.relay)
        form.addRow(_("This device"), self.role)
        form.addRow(_("Last sync"), self.last_sync)
        form.addRow(_("Changes waiting to be sent"), self.pending)
        form.addRow(_("Next attempt"), self.next_try)
        layout.addLayout(form)
        self.error = ErrorLabel()
        layout.addWidget(self.error)
        self.hint = QLabel()
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)

        actions = QHBoxLayout()
        self.sync_button = QPushButton(_("Sync now"))
        self.sync_button.setObjectName("primary")
        self.sync_button.clicked.connect(lambda: self.sync.sync_now(manual=True))
        self.devices_button = QPushButton(_("Devices…"))
        self.devices_button.clicked.connect(self._devices)
        self.relay_button = QPushButton(_("Relay settings…"))
        self.relay_button.clicked.connect(self._relay)
        for button in (self.sync_button, self.devices_button, self.relay_button):
            actions.addWidget(button)
        actions.addStretch(1)
        layout.addLayout(actions)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setText(_("Close"))
        buttons.rejected.connect(self.accept)
        layout.addWidget(buttons)
        sync.status_changed.connect(self.refresh)
        sync.busy_changed.connect(self.refresh)
        self.refresh()

    def _devices(self) -> None:
        self.devices_requested.emit()
        self.accept()

    def _relay(self) -> None:
        self.relay_requested.emit()
        self.accept()

    def refresh(self, *_args: object) -> None:
        status, busy = self.sync.status, self.sync.busy
        error = status.error or (self.sync.last_error if status.connected else None)
        # the sentence is on the red line below: the title says it in a few
        # words (found by hand: the panel said the same thing three times)
        self.summary.setText(state_words(status, busy, short=bool(error)))
        self.relay.setText(status.relay or _("none"))
        self.role.setText(role_label(status.role) if status.role else "—")
        self.last_sync.setText(fmt_time(status.last_sync) if status.last_sync else _("never"))
        self.pending.setText(str(status.pending))
        waiting = status.state == State.BACKING_OFF.value and status.retry_at is not None
        self.next_try.setText(fmt_time(status.retry_at) if waiting else "—")
        self.error.show_message(error or "")
        self.sync_button.setEnabled(status.connected and not busy and not status.removed)
        self.devices_button.setEnabled(status.connected)
        if not status.connected:
            hint = _(
                "Connect the building to a relay (Settings → Relay) to use it on other "
                "devices. Everything is encrypted on this computer before it leaves it."
            )
        elif status.state == State.READ_ONLY.value:
            hint = _("Update KoproGo to sync again; until then this device keeps what it has.")
        elif status.removed:
            hint = _(
                "What this device already has stays readable here. To take part again, ask "
                "the syndic for a new invite and join with it."
            )
        elif status.state == State.REJECTED.value:
            hint = _("Automatic sync is stopped until the problem is solved.")
        elif status.state == State.BACKING_OFF.value:
            hint = _("KoproGo tries again by itself at the next try above; you can keep working.")
        else:
            hint = _("KoproGo syncs by itself after each change and every 30 seconds.")
        self.hint.setText(hint)


class RelaySettings(QWidget):
    """Settings → Relay: connect the building to a relay, or change its address."""

    connected = Signal()  # done: the dialog has nothing left to cancel

    def __init__(self, sync: SyncController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("relaySettings")
        self.sync = sync
        layout = QVBoxLayout(self)
        self.state = QLabel()
        self.state.setWordWrap(True)
        self.state.setObjectName("relayState")
        layout.addWidget(self.state)
        explain = QLabel(
            _(
                "A relay lets the syndic's other computers, the council, the owners and the "
                "building's shared computer work on this building. Everything is encrypted on "
                "this computer before it leaves it: the relay cannot read it."
            )
        )
        explain.setObjectName("hint")
        explain.setWordWrap(True)
        layout.addWidget(explain)
        row = QHBoxLayout()
        self.address = QLineEdit()
        self.address.setObjectName("relayAddress")
        self.address.setPlaceholderText("https://relay.example.org")
        self.address.returnPressed.connect(self.submit)
        self.connect_button = QPushButton()
        self.connect_button.setObjectName("primary")
        self.connect_button.clicked.connect(self.submit)
        row.addWidget(self.address, 1)
        row.addWidget(self.connect_button)
        form = QFormLayout()
        label = QLabel(_("Relay &address"))
        label.setBuddy(self.address)  # a row holding a layout gets no buddy by itself
        form.addRow(label, row)
        layout.addLayout(form)
        self.error = ErrorLabel()
        layout.addWidget(self.error)
        self.result = QLabel()
        self.result.setObjectName("hint")
        self.result.setWordWrap(True)
        self.result.hide()
        self.stop = QPushButton(_("Cancel"))  # while it waits for the relay
        self.stop.setObjectName("stopConnect")
        self.stop.clicked.connect(self._stop)
        self.stop.hide()
        result_row = QHBoxLayout()
        result_row.addWidget(self.result, 1)
        result_row.addWidget(self.stop)
        layout.addLayout(result_row)
        layout.addStretch(1)
        self._connecting: service.Interrupt | None = None
        self.address.setText(sync.status.relay or "")
        self._show_status()

    def _show_status(self) -> None:
        status = self.sync.status
        if status.connected:
            self.state.setText(
                _("This building syncs through {url}. This device: {role}.").format(
                    url=status.relay, role=role_label(status.role)
                )
            )
            self.connect_button.setText(_("Change address"))
        else:
            self.state.setText(
                _("This building is not connected to a relay: it is kept on this computer only.")
            )
            self.connect_button.setText(_("Connect to a relay"))

    def submit(self) -> None:
        url = self.address.text().strip().rstrip("/")
        self.error.clear_message()
        self.result.hide()
        if not url.startswith(("https://", "http://")) or len(url) < len("http://x"):
            self.error.show_message(
                _(
                    "Type the relay's address as given by its operator, starting with "
                    "https:// (for example https://relay.example.org)."
                )
            )
            return
        if url == self.sync.status.relay:
            self.result.setText(_("This building already syncs through {url}.").format(url=url))
            self.result.show()
            return
        self.connect_button.setEnabled(False)
        self.address.setEnabled(False)
        self.result.setText(_("Connecting to {url}…").format(url=url))
        self.result.show()
        self._connecting = service.Interrupt()
        self.stop.setEnabled(True)
        self.stop.show()
        self.sync.connect_relay(url, self._connected, self._refused, self._connecting)

    def _stop(self) -> None:
        if self._connecting is not None:
            self._connecting.ask()
            self.stop.setEnabled(False)

    def _connected(self, connected: Connected) -> None:
        if not alive(self):
            return
        self._done()
        message = (
            _("Building registered at {url}.")
            if connected.registered
            else _("Reconnected to {url}.")
        )
        self.result.setText(message.format(url=connected.status.relay))
        self.result.show()
        self._show_status()
        self.connected.emit()

    def _refused(self, exc: KoprogoError) -> None:
        if not alive(self):
            return
        self._done()
        self.result.hide()
        self.error.show_message(str(exc))

    def _done(self) -> None:
        self._connecting = None
        self.stop.hide()
        self.connect_button.setEnabled(True)
        self.address.setEnabled(True)
