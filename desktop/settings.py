"""The desktop's own, non-personal settings (language, window geometry),
and the settings dialog (General: language and key; Relay: where the open
building syncs).

They are kept with QSettings, outside any profile: nothing in them names a
person or a building. The language defaults to the system's. The relay
address is the building's own, kept in its profile by node.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from node.i18n import LANGUAGES, _, system_language
from node.keys import KeyStorage

from .labels import key_storage_label, language_label
from .qt import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSettings,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from .sync import SyncController

ORGANIZATION = "KoproGo"
APPLICATION = "koprogo"
SYSTEM = ""  # the language setting's value for "follow the system"


def app_settings() -> QSettings:
    """INI format everywhere, so tests can point it at a temporary folder
    with ``QSettings.setPath``."""
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
    )


def chosen_language() -> str:
    """The language setting: a code from LANGUAGES, or SYSTEM."""
    value = app_settings().value("language", SYSTEM)
    return value if value in LANGUAGES else SYSTEM


def effective_language() -> str:
    return chosen_language() or system_language()


def save_language(choice: str) -> None:
    app_settings().setValue("language", choice)


def last_profile() -> Path | None:
    value = app_settings().value("last_profile", "")
    return Path(value) if value else None


def save_last_profile(path: Path) -> None:
    app_settings().setValue("last_profile", str(path))


class SettingsDialog(QDialog):
    """General (language, where the open building's key is kept) and, with a
    building open, Relay."""

    GENERAL, RELAY = "general", "relay"

    def __init__(
        self,
        key_storage: KeyStorage | None,
        profile_path: Path | None,
        parent: QWidget | None = None,
        sync: SyncController | None = None,
        tab: str = GENERAL,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle(_("Settings"))
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs)
        general = QWidget()
        form = QFormLayout(general)
        self.language = QComboBox()
        self.language.setObjectName("languageChoice")
        self.language.addItem(
            _("System default ({language})").format(language=language_label(system_language())),
            SYSTEM,
        )
        for code in LANGUAGES:
            self.language.addItem(language_label(code), code)
        self.language.setCurrentIndex(self.language.findData(chosen_language()))
        form.addRow(_("&Language"), self.language)
        if profile_path is not None:
            storage = QLabel(key_storage_label(key_storage))
            storage.setObjectName("settingsKeyStorage")
            form.addRow(_("Key of this building kept in"), storage)
            folder = QLabel(str(profile_path))
            folder.setWordWrap(True)
            form.addRow(_("Profile folder"), folder)
        self.tabs.addTab(general, _("General"))
        self.relay = None
        if sync is not None:
            from .sync_widgets import RelaySettings

            self.relay = RelaySettings(sync)
            self.tabs.addTab(self.relay, _("Relay"))
            if tab == self.RELAY:
                self.tabs.setCurrentWidget(self.relay)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_("OK"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Cancel"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.buttons = buttons
        if self.relay is not None:
            # found by hand: Cancel after connecting read as undoing it, which it does not
            self.relay.connected.connect(self._nothing_to_cancel)

    def _nothing_to_cancel(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).hide()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_("Close"))

    def choice(self) -> str:
        return self.language.currentData()
