"""Nothing personal on disk in clear (ARCHITECTURE §3): after the demo is
created and closed, no byte of any file of the profile holds a demo owner's
name, e-mail or address."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.demo import demo_personal_strings
from node.first_run import create_demo
from node.keys import KeyStorage
from tests.helpers import PASSPHRASE, profile_bytes, reopen


def encodings(text: str) -> list[bytes]:
    return [text.encode("utf-8"), text.encode("utf-16-le"), text.lower().encode("utf-8")]


@pytest.mark.parametrize("storage", [KeyStorage.PASSPHRASE_FILE, KeyStorage.KEYRING])
def test_demo_profile_files_hold_no_personal_data(tmp_path: Path, storage, memory_keyring):
    path = tmp_path / "demo"
    session = create_demo(path, lambda _c: PASSPHRASE, storage)
    # edits after creation too, so both updates and checkpoints are on disk
    ann = session.registry.add_person("Zoë Vandenbroucke", email="zoe.vdb@example.be").record_id
    session.registry.set_owner("C1", ann, 10_000, voting=True)
    secrets = [*demo_personal_strings(), "Zoë Vandenbroucke", "zoe.vdb@example.be"]
    raw_while_open = profile_bytes(path)
    session.close()
    raw = raw_while_open + profile_bytes(path)

    leaks = [s for s in secrets for form in encodings(s) if form in raw]
    assert leaks == []
    # and yet it is all there for the key holder
    if storage is KeyStorage.PASSPHRASE_FILE:
        names = {p.name for p in reopen(path).registry.read().persons}
        assert "Marie Lambert" in names and "Zoë Vandenbroucke" in names


def test_the_privacy_check_would_see_a_leak(tmp_path: Path):
    """Guard against a check that cannot fail: plaintext written beside the
    profile is found by the same search."""
    path = tmp_path / "p"
    path.mkdir()
    (path / "notes.txt").write_text("Marie Lambert, Avenue des Tilleuls 42")
    raw = profile_bytes(path)
    assert any(form in raw for form in encodings("Marie Lambert"))
