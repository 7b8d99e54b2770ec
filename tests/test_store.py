"""The encrypted store: durability, checkpoints compared by content, bad input."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pycrdt
import pytest

from node.documents import registry_doc as rdoc
from node.domain.registry import LotType
from node.errors import ProfileError, ReadOnlyError, StorageError
from node.store import Store
from tests.helpers import (
    PASSPHRASE,
    fill_disk,
    make_session,
    profile_bytes,
    read_only,
    reopen,
    small_disk,
)

ROOT = Path(__file__).resolve().parent.parent


def contents(session) -> dict:
    """Everything the registry document holds, as plain data."""
    doc = session.document("registry").doc
    return {name: rdoc.root(doc, name).to_py() for name in rdoc.ROOTS}


def fill(session, n: int) -> None:
    for i in range(n):
        session.registry.add_lot(f"L{i}", LotType.APARTMENT, 10 + i, floor=i % 5)
    person = session.registry.add_person("Anna Vermeulen", email="anna@example.be").record_id
    session.registry.set_owner("L0", person, 10_000, voting=True)
    session.registry.update_lot("L1", quota=99)


def test_checkpoint_keeps_every_content_across_close_and_reopen(tmp_path: Path):
    path = tmp_path / "p"
    session = make_session(path)
    fill(session, 40)
    ref = session.document("registry").ref
    before = contents(session)
    assert session.profile.store.update_count(ref) > 40

    folded = session.document("registry").checkpoint()

    assert folded > 40
    assert session.profile.store.update_count(ref) == 0
    session.close()
    session = reopen(path)
    assert contents(session) == before
    # edits after a checkpoint land on top of it
    session.registry.update_lot("L2", quota=7)
    session.close()
    session = reopen(path)
    expected = before
    lot_id = session.registry.find_lot("L2").id
    expected["lots"][lot_id]["quota"] = 7.0
    assert contents(session) == expected
    session.close()


def test_checkpoint_folds_in_updates_another_process_wrote(tmp_path: Path):
    """Two sessions on one profile: checkpointing from the first must keep the
    second's edit, which the first never loaded into memory."""
    path = tmp_path / "p"
    first = make_session(path)
    first.registry.add_lot("A", LotType.APARTMENT, 500)
    second = reopen(path)
    second.registry.add_lot("B", LotType.APARTMENT, 500)
    first.document("registry").checkpoint()
    first.close()
    second.close()
    session = reopen(path)
    assert sorted(lot.number for lot in session.registry.read().lots) == ["A", "B"]
    session.close()


def test_every_load_takes_a_fresh_client_id(tmp_path: Path):
    path = tmp_path / "p"
    session = make_session(path)
    first_id = session.document("registry").doc.client_id
    session.close()
    ids = {first_id}
    for _ in range(5):
        session = reopen(path)
        ids.add(session.document("registry").doc.client_id)
        session.close()
    assert len(ids) == 6


def test_nothing_personal_is_stored_in_clear(tmp_path: Path):
    path = tmp_path / "p"
    session = make_session(path, name="Résidence Clairefontaine")
    person = session.registry.add_person(
        "Bénédicte Vanderelst",
        email="benedicte@example.be",
        street="Rue du Moulin 12",
        postal_code="1310",
        city="La Hulpe",
    ).record_id
    session.registry.add_lot("A1", LotType.APARTMENT, 1000)
    session.registry.set_owner("A1", person, 10_000, voting=True)
    raw = profile_bytes(path)  # while open: the WAL holds recent pages
    session.close()
    raw += profile_bytes(path)
    for secret in (
        "Bénédicte",
        "Vanderelst",
        "benedicte@example.be",
        "Rue du Moulin",
        "Clairefontaine",
    ):
        assert secret.encode() not in raw
        assert secret.encode("utf-16-le") not in raw


def test_wrong_key_cannot_read_and_says_so(tmp_path: Path):
    path = tmp_path / "p"
    make_session(path).close()
    store = Store(path / Store.FILE_NAME, os.urandom(32))
    (ref,) = store.documents()
    with pytest.raises(StorageError, match="cannot be decrypted"):
        list(store.read(ref))
    store.close()


