"""A profile: one folder holding one building as seen from this device.

The folder holds ``koprogo.sqlite`` (the encrypted store) and, where no
keyring exists, ``storage-key.json`` (the storage key sealed under a
passphrase). Only opaque ids, the choice of key storage, the relay's
address, this device's role and its sync state are in clear.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from shared.ids import new_ulid

from .errors import ProfileError
from .i18n import _
from .keys import KeyStorage, PassphraseProvider, create_storage_key, load_storage_key
from .store import Store


def default_profiles_dir() -> Path:
    """Where the desktop keeps its profiles unless told otherwise."""
    if env := os.environ.get("KOPROGO_HOME"):
        return Path(env) / "profiles"
    if os.name == "nt":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    elif os.uname().sysname == "Darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "KoproGo" / "profiles"


class Profile:
    """An unlocked profile: its folder, its store, its identity."""

    def __init__(self, path: Path, store: Store) -> None:
        self.path = path
        self.store = store
        self.profile_id = store.get_meta("profile_id") or ""
        self.key_storage = KeyStorage(store.get_meta("key_storage") or KeyStorage.KEYRING)

    @property
    def building_id(self) -> str | None:
        return self.store.get_meta("building_id")

    @staticmethod
    def exists(path: Path) -> bool:
        return (path / Store.FILE_NAME).exists()

    @classmethod
    def create(
        cls,
        path: Path,
        provider: PassphraseProvider | None = None,
        key_storage: KeyStorage | None = None,
    ) -> Profile:
        """Make a new, empty profile in ``path`` (which must not hold one)."""
        path = Path(path)
        if cls.exists(path):
            raise ProfileError(
                _(
                    "{path} already holds a KoproGo profile: choose another folder for the new "
                    "one (or remove that one first, if it is no longer used)."
                ).format(path=path)
            )
        if path.exists() and not path.is_dir():  # found by hand: a traceback
            raise ProfileError(
                _("{path} is a file, not a folder: choose a folder for the profile.").format(
                    path=path
                )
            )
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProfileError(
                _("The folder {path} cannot be made: {reason}").format(
                    path=path, reason=exc.strerror or exc
                )
            ) from exc
        if os.name == "posix":
            path.chmod(0o700)
        profile_id = new_ulid()
        key, storage = create_storage_key(path, profile_id, provider, key_storage)
        store = Store(path / Store.FILE_NAME, key)
        if os.name == "posix":  # its -wal and -shm files take the same mode
            (path / Store.FILE_NAME).chmod(0o600)
        store.set_meta({"profile_id": profile_id, "key_storage": storage.value})
        return cls(path, store)

    @classmethod
    def open(cls, path: Path, provider: PassphraseProvider | None = None) -> Profile:
        path = Path(path)
        if not cls.exists(path):
            raise ProfileError(
                _("No KoproGo profile in {path}. Create one with 'init' or 'demo'.").format(
                    path=path
                )
            )
        store = Store(path / Store.FILE_NAME)
        try:
            profile_id = store.get_meta("profile_id")
            storage = store.get_meta("key_storage")
            if not profile_id or storage not in {s.value for s in KeyStorage}:
                raise ProfileError(
                    _("The profile in {path} is incomplete or damaged.").format(path=path)
                )
            store.set_key(load_storage_key(path, profile_id, KeyStorage(storage), provider))
        except BaseException:
            store.close()
            raise
        return cls(path, store)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Profile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def profile_key_storage(path: Path) -> KeyStorage:
    """Where a profile's key is kept, read without unlocking it (the desktop
    asks for a passphrase only when the answer is the key file)."""
    if not Profile.exists(Path(path)):
        raise ProfileError(_("No KoproGo profile in {path}.").format(path=path))
    store = Store(Path(path) / Store.FILE_NAME)
    try:
        value = store.get_meta("key_storage")
    finally:
        store.close()
    if value not in {s.value for s in KeyStorage}:
        raise ProfileError(_("The profile in {path} is incomplete or damaged.").format(path=path))
    return KeyStorage(value)


@dataclass(frozen=True)
class ProfileFacts:
    """What the profile list shows before a profile is unlocked: nothing
    personal (the building's name is encrypted)."""

    key_storage: KeyStorage
    role: str | None  # this device's role in its building (None: not synced yet)
    connected: bool  # it syncs through a relay: the building is kept elsewhere too
    removed: bool  # the relay refused this device as removed from the building


def profile_facts(path: Path) -> ProfileFacts:
    """:class:`ProfileFacts` of the profile in ``path``, read without its key."""
    import json

    from .sync.engine import REMOVED

    storage = profile_key_storage(path)
    store = Store(Path(path) / Store.FILE_NAME)
    try:
        role, relay, status = (store.get_meta(n) for n in ("role", "relay_url", "sync_status"))
    finally:
        store.close()
    try:
        sync = json.loads(status) if status else {}
    except ValueError:
        sync = {}
    removed = sync.get("state") == "rejected" and sync.get("error_code") in REMOVED
    return ProfileFacts(storage, role, bool(relay), removed)


def delete_profile(path: Path) -> None:
    """Remove a profile from this computer: its folder, and its key from the
    keyring (a key file goes with the folder). What other devices and the
    relay hold of its building stays there."""
    import shutil

    from .keys import forget_keyring_key

    path = Path(path)
    if not Profile.exists(path):
        raise ProfileError(_("No KoproGo profile in {path}.").format(path=path))
    store = Store(path / Store.FILE_NAME)
    try:
        profile_id = store.get_meta("profile_id")
    finally:
        store.close()
    if profile_id:
        forget_keyring_key(profile_id)
    try:
        shutil.rmtree(path)
    except OSError as exc:  # a file in use, a read-only disk: said, not a crash
        raise ProfileError(
            _("The folder {path} could not be removed whole: {reason}").format(
                path=path, reason=exc.strerror or exc
            )
        ) from exc


def list_profiles(root: Path) -> list[Path]:
    """Profile folders directly under ``root``, newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and Profile.exists(p)]
    return sorted(found, key=lambda p: (p / Store.FILE_NAME).stat().st_mtime, reverse=True)


def new_profile_dir(root: Path) -> Path:
    """A fresh, unused folder name under ``root`` for a new profile."""
    return Path(root) / new_ulid().lower()
