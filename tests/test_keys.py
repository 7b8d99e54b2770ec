"""The storage key: OS keyring, or a key file sealed under an Argon2id passphrase."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from node.errors import KeyAccessError, ProfileError, WrongPassphrase
from node.keys import (
    KEY_FILE,
    KeyStorage,
    change_passphrase,
    create_storage_key,
    keyring_available,
    load_storage_key,
    read_key_file,
)
from node.profile import Profile, ProfileFacts, delete_profile, profile_facts, profile_key_storage
from tests.helpers import PASSPHRASE


def test_headless_linux_has_no_keyring_so_the_key_file_is_used(tmp_path: Path, passphrase):
    assert keyring_available() is False
    profile = Profile.create(tmp_path / "p")
    assert profile.key_storage is KeyStorage.PASSPHRASE_FILE
    assert (tmp_path / "p" / KEY_FILE).exists()
    profile.close()
    assert profile_key_storage(tmp_path / "p") is KeyStorage.PASSPHRASE_FILE


def test_key_file_holds_no_key_in_clear(tmp_path: Path):
    key, _ = create_storage_key(tmp_path, "pid", lambda _c: PASSPHRASE, KeyStorage.PASSPHRASE_FILE)
    raw = (tmp_path / KEY_FILE).read_bytes()
    assert key not in raw and key.hex().encode() not in raw
    record = json.loads(raw)
    assert record["kdf"] == "argon2id"
    assert read_key_file(tmp_path / KEY_FILE, PASSPHRASE) == key


def test_wrong_passphrase_is_refused_with_a_clear_message(tmp_path: Path):
    create_storage_key(tmp_path, "pid", lambda _c: PASSPHRASE, KeyStorage.PASSPHRASE_FILE)
    with pytest.raises(WrongPassphrase, match="passphrase is not correct"):
        load_storage_key(tmp_path, "pid", KeyStorage.PASSPHRASE_FILE, lambda _c: "wrong one")


def test_no_passphrase_available_says_how_to_give_one(tmp_path: Path):
    with pytest.raises(KeyAccessError, match="KOPROGO_PASSPHRASE"):
        create_storage_key(tmp_path, "pid", None, KeyStorage.PASSPHRASE_FILE)
    assert not (tmp_path / KEY_FILE).exists()


def test_short_passphrase_is_refused(tmp_path: Path):
    with pytest.raises(KeyAccessError, match="at least 8"):
        create_storage_key(tmp_path, "pid", lambda _c: "short", KeyStorage.PASSPHRASE_FILE)


def test_environment_passphrase_is_used_headless(tmp_path: Path, passphrase):
    key, storage = create_storage_key(tmp_path, "pid")
    assert storage is KeyStorage.PASSPHRASE_FILE
    assert load_storage_key(tmp_path, "pid", storage) == key


def test_damaged_key_file_is_reported(tmp_path: Path):
    (tmp_path / KEY_FILE).write_text("{not json")
    with pytest.raises(ProfileError, match="damaged"):
        load_storage_key(tmp_path, "pid", KeyStorage.PASSPHRASE_FILE, lambda _c: PASSPHRASE)


def test_change_passphrase_keeps_the_key(tmp_path: Path):
    key, _ = create_storage_key(tmp_path, "pid", lambda _c: PASSPHRASE, KeyStorage.PASSPHRASE_FILE)
    change_passphrase(tmp_path, PASSPHRASE, "a brand new passphrase")
    assert read_key_file(tmp_path / KEY_FILE, "a brand new passphrase") == key
    with pytest.raises(WrongPassphrase):
        read_key_file(tmp_path / KEY_FILE, PASSPHRASE)


def test_keyring_is_preferred_when_one_exists(tmp_path: Path, memory_keyring):
    assert keyring_available() is True
    profile = Profile.create(tmp_path / "p")
    assert profile.key_storage is KeyStorage.KEYRING
    assert not (tmp_path / "p" / KEY_FILE).exists()
    (stored,) = memory_keyring.secrets.values()
    profile.close()
    reopened = Profile.open(tmp_path / "p")
    assert reopened.store.key and stored
    reopened.close()


def test_key_missing_from_keyring_is_explained(tmp_path: Path, memory_keyring):
    Profile.create(tmp_path / "p").close()
    memory_keyring.secrets.clear()
    with pytest.raises(KeyAccessError, match="not in this computer's keyring"):
        Profile.open(tmp_path / "p")


def test_key_storage_can_be_forced_to_the_key_file(tmp_path, memory_keyring, monkeypatch):
    """The shared building PC keeps keys under passphrases, keyring or not."""
    monkeypatch.setenv("KOPROGO_KEY_STORAGE", "passphrase-file")
    monkeypatch.setenv("KOPROGO_PASSPHRASE", PASSPHRASE)
    profile = Profile.create(tmp_path / "p")
    assert profile.key_storage is KeyStorage.PASSPHRASE_FILE
    assert memory_keyring.secrets == {}
    profile.close()


def test_a_stale_environment_passphrase_falls_back_to_asking(tmp_path: Path, monkeypatch):
    Profile.create(tmp_path / "p", lambda _c: PASSPHRASE, KeyStorage.PASSPHRASE_FILE).close()
    monkeypatch.setenv("KOPROGO_PASSPHRASE", "an old passphrase")
    asked = []
    profile = Profile.open(tmp_path / "p", lambda creating: asked.append(creating) or PASSPHRASE)
    assert asked == [False]
    profile.close()
    with pytest.raises(WrongPassphrase):
        Profile.open(tmp_path / "p")  # headless: no one to ask, a clear refusal


def test_asking_for_a_keyring_where_there_is_none_is_refused_in_words(tmp_path: Path):
    """Found by hand: `--key-storage keyring` without a keyring printed the
    keyring library's English advice about Python packages."""
    assert keyring_available() is False
    with pytest.raises(KeyAccessError, match="no system keyring to keep the key in"):
        create_storage_key(tmp_path, "profile-id", None, KeyStorage.KEYRING)
    assert list(tmp_path.iterdir()) == []


def test_deleting_a_profile_removes_its_folder_and_its_keyring_key(tmp_path, memory_keyring):
    """Remove from this computer (the Open dialog): the folder goes, and the
    key with it; what the list showed came from what is in clear."""
    path = tmp_path / "p"
    Profile.create(path).close()
    # only this user may read the folder and its files (found by hand: 644)
    assert (path.stat().st_mode & 0o777, (path / "koprogo.sqlite").stat().st_mode & 0o777) == (
        0o700,
        0o600,
    )
    facts = profile_facts(path)
    assert facts == ProfileFacts(KeyStorage.KEYRING, None, False, False)
    assert memory_keyring.secrets
    delete_profile(path)
    assert not path.exists() and not memory_keyring.secrets
    with pytest.raises(ProfileError, match="No KoproGo profile"):
        delete_profile(path)
    (tmp_path / "other").mkdir()
    with pytest.raises(ProfileError, match="No KoproGo profile"):
        delete_profile(tmp_path / "other")  # a folder that is not a profile is left alone
    assert (tmp_path / "other").is_dir()


def test_a_profile_that_cannot_be_removed_whole_says_so(tmp_path, memory_keyring, monkeypatch):
    """A file held open elsewhere or a read-only disk: a message, not a crash."""
    import shutil

    path = tmp_path / "p"
    Profile.create(path).close()

    def refuse(target, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(shutil, "rmtree", refuse)
    with pytest.raises(ProfileError, match="could not be removed whole: Permission denied"):
        delete_profile(path)
