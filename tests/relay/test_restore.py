"""What an operator does to the relay's database, found by hand following
docs/relay-operations.md (2026-11-23): restoring a SQLite backup after a
crash, a second relay started on the same file, a file made by root's
`migrate`, a database of a newer relay, and /healthz while the database
does not answer. Real relay processes, real profiles synced through them."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from sync_server import cli, database
from tests.helpers import fill_disk, read_only, small_disk
from tests.relay.fixtures import RelayProcess
from tests.sync.helpers import Node, invite, join


@pytest.fixture
def nodes(tmp_path: Path, capsys, passphrase):
    return lambda name: Node(tmp_path / name, capsys)


def backup(data_dir: Path, to: Path) -> Path:
    """What the document says: SQLite's online backup, the relay running."""
    with (
        contextlib.closing(sqlite3.connect(data_dir / "relay.sqlite3")) as source,
        contextlib.closing(sqlite3.connect(to)) as copy,
    ):
        source.backup(copy)
    return to


def stats(data_dir: Path, capsys) -> dict[str, int]:
    capsys.readouterr()
    assert cli.main(["stats", "--json", "--data-dir", str(data_dir)]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_backup_restored_after_a_crash_is_the_backup_and_devices_mend_it(
    nodes, relay_factory, tmp_path, capsys
):
    """Found by hand: copying the backup over the file after a kill -9 left
    the old write-ahead log, which SQLite replayed over the backup: the
    restore silently undone, or the file damaged."""
    relay = relay_factory()
    syndic, council = nodes("syndic"), nodes("council")
    syndic.run("demo")
    syndic.run("relay", "connect", relay.url)
    syndic.run("sync")
    saved = backup(relay.data_dir, tmp_path / "backup.sqlite3")
    join(council, relay.url, invite(syndic, "council"))  # after the backup
    syndic.run("lot", "set", "A1.1", "--quota", "521")
    syndic.run("sync")
    relay.kill()  # a crash: the write-ahead log stays beside the file
    assert (relay.data_dir / "relay.sqlite3-wal").exists()
    before = stats(relay.data_dir, capsys)

    capsys.readouterr()
    assert cli.main(["restore", str(saved), "--data-dir", str(relay.data_dir)]) == 0
    out = capsys.readouterr().out
    assert f"restored {saved}" in out and "is kept as" in out
    restored = stats(relay.data_dir, capsys)
    assert restored["members_entries"] < before["members_entries"]  # the backup's, truly
    assert restored["envelopes"] < before["envelopes"]
    kept = [p for p in relay.data_dir.iterdir() if ".replaced-" in p.name]
    assert len(kept) == 1

    relay = RelayProcess(relay.data_dir, port=relay.port).start()
    try:
        for node in (syndic, council, syndic, council):
            node.run("sync", ok=False)
        syndic.run("sync")
        council.run("sync")
        assert council.lots()["A1.1"] == 521  # what the relay lost came back from the devices
        assert syndic.json("status")["pending_envelopes"] == 0
    finally:
        relay.stop()


def test_restore_refuses_while_a_relay_serves_and_a_bad_backup(relay_factory, tmp_path, capsys):
    relay = relay_factory()
    saved = backup(relay.data_dir, tmp_path / "backup.sqlite3")
    capsys.readouterr()
    assert cli.main(["restore", str(saved), "--data-dir", str(relay.data_dir)]) == 2
    assert "another koprogo-relay is serving" in capsys.readouterr().err
    relay.stop()
    (tmp_path / "notes.txt").write_text("not a database")
    for bad, words in (
        (tmp_path / "notes.txt", "is damaged"),
        (tmp_path / "missing.sqlite3", "there is no backup file"),
    ):
        assert cli.main(["restore", str(bad), "--data-dir", str(relay.data_dir)]) == 2
        err = capsys.readouterr().err
        assert words in err and len(err.splitlines()) == 1, err
    assert cli.main(["stats", "--data-dir", str(relay.data_dir)]) == 0  # left as it was
    fresh = tmp_path / "new-machine" / "data"  # a folder that does not exist yet
    assert cli.main(["restore", str(saved), "--data-dir", str(fresh)]) == 0
    assert cli.main(["stats", "--data-dir", str(fresh)]) == 0


def test_a_damaged_database_is_replaced_by_the_backup(relay_factory, tmp_path, capsys):
    """Found by hand: ``serve`` says "the database file is damaged; restore it
    from a backup", and ``restore`` then refused, blaming the good backup
    ("could not restore backup.sqlite3: file is not a database") and leaving
    a full ``.restoring`` copy behind."""
    relay = relay_factory()
    saved = backup(relay.data_dir, tmp_path / "backup.sqlite3")
    before = stats(relay.data_dir, capsys)
    relay.stop()
    live = relay.data_dir / "relay.sqlite3"
    damaged = b"damaged by a bad disk " * 100
    live.write_bytes(damaged)
    capsys.readouterr()
    assert cli.main(["restore", str(saved), "--data-dir", str(relay.data_dir)]) == 0
    assert stats(relay.data_dir, capsys) == before
    (kept,) = relay.data_dir.glob("relay.sqlite3.replaced-*")
    assert kept.read_bytes() == damaged  # kept as it was, for whoever wants to look
    assert not list(relay.data_dir.glob("*.restoring"))
    # restored again at once: both databases replaced are kept
    assert cli.main(["restore", str(saved), "--data-dir", str(relay.data_dir)]) == 0
    assert len(list(relay.data_dir.glob("relay.sqlite3.replaced-*"))) == 2
    assert damaged in [p.read_bytes() for p in relay.data_dir.glob("relay.sqlite3.replaced-*")]


def test_a_backup_in_a_folder_the_relay_may_not_write_is_restored(relay_factory, tmp_path, capsys):
    """Found by hand, with the document's own layout (a root-owned
    /var/backups, restore run as the relay's user): a ``.backup`` copy is in
    WAL mode, SQLite wanted to write a ``-shm`` beside it to read it, and the
    backup was called "not a backup of a relay database (no schema)". As
    root (CI) a read-only bind mount stands for that folder."""
    relay = relay_factory()
    folder = tmp_path / "backups"
    folder.mkdir()
    saved = backup(relay.data_dir, folder / "backup.sqlite3")
    assert saved.read_bytes()[18:20] == b"\x02\x02"  # WAL mode, as the document's backups are
    before = stats(relay.data_dir, capsys)
    relay.stop()
    with read_only(folder, tmp_path / "read-only") as shown:
        capsys.readouterr()
        args = ["restore", str(shown / "backup.sqlite3"), "--data-dir", str(relay.data_dir)]
        assert cli.main(args) == 0, capsys.readouterr().err
    assert stats(relay.data_dir, capsys) == before
    assert sorted(p.name for p in folder.iterdir()) == ["backup.sqlite3"]


def test_a_second_relay_on_the_same_file_is_refused(relay_factory, capsys):
    """Found by hand: two relays on one SQLite file kept separate members
    logs (an invite made through one was unknown to the other)."""
    relay = relay_factory()
    capsys.readouterr()
    args = ["serve", "--port", "0", "--data-dir", str(relay.data_dir)]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("koprogo-relay: another koprogo-relay is serving ")
    assert len(err.splitlines()) == 1


def test_a_database_the_relay_may_not_write_is_refused(tmp_path, capsys):
    """Found by hand: a file the relay's user could not write (made by
    root's `migrate`) was served, /healthz said ok, and every write failed.
    As root (CI) a read-only bind mount stands for it; otherwise a mode."""
    source = tmp_path / "data"
    source.mkdir()
    database.migrate(f"sqlite:///{source / 'relay.sqlite3'}")
    with read_only(source, tmp_path / "read-only", source / "relay.sqlite3") as folder:
        assert cli.main(["serve", "--port", "0", "--data-dir", str(folder)]) == 2
        err = capsys.readouterr().err
        assert "may not write the database" in err and len(err.splitlines()) == 1, err


def test_a_database_of_a_newer_relay_says_to_upgrade(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'relay.sqlite3'}"
    database.migrate(url)
    with contextlib.closing(sqlite3.connect(tmp_path / "relay.sqlite3")) as db:
        db.execute("UPDATE alembic_version SET version_num = '0999'")
        db.commit()
    for command in ("serve", "migrate", "stats"):
        args = [command, "--data-dir", str(tmp_path)] + (
            ["--port", "0"] if command == "serve" else []
        )
        assert cli.main(args) == 2
        err = capsys.readouterr().err
        assert "made by a newer koprogo-relay (schema 0999" in err, (command, err)
        assert "upgrade koprogo-relay" in err
    assert not list(tmp_path.glob("*.before-*"))  # no copy made for a migration it cannot do


def test_healthz_says_unavailable_while_the_database_does_not_answer(
    relay_factory, postgres_server
):
    """Found by hand: /healthz said ok with PostgreSQL stopped while every
    append failed, so no monitor could see the outage."""
    url = postgres_server.create_database()
    relay = relay_factory(database_url=url)
    with urllib.request.urlopen(relay.url + "/healthz", timeout=5) as answer:
        assert json.loads(answer.read()) == {"status": "ok"}
    name = url.rsplit("/", 1)[1]
    with postgres_server.admin() as conn:  # the database goes away under the relay
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(relay.url + "/healthz", timeout=10)
    assert refused.value.code == 503
    assert json.loads(refused.value.read())["status"] == "unavailable"
    assert "health check failed" in relay.log_path.read_text()


def test_serve_says_why_in_one_line_for_bad_options(tmp_path, capsys):
    """Found by hand: tracebacks for each of these."""
    (tmp_path / "a-file").write_text("")
    cases = [
        (["--data-dir", str(tmp_path / "a-file")], "cannot use"),
        (["--port", "99999", "--data-dir", str(tmp_path)], "not a port"),
        (["--host", "nonexistent.invalid", "--data-dir", str(tmp_path)], "cannot listen on"),
        (["--log-level", "verbose", "--data-dir", str(tmp_path)], "invalid choice"),
    ]
    for args, words in cases:
        with contextlib.suppress(SystemExit):
            assert cli.main(["serve", *args]) == 2
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err, (args, err)


def test_broker_commands_make_no_database(tmp_path, capsys):
    """Found by hand: `broker list` made an empty relay.sqlite3 in the
    default folder, then said "run migrate" -- inviting the wrong one."""
    assert cli.main(["broker", "list", "--data-dir", str(tmp_path)]) == 2
    assert "there is no relay database at" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root (CI runs as root)")
def test_a_full_disk_is_said_and_nothing_is_lost(nodes, relay_factory, tmp_path):
    """Found by hand (a 1 MB tmpfs): every append failed with a traceback in
    the log and 500 ``internal``, and /healthz still said ok. Now the log
    says the disk is full in one line, appends get 503 ``disk-full``,
    /healthz says so, devices keep their changes, and all arrive once space
    is freed."""
    with small_disk(tmp_path / "small", "3m") as disk:
        relay = relay_factory(data_dir=disk / "relay")
        syndic = nodes("syndic")
        syndic.run("demo")
        syndic.run("relay", "connect", relay.url)
        syndic.run("sync")
        filler = fill_disk(disk, leave=150_000)
        for quota in range(600, 640):  # big enough changes to need the room
            syndic.run("person", "add", "--name", f"P{quota}", "--street", "r" * 20_000)
        syndic.run("--language", "en", "sync", ok=False)
        assert syndic.last_code == 1
        assert "The relay's disk is full; changes are kept here" in syndic.last_error
        assert syndic.json("status")["pending_envelopes"] > 0  # kept here
        with urllib.request.urlopen(relay.url + "/metrics") as answer:
            assert answer.status == 200  # reads still work
        with pytest.raises(urllib.error.HTTPError) as health:
            urllib.request.urlopen(relay.url + "/healthz")
        assert health.value.code == 503
        assert json.loads(health.value.read())["reason"] == "the database's disk is full"
        log = relay.log_path.read_text()
        assert "the disk holding the database is full" in log
        assert "Traceback" not in log

        filler.unlink()
        syndic.run("sync")
        assert syndic.json("status")["pending_envelopes"] == 0
        council = nodes("council")
        join(council, relay.url, invite(syndic, "council"))
        names = {p["name"] for p in council.json("registry")["persons"]}
        assert {f"P{q}" for q in range(600, 640)} <= names  # nothing lost
        relay.stop()  # before the disk goes
