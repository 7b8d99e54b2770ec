"""The profile storage key: in the OS keyring, or in a passphrase-encrypted file.

ARCHITECTURE §3–§4. Every blob a profile writes is sealed with one random
32-byte storage key. That key is never written in clear:

* where a keyring backend exists (Windows Credential Manager, macOS Keychain,
  Secret Service), it is kept there under ``koprogo`` / ``storage-key:<profile>``;
* otherwise (headless Linux, CI, the shared building PC) it is sealed in
  ``storage-key.json`` in the profile folder under a key derived from a
  passphrase with Argon2id. ``KOPROGO_PASSPHRASE`` supplies the passphrase
  headless; the desktop asks for it.

Which of the two a profile uses is recorded in the profile and shown to the
user; there is no silent plaintext fallback.
"""

from __future__ import annotations

import base64
import contextlib
import os
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

import keyring
import keyring.backends.fail
import keyring.errors

from shared import keyfile
from shared.crypto import new_key

from .errors import KeyAccessError, ProfileError, WrongPassphrase
from .files import atomic_write_bytes
from .i18n import _

KEYRING_SERVICE = "koprogo"
KEY_FILE = "storage-key.json"
PASSPHRASE_ENV = "KOPROGO_PASSPHRASE"
MIN_PASSPHRASE_LENGTH = 8
# The file's format and Argon2id cost (KOPROGO_ARGON2=interactive in tests)
# are in shared/keyfile.py, which broker key files use too.


class KeyStorage(StrEnum):
    KEYRING = "keyring"
    PASSPHRASE_FILE = "passphrase-file"


# Asked for a passphrase; the argument is True when a new one is being set.
PassphraseProvider = Callable[[bool], str | None]


def keyring_available() -> bool:
    """True when a real keyring backend can hold secrets on this machine."""
    if os.environ.get("KOPROGO_KEY_STORAGE") == KeyStorage.PASSPHRASE_FILE:
        return False
    try:
        backend = keyring.get_keyring()
    except Exception:
        return False
    if isinstance(backend, keyring.backends.fail.Keyring):
        return False
    return getattr(backend, "priority", 0) > 0


def _keyring_user(profile_id: str) -> str:
    return f"storage-key:{profile_id}"


def _passphrase(provider: PassphraseProvider | None, creating: bool) -> str:
    value = os.environ.get(PASSPHRASE_ENV)
    if value is None and provider is not None:
        value = provider(creating)
    if value is None:
        raise KeyAccessError(
            _(
                "This computer has no system keyring, so the profile is protected by a "
                "passphrase. Set KOPROGO_PASSPHRASE or start the desktop app to enter it."
            )
        )
    if creating and len(value) < MIN_PASSPHRASE_LENGTH:
        raise KeyAccessError(
            _("The passphrase must have at least {n} characters.").format(n=MIN_PASSPHRASE_LENGTH)
        )
    return value


def create_storage_key(
    profile_dir: Path,
    profile_id: str,
    provider: PassphraseProvider | None = None,
    storage: KeyStorage | None = None,
) -> tuple[bytes, KeyStorage]:
    """Make a new storage key and keep it safely; returns it with where it went."""
    key = new_key()
    if storage is None:
        storage = KeyStorage.KEYRING if keyring_available() else KeyStorage.PASSPHRASE_FILE
    if storage is KeyStorage.KEYRING and not keyring_available():
        # the keyring library's own words are English and about Python packages
        raise KeyAccessError(
            _(
                "This computer has no system keyring to keep the key in; keep it in a "
                "passphrase-protected file instead."
            )
        )
    if storage is KeyStorage.KEYRING:
        try:
            keyring.set_password(
                KEYRING_SERVICE, _keyring_user(profile_id), base64.b64encode(key).decode()
            )
        except keyring.errors.KeyringError as exc:
            raise KeyAccessError(
                _("The system keyring refused to store the key: {error}").format(error=exc)
            ) from exc
    else:
        write_key_file(profile_dir / KEY_FILE, key, _passphrase(provider, creating=True))
    return key, storage


def load_storage_key(
    profile_dir: Path,
    profile_id: str,
    storage: KeyStorage,
    provider: PassphraseProvider | None = None,
) -> bytes:
    """Fetch the profile's storage key from where the profile says it is."""
    if storage is KeyStorage.KEYRING:
        try:
            encoded = keyring.get_password(KEYRING_SERVICE, _keyring_user(profile_id))
        except keyring.errors.KeyringError as exc:
            raise KeyAccessError(
                _("The system keyring could not be read: {error}").format(error=exc)
            ) from exc
        if encoded is None:
            raise KeyAccessError(
                _(
                    "The key of this profile is not in this computer's keyring. "
                    "Open the profile on the computer that created it, or restore a backup."
                )
            )
        return base64.b64decode(encoded)
    path = profile_dir / KEY_FILE
    if not path.exists():
        raise KeyAccessError(_("The key file of this profile is missing: {path}").format(path=path))
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env is not None and provider is not None:
        # A stale KOPROGO_PASSPHRASE must not lock a person out: ask them.
        try:
            return read_key_file(path, from_env)
        except WrongPassphrase:
            answer = provider(False)
            if answer is None:
                raise
            return read_key_file(path, answer)
    return read_key_file(path, _passphrase(provider, creating=False))


def write_key_file(path: Path, key: bytes, passphrase: str, cost: str | None = None) -> None:
    atomic_write_bytes(path, keyfile.seal_key_file(key, passphrase, keyfile.STORAGE_KEY_AAD, cost))


def read_key_file(path: Path, passphrase: str) -> bytes:
    try:
        return keyfile.open_key_file(path.read_bytes(), passphrase, keyfile.STORAGE_KEY_AAD)
    except keyfile.WrongPassphrase as exc:
        raise WrongPassphrase(_("The passphrase is not correct.")) from exc
    except (OSError, keyfile.KeyFileError) as exc:
        raise ProfileError(
            _("The key file {path} is damaged or not a KoproGo key file.").format(path=path)
        ) from exc


def change_passphrase(profile_dir: Path, old: str, new: str) -> None:
    """Re-seal the key file under a new passphrase (the storage key is unchanged)."""
    if len(new) < MIN_PASSPHRASE_LENGTH:
        raise KeyAccessError(
            _("The passphrase must have at least {n} characters.").format(n=MIN_PASSPHRASE_LENGTH)
        )
    path = profile_dir / KEY_FILE
    key = read_key_file(path, old)
    write_key_file(path, key, new)


def forget_keyring_key(profile_id: str) -> None:
    """Remove a profile's key from the keyring (when the profile is deleted)."""
    # no such entry, or no keyring on this machine: nothing to remove
    with contextlib.suppress(keyring.errors.KeyringError):
        keyring.delete_password(KEYRING_SERVICE, _keyring_user(profile_id))