def test_tampered_blob_is_detected(tmp_path: Path):
    path = tmp_path / "p"
    session = make_session(path)
    session.registry.add_lot("A1", LotType.APARTMENT, 1000)
    session.close()
    with sqlite3.connect(path / Store.FILE_NAME) as db:  # closing checkpointed
        document, blob = db.execute("SELECT document, blob FROM checkpoints").fetchone()
        flipped = bytearray(blob)
        flipped[-1] ^= 1
        db.execute("UPDATE checkpoints SET blob = ? WHERE document = ?", (bytes(flipped), document))
    with pytest.raises(StorageError, match="altered"):
        reopen(path).registry.read()


def test_blob_moved_to_another_document_does_not_open(tmp_path: Path):
    """The associated data binds each blob to its building and document."""
    path = tmp_path / "p"
    session = make_session(path)
    store = session.profile.store
    other = store.document(session.building_id, "ledger/2026")
    session.close()
    with sqlite3.connect(path / Store.FILE_NAME) as db:
        db.execute("UPDATE updates SET document = ?", (other.pk,))
    session = reopen(path)
    with pytest.raises(StorageError):
        list(session.profile.store.read(other))
    session.close()


def test_store_written_by_a_newer_version_is_refused(tmp_path: Path):
    path = tmp_path / "p"
    make_session(path).close()
    with sqlite3.connect(path / Store.FILE_NAME) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(ProfileError, match="newer version of KoproGo"):
        reopen(path)


def test_a_foreign_sqlite_file_is_not_taken_for_a_profile(tmp_path: Path):
    path = tmp_path / "p"
    path.mkdir()
    with sqlite3.connect(path / Store.FILE_NAME) as db:
        db.execute("CREATE TABLE notes (text)")
        db.execute("INSERT INTO notes VALUES ('keep me')")
    with pytest.raises(ProfileError, match="not a KoproGo profile"):
        Store(path / Store.FILE_NAME)
    with sqlite3.connect(path / Store.FILE_NAME) as db:
        assert db.execute("SELECT text FROM notes").fetchall() == [("keep me",)]


def test_document_from_a_newer_schema_opens_read_only(tmp_path: Path):
    path = tmp_path / "p"
    session = make_session(path)
    session.registry.add_lot("A1", LotType.APARTMENT, 1000)
    live = session.document("registry")
    newer = pycrdt.Doc()
    newer.apply_update(live.get_update())
    newer.get("lots", type=pycrdt.Map)["future"] = pycrdt.Map({"number": "Z"})
    session.profile.store.append(live.ref, (2, 0), [newer.get_update(live.get_state())])
    session.close()

    session = reopen(path)
    assert "newer version" in session.registry.read_only_reason
    assert [lot.number for lot in session.registry.read().lots] == ["A1"]
    with pytest.raises(ReadOnlyError):
        session.registry.add_lot("A2", LotType.APARTMENT, 1)
    session.close()


def test_full_disk_refuses_the_edit_and_loses_nothing(tmp_path: Path):
    path = tmp_path / "p"
    session = make_session(path)
    session.registry.add_lot("A1", LotType.APARTMENT, 100)
    store = session.profile.store
    pages = store._conn.exec_driver_sql("PRAGMA page_count").scalar_one()
    store._conn.exec_driver_sql(f"PRAGMA max_page_count = {pages}")

    with pytest.raises(StorageError, match="disk is full"):
        session.registry.add_person("X" * 200_000)

    # memory shows what the disk holds: the refused person is not there
    assert [p.name for p in session.registry.read().persons] == []
    store._conn.exec_driver_sql("PRAGMA max_page_count = 1073741823")
    session.registry.add_lot("A2", LotType.APARTMENT, 100)
    session.close()
    session = reopen(path)
    assert [lot.number for lot in session.registry.read().lots] == ["A1", "A2"]
    assert session.registry.read().persons == ()
    session.close()


