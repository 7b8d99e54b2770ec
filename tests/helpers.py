"""Helpers for tests: real profiles in temporary folders."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from node.domain.registry import Association
from node.keys import KeyStorage
from node.session import Session

PASSPHRASE = "correct horse battery"


def make_session(path: Path, name: str = "ACP Test", quota_total: int = 1000) -> Session:
    """A new profile holding a new building; key file under PASSPHRASE."""
    session = Session.create(path, lambda _creating: PASSPHRASE, KeyStorage.PASSPHRASE_FILE)
    session.registry.create_building(Association(name, quota_total))
    return session


def clock_at(monkeypatch: pytest.MonkeyPatch, day: date) -> None:
    """Every session's clock reads ``day`` (noon UTC): the demo's fiscal
    years are 2027 and after, and a year is closed only once it has ended."""
    moment = datetime.combine(day, time(12), UTC)
    monkeypatch.setattr(Session, "now", lambda _self: moment)


def reopen(path: Path) -> Session:
    return Session.open(path, lambda _creating: PASSPHRASE)


def profile_bytes(path: Path) -> bytes:
    """Every byte of every file in a profile folder."""
    return b"".join(p.read_bytes() for p in sorted(Path(path).rglob("*")) if p.is_file())


def replica_of(
    source: Session,
    path: Path,
    key_storage: KeyStorage = KeyStorage.PASSPHRASE_FILE,
    docs: tuple[str, ...] = ("registry",),
) -> Session:
    """A second profile holding the same building document (what joining
    through the relay will do in the sync issue), starting from ``source``'s
    current state."""
    replica = Session.create(path, lambda _creating: PASSPHRASE, key_storage)
    replica.profile.store.set_meta({"building_id": source.building_id})
    for doc_id in docs:
        replica.document(doc_id).apply_remote(source.document(doc_id).get_update())
    return replica


def exchange(a: Session, b: Session) -> None:
    """Send each side the updates it lacks (state-vector diff, as y-sync does)."""
    live_a, live_b = a.document("registry"), b.document("registry")
    to_b = live_a.get_update(live_b.get_state())
    to_a = live_b.get_update(live_a.get_state())
    live_b.apply_remote(to_b)
    live_a.apply_remote(to_a)


def exchange_docs(a: Session, b: Session, docs: tuple[str, ...]) -> None:
    """:func:`exchange` for several documents."""
    for doc_id in docs:
        live_a, live_b = a.document(doc_id), b.document(doc_id)
        to_b = live_a.get_update(live_b.get_state())
        to_a = live_b.get_update(live_a.get_state())
        live_b.apply_remote(to_b)
        live_a.apply_remote(to_a)


@contextlib.contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """A real disk of ``size`` (``4m``) mounted at ``folder``: a tmpfs, which
    needs root (CI runs the tests as root); the test is skipped in a
    container that refuses mounts even to root."""
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)])
    if mounted.returncode != 0:
        pytest.skip("tmpfs mounts refused even to root (a container without CAP_SYS_ADMIN)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def fill_disk(disk: Path, leave: int) -> Path:
    """A file taking all the room on ``disk`` but ``leave`` bytes."""
    free = os.statvfs(disk)
    filler = disk / "filler"
    filler.write_bytes(b"\0" * (free.f_bavail * free.f_frsize - leave))
    return filler


@contextlib.contextmanager
def read_only(source: Path, where: Path, fallback: Path | None = None) -> Iterator[Path]:
    """``source`` as a user who may not write it sees it. As root (CI) a
    read-only bind mount of it at ``where`` (the test is skipped in a
    container that refuses mounts even to root); otherwise ``fallback``
    (default ``source``) made read-only (mode 0o555 for a folder, 0o444 for
    a file), its mode given back afterwards."""
    if os.geteuid() != 0:
        target = fallback or source
        mode = target.stat().st_mode
        target.chmod(0o555 if target.is_dir() else 0o444)
        try:
            yield source
        finally:
            target.chmod(mode)
        return
    where.mkdir()
    if subprocess.run(["mount", "--bind", str(source), str(where)]).returncode != 0:
        pytest.skip("bind mounts refused even to root (a container without CAP_SYS_ADMIN)")
    try:
        remount = subprocess.run(["mount", "-o", "remount,ro,bind", str(where)])
        if remount.returncode != 0:
            pytest.skip("bind mounts refused even to root (a container without CAP_SYS_ADMIN)")
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True)


def elsewhere(code: str, seed: int = 4242) -> bytes:
    """What ``code`` writes to its standard output when run in a fresh
    interpreter with another hash seed than this one's, so that an order
    that hangs on string hashing (a set, a dict built from one) shows as a
    difference: a determinism check that can fail."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "PYTHONHASHSEED": str(seed)},
        capture_output=True,
        check=True,
    )
    return done.stdout
