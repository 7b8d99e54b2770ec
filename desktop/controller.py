"""Which window is up, and which building is open.

The controller starts the app (first-run screen, or the last building),
unlocks profiles, creates buildings through :mod:`node.first_run`, swaps the
main window when the building or the language changes, and closes the
session on the worker before the last window goes.

A passphrase in ``KOPROGO_PASSPHRASE`` is tried first (node does that);
when it does not open the building (a stale variable), the user is asked
for the passphrase as if the variable were not set, and may retry.

While a node call is slow the whole app shows a busy cursor; opening a
building also shows what is going on (on the first-run screen, or in a
small wait box when no such screen is up).

Each open building gets a :class:`~desktop.sync.SyncController`, stopped
before the building closes or another one opens. "Join with an invite"
makes a new profile with :func:`node.sync.service.join`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from node import first_run
from node.domain.registry import Association
from node.errors import KoprogoError, WrongPassphrase
from node.i18n import _, set_language
from node.keys import KeyStorage, PassphraseProvider
from node.profile import delete_profile, new_profile_dir
from node.services.registry import ALL, Change
from node.session import Session
from node.sync import service

from .labels import apply_locale, fmt_moment
from .main_window import MainWindow
from .open_dialog import OpenBuildingDialog
from .ops import Ops
from .qt import QApplication, QCursor, QObject, Qt, QWidget
from .settings import (
    SettingsDialog,
    chosen_language,
    effective_language,
    last_profile,
    save_language,
    save_last_profile,
)
from .start_window import StartWindow
from .state import (
    Opened,
    ProfileEntry,
    SessionInfo,
    StartupFacts,
    Update,
    passphrase_from_environment,
    read_profiles,
    read_startup,
)
from .sync import SyncController
from .widgets import WaitDialog, show_error


def _provider(passphrase: str | None) -> PassphraseProvider | None:
    return None if passphrase is None else (lambda _creating: passphrase)


def join_profile(
    path: Path,
    url: str,
    code: str,
    provider: PassphraseProvider | None,
    storage: KeyStorage,
    interrupt: service.Interrupt | None = None,
) -> Session:
    """Join with an invite into a new profile at ``path`` (on the worker).
    A refused or cancelled join leaves no empty folder behind."""
    try:
        return service.join(path, url, code, provider, storage, interrupt=interrupt)
    except BaseException:
        if path.is_dir() and not any(path.iterdir()):
            shutil.rmtree(path, ignore_errors=True)
        raise


class AppController(QObject):
    def __init__(self, profiles_root: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.root = Path(profiles_root)
        self.ops = Ops(self)
        self.ops.error.connect(self._show_error)
        self.ops.slow.connect(self._show_slow)
        self.keyring = False
        self.info: SessionInfo | None = None
        self.sync: SyncController | None = None  # the open building's
        self.main: MainWindow | None = None
        self.start_window: StartWindow | None = None
        self.dialog: QWidget | None = None  # settings or open dialog, for tests
        self.wait: WaitDialog | None = None  # "Opening the building…" while no screen says it
        self._busy_cursor = False
        self._entries: dict[Path, ProfileEntry] = {}  # what was listed, by folder
        self._joining: service.Interrupt | None = None  # the join under way, to cancel

    # -- starting --------------------------------------------------------------

    def start(self) -> None:
        self.ops.call(lambda: read_startup(self.root), on_done=self._on_startup)

    def _on_startup(self, facts: StartupFacts) -> None:
        self.keyring = facts.keyring
        if not facts.profiles:
            self.show_start()
            return
        last = last_profile()
        entry = next((e for e in facts.profiles if e.path == last), facts.profiles[0])
        self.open_profile(entry)

    def show_start(self, cancellable: bool = False) -> StartWindow:
        """The first-run screen (also File → New building, then cancellable)."""
        if self.start_window is not None:
            self.start_window.close()
        if self.keyring:
            note = _("The building's key will be kept in this computer's system keyring.")
        elif passphrase_from_environment():
            note = _(
                "The building's key will be kept in a key file protected by the "
                "passphrase given in KOPROGO_PASSPHRASE."
            )
        else:
            note = _(
                "This computer has no system keyring: the building's key will be kept "
                "in a key file protected by a passphrase you choose next."
            )
        window = StartWindow(
            needs_new_passphrase=not self.keyring and not passphrase_from_environment(),
            storage_note=note,
            cancellable=cancellable,
        )
        window.create_requested.connect(self.create_building)
        window.demo_requested.connect(self.create_demo)
        window.join_requested.connect(self.join_building)
        window.join_cancel_requested.connect(self.cancel_join)
        window.unlock_requested.connect(lambda path, passphrase: self._open(path, passphrase))
        window.language_chosen.connect(self.change_language)
        window.choose_requested.connect(self.choose_building)
        window.cancelled.connect(window.close)
        window.destroyed.connect(lambda: self._forget_start(window))
        self.start_window = window
        window.show()
        return window

    def _forget_start(self, window: StartWindow) -> None:
        if self.start_window is window:
            self.start_window = None

    # -- opening and creating -------------------------------------------------------

    def open_profile(self, entry: ProfileEntry) -> None:
        self._entries[entry.path] = entry
        if self.info is not None and entry.path == self.info.path:
            return  # already open
        asks = entry.key_storage is KeyStorage.PASSPHRASE_FILE
        if asks and not passphrase_from_environment():
            window = self.start_window or self.show_start(cancellable=self.main is not None)
            window.ask_unlock(entry.path, self._unlock_detail(entry))
        else:
            self._open(entry.path, None)

    def open_folder(self, path: Path) -> None:
        """A folder picked by hand: find out where its key is, then open it."""

        def found(entries: tuple[ProfileEntry, ...]) -> None:
            entry = next((e for e in entries if e.path == path), None)
            if entry is None:
                self._show_error(_("No KoproGo profile in {path}.").format(path=path))
            else:
                self.open_profile(entry)

        self.ops.call(lambda: read_profiles(path.parent), on_done=found)

    def _unlock_detail(self, entry: ProfileEntry) -> str:
        return _(
            "The building kept in {folder} (last used {when}) is protected by a passphrase."
        ).format(folder=entry.path.name, when=fmt_moment(entry.last_used))

    def _open(self, path: Path, passphrase: str | None) -> None:
        """Open the profile at ``path``; ``passphrase`` is the one the user
        typed (None: the keyring, or ``KOPROGO_PASSPHRASE``)."""
        provider = _provider(passphrase)
        self._begin_wait(_("Opening the building…"))
        self.ops.open(
            lambda: Session.open(path, provider),
            on_done=self._opened,
            on_error=lambda exc: self._open_failed(path, exc, typed=passphrase is not None),
        )

    def _open_failed(self, path: Path, exc: KoprogoError, typed: bool) -> None:
        self._end_wait()
        if isinstance(exc, WrongPassphrase):
            # A typo, or a stale KOPROGO_PASSPHRASE: ask (again) for the passphrase.
            window = self.start_window or self.show_start(cancellable=self.main is not None)
            entry = self._entries.get(path)
            detail = self._unlock_detail(entry) if entry else str(path)
            error = str(exc)
            if not typed and passphrase_from_environment():
                error = _(
                    "The passphrase given in KOPROGO_PASSPHRASE does not unlock this "
                    "building. Type the building's passphrase."
                )
            window.ask_unlock(path, detail, error=error)
            return
        if self.main is None and self.start_window is None:
            self.show_start()
        if self.start_window is not None:
            self.start_window.show_page(self.start_window.welcome)
        self._show_error(str(exc))

    def create_building(self, association: Association, passphrase: str | None) -> None:
        path, provider, storage = new_profile_dir(self.root), _provider(passphrase), self._storage()
        self.ops.open(
            lambda: first_run.create_building(path, association, provider, storage),
            on_done=self._opened,
            on_error=self._create_failed,
        )

    def create_demo(self, passphrase: str | None) -> None:
        path, provider, storage = new_profile_dir(self.root), _provider(passphrase), self._storage()
        self.ops.open(
            lambda: first_run.create_demo(path, provider, storage),
            on_done=self._opened,
            on_error=self._create_failed,
        )

    def join_building(self, url: str, code: str, passphrase: str | None) -> None:
        path, provider, storage = new_profile_dir(self.root), _provider(passphrase), self._storage()
        self._joining = interrupt = service.Interrupt()
        self.ops.open(
            lambda: join_profile(path, url, code, provider, storage, interrupt),
            on_done=self._opened,
            on_error=self._join_failed,
        )

    def cancel_join(self) -> None:
        """Cancel on "Joining the building…": the join ends at its next wait
        for the relay, unless the relay was already asked to enrol this
        computer (then it finishes, and the building opens)."""
        if self._joining is not None:
            self._joining.ask()

    def _join_failed(self, exc: KoprogoError) -> None:
        self._joining = None
        self._end_wait()
        if self.start_window is not None:
            self.start_window.show_join_error(str(exc))
        else:
            self._show_error(str(exc))

    def _storage(self) -> KeyStorage:
        return KeyStorage.KEYRING if self.keyring else KeyStorage.PASSPHRASE_FILE

    def _create_failed(self, exc: KoprogoError) -> None:
        self._end_wait()
        if self.start_window is not None:
            self.start_window.show_error(str(exc))
        else:
            self._show_error(str(exc))

    def _opened(self, opened: Opened) -> None:
        self._joining = None
        self._end_wait()
        self.info = opened.info
        save_last_profile(opened.info.path)
        self._stop_sync()
        self.sync = SyncController(self.ops, opened.info.path, self)
        self._show_main(opened.update)
        self.sync.start(opened.update.state)
        if self.start_window is not None:
            self.start_window.close()

    # -- showing that something slow is going on ----------------------------------------

    def _begin_wait(self, message: str) -> None:
        """Say what is being done while a building opens: on the first-run
        screen if it is up, else in a small box (over the main window, or on
        its own at start-up) that appears only if opening is slow."""
        self._end_wait()
        start = self.start_window
        if start is not None and start.isVisible():
            if not start.is_busy():
                start.set_busy(message)
            return
        self.wait = WaitDialog(message, self.main)

    def _end_wait(self) -> None:
        if self.wait is not None:
            self.wait.finish()
            self.wait = None

    def _show_slow(self, slow: bool) -> None:
        """A busy cursor over the whole app while the worker is slow to answer."""
        if slow and not self._busy_cursor:
            QApplication.setOverrideCursor(QCursor(Qt.CursorShape.BusyCursor))
        elif not slow and self._busy_cursor:
            QApplication.restoreOverrideCursor()
        self._busy_cursor = slow

    # -- the main window -------------------------------------------------------------

    def _show_main(self, update: Update | None, page: str = "lots") -> None:
        assert self.info is not None and self.sync is not None
        old, self.main = self.main, MainWindow(self.ops, self.info, self.sync, page)
        self.main.new_building_requested.connect(lambda: self.show_start(cancellable=True))
        self.main.open_requested.connect(self.choose_building)
        self.main.settings_requested.connect(self.show_settings)
        self.main.relay_settings_requested.connect(lambda: self.show_settings(SettingsDialog.RELAY))
        self.main.close_requested.connect(self._close_main)
        if old is not None:
            self.main.restoreGeometry(old.saveGeometry())
        if update is not None:
            self.main.apply_update(update)
        else:
            self.main.load()
        self.main.show()
        if old is not None:
            self._discard(old)

    def _discard(self, window: MainWindow) -> None:
        self.ops.changed.disconnect(window.apply_update)
        self.ops.slow.disconnect(window.show_working)
        window.allow_close = True
        window.close()

    def _stop_sync(self) -> None:
        if self.sync is not None:
            self.sync.stop()
            self.sync = None

    def _close_main(self, then: Callable[[], None] | None = None) -> None:
        window = self.main
        self._stop_sync()

        def closed(_result: object) -> None:
            self.info = None
            if window is not None:
                self._discard(window)
            if self.main is window:
                self.main = None
            if then is not None:
                then()

        self.ops.close(on_done=closed)

    def choose_building(self) -> None:
        self.ops.call(lambda: read_profiles(self.root), on_done=self._show_open_dialog)

    def _show_open_dialog(self, entries: tuple[ProfileEntry, ...]) -> None:
        parent = self.start_window or self.main
        dialog = OpenBuildingDialog(entries, self.info.path if self.info else None, parent)
        dialog.chosen.connect(
            lambda choice: (
                self.open_profile(choice)
                if isinstance(choice, ProfileEntry)
                else self.open_folder(choice)
            )
        )
        dialog.remove_requested.connect(self.remove_profile)
        self.dialog = dialog
        dialog.open()

    def remove_profile(self, entry: ProfileEntry) -> None:
        """Delete a profile from this computer (confirmed in the Open
        dialog); the open building is closed first, then the first-run
        screen shows what is left."""
        self._entries.pop(entry.path, None)

        def removed(_result: object) -> None:
            if self.main is None:
                self.show_start()

        def refused(exc: KoprogoError) -> None:
            self._show_error(str(exc))
            removed(None)  # never left without a window

        def delete() -> None:
            self.ops.call(lambda: delete_profile(entry.path), on_done=removed, on_error=refused)

        if self.info is not None and entry.path == self.info.path:
            self._close_main(then=delete)
        else:
            delete()

    # -- settings and language ----------------------------------------------------------

    def show_settings(self, tab: str = SettingsDialog.GENERAL) -> SettingsDialog:
        info = self.info
        dialog = SettingsDialog(
            info.key_storage if info else None,
            info.path if info else None,
            self.main,
            sync=self.sync if info else None,
            tab=tab,
        )
        dialog.accepted.connect(lambda: self._settings_accepted(dialog))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _settings_accepted(self, dialog: SettingsDialog) -> None:
        if dialog.choice() != chosen_language():
            self.change_language(dialog.choice())

    def change_language(self, choice: str) -> None:
        """Store the choice and rebuild the windows in the new language."""
        if choice != chosen_language():
            save_language(choice)
        set_language(effective_language())
        apply_locale()
        if self.sync is not None:
            self.sync.language_changed()
        if self.main is not None:
            state = self.main.state
            page = self.main.current_page()
            alert_done = self.main.task_alert.done
            update = Update(Change.of(*ALL), state) if state is not None else None
            self._show_main(update, page)
            if alert_done and self.main is not None:
                self.main.task_alert.stay_done()
        if self.start_window is not None:
            cancellable = self.start_window.cancellable
            self.start_window.close()
            self.show_start(cancellable)

    # -- errors and exit ----------------------------------------------------------------

    def _show_error(self, message: str) -> None:
        parent = self.start_window or self.main
        show_error(parent, message)

    def shutdown(self) -> None:
        """Stop syncing, close the session (checkpointing) and stop the worker."""
        self._end_wait()
        self._stop_sync()
        self.ops.shutdown()