def test_a_database_that_turned_read_only_refuses_the_edit_in_words(tmp_path: Path):
    """SQLite's own refusal ("attempt to write a readonly database"), as when
    the disk is remounted read-only under a running app."""
    path = tmp_path / "p"
    session = make_session(path)
    session.registry.add_lot("A1", LotType.APARTMENT, 100)
    store = session.profile.store
    store._conn.exec_driver_sql("PRAGMA query_only = ON")

    with pytest.raises(StorageError, match="cannot be written to") as refused:
        session.registry.add_lot("A2", LotType.APARTMENT, 100)
    assert str(path) in str(refused.value)

    assert [lot.number for lot in session.registry.read().lots] == ["A1"]
    store._conn.exec_driver_sql("PRAGMA query_only = OFF")
    session.registry.add_lot("A3", LotType.APARTMENT, 100)
    session.close()
    session = reopen(path)
    assert [lot.number for lot in session.registry.read().lots] == ["A1", "A3"]
    session.close()


@pytest.mark.skipif(
    os.geteuid() != 0, reason="a read-only bind mount needs root (CI runs the tests as root)"
)
def test_a_profile_on_a_read_only_disk_is_refused_in_words(tmp_path: Path):
    source = tmp_path / "disk"
    make_session(source / "p").close()
    with (
        read_only(source, tmp_path / "read-only") as mounted,
        pytest.raises(ProfileError, match="cannot be written to"),
    ):
        reopen(mounted / "p")
    session = reopen(source / "p")  # untouched, and opens where it can be written
    assert session.registry.read().association.name == "ACP Test"
    session.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root (CI runs as root)")
def test_a_really_full_disk_says_so_and_keeps_what_was_saved(tmp_path: Path):
    """A real full disk (a small tmpfs), where SQLite fails at COMMIT, not at
    an insert: found by hand, that gave a traceback (a second error from the
    ROLLBACK) and a saved edit reported as failed (the checkpoint on close)."""
    with small_disk(tmp_path / "small", "4m") as disk:
        session = make_session(disk / "p")
        filler = fill_disk(disk, leave=200_000)
        saved = []
        with pytest.raises(StorageError, match="disk is full"):
            for i in range(200):
                session.registry.add_person(f"Person {i}", street="rue " + "x" * 3_000)
                saved.append(f"Person {i}")
        assert saved  # some went in before the disk filled
        session.close()  # no error: what was saved stays saved
        filler.unlink()
        session = reopen(disk / "p")
        assert sorted(p.name for p in session.registry.read().persons) == sorted(saved)
        session.registry.add_lot("A1", LotType.APARTMENT, 100)  # and it carries on
        session.close()


def test_failed_edit_leaves_no_half_change(tmp_path: Path):
    path = tmp_path / "p"
    session = make_session(path)
    live = session.document("registry")
    with pytest.raises(RuntimeError), live.edit() as doc:
        rdoc.root(doc, "lots")["half"] = pycrdt.Map({"number": "H"})
        raise RuntimeError("crash in the middle of an edit")
    assert "half" not in rdoc.root(live.doc, "lots")
    session.close()
    assert "half" not in rdoc.root(reopen(path).document("registry").doc, "lots")


KILLER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from node.domain.registry import LotType
    from node.session import Session
    session = Session.open(Path(sys.argv[1]), lambda _c: sys.argv[2])
    for i in range(100_000):
        session.registry.add_lot(f"K{i}", LotType.APARTMENT, 1)
        print(i, flush=True)   # reported only once the edit is committed
    """
)


def test_confirmed_edits_survive_sigkill(tmp_path: Path):
    path = tmp_path / "p"
    make_session(path).close()
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLER, str(path), PASSPHRASE],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        text=True,
    )
    confirmed = -1
    assert proc.stdout is not None
    for line in proc.stdout:
        confirmed = int(line)
        if confirmed >= 30:
            break
    proc.send_signal(signal.SIGKILL)  # while it keeps editing
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    session = reopen(path)
    numbers = {lot.number for lot in session.registry.read().lots}
    assert {f"K{i}" for i in range(confirmed + 1)} <= numbers
    session.close()


def test_creating_the_building_is_not_undoable(tmp_path: Path):
    session = make_session(tmp_path / "p")
    assert session.registry.can_undo() is False
    session.registry.add_lot("A1", LotType.APARTMENT, 1)
    assert session.registry.can_undo() is True
