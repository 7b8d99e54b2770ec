"""Shared fixtures: real profiles in temporary folders, real SQLite, real keys.

Argon2id runs at libsodium's "interactive" cost in tests (the cost is stored
in each key file, so this changes speed, not behaviour). No test touches the
developer's own keyring: a test that needs one installs an in-memory backend.
"""

from __future__ import annotations

import os
from pathlib import Path

import keyring
import keyring.backend
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["KOPROGO_ARGON2"] = "interactive"

from node import i18n
from tests.helpers import PASSPHRASE


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that lives in this process only."""

    priority = 10

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """English messages, no real keyring, KOPROGO_HOME inside tmp_path."""
    from keyring.backends import fail

    monkeypatch.setenv("KOPROGO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KOPROGO_PASSPHRASE", raising=False)
    monkeypatch.delenv("KOPROGO_KEY_STORAGE", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    i18n.set_language("en")
    yield
    keyring.set_keyring(previous)
    i18n.set_language("en")


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def passphrase(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("KOPROGO_PASSPHRASE", PASSPHRASE)
    return PASSPHRASE
